package kamreg

import (
	"context"
	"errors"
	"fmt"
)

// Error kinds. Every layer returns errors of these kinds; the HTTP layer
// maps each kind to a status in one place.
const (
	// EINVALID is bad input, refused before anything is written.
	EINVALID = "invalid"
	// ENOTFOUND is a thing that does not exist.
	ENOTFOUND = "not_found"
	// EUNAVAILABLE is a backend (PostgreSQL, a Kamailio node) that failed
	// or did not answer.
	EUNAVAILABLE = "unavailable"
	// EINCOMPLETE is a flush that did not reach every node.
	EINCOMPLETE = "incomplete"
	// EINTERNAL is anything else.
	EINTERNAL = "internal"
)

// Error is an error of a known kind with a message fit for a caller.
type Error struct {
	Code    string
	Message string
	// Err is the cause, for logs; it is never shown to a caller.
	Err error
}

// Error returns the message; the cause is for logs (see Unwrap).
func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an error of the kind code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of the kind code whose cause is err.
func Wrap(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the kind of err: EINTERNAL when it has none, "" for
// nil. A FlushError is EINCOMPLETE; a deadline that passed or a request
// cancelled while a backend was being asked is EUNAVAILABLE.
func ErrorCode(err error) string {
	var e *Error
	var f *FlushError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &f):
		return EINCOMPLETE
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return EUNAVAILABLE
	}
	return EINTERNAL
}

// ErrorMessage returns the message of err fit for a caller.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Message
	case errors.Is(err, context.DeadlineExceeded):
		return "the backends did not answer in time"
	case errors.Is(err, context.Canceled):
		return "the request was cancelled"
	}
	return "internal error"
}

// ErrorCause returns, for logs, what caused err beneath the messages a
// caller sees: the innermost cause that is not itself of a kind ("" when
// err has no kind or no such cause).
func ErrorCause(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return ""
	}
	for e.Err != nil {
		var inner *Error
		if !errors.As(e.Err, &inner) {
			return e.Err.Error()
		}
		e = inner
	}
	return ""
}

// Errors the service returns that a caller tells apart.
var (
	// ErrNotFound is a row, an AoR or a contact that does not exist.
	ErrNotFound = &Error{Code: ENOTFOUND, Message: "not found"}
	// ErrUnknownUser is a flush of a username with neither a device record
	// nor a live registration in the account.
	ErrUnknownUser = &Error{Code: ENOTFOUND, Message: "unknown username"}
	// ErrBadToken is any token that does not authenticate: malformed,
	// unknown, wrong secret, revoked or expired.
	ErrBadToken = &Error{Code: EINVALID, Message: "invalid credentials"}
	// ErrMalformedToken is a token that cannot be one (neither
	// "<id>.<secret>" nor a JWT): it never reaches the database. It is an
	// ErrBadToken.
	ErrMalformedToken = fmt.Errorf("%w: malformed token", ErrBadToken)
	// ErrUnknownToken is a token whose id has no live row. It is an
	// ErrBadToken.
	ErrUnknownToken = fmt.Errorf("%w: no live token with that id", ErrBadToken)
)

// FlushError is a flush that did not reach every node: the report says
// which node failed and how many AoRs were flushed.
type FlushError struct {
	Report FlushReport
	// Cause, when set, is why nothing could be sent (no node configured,
	// or the flush could not be recorded).
	Cause error
}

// Error says how much of the flush failed, or why nothing was sent.
func (e *FlushError) Error() string {
	if e.Cause != nil {
		return "flush incomplete: " + e.Cause.Error()
	}
	return fmt.Sprintf("flush incomplete: %d AoRs not flushed on %d nodes", len(e.Report.Failed), len(e.Report.Nodes))
}

// Unwrap returns the cause.
func (e *FlushError) Unwrap() error { return e.Cause }

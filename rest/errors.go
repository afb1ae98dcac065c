package rest

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/sirupsen/logrus"

	"github.com/kamreg/kamreg"
)

// apiError is how one failure is answered.
type apiError struct {
	Status  int
	Message string
	Data    any
	Allow   string
	// RetryAfter, in seconds, is sent as Retry-After when set.
	RetryAfter string
	// Level is the level the request is logged at.
	Level logrus.Level
}

type messageData struct {
	Message string `json:"message"`
}

// Errors the handlers raise; classify maps each to its answer.
var (
	errInvalidCredentials = errors.New("invalid credentials")
	errForbidden          = errors.New("forbidden")
	errNotFound           = errors.New("not found")
	errTooManyRequests    = errors.New("too many requests")
)

// malformedAccountError is an account id that is not 32 lowercase hex.
type malformedAccountError struct{ ID string }

func (e *malformedAccountError) Error() string { return fmt.Sprintf("invalid account_id '%s'", e.ID) }

// unknownAccountError is a well-formed account id kamreg does not know.
type unknownAccountError struct{ ID string }

func (e *unknownAccountError) Error() string { return "bad identifier " + e.ID }

// unknownUserError is a flush of a username the account does not have.
type unknownUserError struct{ Username string }

func (e *unknownUserError) Error() string { return "unknown username " + e.Username }

// methodError is a method the path does not take.
type methodError struct{ Allow string }

func (e *methodError) Error() string { return "method not allowed" }

// paramError is a bad query parameter.
type paramError struct{ Parameter, Message string }

func (e *paramError) Error() string { return e.Parameter + ": " + e.Message }

type flushData struct {
	Message string               `json:"message"`
	Nodes   []kamreg.NodeFailure `json:"nodes"`
	Flushed int                  `json:"flushed"`
	Failed  int                  `json:"failed"`
}

// classify maps every error a handler can meet to its answer: the first
// row of answers that matches. The rows hold the HTTP layer's own errors
// first, then the domain's error kinds (kamreg.ErrorCode); an error of no
// kind is a fault of kamreg's: 500, as for a panic.
func classify(err error) apiError {
	for _, row := range answers {
		if a, ok := row(err); ok {
			return a
		}
	}
	return internalError
}

// answers is the table of classify, as in the README's error table. Each
// answer's Level is its request's log level: error for kamreg's own
// faults only; warn for a backend (PostgreSQL, a node, Kazoo) that
// failed; info, or debug for a refusal a flood repeats, for a client's
// fault.
var answers = []answerRow{
	is(errInvalidCredentials, invalidCredentials),
	is(kamreg.ErrBadToken, invalidCredentials),
	is(errForbidden, apiError{Status: http.StatusForbidden, Message: "forbidden", Data: messageData{"forbidden"}, Level: logrus.InfoLevel}),
	as(func(e *malformedAccountError) apiError {
		return apiError{Status: http.StatusNotFound, Message: "bad identifier", Data: messageData{e.Error()}, Level: logrus.InfoLevel}
	}),
	as(func(e *unknownAccountError) apiError {
		return apiError{Status: http.StatusNotFound, Message: "bad_identifier", Data: struct {
			Cause   string `json:"cause"`
			Message string `json:"message"`
		}{e.ID, "bad identifier"}, Level: logrus.InfoLevel}
	}),
	as(func(e *unknownUserError) apiError {
		return apiError{Status: http.StatusNotFound, Message: "bad identifier", Data: []string{e.Username}, Level: logrus.InfoLevel}
	}),
	as(func(e *noRegistrationError) apiError {
		return apiError{Status: http.StatusNotFound, Message: "bad identifier", Data: []string{e.ID}, Level: logrus.InfoLevel}
	}),
	as(syncAnswer),
	is(errTooManyRequests, apiError{Status: http.StatusTooManyRequests, Message: "too_many_requests",
		Data: messageData{"too many requests"}, RetryAfter: "1", Level: logrus.DebugLevel}),
	is(errNotFound, notFound),
	as(func(e *methodError) apiError {
		return apiError{Status: http.StatusMethodNotAllowed, Message: "invalid_method", Data: messageData{"method not allowed"},
			Allow: e.Allow, Level: logrus.InfoLevel}
	}),
	as(func(e *paramError) apiError {
		return apiError{Status: http.StatusBadRequest, Message: "invalid request", Data: struct {
			Message   string `json:"message"`
			Parameter string `json:"parameter"`
		}{e.Message, e.Parameter}, Level: logrus.InfoLevel}
	}),
	as(flushAnswer),
	as(func(e *upstreamError) apiError {
		return apiError{Status: http.StatusBadGateway, Message: "bad_gateway",
			Data: messageData{"Kazoo at " + e.Host + " did not answer"}, Level: logrus.WarnLevel}
	}),
	as(func(*panicError) apiError { return internalError }),
	kind(kamreg.EUNAVAILABLE, func(err error) apiError {
		return apiError{Status: http.StatusServiceUnavailable, Message: "datastore fatal error",
			Data: messageData{kamreg.ErrorMessage(err)}, Level: logrus.WarnLevel}
	}),
	kind(kamreg.ENOTFOUND, func(error) apiError { return notFound }),
	kind(kamreg.EINVALID, func(err error) apiError {
		return apiError{Status: http.StatusBadRequest, Message: "invalid request", Data: messageData{kamreg.ErrorMessage(err)}, Level: logrus.InfoLevel}
	}),
}

var (
	invalidCredentials = apiError{Status: http.StatusUnauthorized, Message: "invalid_credentials",
		Data: messageData{"invalid credentials"}, Level: logrus.InfoLevel}
	notFound      = apiError{Status: http.StatusNotFound, Message: "not_found", Data: messageData{"not found"}, Level: logrus.InfoLevel}
	internalError = apiError{Status: http.StatusInternalServerError, Message: "internal_error",
		Data: messageData{"internal error"}, Level: logrus.ErrorLevel}
)

// answerRow is one row of answers: the answer to err, when the row
// matches it.
type answerRow func(err error) (apiError, bool)

// is matches err when it is target (errors.Is).
func is(target error, a apiError) answerRow {
	return func(err error) (apiError, bool) { return a, errors.Is(err, target) }
}

// as matches err when it holds an E (errors.As), answered from it.
func as[E error](answer func(E) apiError) answerRow {
	return func(err error) (apiError, bool) {
		var e E
		if !errors.As(err, &e) {
			return apiError{}, false
		}
		return answer(e), true
	}
}

// kind matches err when it is of the domain's error kind code.
func kind(code string, answer func(error) apiError) answerRow {
	return func(err error) (apiError, bool) {
		if kamreg.ErrorCode(err) != code {
			return apiError{}, false
		}
		return answer(err), true
	}
}

// panicError is a handler that panicked: a fault of kamreg's.
type panicError struct{ Value any }

func (e *panicError) Error() string { return fmt.Sprintf("handler panicked: %v", e.Value) }

func flushAnswer(f *kamreg.FlushError) apiError {
	d := flushData{Nodes: f.Report.Nodes, Flushed: len(f.Report.Flushed), Failed: len(f.Report.Failed)}
	if d.Nodes == nil {
		d.Nodes = []kamreg.NodeFailure{}
	}
	switch {
	case f.Cause != nil && len(f.Report.Nodes) == 0: // nothing was sent
		d.Message = kamreg.ErrorMessage(f.Cause)
	case d.Failed > 0:
		d.Message = fmt.Sprintf("the flush did not reach every Kamailio node: %d of %d AoRs not acknowledged everywhere",
			d.Failed, d.Failed+d.Flushed)
	default:
		d.Message = "the flush did not reach every Kamailio node"
	}
	if f.Cause != nil && len(f.Report.Nodes) > 0 {
		d.Message += "; what was flushed could not be recorded: " + kamreg.ErrorMessage(f.Cause)
	}
	return apiError{Status: http.StatusServiceUnavailable, Message: "flush incomplete", Data: d, Level: logrus.WarnLevel}
}

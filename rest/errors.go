package rest

import (
	"errors"
	"fmt"
	"net/http"

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

// classify maps every error a handler can meet to its status, message and
// data, as in the contract's error table: the HTTP layer's own errors
// first, then the domain's error kinds (kamreg.ErrorCode). An error of no
// kind is a fault of kamreg's: 500, as for a panic.
func classify(err error) apiError {
	var (
		malformed *malformedAccountError
		unknown   *unknownAccountError
		user      *unknownUserError
		noReg     *noRegistrationError
		syncErr   *syncError
		status    *statusReadError
		method    *methodError
		param     *paramError
		flush     *kamreg.FlushError
	)
	switch {
	case errors.Is(err, errInvalidCredentials), errors.Is(err, kamreg.ErrBadToken):
		return apiError{Status: http.StatusUnauthorized, Message: "invalid_credentials", Data: messageData{"invalid credentials"}}
	case errors.Is(err, errForbidden):
		return apiError{Status: http.StatusForbidden, Message: "forbidden", Data: messageData{"forbidden"}}
	case errors.As(err, &malformed):
		return apiError{Status: http.StatusNotFound, Message: "bad identifier", Data: messageData{malformed.Error()}}
	case errors.As(err, &unknown):
		return apiError{Status: http.StatusNotFound, Message: "bad_identifier", Data: struct {
			Cause   string `json:"cause"`
			Message string `json:"message"`
		}{unknown.ID, "bad identifier"}}
	case errors.As(err, &user):
		return apiError{Status: http.StatusNotFound, Message: "bad identifier", Data: []string{user.Username}}
	case errors.As(err, &noReg):
		return apiError{Status: http.StatusNotFound, Message: "bad identifier", Data: []string{noReg.ID}}
	case errors.As(err, &syncErr):
		return syncAnswer(syncErr)
	case errors.As(err, &status):
		return classify(status.Err)
	case errors.Is(err, errTooManyRequests):
		return apiError{Status: http.StatusTooManyRequests, Message: "too_many_requests", Data: messageData{"too many requests"}, RetryAfter: "1"}
	case errors.Is(err, errNotFound):
		return apiError{Status: http.StatusNotFound, Message: "not_found", Data: messageData{"not found"}}
	case errors.As(err, &method):
		return apiError{Status: http.StatusMethodNotAllowed, Message: "invalid_method", Data: messageData{"method not allowed"}, Allow: method.Allow}
	case errors.As(err, &param):
		return apiError{Status: http.StatusBadRequest, Message: "invalid request", Data: struct {
			Message   string `json:"message"`
			Parameter string `json:"parameter"`
		}{param.Message, param.Parameter}}
	case errors.As(err, &flush):
		return flushAnswer(flush)
	}
	switch kamreg.ErrorCode(err) {
	case kamreg.EUNAVAILABLE:
		return datastoreError(kamreg.ErrorMessage(err))
	case kamreg.ENOTFOUND:
		return apiError{Status: http.StatusNotFound, Message: "not_found", Data: messageData{"not found"}}
	case kamreg.EINVALID:
		return apiError{Status: http.StatusBadRequest, Message: "invalid request", Data: messageData{kamreg.ErrorMessage(err)}}
	}
	return apiError{Status: http.StatusInternalServerError, Message: "internal_error", Data: messageData{"internal error"}}
}

func datastoreError(msg string) apiError {
	return apiError{Status: http.StatusServiceUnavailable, Message: "datastore fatal error", Data: messageData{msg}}
}

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
	return apiError{Status: http.StatusServiceUnavailable, Message: "flush incomplete", Data: d}
}

package rest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// state is what one request carries between middleware and handlers.
type state struct {
	requestID string
	token     string
	route     string
	accountID string
	err       error
	// cut is why a streamed answer ended early (metrics.CutClient or
	// CutBackend), or "".
	cut string
}

type stateKey struct{}

// stateOf returns the request's state; a request that did not pass the
// middleware gets an empty one.
func stateOf(r *http.Request) *state {
	if st, ok := r.Context().Value(stateKey{}).(*state); ok {
		return st
	}
	return &state{}
}

func withState(r *http.Request, st *state) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
}

// newRequestID returns 32 random hex characters.
func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// validRequestID accepts a caller's X-Request-ID of up to 128 printable
// ASCII characters.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// tokenOf returns the caller's token: X-Auth-Token, or ?auth_token=.
func tokenOf(r *http.Request) string {
	if t := r.Header.Get("X-Auth-Token"); t != "" {
		return t
	}
	return r.URL.Query().Get("auth_token")
}

package rest

import (
	"errors"
	"net/http"
	"strings"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/auth"
)

// credentials returns the caller's token: X-Auth-Token, ?auth_token=, or
// failing both, an "Authorization: Bearer <token>" header as Kazoo takes
// it.
func credentials(r *http.Request) string {
	if t := tokenOf(r); t != "" {
		return t
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// scoped is a handler for one account (a) or, when a is nil, all realms.
type scoped func(w http.ResponseWriter, r *http.Request, a *kamreg.Account)

// authenticate returns the caller's account id, once the token's request
// rate allows one more. A client over its limit of failed authentications
// gets 429 before any lookup, unless its token authenticated lately.
func (s *Server) authenticate(r *http.Request) (string, error) {
	token := stateOf(r).token
	charge, ok := s.guard.Admit(s.client(r), token)
	if !ok {
		s.holder.hold(r)
		return "", errTooManyRequests
	}
	if token == "" {
		s.guard.Failed(token, auth.FailureReason(token, nil))
		return "", errInvalidCredentials
	}
	caller, err := s.cfg.Tokens.Authenticate(r.Context(), token)
	if errors.Is(err, kamreg.ErrBadToken) {
		s.guard.Failed(token, auth.FailureReason(token, err))
		return "", errInvalidCredentials
	}
	charge.Refund() // a backend failure is not the caller's
	if err != nil {
		return "", err
	}
	s.guard.Succeeded(token)
	if !s.requests.Allow(token) {
		return "", errTooManyRequests
	}
	return caller, nil
}

// inAccount checks the URL's account (format, then existence, before
// authentication, as Kazoo does), then the token, then that the caller is
// the account, one of its ancestors, or super-duper.
func (s *Server) inAccount(next scoped) handler {
	return func(w http.ResponseWriter, r *http.Request) {
		id := pathVar(r, "account_id")
		if !kamreg.ValidID(id) {
			respondError(w, r, &malformedAccountError{ID: id})
			return
		}
		stateOf(r).accountID = id
		// A flood of made-up account ids is limited like one of made-up
		// tokens, behind a good token too: an unknown account costs a
		// lookup.
		charge, admitted := s.guard.AdmitAccount(s.client(r), stateOf(r).token)
		if !admitted {
			s.holder.hold(r)
			respondError(w, r, errTooManyRequests)
			return
		}
		acct, err := s.cfg.Accounts.Get(r.Context(), id)
		if errors.Is(err, kamreg.ErrNotFound) {
			s.guard.UnknownAccount()
			err = &unknownAccountError{ID: id}
		} else {
			charge.Refund()
		}
		if err != nil {
			respondError(w, r, err)
			return
		}
		caller, err := s.authenticate(r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		ok, err := s.cfg.Accounts.MayAct(r.Context(), caller, id)
		if err == nil && !ok {
			err = errForbidden
		}
		if err != nil {
			respondError(w, r, err)
			return
		}
		next(w, r, &acct)
	}
}

// superDuper lets only super-duper accounts through, for the all-realms
// routes.
func (s *Server) superDuper(next scoped) handler {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, err := s.authenticate(r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		stateOf(r).accountID = caller
		acct, err := s.cfg.Accounts.Get(r.Context(), caller)
		if errors.Is(err, kamreg.ErrNotFound) || (err == nil && !acct.SuperDuper) {
			err = errForbidden
		}
		if err != nil {
			respondError(w, r, err)
			return
		}
		next(w, r, nil)
	}
}

package rest

import (
	"context"
	"errors"
	"net/http"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
)

func scopeOf(a *kamreg.Account) kamreg.Scope {
	if a == nil {
		return kamreg.Scope{}
	}
	return kamreg.Scope{Realm: a.Realm}
}

func (s *Server) readContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), s.cfg.ReadTimeout)
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, a *kamreg.Account) {
	o, err := parseListOptions(r)
	if err != nil {
		respondError(w, r, err)
		return
	}
	o.query.Scope = scopeOf(a)
	ctx, cancel := s.readContext(r)
	defer cancel()
	page, err := s.cfg.Registrations.List(ctx, o.query)
	if err != nil {
		respondError(w, r, err)
		return
	}
	var next string
	if page.Next != nil {
		next = EncodeStartKey(*page.Next)
	}
	if o.csv {
		respondCSV(w, r, page.Entries, next)
		return
	}
	n := len(page.Entries)
	respondList(w, r, func(b []byte) []byte { return adapter.AppendJSONList(b, page.Entries) },
		paging{size: &n, startKey: o.startKey, nextKey: next})
}

func (s *Server) count(w http.ResponseWriter, r *http.Request, a *kamreg.Account) {
	o, err := parseListOptions(r)
	if err != nil {
		respondError(w, r, err)
		return
	}
	ctx, cancel := s.readContext(r)
	defer cancel()
	n, err := s.cfg.Registrations.Count(ctx, kamreg.ListQuery{Scope: scopeOf(a), Filters: o.query.Filters})
	if err != nil {
		respondError(w, r, err)
		return
	}
	respond(w, r, struct {
		Count int `json:"count"`
	}{n}, paging{})
}

func (s *Server) flushRealm(w http.ResponseWriter, r *http.Request, a *kamreg.Account) {
	report, err := s.cfg.Registrations.FlushRealm(r.Context(), *a)
	s.flushed(w, r, "account", report, err)
}

func (s *Server) flushUser(w http.ResponseWriter, r *http.Request, a *kamreg.Account) {
	s.flushUsername(w, r, a, pathVar(r, "username"))
}

// flushEventsUser flushes the username "events", whose path the event
// stream's route takes for GET.
func (s *Server) flushEventsUser(w http.ResponseWriter, r *http.Request, a *kamreg.Account) {
	s.flushUsername(w, r, a, "events")
}

// flushUsername flushes the user a decoded {username} segment names (see
// usernameOf); a 404 names the segment as the client wrote it, decoded.
func (s *Server) flushUsername(w http.ResponseWriter, r *http.Request, a *kamreg.Account, segment string) {
	username, ok := usernameOf(segment, a)
	if !ok {
		respondError(w, r, &unknownUserError{Username: segment})
		return
	}
	report, err := s.cfg.Registrations.FlushUser(r.Context(), *a, username)
	if errors.Is(err, kamreg.ErrUnknownUser) {
		respondError(w, r, &unknownUserError{Username: segment})
		return
	}
	s.flushed(w, r, "user", report, err)
}

// flushed answers a flush: "ok" only when every node acknowledged every AoR.
func (s *Server) flushed(w http.ResponseWriter, r *http.Request, scope string, report kamreg.FlushReport, err error) {
	outcome := "ok"
	switch kamreg.ErrorCode(err) {
	case "":
	case kamreg.EINCOMPLETE:
		outcome = "incomplete"
	default:
		outcome = "error"
	}
	s.cfg.Metrics.ObserveFlush(scope, outcome, len(report.Flushed), len(report.Failed))
	if err != nil {
		respondError(w, r, err)
		return
	}
	respond(w, r, "ok", paging{})
}

package rest

import (
	"context"
	"errors"
	"net/http"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/metrics"
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

// list answers a list as its entries are read (Registrations.Stream): in
// bounded memory, whole with an ETag when its data fits maxHashedBody,
// streamed beyond (see body).
func (s *Server) list(w http.ResponseWriter, r *http.Request, a *kamreg.Account) {
	o, err := parseListOptions(r)
	if err != nil {
		respondError(w, r, err)
		return
	}
	o.query.Scope = scopeOf(a)
	if o.csv {
		s.listCSV(w, r, o.query)
		return
	}
	st := stateOf(r)
	bd := newBody(w, r, "application/json")
	defer bd.release()
	env := envelope{AuthToken: st.token, StartKey: o.startKey, RequestID: st.requestID, Status: "success"}
	bd.b = appendHead(bd.b, env)
	bd.startData()
	bd.b = append(bd.b, '[')
	n := 0
	entries := s.cfg.Entries.For(o.query.Scope)
	// Each read of the stream is bounded by the registry (ReadTimeout);
	// the whole list by the server's write timeout.
	next, err := s.cfg.Registrations.Stream(r.Context(), o.query, func(reg *kamreg.Registration) error {
		if n > 0 {
			bd.b = append(bd.b, ',')
		}
		bd.b = entries.AppendJSON(bd.b, reg)
		n++
		return bd.grew()
	})
	if err != nil {
		listFailed(w, r, bd, err)
		return
	}
	bd.b = append(bd.b, ']')
	env.Revision = bd.endData()
	env.PageSize = &n
	if next != nil {
		env.NextStartKey = EncodeStartKey(*next)
	}
	bd.b = appendTail(bd.b, env)
	bd.finish(env.Revision, nil)
}

// listFailed ends a list whose stream stopped on err. While nothing was
// sent it is the error's envelope. Once streaming, a client that went
// away is only recorded; a failed read cuts the answer (http.ErrAbortHandler:
// the connection closes without the chunked body's last chunk, and the
// JSON stops before the envelope's closing keys), so that no client takes
// it for a complete list.
func listFailed(w http.ResponseWriter, r *http.Request, bd *body, err error) {
	if !bd.streaming {
		respondError(w, r, err)
		return
	}
	st := stateOf(r)
	st.err = err
	if bd.err != nil || r.Context().Err() != nil {
		// The client went away: its write failed, or the read saw its
		// request's context end first.
		st.cut = metrics.CutClient
		return
	}
	st.cut = metrics.CutBackend
	panic(http.ErrAbortHandler)
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

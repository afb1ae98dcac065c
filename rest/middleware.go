package rest

import (
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/sirupsen/logrus"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/metrics"
)

// recorder captures the status and size of a response for the log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *recorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer, to
// flush a streamed answer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe gives each request its state and request id, sets the CORS
// headers and those of noStore, recovers from panics and writes one log
// line per request.
func (s *Server) observe(next http.Handler) http.Handler { return s.observeWith(next, true) }

// observeWith is observe; ownHeaders false leaves X-Request-ID and the CORS
// headers to next (the Kazoo proxy passes Kazoo's own).
func (s *Server) observeWith(next http.Handler, ownHeaders bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &state{requestID: r.Header.Get("X-Request-ID"), token: credentials(r), route: "unmatched"}
		if !validRequestID(st.requestID) {
			st.requestID = newRequestID()
		}
		r = withState(r, st)
		rec := &recorder{ResponseWriter: w}
		if ownHeaders {
			h := w.Header()
			h.Set("X-Request-ID", st.requestID)
			s.setCORS(h)
			noStore(h)
		}
		defer func() {
			p := recover()
			if p == http.ErrAbortHandler {
				// A response cut on purpose, so that no client takes it
				// for a whole one: the server aborts the connection.
				s.logRequest(r, st, rec, time.Since(start), true)
				panic(p)
			}
			if p != nil {
				s.cfg.Log.WithFields(logrus.Fields{"request_id": st.requestID, "panic": bounded(fmt.Sprint(p))}).Error("handler panicked")
				if rec.status != 0 {
					// Part of an answer is out (a streamed list): it is
					// cut, never ended as if whole.
					s.logRequest(r, st, rec, time.Since(start), true)
					panic(http.ErrAbortHandler)
				}
				respondError(rec, r, &panicError{Value: p})
			}
			s.logRequest(r, st, rec, time.Since(start), false)
		}()
		next.ServeHTTP(rec, r)
	})
}

// logRequest counts the request in the metrics and writes its log line,
// at levelOf's level; cut is a response aborted mid-way.
func (s *Server) logRequest(r *http.Request, st *state, rec *recorder, took time.Duration, cut bool) {
	if cut {
		s.cfg.Metrics.ObserveCut(st.route, r.Method, took)
	} else {
		s.cfg.Metrics.ObserveHTTP(st.route, r.Method, rec.status, took)
	}
	if st.cut != "" {
		s.cfg.Metrics.ObserveStreamCut(st.route, st.cut)
	}
	// Requests refused with 429 are counted by the metrics and logged at
	// debug level only: a line for each request of a flood would fill the
	// disk and take the CPU the valid clients need.
	level := levelOf(st, rec.status, cut)
	if !s.cfg.Log.IsLevelEnabled(level) {
		return
	}
	fields := logrus.Fields{
		"request_id":  st.requestID,
		"method":      metrics.MethodLabel(r.Method),
		"route":       st.route,
		"status":      rec.status,
		"bytes":       rec.bytes,
		"duration_ms": float64(took.Microseconds()) / 1000,
		"remote":      r.RemoteAddr,
	}
	if st.accountID != "" {
		fields["account_id"] = st.accountID
	}
	if st.cut != "" {
		fields["cut"] = st.cut
	}
	entry := s.cfg.Log.WithFields(fields)
	failed := cut || (rec.status >= 500 && rec.status != http.StatusNotImplemented)
	if failed && st.err != nil {
		entry = entry.WithField(logrus.ErrorKey, bounded(st.err.Error()))
		if cause := kamreg.ErrorCause(st.err); cause != "" {
			entry = entry.WithField("cause", bounded(cause))
		}
	}
	switch {
	case cut:
		entry.Log(level, "response cut")
	case st.cut == metrics.CutClient:
		entry.Log(level, "request: the client went away in the middle of a streamed list")
	case rec.status == http.StatusNotImplemented:
		// Kazoo's answer, through the proxy, to a method it does not
		// know: the client's fault, as any 4xx. (Go's server answers its
		// own 501s, to a Transfer-Encoding it does not take, before any
		// handler.)
		entry.Log(level, "request not implemented")
	case failed:
		entry.Log(level, "request failed")
	default:
		entry.Log(level, "request")
	}
}

// levelOf is the level of a request's log line: its answer's (classify)
// when respondError wrote it; otherwise warn for a response cut mid-way
// and for a 5xx kamreg passed on or wrote for a backend (Kazoo's own
// through the proxy, an unready /readyz), debug for a 429, info for the
// rest. Only kamreg's own faults are errors.
func levelOf(st *state, status int, cut bool) logrus.Level {
	switch {
	case cut:
		return logrus.WarnLevel
	case st.err != nil:
		if a := classify(st.err); a.Status == status {
			return a.Level
		}
	}
	switch {
	case status >= 500:
		return logrus.WarnLevel
	case status == http.StatusTooManyRequests:
		return logrus.DebugLevel
	}
	return logrus.InfoLevel
}

// maxLoggedError bounds the error text of a log line: an error may quote
// what a phone or a caller wrote (a username, an AoR).
const maxLoggedError = 1024

// bounded is s cut to maxLoggedError bytes, on a rune boundary, marked
// with "…" when cut.
func bounded(s string) string {
	if len(s) <= maxLoggedError {
		return s
	}
	cut := maxLoggedError
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

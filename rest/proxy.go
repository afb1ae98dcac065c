package rest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/kamreg/kamreg/jsontext"
)

// proxyRoute names proxied requests in the log and the metrics.
const proxyRoute = "kazoo_proxy"

// kazooProxy sends every request kamreg does not serve to Kazoo's crossbar
// at target, unchanged: method, path, query, headers and body, streamed
// both ways, with X-Forwarded-For, -Host and -Proto added. Kazoo's answer,
// its CORS headers included, goes back as it is; when Kazoo cannot be
// reached the answer is a 502 in Kazoo's error envelope.
func (s *Server) kazooProxy(target *url.URL) http.Handler {
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target) // Host becomes Kazoo's; X-Forwarded-Host keeps the caller's
			// Append to the caller's X-Forwarded-For, as a proxy in a chain does.
			pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
			pr.SetXForwarded()
		},
		FlushInterval: -1,
		ErrorHandler:  s.badGateway(target),
	}
	return s.observeWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stateOf(r).route = proxyRoute
		p.ServeHTTP(w, r)
	}), false)
}

// badGateway answers a request Kazoo did not answer; the request's log
// line says why (and never holds the token).
func (s *Server) badGateway(target *url.URL) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		st := stateOf(r)
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			st.err = errors.New("the client went away before Kazoo answered")
			w.WriteHeader(499) // logged only; nobody reads it
			return
		}
		st.err = &upstreamError{Host: target.Host, Err: err} // logged with the request
		h := w.Header()
		h.Set("X-Request-ID", st.requestID)
		s.setCORS(h)
		data := jsontext.String([]byte(`{"message":`), "Kazoo at "+target.Host+" did not answer")
		writeEnvelope(w, http.StatusBadGateway, envelope{
			AuthToken: st.token, Data: append(data, '}'), Error: "502", Message: "bad_gateway",
			RequestID: st.requestID, Status: "error",
		})
	}
}

// upstreamError is a proxied request Kazoo did not answer. Only the
// transport's own error is kept: never the URL, whose query may hold a
// token.
type upstreamError struct {
	Host string
	Err  error
}

func (e *upstreamError) Error() string {
	err := e.Err
	var u *url.Error
	if errors.As(err, &u) {
		err = u.Err
	}
	return "Kazoo at " + e.Host + ": " + err.Error()
}

func (e *upstreamError) Unwrap() error { return e.Err }

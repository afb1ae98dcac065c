package rest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// proxyRoute names proxied requests in the log and the metrics.
const proxyRoute = "kazoo_proxy"

// forwardedHeader tells whether a request header says where the request
// came from (Forwarded, X-Forwarded-*, X-Real-IP): only a trusted proxy's
// are passed on.
func forwardedHeader(name string) bool {
	name = http.CanonicalHeaderKey(name)
	return name == "Forwarded" || name == "X-Real-Ip" || strings.HasPrefix(name, "X-Forwarded-")
}

// kazooProxy sends every request kamreg does not serve to Kazoo's crossbar
// at target: method, path, query, headers and body, streamed both ways,
// with Host Kazoo's. X-Forwarded-For, -Host and -Proto are kamreg's own
// unless the peer is one of KAMREG_TRUSTED_PROXIES, whose forwarded
// headers are kept (and its address appended to X-Forwarded-For). Only a
// WebSocket upgrade is forwarded; any other Upgrade (h2c included) is
// stripped. Kazoo's login routes are under the failed-auth limit (see
// kazooLogin). Kazoo's answer, its CORS headers included, goes back as it
// is; when Kazoo cannot be reached the answer is a 502 in Kazoo's error
// envelope.
func (s *Server) kazooProxy(target *url.URL) http.Handler {
	p := &httputil.ReverseProxy{
		// Rewrite starts from a request without the client's forwarded
		// headers.
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target) // Host becomes Kazoo's
			trusted := s.fromTrustedProxy(pr.In)
			for k, v := range pr.In.Header {
				if forwardedHeader(k) {
					if trusted {
						pr.Out.Header[k] = v
					} else {
						delete(pr.Out.Header, k)
					}
				}
			}
			// SetXForwarded appends the peer to a trusted proxy's
			// X-Forwarded-For, as a proxy in a chain does, and sets -Host
			// and -Proto; a trusted proxy's own -Host and -Proto win.
			host, proto := pr.Out.Header.Values("X-Forwarded-Host"), pr.Out.Header.Values("X-Forwarded-Proto")
			pr.SetXForwarded()
			if trusted && len(host) > 0 {
				pr.Out.Header["X-Forwarded-Host"] = host
			}
			if trusted && len(proto) > 0 {
				pr.Out.Header["X-Forwarded-Proto"] = proto
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			// Kazoo's answers carry tokens too (its envelope echoes
			// auth_token): never stored, whatever Kazoo said.
			h := resp.Header
			h.Set("Cache-Control", "no-store")
			h.Set("X-Content-Type-Options", "nosniff")
			return s.addStatus(resp)
		},
		FlushInterval: -1,
		ErrorHandler:  s.badGateway(target),
	}
	return s.observeWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stateOf(r).route = proxyRoute
		stripUpgrade(r.Header)
		r = s.markWithStatus(r)
		if kazooLogin(r) {
			s.proxyLogin(p, w, r)
			return
		}
		p.ServeHTTP(w, r)
	}), false)
}

// fromTrustedProxy tells whether the peer is one of the trusted proxies.
func (s *Server) fromTrustedProxy(r *http.Request) bool {
	return s.guard.Trusts(r.RemoteAddr)
}

// stripUpgrade removes an Upgrade that is not to WebSocket (h2c, or any
// other protocol): the request goes on as a plain one.
func stripUpgrade(h http.Header) {
	up := h.Values("Upgrade")
	if len(up) == 0 {
		return
	}
	if len(up) == 1 && strings.EqualFold(strings.TrimSpace(up[0]), "websocket") {
		return
	}
	h.Del("Upgrade")
	h.Del("HTTP2-Settings")
}

// kazooLoginPath matches Kazoo's login routes, where a caller trades
// credentials for a token.
var kazooLoginPath = regexp.MustCompile(`^/v[12]/(user_auth|api_auth)(/|$)`)

// kazooLogin tells whether r is one of Kazoo's login routes (any method
// but a preflight).
func kazooLogin(r *http.Request) bool {
	return r.Method != http.MethodOptions && kazooLoginPath.MatchString(path.Clean("/"+r.URL.Path))
}

// proxyLogin proxies a login under the failed-auth limit: each is charged
// to the client's address before it reaches Kazoo, Kazoo's 401 keeps the
// charge (a failure), any other answer gives it back. Past the limit the
// answer is the 429 envelope, and Kazoo never sees the request.
func (s *Server) proxyLogin(p http.Handler, w http.ResponseWriter, r *http.Request) {
	charge, ok := s.guard.Admit(s.client(r), "")
	if !ok {
		s.holder.hold(r)
		s.ownHeaders(w.Header(), stateOf(r))
		respondError(w, r, errTooManyRequests)
		return
	}
	p.ServeHTTP(w, r)
	if rec, isRec := w.(*recorder); isRec && rec.status == http.StatusUnauthorized {
		s.guard.Failed("", "kazoo_login")
		return
	}
	charge.Refund()
}

// ownHeaders sets on an answer kamreg writes in the proxy's place the
// headers its own routes carry.
func (s *Server) ownHeaders(h http.Header, st *state) {
	h.Set("X-Request-ID", st.requestID)
	s.setCORS(h)
	noStore(h)
}

// badGateway answers a request Kazoo did not answer; the request's log
// line says why (and never holds the token).
func (s *Server) badGateway(target *url.URL) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		st := stateOf(r)
		var status *statusReadError
		if errors.As(err, &status) {
			s.ownHeaders(w.Header(), st)
			respondError(w, r, status)
			return
		}
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			st.err = errors.New("the client went away before Kazoo answered")
			w.WriteHeader(499) // logged only; nobody reads it
			return
		}
		s.ownHeaders(w.Header(), st)
		respondError(w, r, &upstreamError{Host: target.Host, Err: err}) // logged with the request
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

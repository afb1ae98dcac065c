package rest

import (
	"net/http"
	"strings"
)

// kazooAllowHeaders are the request headers Kazoo's crossbar allows in a
// CORS preflight; Monster UI's SDK sends some of them on every call.
var kazooAllowHeaders = []string{
	"Content-Type", "Depth", "User-Agent", "X-Http-Method-Override", "X-File-Name", "If-Modified-Since",
	"If-None-Match", "X-Requested-With", "X-Auth-Token", "X-Kazoo-Cluster-ID", "Cache-Control", "If-Match",
	"Authorization", "Accept", "X-Request-ID", "Range",
}

// exposeHeaders are the response headers scripts on another origin may
// read.
const exposeHeaders = "X-Request-ID, ETag, Location, Content-Disposition, X-Next-Start-Key"

// corsMaxAge is how long, in seconds, a browser may reuse a preflight.
const corsMaxAge = "86400"

// setCORS sets the headers every answer of kamreg's own carries.
func (s *Server) setCORS(h http.Header) {
	h.Set("Access-Control-Allow-Origin", s.cfg.CORSOrigin)
	h.Set("Access-Control-Expose-Headers", exposeHeaders)
}

// preflight answers a CORS preflight with 200 and an empty body. methods
// are the route's methods, OPTIONS included; the allowed headers are
// Kazoo's list and whatever else the browser asks for.
func preflight(w http.ResponseWriter, r *http.Request, methods string) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", methods)
	h.Set("Access-Control-Allow-Headers", allowHeaders(r.Header.Values("Access-Control-Request-Headers")))
	h.Set("Access-Control-Max-Age", corsMaxAge)
	h.Add("Vary", "Access-Control-Request-Headers")
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// allowHeaders returns Kazoo's header list followed by each requested
// header it lacks (compared case-insensitively). A requested name that is
// not a valid header name is left out.
func allowHeaders(requested []string) string {
	var b strings.Builder
	seen := make(map[string]bool, len(kazooAllowHeaders))
	for i, name := range kazooAllowHeaders {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(name)
		seen[strings.ToLower(name)] = true
	}
	for _, line := range requested {
		for _, name := range strings.Split(line, ",") {
			name = strings.TrimSpace(name)
			if !validHeaderName(name) || seen[strings.ToLower(name)] {
				continue
			}
			seen[strings.ToLower(name)] = true
			b.WriteString(", ")
			b.WriteString(name)
		}
	}
	return b.String()
}

// validHeaderName tells whether name is an RFC 9110 token of at most 64
// characters.
func validHeaderName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

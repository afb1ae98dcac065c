package rest

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/kamreg/kamreg"
)

// How a path names things. The router matches the escaped path, so an
// escaped "/" or "." (%2F, %2E) inside a segment is part of a name, never
// a slash or a dot segment; a route variable is decoded once, here. A path
// that still holds a raw "." or ".." segment is refused before any route
// or the Kazoo proxy sees it.

// dotSegmentRoute names refused dot-segment requests in the log and the
// metrics.
const dotSegmentRoute = "dot_segment"

// errDotSegment answers a path holding a "." or ".." segment.
var errDotSegment = &paramError{Parameter: "path",
	Message: `the path holds a dot segment ("." or ".."): write a dot in a name as %2E`}

// hasDotSegment reports whether the escaped path has a segment that is
// exactly "." or "..".
func hasDotSegment(escaped string) bool {
	for seg := range strings.SplitSeq(escaped, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// refuseDotSegments answers 400 for a path holding a dot segment; every
// other request goes to next.
func (s *Server) refuseDotSegments(next http.Handler) http.Handler {
	refuse := s.observe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stateOf(r).route = dotSegmentRoute
		respondError(w, r, errDotSegment)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hasDotSegment(r.URL.EscapedPath()) {
			refuse.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// pathVar is the route variable name, percent-decoded once. The server
// refuses a request whose path does not decode, so the raw value is only
// a fallback.
func pathVar(r *http.Request, name string) string {
	v := mux.Vars(r)[name]
	if d, err := url.PathUnescape(v); err == nil {
		return d
	}
	return v
}

// usernameOf reads a {username} segment, already decoded: a username, or
// the AoR "username@realm" of the account's realm (compared without
// case). No username holds "@" (Kamailio splits an AoR at its first "@"),
// so the AoR form is never ambiguous; it is how the page names a phone,
// since browsers drop a segment "." or "%2E" before sending. ok is false
// for what no location row of the account can hold.
func usernameOf(segment string, a *kamreg.Account) (username string, ok bool) {
	username = segment
	if user, realm, isAoR := strings.Cut(segment, "@"); isAoR {
		if a == nil || !strings.EqualFold(realm, a.Realm) {
			return "", false
		}
		username = user
	}
	return username, plausibleUsername(username)
}

// plausibleUsername refuses what no location row can hold: empty, over 64
// bytes (the column's size), not UTF-8, or with control characters or "@".
// A space is a username's (Kamailio stores sip:a%20b@realm as "a b").
func plausibleUsername(u string) bool {
	if u == "" || len(u) > 64 || !utf8.ValidString(u) {
		return false
	}
	return !strings.ContainsFunc(u, func(c rune) bool { return c < 0x20 || c == 0x7f || c == '@' })
}

package rest

import (
	"net/http"

	"github.com/kamreg/kamreg/ui"
)

// uiPrefix is where the registrations page is served.
const uiPrefix = "/ui/"

// mountUI serves the embedded registrations page under /ui/ (GET and
// HEAD), with its Content-Security-Policy; /ui redirects there.
func (s *Server) mountUI() {
	files := ui.Handler(uiPrefix)
	page := s.observe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stateOf(r).route = "ui"
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			respondError(w, r, &methodError{Allow: "GET, HEAD"})
			return
		}
		files.ServeHTTP(w, r)
	}))
	s.router.PathPrefix(uiPrefix).Handler(page)
	s.router.Handle("/ui", http.RedirectHandler(uiPrefix, http.StatusMovedPermanently))
}

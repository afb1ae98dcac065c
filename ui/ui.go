// Package ui is kamreg's registrations page: plain HTML, CSS and
// JavaScript modules embedded in the binary (no build step), served under
// /ui/ with a strict Content-Security-Policy. The page keeps the API token
// in sessionStorage and sends it only in the X-Auth-Token header, the
// event stream included (read with fetch, not EventSource).
package ui

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// CSP is the page's Content-Security-Policy: its own scripts, styles and
// API only, nothing inline, no frames, no forms posted elsewhere.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Files returns the page's files, index.html at the root.
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	return sub
}

// Handler serves the page's files under prefix (such as "/ui/") with the
// security headers; anything else under it is a 404.
func Handler(prefix string) http.Handler {
	files := http.StripPrefix(prefix, http.FileServerFS(Files()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

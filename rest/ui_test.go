package rest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg/ui"
)

func TestUI(t *testing.T) {
	s := newTestServer(t, fakeRegistrations{}, nil)
	type answer struct {
		Status      int
		ContentType string
		CSP         string
		Location    string
	}
	tests := []struct {
		method, path string
		want         answer
	}{
		{"GET", "/ui/", answer{200, "text/html; charset=utf-8", ui.CSP, ""}},
		{"GET", "/ui/app.js", answer{200, "text/javascript; charset=utf-8", ui.CSP, ""}},
		{"GET", "/ui/api.js", answer{200, "text/javascript; charset=utf-8", ui.CSP, ""}},
		{"GET", "/ui/stream.js", answer{200, "text/javascript; charset=utf-8", ui.CSP, ""}},
		{"GET", "/ui/style.css", answer{200, "text/css; charset=utf-8", ui.CSP, ""}},
		{"GET", "/ui", answer{301, "text/html; charset=utf-8", "", "/ui/"}},
		{"GET", "/ui/nothing.js", answer{404, "text/plain; charset=utf-8", ui.CSP, ""}},
		{"DELETE", "/ui/", answer{405, "application/json", "", ""}},
	}
	for _, tt := range tests {
		w := do(s, tt.method, tt.path, "")
		got := answer{w.Code, w.Header().Get("Content-Type"), w.Header().Get("Content-Security-Policy"), w.Header().Get("Location")}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%s %s (-want +got):\n%s", tt.method, tt.path, d)
		}
	}
	// Nothing inline: the policy would refuse it.
	page := do(s, http.MethodGet, "/ui/", "").Body.String()
	for _, inline := range []string{"<script>", "<style", " style=", " onclick=", "javascript:"} {
		if strings.Contains(page, inline) {
			t.Errorf("the page has inline %q", inline)
		}
	}
	if !strings.Contains(page, `<script type="module" src="app.js">`) {
		t.Error("the page does not load app.js as a module")
	}
}

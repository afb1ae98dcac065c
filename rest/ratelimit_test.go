package rest

import (
	"testing"

	"github.com/kamreg/kamreg/auth"
)

func TestRateLimitPerToken(t *testing.T) {
	s := newTestServer(t, fakeRegistrations{}, nil)
	s.requests = auth.NewRequestLimit(0.001, 2)
	for i, want := range []int{200, 200, 429} {
		w := do(s, "GET", base+"/count", goodTok)
		if w.Code != want {
			t.Fatalf("request %d: %d, want %d", i+1, w.Code, want)
		}
		if want == 429 {
			golden(t, "error_rate_limited", w.Body.Bytes())
			if w.Header().Get("Retry-After") != "1" {
				t.Errorf("Retry-After %q", w.Header().Get("Retry-After"))
			}
		}
	}
	// Another token has its own bucket; a bad token is a 401, not a 429.
	if w := do(s, "GET", "/v2/registrations/count", superTok); w.Code != 200 {
		t.Errorf("another token: %d", w.Code)
	}
	if w := do(s, "GET", base+"/count", "nope"); w.Code != 401 {
		t.Errorf("bad token: %d", w.Code)
	}
}

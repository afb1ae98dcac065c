package rest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

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

// TestRateLimitOfABusyTokenOutlivesAFullTable: a token over its request
// rate stays over it while 10,000 other tokens come and go; the table of
// buckets used to empty itself when full, giving every token its burst
// back.
func TestRateLimitOfABusyTokenOutlivesAFullTable(t *testing.T) {
	cfg := testConfig(fakeRegistrations{}, nil)
	known := cfg.Tokens
	cfg.Tokens = fakeTokens{AuthenticateFn: func(tok string) (string, error) {
		if strings.HasPrefix(tok, "many-") {
			return acctID, nil
		}
		return known.Authenticate(t.Context(), tok)
	}}
	cfg.RateLimit, cfg.RateBurst = 0.001, 2
	s := New(cfg)
	var codes []int
	for range 3 {
		codes = append(codes, do(s, "GET", base+"/count", goodTok).Code)
	}
	for i := range 9999 {
		do(s, "GET", base+"/count", "many-"+strconv.Itoa(i))
	}
	codes = append(codes, do(s, "GET", base+"/count", goodTok).Code)
	do(s, "GET", base+"/count", "many-more")
	codes = append(codes, do(s, "GET", base+"/count", goodTok).Code)
	if diff := cmp.Diff([]int{200, 200, 429, 429, 429}, codes); diff != "" {
		t.Errorf("the busy token (-want +got):\n%s", diff)
	}
}

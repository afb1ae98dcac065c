//go:build integration

package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// tokenLookups returns the token look-ups kamreg sent to PostgreSQL, from
// its metrics listener.
func tokenLookups(t *testing.T, s *kamregServer) int64 {
	t.Helper()
	body := string(call(t, "GET", s.Metrics+"/metrics", "").body)
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, "kamreg_token_lookups_total "); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("kamreg_token_lookups_total %q: %v", v, err)
			}
			return int64(n)
		}
	}
	t.Fatalf("no kamreg_token_lookups_total in the metrics:\n%.2000s", body)
	return 0
}

// TestTokenFloodIsCheap floods a kamreg with the default limit of failed
// authentications with made-up tokens from one address: after the burst
// every answer is a 429 with Retry-After that PostgreSQL never sees, while
// a valid token from the same address keeps working; repeated unknown ids
// and malformed tokens never reach the table.
func TestTokenFloodIsCheap(t *testing.T) {
	s := serveFor(t, "main="+env.kam.RPCURL(), "KAMREG_AUTH_FAIL_BURST=20", "KAMREG_AUTH_FAIL_RATE=5/s")
	a := newAccount(t, "Flood", "flood.kamreg.test", "", false)
	url := s.Base + "/v2/accounts/" + a.id + "/registrations/count"
	if r := call(t, "GET", url, a.token); r.status != 200 {
		t.Fatalf("valid token: %d %s", r.status, r.body)
	}
	before := tokenLookups(t, s)
	start := time.Now()
	codes := map[int]int{}
	for i := range 300 {
		tok := newID() + "." + strings.Repeat(strconv.Itoa(i%10), 64)
		r := call(t, "GET", url, tok)
		codes[r.status]++
		if r.status == 429 && r.header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
		if i%50 == 0 {
			if v := call(t, "GET", url, a.token); v.status != 200 {
				t.Errorf("the valid token during the flood: %d %s", v.status, v.body)
			}
		}
	}
	for _, tok := range []string{"malformed", "a.b.c", strings.Repeat("x", 200)} {
		if r := call(t, "GET", url, tok); r.status != 429 {
			t.Errorf("%.20s…: %d", tok, r.status)
		}
	}
	elapsed := time.Since(start).Seconds()
	after := tokenLookups(t, s)
	// The burst, plus what the rate refills while the flood lasts.
	most := int64(20 + 5*elapsed + 1)
	if got := after - before; got > most {
		t.Errorf("%d token look-ups reached PostgreSQL during the flood of 300 tokens in %.1fs; want at most %d", got, elapsed, most)
	}
	if codes[401] > int(most) || codes[429] < 300-int(most) || codes[401]+codes[429] != 300 {
		t.Errorf("answers to the flood: %v", codes)
	}
	// The metrics, on their own listener, count the failures by reason.
	body := string(call(t, "GET", s.Metrics+"/metrics", "").body)
	for _, want := range []string{`kamreg_auth_failures_total{reason="rate_limited"}`, `kamreg_auth_failures_total{reason="unknown_token"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestNegativeCache sends one unknown token id again and again from
// addresses that stay within the limit: PostgreSQL reads it once.
func TestNegativeCache(t *testing.T) {
	s := serveFor(t, "main="+env.kam.RPCURL())
	a := newAccount(t, "Negative", "negative.kamreg.test", "", false)
	url := s.Base + "/v2/accounts/" + a.id + "/registrations/count"
	unknown := newID() + "." + strings.Repeat("a", 64)
	before := tokenLookups(t, s)
	for range 50 {
		if r := call(t, "GET", url, unknown); r.status != 401 {
			t.Fatalf("unknown token: %d %s", r.status, r.body)
		}
	}
	if got := tokenLookups(t, s) - before; got != 1 {
		t.Errorf("%d token look-ups reached PostgreSQL for 50 tries of one unknown id; want 1", got)
	}
}

package rest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/auth"
	"github.com/kamreg/kamreg/metrics"
	"github.com/kamreg/kamreg/testbed"
)

// guardedServer is a server on fakes whose failed authentications are
// limited to a burst of 3 that never refills during the test; lookups
// counts the look-ups of bad tokens and unknown accounts that reached the
// fakes.
func guardedServer(t *testing.T, reg prometheus.Registerer) (s *Server, lookups *atomic.Int64) {
	t.Helper()
	lookups = &atomic.Int64{}
	cfg := testConfig(fakeRegistrations{}, nil)
	tokens, accts := cfg.Tokens, cfg.Accounts
	cfg.Tokens = fakeTokens{AuthenticateFn: func(tok string) (string, error) {
		if strings.HasPrefix(tok, "bad") {
			lookups.Add(1)
		}
		if strings.HasPrefix(tok, "malformed") {
			return "", kamreg.ErrMalformedToken
		}
		return tokens.Authenticate(t.Context(), tok)
	}}
	cfg.Accounts = fakeAccounts{
		GetFn: func(id string) (kamreg.Account, error) {
			if id != acctID && id != superID {
				lookups.Add(1)
			}
			return accts.Get(t.Context(), id)
		},
		MayActFn: func(caller, target string) (bool, error) { return accts.MayAct(t.Context(), caller, target) },
	}
	cfg.AuthFailures = auth.FailureLimit{Rate: 0.0001, Burst: 3,
		TrustedProxies: auth.Proxies{netip.MustParsePrefix("10.0.0.0/8")}, Metrics: metrics.NewAuthFailures(reg)}
	return New(cfg), lookups
}

func from(s http.Handler, peer, path, token string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	req.RemoteAddr = peer
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

func TestFailedAuthenticationsAreLimitedPerAddress(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, lookups := guardedServer(t, reg)
	const flooder = "192.0.2.1:40000"

	// A valid token that authenticated before the flood.
	if w := from(s, flooder, base, goodTok); w.Code != 200 {
		t.Fatalf("valid token before the flood: %d %s", w.Code, w.Body)
	}
	lookups.Store(0)
	var codes []int
	for i := range 10 {
		codes = append(codes, from(s, flooder, base+"/count", "bad-"+strconv.Itoa(i)).Code)
	}
	if diff := cmp.Diff([]int{401, 401, 401, 429, 429, 429, 429, 429, 429, 429}, codes); diff != "" {
		t.Errorf("made-up tokens (-want +got):\n%s", diff)
	}
	if n := lookups.Load(); n != 3 {
		t.Errorf("%d look-ups reached the token store, want 3 (the burst)", n)
	}
	w := from(s, flooder, base, "bad-x")
	if w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), `"message":"too_many_requests"`) {
		t.Errorf("429 without Retry-After or envelope: %v %s", w.Header(), w.Body)
	}
	lookups.Store(0)
	tests := []struct {
		name, peer, path, token string
		headers                 []string
		status                  int
	}{
		{"the valid token keeps working", flooder, base, goodTok, nil, 200},
		{"and on the all-realms routes", flooder, "/v2/registrations/count", goodTok, nil, 403},
		{"no token from the flooder", flooder, base, "", nil, 429},
		{"made-up accounts from the flooder", flooder, "/v2/accounts/ffffffffffffffffffffffffffffffff/registrations", "", nil, 429},
		{"a malformed account id is still a 404", flooder, "/v2/accounts/nothex/registrations", "", nil, 404},
		{"another address", "192.0.2.2:40000", base, "bad", nil, 401},
		{"another IPv6 /64 is another address", "[2001:db8:0:2::1]:1", base, "bad", nil, 401},
		{"behind a trusted proxy: the flooder", "10.1.1.1:5000", base, "bad", []string{"X-Forwarded-For", "203.0.113.9, 192.0.2.1"}, 429},
		{"behind a trusted proxy: another client", "10.1.1.1:5000", base, "bad", []string{"X-Forwarded-For", "192.0.2.1, 198.51.100.7"}, 401},
		{"an untrusted peer's X-Forwarded-For is ignored", flooder, base, "bad", []string{"X-Forwarded-For", "198.51.100.8"}, 429},
	}
	for _, tt := range tests {
		if w := from(s, tt.peer, tt.path, tt.token, tt.headers...); w.Code != tt.status {
			t.Errorf("%s: %d, want %d: %s", tt.name, w.Code, tt.status, w.Body)
		}
	}
	if n := lookups.Load(); n != 3 {
		t.Errorf("%d look-ups for the three other clients' bad tokens, want 3", n)
	}
	// The failures and the refusals are counted by reason.
	from(s, "192.0.2.3:1", base, "malformed-token")
	from(s, "192.0.2.3:1", "/v2/accounts/ffffffffffffffffffffffffffffffff/registrations", "")
	want := `
# HELP kamreg_auth_failures_total Failed authentications by reason: missing, malformed, unknown_token, invalid, unknown_account, kazoo_login (Kazoo's 401 to a proxied login), and rate_limited (answered 429 before any lookup).
# TYPE kamreg_auth_failures_total counter
kamreg_auth_failures_total{reason="invalid"} 6
kamreg_auth_failures_total{reason="kazoo_login"} 0
kamreg_auth_failures_total{reason="malformed"} 1
kamreg_auth_failures_total{reason="missing"} 0
kamreg_auth_failures_total{reason="rate_limited"} 12
kamreg_auth_failures_total{reason="unknown_account"} 1
kamreg_auth_failures_total{reason="unknown_token"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "kamreg_auth_failures_total"); err != nil {
		t.Error(err)
	}
}

// TestConcurrentFloodIsBounded sends 50 made-up tokens at once while the
// token store is slow: no more look-ups start than the burst allows.
func TestConcurrentFloodIsBounded(t *testing.T) {
	release, started := make(chan struct{}), make(chan struct{}, 50)
	var inLookup atomic.Int64
	cfg := testConfig(fakeRegistrations{}, nil)
	cfg.Tokens = fakeTokens{AuthenticateFn: func(tok string) (string, error) {
		inLookup.Add(1)
		started <- struct{}{}
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		return "", kamreg.ErrUnknownToken
	}}
	cfg.AuthFailures = auth.FailureLimit{Rate: 0.0001, Burst: 3}
	s := New(cfg)
	codes := make(chan int, 50)
	for i := range 50 {
		go func() { codes <- from(s, "192.0.2.1:1", base, "bad-"+strconv.Itoa(i)).Code }()
	}
	// Every request is either in its look-up, held by the fake, or
	// answered: wait for all 50 to be one or the other.
	got := map[int]int{}
	answered := 0
	deadline := time.After(10 * time.Second)
	for int(inLookup.Load())+answered < 50 {
		select {
		case c := <-codes:
			got[c]++
			answered++
		case <-started:
		case <-deadline:
			t.Fatalf("%d look-ups and %d answers after 10 s, want 50 in all", inLookup.Load(), answered)
		}
	}
	if n := inLookup.Load(); n != 3 {
		t.Errorf("%d look-ups in flight at once, want the burst, 3", n)
	}
	close(release)
	for range 50 - answered {
		got[testbed.Receive(t, codes, 10*time.Second, "an answer")]++
	}
	if diff := cmp.Diff(map[int]int{401: 3, 429: 47}, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
}

// TestRefusalsAreHeldBack: a refusal over the limit waits Hold before its
// 429 (a flooding client slows down to the server's pace), a request that
// ends meanwhile is let go at once, and a token that authenticated lately
// is never held.
func TestRefusalsAreHeldBack(t *testing.T) {
	s, _ := guardedServer(t, prometheus.NewRegistry())
	s.holder.d = 200 * time.Millisecond
	const peer = "127.0.0.9:5000"
	if w := from(s, peer, base, goodTok); w.Code != 200 {
		t.Fatalf("valid token: %d", w.Code)
	}
	for i := 0; i < 3; i++ { // the burst
		from(s, peer, base, "bad-"+strconv.Itoa(i))
	}
	start := time.Now()
	if w := from(s, peer, base, "bad-over"); w.Code != 429 {
		t.Fatalf("over the limit: %d", w.Code)
	}
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("the refusal was answered after %s, want it held 200 ms", took)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("GET", base, nil).WithContext(ctx)
	req.RemoteAddr = peer
	req.Header.Set("X-Auth-Token", "bad-gone")
	start = time.Now()
	s.ServeHTTP(httptest.NewRecorder(), req)
	if took := time.Since(start); took >= 200*time.Millisecond {
		t.Errorf("a request that had ended was held %s", took)
	}
	start = time.Now()
	if w := from(s, peer, base, goodTok); w.Code != 200 {
		t.Errorf("a valid token from the same address: %d %s", w.Code, w.Body)
	}
	if took := time.Since(start); took >= 200*time.Millisecond {
		t.Errorf("a valid token was held %s", took)
	}
}

// TestGoodTokenDoesNotLiftTheAccountBudget: a token that authenticated
// lately does not make made-up accounts free to look up; a storm of them
// behind it, even between valid requests, is limited to the burst, in the
// token's own bucket, and the address's other clients are not charged.
func TestGoodTokenDoesNotLiftTheAccountBudget(t *testing.T) {
	s, lookups := guardedServer(t, prometheus.NewRegistry())
	const peer = "192.0.2.1:40000"
	if w := from(s, peer, base, goodTok); w.Code != 200 {
		t.Fatalf("valid token: %d %s", w.Code, w.Body)
	}
	lookups.Store(0)
	var codes []int
	for i := range 8 {
		codes = append(codes, from(s, peer, fmt.Sprintf("/v2/accounts/%032x/registrations", i+1), goodTok).Code)
		from(s, peer, base+"/count", goodTok) // a valid request between, as a storm could interleave them
	}
	if diff := cmp.Diff([]int{404, 404, 404, 429, 429, 429, 429, 429}, codes); diff != "" {
		t.Errorf("made-up accounts behind a good token (-want +got):\n%s", diff)
	}
	if n := lookups.Load(); n != 3 {
		t.Errorf("%d look-ups of made-up accounts reached the store, want 3 (the burst)", n)
	}
	// The address's budget is its own: another token from it still looks
	// its account up.
	if w := from(s, peer, "/v2/accounts/"+otherID+"/registrations", otherTok); w.Code != 200 {
		t.Errorf("another token from the same address: %d %s", w.Code, w.Body)
	}
}

package rest

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kamreg/kamreg/auth"
	"github.com/kamreg/kamreg/metrics"
)

// upstreamHeaders is what a Kazoo stand-in received of the headers a
// client may forge.
type upstreamHeaders struct {
	Host, Upgrade, Connection, HTTP2Settings string
	Forwarded, XFF, XFHost, XFProto          string
	// XFOther are the other forwarded headers (X-Forwarded-Port,
	// X-Forwarded-Prefix, X-Real-IP), "name=value" joined.
	XFOther string
}

func otherForwarded(h http.Header) string {
	var out []string
	for _, k := range []string{"X-Forwarded-Port", "X-Forwarded-Prefix", "X-Real-Ip"} {
		if v := h.Get(k); v != "" {
			out = append(out, k+"="+v)
		}
	}
	return strings.Join(out, " ")
}

// recordingKazoo answers 200 and records the headers of each request.
func recordingKazoo(t *testing.T) (*url.URL, func() []upstreamHeaders) {
	t.Helper()
	var mu sync.Mutex
	var got []upstreamHeaders
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, upstreamHeaders{r.Host, r.Header.Get("Upgrade"), r.Header.Get("Connection"), r.Header.Get("HTTP2-Settings"),
			r.Header.Get("Forwarded"), strings.Join(r.Header.Values("X-Forwarded-For"), ","), r.Header.Get("X-Forwarded-Host"),
			r.Header.Get("X-Forwarded-Proto"), otherForwarded(r.Header)})
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u, func() []upstreamHeaders { mu.Lock(); defer mu.Unlock(); return append([]upstreamHeaders(nil), got...) }
}

// TestProxyForwardsWebSocketUpgradesOnly: an Upgrade to WebSocket reaches
// Kazoo; h2c and any other are stripped, and the request goes on plain.
func TestProxyForwardsWebSocketUpgradesOnly(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    upstreamHeaders
	}{
		{"websocket", []string{"Connection", "Upgrade", "Upgrade", "websocket"}, upstreamHeaders{Upgrade: "websocket", Connection: "Upgrade"}},
		{"WebSocket", []string{"Connection", "keep-alive, Upgrade", "Upgrade", "WebSocket"}, upstreamHeaders{Upgrade: "WebSocket", Connection: "Upgrade"}},
		{"h2c", []string{"Connection", "Upgrade, HTTP2-Settings", "Upgrade", "h2c", "HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"}, upstreamHeaders{}},
		{"h2c without Connection", []string{"Upgrade", "h2c", "HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"}, upstreamHeaders{}},
		{"another protocol", []string{"Connection", "Upgrade", "Upgrade", "TLS/1.2"}, upstreamHeaders{}},
		{"websocket among others", []string{"Connection", "Upgrade", "Upgrade", "h2c, websocket"}, upstreamHeaders{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, got := recordingKazoo(t)
			cfg := testConfig(fakeRegistrations{}, nil)
			cfg.KazooURL = u
			srv := httptest.NewServer(New(cfg))
			defer srv.Close()
			send(t, "GET", srv.URL+"/v2/websockets", "", tt.headers...)
			g := got()
			if len(g) != 1 {
				t.Fatalf("Kazoo got %d requests", len(g))
			}
			seen := g[0]
			seen.Host, seen.Forwarded, seen.XFF, seen.XFHost, seen.XFProto = "", "", "", "", ""
			if diff := cmp.Diff(tt.want, seen); diff != "" {
				t.Errorf("what Kazoo got (-want +got):\n%s", diff)
			}
		})
	}
}

// TestProxyForwardedHeaders: a client's own X-Forwarded-* and Forwarded
// are dropped and kamreg's set instead, unless the client is a trusted
// proxy; Host is Kazoo's either way.
func TestProxyForwardedHeaders(t *testing.T) {
	forged := []string{"X-Forwarded-For", "6.6.6.6", "X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https",
		"Forwarded", "for=6.6.6.6;host=evil.example;proto=https",
		"X-Forwarded-Port", "443", "X-Forwarded-Prefix", "/evil", "X-Real-IP", "6.6.6.6"}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		want    func(kazoo, kamreg string) upstreamHeaders
	}{
		{"untrusted client", nil, func(kazoo, kamreg string) upstreamHeaders {
			return upstreamHeaders{Host: kazoo, XFF: "127.0.0.1", XFHost: kamreg, XFProto: "http"}
		}},
		{"other proxies trusted", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, func(kazoo, kamreg string) upstreamHeaders {
			return upstreamHeaders{Host: kazoo, XFF: "127.0.0.1", XFHost: kamreg, XFProto: "http"}
		}},
		{"trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, func(kazoo, kamreg string) upstreamHeaders {
			return upstreamHeaders{Host: kazoo, Forwarded: "for=6.6.6.6;host=evil.example;proto=https",
				XFF: "6.6.6.6, 127.0.0.1", XFHost: "evil.example", XFProto: "https",
				XFOther: "X-Forwarded-Port=443 X-Forwarded-Prefix=/evil X-Real-Ip=6.6.6.6"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, got := recordingKazoo(t)
			cfg := testConfig(fakeRegistrations{}, nil)
			cfg.KazooURL = u
			cfg.AuthFailures.TrustedProxies = tt.trusted
			srv := httptest.NewServer(New(cfg))
			defer srv.Close()
			send(t, "GET", srv.URL+"/v2/accounts/"+acctID+"/users", "", forged...)
			want := []upstreamHeaders{tt.want(u.Host, strings.TrimPrefix(srv.URL, "http://"))}
			if diff := cmp.Diff(want, got()); diff != "" {
				t.Errorf("what Kazoo got (-want +got):\n%s", diff)
			}
		})
	}
}

// TestProxiedLoginsAreLimited: Kazoo's 401s to /v2/user_auth and
// /v2/api_auth count as failed authentications of the client's address;
// past the limit the answer is the 429 envelope and Kazoo is not asked.
// A login that succeeds costs nothing.
func TestProxiedLoginsAreLimited(t *testing.T) {
	var mu sync.Mutex
	hits := 0
	kazoo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		if strings.Contains(r.URL.RawQuery, "good") {
			w.WriteHeader(http.StatusCreated)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"data":{"message":"invalid credentials"},"error":"401","message":"invalid_credentials","status":"error"}`))
	}))
	defer kazoo.Close()
	u, _ := url.Parse(kazoo.URL)
	reg := prometheus.NewRegistry()
	cfg := testConfig(fakeRegistrations{}, nil)
	cfg.KazooURL = u
	cfg.AuthFailures = auth.FailureLimit{Rate: 0.0001, Burst: 3, Metrics: metrics.NewAuthFailures(reg)}
	s := New(cfg)
	login := func(peer, path string) int {
		req := httptest.NewRequest("PUT", path, strings.NewReader(`{"data":{"credentials":"x","account_name":"a"}}`))
		req.RemoteAddr = peer
		req.Header.Set("X-Request-ID", "rid")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code == 429 {
			want := `{"auth_token":"","data":{"message":"too many requests"},"error":"429","message":"too_many_requests","request_id":"rid","status":"error"}`
			if w.Body.String() != want || w.Header().Get("Retry-After") == "" {
				t.Errorf("429: %v %s", w.Header(), w.Body)
			}
		}
		return w.Code
	}
	var got []int
	for range 5 {
		got = append(got, login("192.0.2.1:1000", "/v2/user_auth?good"))
	}
	for _, p := range []string{"/v2/user_auth", "/v2/api_auth", "/v1/user_auth/", "/v2/api_auth", "/v2/user_auth?good", "/v2/accounts/" + acctID + "/users"} {
		got = append(got, login("192.0.2.1:1000", p))
	}
	got = append(got, login("192.0.2.2:1000", "/v2/api_auth"))
	want := []int{201, 201, 201, 201, 201, 401, 401, 401, 429, 429, 401, 401}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	if hits != 10 {
		t.Errorf("Kazoo was asked %d times, want 10", hits)
	}
	wantMetrics := `
# HELP kamreg_auth_failures_total Failed authentications by reason: missing, malformed, unknown_token, invalid, unknown_account, kazoo_login (Kazoo's 401 to a proxied login), and rate_limited (answered 429 before any lookup).
# TYPE kamreg_auth_failures_total counter
kamreg_auth_failures_total{reason="invalid"} 0
kamreg_auth_failures_total{reason="kazoo_login"} 4
kamreg_auth_failures_total{reason="malformed"} 0
kamreg_auth_failures_total{reason="missing"} 0
kamreg_auth_failures_total{reason="rate_limited"} 2
kamreg_auth_failures_total{reason="unknown_account"} 0
kamreg_auth_failures_total{reason="unknown_token"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(wantMetrics), "kamreg_auth_failures_total"); err != nil {
		t.Error(err)
	}
}

package rest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
)

// hostileNames are usernames Kamailio 5.6 stores (measured: it unescapes
// the user part of the AoR, so sip:a%23b@realm is the username "a#b"), each
// with the path segments a client may write it as. The last segment of
// each is the page's: the AoR, encodeURIComponent(username + "@" + realm).
var hostileNames = []struct {
	username string
	segments []string
}{
	{".", []string{"%2E", "%2e", ".%40acme.kamreg.test"}},
	{"..", []string{"%2E%2E", ".%2E", "%2E.", "..%40Acme.Kamreg.Test"}},
	{"...", []string{"...", "%2E%2E%2E", "...%40acme.kamreg.test"}},
	{"a%b", []string{"a%25b", "a%25b%40acme.kamreg.test"}},
	{"a;b", []string{"a%3Bb", "a;b", "a%3Bb%40acme.kamreg.test"}},
	{"a?b", []string{"a%3Fb", "a%3Fb%40acme.kamreg.test"}},
	{"a#b", []string{"a%23b", "a%23b%40acme.kamreg.test"}},
	{"a/b", []string{"a%2Fb", "a%2fb", "a%2Fb%40acme.kamreg.test"}},
	{"../../x", []string{"..%2F..%2Fx", "..%2F..%2Fx%40acme.kamreg.test"}},
	{"été", []string{"%C3%A9t%C3%A9", "%C3%A9t%C3%A9%40acme.kamreg.test"}},
	{"a b", []string{"a%20b", "a%20b%40acme.kamreg.test"}},
	{"%2E", []string{"%252E", "%252E%40acme.kamreg.test"}},
	{"count", []string{"%63ount", "count%40acme.kamreg.test"}},
	{"events", []string{"events", "%65vents", "events%40acme.kamreg.test"}},
	{"alice", []string{"alice", "alice%40acme.kamreg.test"}},
}

// flushRecorder is a registrations fake that records the usernames it is
// asked to flush and fails the test on any other call.
type flushRecorder struct {
	mu    sync.Mutex
	users []string
}

func (f *flushRecorder) fake(t *testing.T) fakeRegistrations {
	return fakeRegistrations{
		ListFn: func(kamreg.ListQuery) (kamreg.Page, error) {
			t.Error("a list was read")
			return kamreg.Page{}, nil
		},
		CountFn: func(kamreg.ListQuery) (int, error) { t.Error("a count was read"); return 0, nil },
		FlushRealmFn: func(kamreg.Account) (kamreg.FlushReport, error) {
			t.Error("the realm was flushed")
			return kamreg.FlushReport{}, nil
		},
		FlushUserFn: func(_ kamreg.Account, u string) (kamreg.FlushReport, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.users = append(f.users, u)
			return kamreg.FlushReport{Flushed: []string{u + "@r"}}, nil
		},
	}
}

func (f *flushRecorder) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.users
	f.users = nil
	return u
}

// upstream is a fake Kazoo that records the request-target of each
// request exactly as it arrived.
func upstream(t *testing.T) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.RequestURI)
		mu.Unlock()
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); g := got; got = nil; return g }
}

// mustURL parses a URL of the test's own.
func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// proxyingTo serves kamreg on fakes in front of a fake Kazoo, on 127.0.0.1.
func proxyingTo(t *testing.T, regs fakeRegistrations, kazoo *httptest.Server) *httptest.Server {
	t.Helper()
	cfg := testConfig(regs, nil)
	cfg.KazooURL = mustURL(t, kazoo.URL)
	srv := httptest.NewServer(New(cfg))
	t.Cleanup(srv.Close)
	return srv
}

// servers are the two ways kamreg is run: alone, and in front of a Kazoo
// whose requests received returns. Each sends the request-target as it is
// written (as curl --path-as-is).
func servers(t *testing.T, regs fakeRegistrations) (send map[string]func(method, target string) (int, string), received func() []string) {
	t.Helper()
	alone := New(testConfig(regs, nil))
	kazoo, received := upstream(t)
	proxying := proxyingTo(t, regs, kazoo)
	return map[string]func(method, target string) (int, string){
		"alone": func(method, target string) (int, string) {
			w := do(alone, method, target, goodTok)
			return w.Code, w.Body.String()
		},
		"proxying": func(method, target string) (int, string) {
			return sendRaw(t, proxying.URL, method, target, goodTok)
		},
	}, received
}

// sendRaw sends target as the request-target, unchanged.
func sendRaw(t *testing.T, server, method, target, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, server, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = target // written as it is: no cleaning, no escaping
	req.Header.Set("X-Auth-Token", token)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestHostileUsernamesFlushOneUser: every username Kamailio stores, dots,
// escapes, slashes and non-ASCII included, is flushed on its own from
// each way of writing it, with or without a Kazoo behind kamreg; none is
// the realm flush and none leaves the registrations routes.
func TestHostileUsernamesFlushOneUser(t *testing.T) {
	rec := &flushRecorder{}
	senders, received := servers(t, rec.fake(t))
	for name, send := range senders {
		for _, tt := range hostileNames {
			for _, seg := range tt.segments {
				for _, trailing := range []string{"", "/"} {
					status, body := send("DELETE", base+"/"+seg+trailing)
					if status != 200 || !strings.Contains(body, `"data":"ok"`) {
						t.Errorf("%s: DELETE …/%s%s: %d %s", name, seg, trailing, status, body)
					}
					if d := cmp.Diff([]string{tt.username}, rec.take()); d != "" {
						t.Errorf("%s: DELETE …/%s%s flushed (-want +got):\n%s", name, seg, trailing, d)
					}
				}
			}
		}
	}
	if got := received(); got != nil {
		t.Errorf("Kazoo received %q", got)
	}
}

// TestUsernameSegmentsRefused: an AoR of another realm, or a name no
// location row can hold, is a 404 naming it and never reaches the flush.
func TestUsernameSegmentsRefused(t *testing.T) {
	rec := &flushRecorder{}
	s := newTestServer(t, rec.fake(t), nil)
	tests := []struct{ segment, named string }{
		{"alice%40other.kamreg.test", "alice@other.kamreg.test"},
		{"alice%40", "alice@"},
		{"%40acme.kamreg.test", "@acme.kamreg.test"},
		{"a%40b%40acme.kamreg.test", "a@b@acme.kamreg.test"},
		{"a%00b", "a\x00b"},
		{"a%09b", "a\tb"},
		{"%FF", "\xff"},
		{strings.Repeat("x", 65), strings.Repeat("x", 65)},
	}
	for _, tt := range tests {
		w := do(s, "DELETE", base+"/"+tt.segment, goodTok)
		var env struct {
			Message string
			Data    []string
		}
		_ = json.Unmarshal(w.Body.Bytes(), &env)
		want := []string{strings.ToValidUTF8(tt.named, "\ufffd")}
		if w.Code != 404 || env.Message != "bad identifier" || !cmp.Equal(want, env.Data) {
			t.Errorf("DELETE …/%s: %d %s, want 404 bad identifier %q", tt.segment, w.Code, w.Body, want)
		}
	}
	if got := rec.take(); got != nil {
		t.Errorf("flushed %q", got)
	}
}

// dotSegmentPaths hold a "." or ".." segment somewhere: on every route
// kamreg serves, and on paths it would proxy.
var dotSegmentPaths = []string{
	base + "/.", base + "/..", base + "/./", base + "/../", base + "/./alice", base + "/../registrations",
	base + "/count/.", base + "/count/..", base + "/events/..", base + "/alice/..", base + "/alice/.",
	"/v2/accounts/" + acctID + "/./registrations", "/v2/accounts/" + acctID + "/..", "/v2/accounts/" + acctID + "/../",
	"/v2/accounts/" + acctID + "/../" + acctID + "/registrations", "/v2/accounts/../registrations",
	"/v2/accounts/./" + acctID + "/registrations", "/v2/./registrations", "/v2/registrations/..", "/v2/registrations/./count",
	"/v2/..", "/./v2/registrations", "/../v2/registrations", "/.", "/..",
	"/ui/.", "/ui/./app.js", "/ui/../healthz", "/./healthz", "/healthz/.", "/readyz/..",
	"/v2/accounts/" + acctID + "/users/..", "/v2/user_auth/.", "/v2/accounts/" + acctID + "/devices/../..",
}

// TestDotSegmentsAreRefused: a path that still holds a dot segment (sent
// raw, as curl --path-as-is does) is a 400 from the error table, whatever
// the method: never a flush, never a read, never proxied to Kazoo.
func TestDotSegmentsAreRefused(t *testing.T) {
	rec := &flushRecorder{}
	regs := rec.fake(t)
	kazoo, received := upstream(t)
	proxying := proxyingTo(t, regs, kazoo)
	alone := newTestServer(t, regs, nil)
	const want = `{"auth_token":"tok-acct","data":{"message":"the path holds a dot segment (\".\" or \"..\"): write a dot in a name as %2E",` +
		`"parameter":"path"},"error":"400","message":"invalid request","request_id":"rid","status":"error"}`
	for _, path := range dotSegmentPaths {
		for _, method := range []string{"GET", "DELETE", "POST", "OPTIONS"} {
			w := do(alone, method, path, goodTok)
			if w.Code != 400 || w.Body.String() != want {
				t.Errorf("%s %s: %d %s", method, path, w.Code, w.Body)
			}
			if status, body := sendRaw(t, proxying.URL, method, path, goodTok); status != 400 || !strings.Contains(body, `"parameter":"path"`) {
				t.Errorf("%s %s with Kazoo behind: %d %s", method, path, status, body)
			}
		}
	}
	if got := received(); got != nil {
		t.Errorf("Kazoo received %q", got)
	}
	if got := rec.take(); got != nil {
		t.Errorf("flushed %q", got)
	}
}

// TestEscapedPaths: the router matches the escaped path, so an escaped
// slash or dot is part of a segment; every route still answers, its
// variables decoded, and the proxy forwards the path as it arrived.
func TestEscapedPaths(t *testing.T) {
	kazoo, received := upstream(t)
	proxying := proxyingTo(t, fakeRegistrations{}, kazoo)
	acct := "/v2/accounts/" + acctID
	tests := []struct {
		method, path string
		status       int
		// proxied is what Kazoo receives, when the request is its.
		proxied string
	}{
		{"GET", base, 200, ""},
		{"GET", base + "/", 200, ""},
		{"GET", base + "/count", 200, ""},
		{"GET", base + "/count/", 200, ""},
		{"DELETE", base, 200, ""},
		{"DELETE", base + "/", 200, ""},
		{"DELETE", base + "/count", 405, ""},
		{"GET", "/v2/registrations/count", 200, ""},
		{"GET", "/healthz", 200, ""},
		{"GET", "/readyz/", 200, ""},
		{"GET", "/ui/", 200, ""},
		{"GET", "/ui/app.js", 200, ""},
		{"GET", "/ui/%61pp.js", 200, ""},
		// The account id is decoded like any variable.
		{"GET", "/v2/accounts/%30123456789abcdef0123456789abcdef/registrations/count", 200, ""},
		{"GET", "/v2/accounts/%2E%2E/registrations", 404, ""},
		// An escaped slash is never a slash: these are no route of kamreg's.
		{"GET", acct + "%2Fregistrations", 418, "GET " + acct + "%2Fregistrations"},
		{"GET", base + "%2Fcount", 418, "GET " + base + "%2Fcount"},
		{"GET", base + "/%2E%2E%2F%2E%2E%2Fusers", 405, ""},
		{"DELETE", acct + "/users/a%2Fb", 418, "DELETE " + acct + "/users/a%2Fb"},
		{"GET", acct + "/users/%2E%2E/devices?x=%2F", 418, "GET " + acct + "/users/%2E%2E/devices?x=%2F"},
		{"GET", acct + "/users/%2e", 418, "GET " + acct + "/users/%2e"},
		{"GET", "/v2/registrations%2Fcount", 418, "GET /v2/registrations%2Fcount"},
	}
	for _, tt := range tests {
		status, body := sendRaw(t, proxying.URL, tt.method, tt.path, superTok)
		if status != tt.status {
			t.Errorf("%s %s: %d, want %d: %s", tt.method, tt.path, status, tt.status, body)
		}
		var want []string
		if tt.proxied != "" {
			want = []string{tt.proxied}
		}
		if d := cmp.Diff(want, received()); d != "" {
			t.Errorf("%s %s: what Kazoo received (-want +got):\n%s", tt.method, tt.path, d)
		}
	}
}

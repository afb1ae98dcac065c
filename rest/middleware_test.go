package rest

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/metrics"
)

// seriesCount is the number of series of every metric in reg.
func seriesCount(t *testing.T, reg *prometheus.Registry) int {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range families {
		n += len(f.GetMetric())
	}
	return n
}

// junkMethods are methods a client invents; Go's server passes each to
// the handler.
func junkMethods() []string {
	return []string{"FOO", "PROPFIND", "get", "BREW", strings.Repeat("X", 1024), strings.Repeat("Y", 1024)}
}

// TestInventedMethodsAddNoSeries: requests with made-up methods, 1 KB
// long ones too, on kamreg's routes, unknown paths and the Kazoo proxy,
// give no series beyond those one made-up method gives.
func TestInventedMethodsAddNoSeries(t *testing.T) {
	kazoo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotImplemented)
	}))
	defer kazoo.Close()
	u, _ := url.Parse(kazoo.URL)
	reg := prometheus.NewRegistry()
	cfg := testConfig(fakeRegistrations{}, nil)
	cfg.Metrics = metrics.New(reg)
	cfg.KazooURL = u
	s := New(cfg)
	paths := []string{base, base + "/count", base + "/alice", "/v2/registrations", "/healthz", "/v2/accounts/" + acctID + "/users", "/nope"}
	send := func(method string) {
		for _, p := range paths {
			do(s, method, p, goodTok)
		}
	}
	send("INVENTED")
	before := seriesCount(t, reg)
	for _, m := range junkMethods() {
		send(m)
	}
	if after := seriesCount(t, reg); after != before {
		t.Errorf("made-up methods made %d new series", after-before)
	}
	families, _ := reg.Gather()
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "method" && !map[string]bool{"GET": true, "DELETE": true, "OPTIONS": true, "other": true}[l.GetValue()] {
					t.Errorf("%s has method label %.40q", f.GetName(), l.GetValue())
				}
			}
		}
	}
}

// TestMethodLabel pins the closed set of the method label.
func TestMethodLabel(t *testing.T) {
	got := map[string]string{}
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "get", "FOO", ""} {
		got[m] = metrics.MethodLabel(m)
	}
	want := map[string]string{"GET": "GET", "HEAD": "HEAD", "POST": "POST", "PUT": "PUT", "PATCH": "PATCH", "DELETE": "DELETE",
		"OPTIONS": "OPTIONS", "CONNECT": "other", "TRACE": "other", "get": "other", "FOO": "other", "": "other"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestClientFaultsAreNotErrors: a client's fault (any 4xx, or Kazoo's 501
// for a junk method through the proxy) is logged at info or warn, a
// backend's failure (PostgreSQL, a node, Kazoo) at warn; only kamreg's own
// faults at error.
func TestClientFaultsAreNotErrors(t *testing.T) {
	kazoo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method != http.MethodGet:
			w.WriteHeader(http.StatusNotImplemented) // as Kazoo's cowboy answers a method it does not know
		case strings.HasSuffix(r.URL.Path, "/broken"):
			w.WriteHeader(http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer kazoo.Close()
	u, _ := url.Parse(kazoo.URL)
	down := httptest.NewServer(http.NotFoundHandler())
	downURL, _ := url.Parse(down.URL)
	down.Close()
	failing := fakeRegistrations{
		CountFn: func(kamreg.ListQuery) (int, error) { return 0, errors.New("a fault of kamreg's") },
		ListFn: func(kamreg.ListQuery) (kamreg.Page, error) {
			return kamreg.Page{}, kamreg.Errorf(kamreg.EUNAVAILABLE, "PostgreSQL is unreachable")
		},
		FlushRealmFn: func(kamreg.Account) (kamreg.FlushReport, error) {
			return kamreg.FlushReport{}, &kamreg.FlushError{Report: kamreg.FlushReport{Failed: []string{"a@r"}}}
		},
	}
	long := strings.Repeat("M", 1024)
	tests := []struct {
		name, method, path, token string
		status                    int
		level                     logrus.Level
		kazoo                     *url.URL
	}{
		{"invented method", "FOO", base, goodTok, 405, logrus.InfoLevel, nil},
		{"1 KB method", long, base + "/count", "", 405, logrus.InfoLevel, nil},
		{"1 KB method, unknown path", long, "/v2/accounts/" + acctID + "/users", "", 501, logrus.WarnLevel, nil},
		{"junk method proxied", "BREW", "/v2/accounts/" + acctID + "/users", goodTok, 501, logrus.WarnLevel, nil},
		{"Kazoo's 401", "GET", "/v2/accounts/" + acctID + "/users", "", 401, logrus.InfoLevel, nil},
		{"no token", "GET", base, "", 401, logrus.InfoLevel, nil},
		{"forbidden", "GET", base, otherTok, 403, logrus.InfoLevel, nil},
		{"malformed account", "GET", "/v2/accounts/xyz/registrations", "", 404, logrus.InfoLevel, nil},
		{"unknown user", "DELETE", base + "/nobody", goodTok, 404, logrus.InfoLevel, nil},
		{"bad parameter", "GET", base + "?page_size=0", goodTok, 400, logrus.InfoLevel, nil},
		{"PostgreSQL unavailable", "GET", base, goodTok, 503, logrus.WarnLevel, nil},
		{"flush incomplete", "DELETE", base, goodTok, 503, logrus.WarnLevel, nil},
		{"Kazoo's own 500", "GET", "/v2/accounts/" + acctID + "/broken", goodTok, 500, logrus.WarnLevel, nil},
		{"Kazoo down", "GET", "/v2/accounts/" + acctID + "/users", goodTok, 502, logrus.WarnLevel, downURL},
		{"kamreg's fault", "GET", base + "/count", goodTok, 500, logrus.ErrorLevel, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(failing, nil)
			cfg.KazooURL = u
			if tt.kazoo != nil {
				cfg.KazooURL = tt.kazoo
			}
			logger, hook := logtest.NewNullLogger()
			cfg.Log = logger
			w := do(New(cfg), tt.method, tt.path, tt.token)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			entries := hook.AllEntries()
			if len(entries) != 1 {
				t.Fatalf("%d log lines, want 1", len(entries))
			}
			if got := entries[0].Level; got != tt.level {
				t.Errorf("logged at %s, want %s", got, tt.level)
			}
			if m := entries[0].Data["method"]; m != metrics.MethodLabel(tt.method) {
				t.Errorf("method logged as %.40q", m)
			}
		})
	}
}

// TestLoggedErrorsAreBounded: an error that quotes a caller's 10 KB text
// is logged cut to about 1 KB, on a rune boundary.
func TestLoggedErrorsAreBounded(t *testing.T) {
	long := strings.Repeat("é", 5000)
	cfg := testConfig(fakeRegistrations{CountFn: func(kamreg.ListQuery) (int, error) {
		return 0, errors.New("ul.rm " + long + "@realm: no answer")
	}}, nil)
	logger, hook := logtest.NewNullLogger()
	cfg.Log = logger
	if w := do(New(cfg), "GET", base+"/count", goodTok); w.Code != 500 {
		t.Fatalf("status %d", w.Code)
	}
	e := hook.LastEntry()
	msg, _ := e.Data[logrus.ErrorKey].(string)
	if len(msg) > 1024+len("…") || !strings.HasSuffix(msg, "…") || !strings.HasPrefix(msg, "ul.rm é") || !utf8.ValidString(msg) {
		t.Errorf("logged error of %d bytes: %.80q…", len(msg), msg)
	}
}

// TestAnAbortedResponseIsCut: a handler that aborts its response mid-way
// (http.ErrAbortHandler, as a streamed list whose backend fails after its
// first byte) has it cut: the panic goes on to the server unchanged, so
// the client reads an error and never a whole answer; the request is
// logged once, at warn, as cut (not as a panic, nor as a 500) and counted
// with the code "cut".
func TestAnAbortedResponseIsCut(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := testConfig(fakeRegistrations{}, nil)
	cfg.Metrics = metrics.New(reg)
	logger, hook := logtest.NewNullLogger()
	cfg.Log = logger
	h := New(cfg).observe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stateOf(r).route = "account_registrations"
		_, _ = w.Write([]byte(`{"auth_token":"","data":[{"username":"alice"}`))
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}))

	var p any
	func() {
		defer func() { p = recover() }()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", base, nil))
	}()
	if p != http.ErrAbortHandler {
		t.Fatalf("the panic that reached the server: %v, want http.ErrAbortHandler", p)
	}
	type line struct{ Level, Message string }
	var got []line
	for _, e := range hook.AllEntries() {
		got = append(got, line{e.Level.String(), e.Message})
	}
	if diff := cmp.Diff([]line{{"warning", "response cut"}}, got); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
	want := `
# HELP kamreg_http_requests_total HTTP requests by route and status code.
# TYPE kamreg_http_requests_total counter
kamreg_http_requests_total{code="cut",method="GET",route="account_registrations"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "kamreg_http_requests_total"); err != nil {
		t.Error(err)
	}

	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + base)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if body, err := io.ReadAll(resp.Body); err == nil {
		t.Errorf("the client read a whole answer from a cut response: %s", body)
	}
}

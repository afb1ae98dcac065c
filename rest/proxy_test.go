package rest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// seen is what the fake Kazoo received.
type seen struct {
	Method, Path, Query, Host, Body                       string
	AuthToken, Cluster, ContentType, XFF, XFProto, XFHost string
}

// fakeKazoo records each request and answers with Kazoo-like headers.
func fakeKazoo(t *testing.T) (*httptest.Server, func() []seen) {
	t.Helper()
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Host, string(body),
			r.Header.Get("X-Auth-Token"), r.Header.Get("X-Kazoo-Cluster-ID"), r.Header.Get("Content-Type"),
			r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Forwarded-Host")})
		mu.Unlock()
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("X-Request-ID", "kazoo-rid")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"data":{"from":"kazoo"},"status":"success"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []seen { mu.Lock(); defer mu.Unlock(); return append([]seen(nil), got...) }
}

// proxyingServer serves kamreg, proxying to upstream, on 127.0.0.1.
func proxyingServer(t *testing.T, upstream string, log *bytes.Buffer) *httptest.Server {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(fakeRegistrations{}, log)
	cfg.KazooURL = u
	srv := httptest.NewServer(New(cfg))
	t.Cleanup(srv.Close)
	return srv
}

func send(t *testing.T, method, url, body string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestProxyForwardsWhatKamregDoesNotServe(t *testing.T) {
	kazoo, requests := fakeKazoo(t)
	srv := proxyingServer(t, kazoo.URL, nil)
	kazooHost := strings.TrimPrefix(kazoo.URL, "http://")
	kamregHost := strings.TrimPrefix(srv.URL, "http://")

	resp, body := send(t, "PUT", srv.URL+"/v2/accounts/"+acctID+"/devices?_=1700000000000", `{"data":{"name":"d"}}`,
		"X-Auth-Token", goodTok, "X-Kazoo-Cluster-ID", "c1", "Content-Type", "application/json")
	if resp.StatusCode != 201 || body != `{"data":{"from":"kazoo"},"status":"success"}` {
		t.Errorf("answer: %d %s", resp.StatusCode, body)
	}
	// Kazoo's headers come back as they are, never doubled by kamreg's.
	for k, want := range map[string][]string{"Access-Control-Allow-Origin": {"*"}, "X-Request-Id": {"kazoo-rid"},
		"Access-Control-Expose-Headers": nil} {
		if diff := cmp.Diff(want, resp.Header[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
	// kamreg's own routes, their preflights and their errors stay kamreg's.
	if resp, body := send(t, "GET", srv.URL+base+"/count/", "", "X-Auth-Token", goodTok); resp.StatusCode != 200 ||
		!strings.Contains(body, `"count":2`) {
		t.Errorf("kamreg's count: %d %s", resp.StatusCode, body)
	}
	if resp, _ := send(t, "OPTIONS", srv.URL+base, ""); resp.Header.Get("Access-Control-Max-Age") != "86400" {
		t.Errorf("kamreg's preflight: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, _ := send(t, "POST", srv.URL+base, "{}", "X-Auth-Token", goodTok); resp.StatusCode != 405 {
		t.Errorf("POST on kamreg's route: %d, want 405", resp.StatusCode)
	}
	send(t, "OPTIONS", srv.URL+"/v2/accounts/"+acctID+"/users", "", "Access-Control-Request-Method", "POST")
	send(t, "DELETE", srv.URL+"/v2/accounts/"+acctID+"/registrations/alice/extra", `{"data":{}}`, "X-Forwarded-For", "192.0.2.7")

	want := []seen{
		{"PUT", "/v2/accounts/" + acctID + "/devices", "_=1700000000000", kazooHost, `{"data":{"name":"d"}}`,
			goodTok, "c1", "application/json", "127.0.0.1", "http", kamregHost},
		{"OPTIONS", "/v2/accounts/" + acctID + "/users", "", kazooHost, "", "", "", "", "127.0.0.1", "http", kamregHost},
		// The client's own X-Forwarded-For is dropped: it is no trusted proxy.
		{"DELETE", "/v2/accounts/" + acctID + "/registrations/alice/extra", "", kazooHost, `{"data":{}}`,
			"", "", "", "127.0.0.1", "http", kamregHost},
	}
	if diff := cmp.Diff(want, requests()); diff != "" {
		t.Errorf("what Kazoo received (-want +got):\n%s", diff)
	}
}

// TestProxyStreams reads the first part of Kazoo's answer before Kazoo has
// written the rest.
func TestProxyStreams(t *testing.T) {
	release := make(chan struct{})
	kazoo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		_, _ = io.WriteString(w, "second\n")
	}))
	defer kazoo.Close()
	defer close(release)
	srv := proxyingServer(t, kazoo.URL, nil)
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(srv.URL + "/v2/websockets")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "first\n" {
		t.Errorf("first line %q, %v", line, err)
	}
}

func TestProxyUpstreamDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	const token = "abcdef0123456789abcdef0123456789.5ecre75ecre75ecre75ecre75ecre75ecre75ecre75ecre75ecre75ecre7abcd"
	var log bytes.Buffer
	srv := proxyingServer(t, down, &log)
	resp, body := send(t, "GET", srv.URL+"/v2/accounts/"+acctID+"/users?auth_token="+token, "", "X-Request-ID", "rid-502",
		"Authorization", "Bearer "+token)
	if resp.StatusCode != 502 {
		t.Errorf("status %d, want 502", resp.StatusCode)
	}
	var env map[string]any
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	want := map[string]any{"auth_token": token, "data": map[string]any{"message": "Kazoo at " + ln.Addr().String() + " did not answer"},
		"error": "502", "message": "bad_gateway", "request_id": "rid-502", "status": "error"}
	if diff := cmp.Diff(want, env); diff != "" {
		t.Errorf("envelope (-want +got):\n%s", diff)
	}
	for k, want := range map[string]string{"Access-Control-Allow-Origin": "*", "X-Request-Id": "rid-502", "Content-Type": "application/json"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	logged := log.String()
	if !strings.Contains(logged, `"msg":"request failed"`) || !strings.Contains(logged, "connection refused") ||
		!strings.Contains(logged, `"route":"kazoo_proxy"`) {
		t.Errorf("the failure is not logged:\n%s", logged)
	}
	for _, part := range strings.Split(token, ".") {
		if strings.Contains(logged, part) {
			t.Errorf("the token reached the log:\n%s", logged)
		}
	}
}

//go:build integration

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg/testbed"
)

// browserPage is the test page. It makes the calls Monster UI's Kazoo SDK
// makes (X-Auth-Token and X-Kazoo-Cluster-ID headers, Content-Type:
// application/json on every verb, jQuery's _=<ms> on GETs, a {"data":{}}
// body on DELETE) with fetch, from its own origin, and posts what it saw
// back to the page's server.
const browserPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>kamreg from a browser</title></head>
<body><pre id="result">pending</pre>
<script type="application/json" id="cfg">%s</script>
<script type="module">
const cfg = JSON.parse(document.getElementById("cfg").textContent);
const acct = cfg.api + "/v2/accounts/" + cfg.account + "/registrations";
async function sdk(name, verb, url, token) {
  const headers = {"Content-Type": "application/json", "X-Kazoo-Cluster-ID": cfg.cluster};
  if (token) headers["X-Auth-Token"] = token;
  const init = {method: verb, headers, cache: "no-store"};
  if (verb === "GET") {
    url += (url.includes("?") ? "&" : "?") + "_=" + Date.now();
  } else {
    init.body = JSON.stringify({data: {}});
  }
  try {
    const r = await fetch(url, init);
    const text = await r.text();
    let body = null;
    try { body = JSON.parse(text); } catch (e) { body = {unparsed: text}; }
    return {name, status: r.status, content_type: r.headers.get("content-type"),
      request_id: r.headers.get("x-request-id"), etag: r.headers.get("etag"), body};
  } catch (e) {
    return {name, error: String(e)};
  }
}
const steps = [];
steps.push(await sdk("list", "GET", acct, cfg.token));
steps.push(await sdk("count", "GET", acct + "/count", cfg.token));
steps.push(await sdk("flush_user", "DELETE", acct + "/alice", cfg.token));
steps.push(await sdk("count_after_user", "GET", acct + "/count/", cfg.token));
steps.push(await sdk("flush_account", "DELETE", acct, cfg.token));
steps.push(await sdk("count_after_account", "GET", acct + "/count", cfg.token));
steps.push(await sdk("no_token", "GET", acct, ""));
steps.push(await sdk("unknown_user", "DELETE", acct + "/nobody", cfg.token));
const out = JSON.stringify({origin: location.origin, steps});
document.getElementById("result").textContent = out;
await fetch("/result", {method: "POST", body: out});
</script></body></html>
`

// browserStep is one call as the page saw it.
type browserStep struct {
	Name        string          `json:"name"`
	Error       string          `json:"error"`
	Status      int             `json:"status"`
	ContentType string          `json:"content_type"`
	RequestID   string          `json:"request_id"`
	ETag        string          `json:"etag"`
	Body        json.RawMessage `json:"body"`
}

// TestMonsterCallsFromABrowser drives kamreg from headless Chromium on
// another origin, with the requests Monster UI's SDK makes: CORS must let
// every call and its answer through, and errors must be readable JSON.
func TestMonsterCallsFromABrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is missing: run `make deps` (scripts/deps.sh installs Debian's chromium)")
	}
	a := newAccount(t, "Browser", "browser.kamreg.test", "", false)
	register(t,
		testbed.Phone{User: "alice", Domain: a.realm, ContactPort: 5070},
		testbed.Phone{User: "alice", Domain: a.realm, ContactPort: 5072},
		testbed.Phone{User: "bob", Domain: a.realm, ContactPort: 5070},
	)
	waitCount(t, env.main, a, 3)

	cfg, err := json.Marshal(map[string]string{"api": env.main.Base, "account": a.id, "token": a.token, "cluster": "kamreg-e2e"})
	if err != nil {
		t.Fatal(err)
	}
	raw, pageURL := browserResult(t, chromium, browserPage, cfg, 4<<20)
	var res struct {
		Origin string        `json:"origin"`
		Steps  []browserStep `json:"steps"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("result: %v: %s", err, raw)
	}
	if res.Origin == env.main.Base || res.Origin != pageURL {
		t.Fatalf("the page ran on %q; want %q, another origin than kamreg's %q", res.Origin, pageURL, env.main.Base)
	}
	steps := map[string]browserStep{}
	for _, s := range res.Steps {
		if s.Error != "" {
			t.Errorf("%s: the browser refused the call: %s", s.Name, s.Error)
		}
		if s.ContentType != "application/json" || len(s.RequestID) != 32 {
			t.Errorf("%s: content-type %q, X-Request-ID %q not readable by the page", s.Name, s.ContentType, s.RequestID)
		}
		steps[s.Name] = s
	}

	var list struct {
		Status string           `json:"status"`
		Data   []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(steps["list"].Body, &list); err != nil || steps["list"].Status != 200 || steps["list"].ETag == "" {
		t.Fatalf("list: %d etag %q %v %s", steps["list"].Status, steps["list"].ETag, err, steps["list"].Body)
	}
	var users []string
	for _, e := range list.Data {
		users = append(users, fmt.Sprint(e["username"]))
		// Kazoo 4's keys, which Monster apps that list registrations read.
		for _, k := range []string{"source_ip", "source_port", "proxy_protocol", "last_registration"} {
			if _, ok := e[k]; !ok {
				t.Errorf("list entry %v@%v has no %s", e["username"], e["contact"], k)
			}
		}
	}
	if diff := cmp.Diff([]string{"alice", "alice", "bob"}, users); diff != "" {
		t.Errorf("listed usernames (-want +got):\n%s", diff)
	}

	type answer struct {
		Status  int
		Message string
		Error   string
		Data    any
	}
	got := map[string]answer{}
	for _, name := range []string{"count", "flush_user", "count_after_user", "flush_account", "count_after_account", "no_token", "unknown_user"} {
		s := steps[name]
		var env struct {
			Status  string `json:"status"`
			Message string `json:"message"`
			Error   string `json:"error"`
			Data    any    `json:"data"`
		}
		if err := json.Unmarshal(s.Body, &env); err != nil {
			t.Errorf("%s: %v: %s", name, err, s.Body)
		}
		got[name] = answer{s.Status, env.Message, env.Error, env.Data}
	}
	want := map[string]answer{
		"count":               {200, "", "", map[string]any{"count": 3.0}},
		"flush_user":          {200, "", "", "ok"},
		"count_after_user":    {200, "", "", map[string]any{"count": 1.0}},
		"flush_account":       {200, "", "", "ok"},
		"count_after_account": {200, "", "", map[string]any{"count": 0.0}},
		"no_token":            {401, "invalid_credentials", "401", map[string]any{"message": "invalid credentials"}},
		"unknown_user":        {404, "bad identifier", "404", []any{"nobody"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers as the browser read them (-want +got):\n%s", diff)
	}
}

// browserResult serves page (a format with one %s, given cfg) at the root
// of an origin of its own, opens it in headless Chromium and returns what
// the page POSTs to /result (at most limit bytes) and the origin's URL,
// failing the test when nothing comes within 90 s.
func browserResult(t *testing.T, chromium, page string, cfg []byte, limit int64) ([]byte, string) {
	t.Helper()
	results := make(chan []byte, 1)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, page, cfg)
		case r.Method == http.MethodPost && r.URL.Path == "/result":
			body, _ := io.ReadAll(io.LimitReader(r.Body, limit))
			select {
			case results <- body:
			default:
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}))
	defer origin.Close()
	dom, stop := runChromium(t, chromium, origin.URL+"/")
	defer stop()
	select {
	case raw := <-results:
		return raw, origin.URL
	case <-time.After(90 * time.Second):
		stop()
		t.Fatalf("the page posted no result within 90 s; chromium printed:\n%s", dom())
		return nil, ""
	}
}

// runChromium opens url in headless Chromium with a fresh profile, on
// loopback only. dom returns what Chromium printed (the page's DOM once it
// is done); stop ends Chromium and its children.
func runChromium(t *testing.T, chromium, url string) (dom func() string, stop func()) {
	t.Helper()
	profile := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--no-default-browser-check", "--metrics-recording-only",
		"--user-data-dir="+profile, "--virtual-time-budget=60000", "--dump-dom", url)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Env = append(os.Environ(), "HOME="+profile)
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start chromium: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stopped := false
	return out.String, func() {
		if stopped {
			return
		}
		stopped = true
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.buf.String())
}

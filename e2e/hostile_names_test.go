//go:build integration

package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg/testbed"
)

// hostileName is a phone whose username is hostile to a URL path: the
// user part it REGISTERs with, what Kamailio 5.6 stores (it unescapes the
// user part; measured), and how it is flushed: by a client writing the
// escaped path (segment), or by the page's Flush button (segment "").
type hostileName struct {
	sipUser, username, segment string
}

var hostileNames = []hostileName{
	{".", ".", ""},
	{"..", "..", ""},
	{"...", "...", "..."},
	{"%2E%2E%2E%2E", "....", ""},
	{"a%25b", "a%b", "a%25b"},
	{"p%2525", "p%25", ""},
	{"a%3Bb", "a;b", "a%3Bb"},
	{"q%3Bz", "q;z", ""},
	{"a?b", "a?b", "a%3Fb"},
	{"q?z", "q?z", ""},
	{"a%23b", "a#b", "a%23b"},
	{"q%23z", "q#z", ""},
	{"a/b", "a/b", "a%2Fb"},
	{"..%2F..%2Fx", "../../x", ""},
	{"été", "été", "%C3%A9t%C3%A9"},
	{"ünï", "ünï", ""},
	{"a%20b", "a b", "a%20b"},
	{"%252E", "%2e", "%252e"}, // Kamailio lower-cases the unescaped AoR
	{"count", "count", "%63ount"},
	{"events", "events", ""},
	{"dot.", "dot.", "dot%2E"},
}

// TestHostileUsernames registers phones with usernames that are dot
// segments, escapes, slashes and non-ASCII through the real Kamailio, with
// a Kazoo behind kamreg, and flushes them one by one: half with the API
// (the escaped path, sent as it is), half with each row's Flush button in
// headless Chromium. Each flush removes that phone only, and the raw dot
// segments a client can still send are a 400 that flushes nothing. Kazoo
// (a recording stand-in: the proxy's target) receives none of it.
func TestHostileUsernames(t *testing.T) {
	var mu sync.Mutex
	var proxied []string
	kazoo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proxied = append(proxied, r.Method+" "+r.RequestURI)
		mu.Unlock()
		w.WriteHeader(http.StatusTeapot)
	}))
	defer kazoo.Close()
	s, err := startKamreg("main="+env.kam.RPCURL(), "KAMREG_KAZOO_URL="+kazoo.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	a := newAccount(t, "Names", "names.kamreg.test", "", false)
	phones := []testbed.Phone{{User: "alice", Domain: a.realm, ContactPort: 5070}}
	left := []string{"alice"}
	for i, n := range hostileNames {
		phones = append(phones, testbed.Phone{User: n.sipUser, Domain: a.realm, ContactPort: 5100 + i})
		left = append(left, n.username)
	}
	register(t, phones...)
	waitCount(t, s, a, len(phones))
	// stays checks the list holds exactly the phones not flushed yet, and
	// Kamailio no longer holds gone.
	stays := func(after, gone string) {
		t.Helper()
		got := usernames(t, s, a)
		slices.Sort(got)
		want := slices.Clone(left)
		slices.Sort(want)
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("after %s, the list (-want +got):\n%s", after, d)
		}
		if gone != "" {
			if n := lookup(t, gone+"@"+a.realm); n != 0 {
				t.Errorf("after %s, Kamailio still holds %d contacts of %q", after, n, gone)
			}
		}
	}
	stays("registering", "")

	// Raw dot segments, as curl --path-as-is sends them.
	acct := "/v2/accounts/" + a.id + "/registrations"
	tok := "X-Auth-Token: " + a.token + "\r\n"
	for _, path := range []string{acct + "/.", acct + "/..", acct + "/./", acct + "/../", acct + "/./alice",
		"/v2/accounts/" + a.id + "/..", "/v2/accounts/" + a.id + "/../" + a.id + "/registrations"} {
		status, body := raw(t, s.Base, "DELETE "+path+" HTTP/1.1", tok)
		var env struct{ Error, Message string }
		_ = json.Unmarshal([]byte(body), &env)
		if status != 400 || env.Message != "invalid request" {
			t.Errorf("DELETE %s: %d %.300s, want 400 invalid request", path, status, body)
		}
	}
	stays("the raw dot segments", "")

	// The API, with the escaped path as the client wrote it.
	for _, n := range hostileNames {
		if n.segment == "" {
			continue
		}
		status, body := raw(t, s.Base, "DELETE "+acct+"/"+n.segment+" HTTP/1.1", tok)
		if status != 200 {
			t.Fatalf("DELETE …/%s: %d %.300s", n.segment, status, body)
		}
		left = slices.DeleteFunc(left, func(u string) bool { return u == n.username })
		stays("DELETE …/"+n.segment, n.username)
	}

	// The page: each remaining row's Flush button, confirmed.
	ctx := openPage(t, s.Base, a)
	// waitRows waits until the live page has want rows of the username.
	waitRows := func(what, username string, want int) {
		t.Helper()
		q, _ := json.Marshal(username)
		expr := `document.getElementById("status").dataset.state === "live" && ` +
			`[...document.querySelectorAll("#regs tbody tr")].filter(tr => tr.dataset.username === ` + string(q) + `).length === ` +
			strconv.Itoa(want)
		waitPage(t, ctx, what, expr)
	}
	for _, n := range hostileNames {
		if n.segment != "" {
			continue
		}
		waitRows("the row of "+n.username, n.username, 1)
		q, _ := json.Marshal(n.username)
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { [...document.querySelectorAll("#regs tbody tr")]`+
			`.find(tr => tr.dataset.username === `+string(q)+`).querySelector("button.flush-one").click(); return true; })()`)); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx,
			chromedp.WaitVisible(chromedp.ID("confirm")),
			chromedp.Click(chromedp.ID("confirm-ok")),
		); err != nil {
			t.Fatal(err)
		}
		waitRows("the row of "+n.username+" gone after its Flush", n.username, 0)
		left = slices.DeleteFunc(left, func(u string) bool { return u == n.username })
		stays("the Flush of "+n.username+" on the page", n.username)
	}
	if d := cmp.Diff([]string{"alice"}, left); d != "" {
		t.Errorf("left (-want +got):\n%s", d)
	}
	mu.Lock()
	defer mu.Unlock()
	// The browser asks for its icon by itself, and the page for the
	// account, its descendants and its devices (Kazoo's, with
	// KAMREG_KAZOO_URL set); nothing else may reach Kazoo, no flush above
	// all.
	pageReads := []string{"GET /favicon.ico", "GET /v2/accounts/" + a.id, "GET /v2/accounts/" + a.id + "/descendants?paginate=false",
		"GET /v2/accounts/" + a.id + "/devices?with_status=true&paginate=false"}
	if got := slices.DeleteFunc(proxied, func(r string) bool { return slices.Contains(pageReads, r) }); len(got) > 0 {
		t.Errorf("Kazoo received %q", got)
	}
}

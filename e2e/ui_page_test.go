//go:build integration

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg/testbed"
)

// htmlName is a device or account name that would run as HTML.
const htmlName = `<img src=x onerror="window.kamregRan=1">`

// TestPageDevicesDetailsPicker drives /ui/ in Chromium against kamreg's
// own tables (no Kazoo): a device record with no phone registered is a
// greyed row with no actions; a registered phone's Details dialog lists
// every key of the list's JSON, in its order, and closes with Escape and
// with its button; the account picker lists the connected account and its
// child as "name (id)" and switches to the child. Names that are HTML stay
// text.
func TestPageDevicesDetailsPicker(t *testing.T) {
	home := newAccount(t, "Picker Home", "home.picker.kamreg.test", "", false)
	child := newAccount(t, htmlName, "child.picker.kamreg.test", home.id, false)
	idle, hostileDev := newID(), newID()
	mustCLI(t, "devices", "put", "--account", home.id, "--username", "desk", "--device-id", newID())
	mustCLI(t, "devices", "put", "--account", home.id, "--username", "idle", "--device-id", idle)
	const hostileUser = `<img/src=x/onerror=window.kamregRan=1>`
	mustCLI(t, "devices", "put", "--account", home.id, "--username", hostileUser, "--device-id", hostileDev)
	register(t,
		testbed.Phone{User: "desk", Domain: home.realm, ContactPort: 5070},
		testbed.Phone{User: "kid", Domain: child.realm, ContactPort: 5071},
	)
	waitCount(t, env.main, home, 1)
	waitCount(t, env.main, child, 1)

	ctx := openPage(t, env.main.Base, home)
	waitFor := func(what, expr string) {
		t.Helper()
		waitPage(t, ctx, what, expr)
	}

	// Greyed rows: the two devices with no phone, after desk's live row.
	waitFor("the greyed device rows", `document.querySelectorAll("#regs tbody tr.unregistered").length === 2`)
	type row struct {
		Username, Device, Disabled, Mark string
		Buttons                          int
	}
	rows := evalPage[[]row](t, ctx, `[...document.querySelectorAll("#regs tbody tr")].map(tr => ({Username: tr.dataset.username,
		Device: tr.dataset.device || "", Disabled: tr.getAttribute("aria-disabled") || "",
		Mark: tr.querySelector(".mark")?.textContent || "", Buttons: tr.querySelectorAll("button").length}))`)
	want := []row{
		{Username: "desk", Buttons: 3},
		{Username: hostileUser, Device: hostileDev, Disabled: "true", Mark: "not registered"},
		{Username: "idle", Device: idle, Disabled: "true", Mark: "not registered"},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}

	screenshot(t, ctx, "registrations-devices.png")

	// Details: every key of desk's entry in the list, in the list's order.
	r := call(t, "GET", env.main.Base+"/v2/accounts/"+home.id+"/registrations", home.token)
	wantKeys := firstEntryKeys(t, r.body)
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#regs tbody tr[data-username="desk"] button.details-one`)),
		chromedp.WaitVisible(chromedp.ID("details")),
	); err != nil {
		t.Fatal(err)
	}
	keys := evalPage[[]string](t, ctx, `[...document.querySelectorAll("#details dt")].map(dt => dt.textContent)`)
	if diff := cmp.Diff(wantKeys, keys); diff != "" {
		t.Errorf("the details' keys against the list's (-list +dialog):\n%s", diff)
	}
	screenshot(t, ctx, "registrations-details.png")
	shown := evalPage[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll("#details dt")].map(dt => [dt.textContent, dt.nextElementSibling.textContent]))`)
	if shown["username"] != "desk" || shown["realm"] != home.realm || shown["suppress_unregister_notify"] != "false" {
		t.Errorf("values shown: username %q, realm %q, suppress_unregister_notify %q", shown["username"], shown["realm"], shown["suppress_unregister_notify"])
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	waitFor("the details closed by Escape", `!document.getElementById("details").open`)
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#regs tbody tr[data-username="desk"] button.details-one`)),
		chromedp.WaitVisible(chromedp.ID("details")),
		chromedp.Click(chromedp.ID("details-close")),
	); err != nil {
		t.Fatal(err)
	}
	waitFor("the details closed by its button", `!document.getElementById("details").open`)

	// The picker: the connected account, then its child, by name and id.
	waitFor("the account picker", `!document.getElementById("picker-box").hidden && document.getElementById("picker").options.length === 2`)
	options := evalPage[[]string](t, ctx, `[...document.getElementById("picker").options].map(o => o.textContent + " = " + o.value)`)
	wantOptions := []string{"Picker Home (" + home.id + ") = " + home.id, htmlName + " (" + child.id + ") = " + child.id}
	if diff := cmp.Diff(wantOptions, options); diff != "" {
		t.Errorf("picker (-want +got):\n%s", diff)
	}
	evalPage[bool](t, ctx, `(() => { const s = document.getElementById("picker"); s.value = "`+child.id+`"; s.dispatchEvent(new Event("change")); return true; })()`)
	waitFor("the child's phone", `document.querySelector('#regs tbody tr[data-username="kid"]') !== null &&
		document.querySelectorAll("#regs tbody tr").length === 1 && document.getElementById("status").dataset.state === "live"`)
	type view struct {
		Picker, Account string
		Options         int
		Remembered      []string
	}
	after := evalPage[view](t, ctx, `({Picker: document.getElementById("picker").value, Account: document.getElementById("account").value,
		Options: document.getElementById("picker").options.length, Remembered: JSON.parse(localStorage.getItem("kamreg.accounts"))})`)
	wantAfter := view{child.id, child.id, 2, []string{child.id, home.id}}
	if diff := cmp.Diff(wantAfter, after); diff != "" {
		t.Errorf("after the switch (-want +got):\n%s", diff)
	}

	if injected := evalPage[int](t, ctx, `document.querySelectorAll("#regs img, #picker img, #details img, [onerror]").length + (window.kamregRan ? 100 : 0)`); injected != 0 {
		t.Errorf("elements made from names, or script run: %d", injected)
	}
}

// TestPageWithKazoo: with KAMREG_KAZOO_URL set the page takes the devices
// (with_status, one page) and the accounts below from Kazoo through
// kamreg's proxy; a Kazoo device whose name is HTML is a greyed row
// showing that name as text, and the registered one is not greyed.
func TestPageWithKazoo(t *testing.T) {
	home := newAccount(t, "Kazoo Page", "kazoo.picker.kamreg.test", "", false)
	childID, ghost, desk := newID(), newID(), newID()
	mustCLI(t, "devices", "put", "--account", home.id, "--username", "desk", "--device-id", desk)
	register(t, testbed.Phone{User: "desk", Domain: home.realm, ContactPort: 5070})
	waitCount(t, env.main, home, 1)

	var mu sync.Mutex
	var asked []string
	answers := map[string]string{
		"/v2/accounts/" + home.id:                  `{"id":"` + home.id + `","name":"Kazoo Home"}`,
		"/v2/accounts/" + home.id + "/descendants": `[{"id":"` + childID + `","name":` + jsonText(htmlName) + `,"realm":"c.test","tree":["` + home.id + `"]}]`,
		"/v2/accounts/" + home.id + "/devices": `[{"id":"` + desk + `","name":"Desk phone","username":"desk","device_type":"sip_device"},` +
			`{"id":"` + ghost + `","name":` + jsonText(htmlName) + `,"username":"ghost","device_type":"sip_device"},` +
			`{"id":"` + newID() + `","name":"Landline","device_type":"landline"}]`,
	}
	kazoo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Path+"?"+r.URL.RawQuery)
		mu.Unlock()
		data, ok := answers[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":`+data+`,"revision":"k","status":"success"}`)
	}))
	defer kazoo.Close()
	proxied, err := startKamreg("main="+env.kam.RPCURL(), "KAMREG_KAZOO_URL="+kazoo.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer proxied.Close()

	ctx := openPage(t, proxied.Base, home)
	waitPage(t, ctx, "ghost's greyed row", `document.querySelector('#regs tbody tr.unregistered[data-username="ghost"]') !== null`)
	type page struct {
		Rows       []string
		GhostName  string
		Options    []string
		Registered bool
		Injected   int
	}
	waitPage(t, ctx, "the account picker", `document.getElementById("picker").options.length === 2`)
	got := evalPage[page](t, ctx, `({
		Rows: [...document.querySelectorAll("#regs tbody tr")].map(tr => tr.dataset.username),
		GhostName: document.querySelector('tr[data-username="ghost"] .device-name').textContent,
		Options: [...document.getElementById("picker").options].map(o => o.textContent),
		Registered: !document.querySelector('tr[data-username="desk"]').classList.contains("unregistered"),
		Injected: document.querySelectorAll("#regs img, #picker img, [onerror]").length + (window.kamregRan ? 100 : 0)})`)
	want := page{[]string{"desk", "ghost"}, htmlName, []string{"Kazoo Home (" + home.id + ")", htmlName + " (" + childID + ")"}, true, 0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("page (-want +got):\n%s", diff)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range []string{"/v2/accounts/" + home.id + "/devices?with_status=true&paginate=false", "/v2/accounts/" + home.id + "/descendants?paginate=false"} {
		if !strings.Contains(strings.Join(asked, "\n"), p) {
			t.Errorf("Kazoo was not asked %s; it was asked:\n%s", p, strings.Join(asked, "\n"))
		}
	}
}

// evalPage returns the value of a JavaScript expression on the page, or
// fails the test.
func evalPage[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// firstEntryKeys returns the keys of the first entry of a list's data, in
// the order the JSON has them.
func firstEntryKeys(t *testing.T, body []byte) []string {
	t.Helper()
	var env struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil || len(env.Data) == 0 {
		t.Fatalf("list %s: %v", body, err)
	}
	dec := json.NewDecoder(bytes.NewReader(env.Data[0]))
	var keys []string
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// jsonText is s as a JSON string.
func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

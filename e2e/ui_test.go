//go:build integration

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg/testbed"
)

// TestRegistrationsPage uses /ui/ as a person would, in headless Chromium:
// it pastes a token, reads the rows, sees a phone that registers appear
// without a reload, flushes it with its button (confirming) and sees it
// go. Screenshots, desktop and phone sized, are kept with the test's
// artifacts (go test -artifacts) and their paths logged.
func TestRegistrationsPage(t *testing.T) {
	a := newAccount(t, "Page", "page.kamreg.test", "", false)
	register(t,
		testbed.Phone{User: "alice", Domain: a.realm, ContactPort: 5070},
		testbed.Phone{User: "bob", Domain: a.realm, ContactPort: 5071},
	)
	waitCount(t, env.main, a, 2)

	ctx := openPage(t, env.main.Base, a)
	rows := func() []string {
		t.Helper()
		users, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
			`[...document.querySelectorAll("#regs tbody tr")].map(tr => tr.dataset.username)`))
		if err != nil {
			t.Fatal(err)
		}
		return users
	}
	waitFor := func(what, expr string) {
		t.Helper()
		waitPage(t, ctx, what, expr)
	}
	rowOf := func(user string) string {
		return fmt.Sprintf(`document.querySelector('#regs tbody tr[data-username="%s"]')`, user)
	}

	// A mark on the page: gone if the page reloads.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.kamregMark = 1`)); err != nil {
		t.Fatal(err)
	}
	waitFor("the rows of the snapshot", `document.querySelectorAll("#regs tbody tr").length === 2 && document.getElementById("status").dataset.state === "live"`)
	if d := cmp.Diff([]string{"alice", "bob"}, rows()); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
	count, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("count")))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem("kamreg.token")`))
	if err != nil {
		t.Fatal(err)
	}
	url, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if count != "2" || stored != a.token || url != env.main.Base+"/ui/" {
		t.Errorf("count %q, token kept %v, url %q: want 2, the token in sessionStorage only, a clean URL", count, stored == a.token, url)
	}

	// A phone registers: its row appears from the stream.
	register(t, testbed.Phone{User: "carol", Domain: a.realm, ContactPort: 5072})
	waitFor("carol's row, without a reload", rowOf("carol")+` !== null && window.kamregMark === 1`)
	if d := cmp.Diff([]string{"alice", "bob", "carol"}, rows()); d != "" {
		t.Errorf("rows after carol registered (-want +got):\n%s", d)
	}
	screenshot(t, ctx, "registrations-desktop.png")

	// Flush carol from her row's button, confirming in the dialog.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#regs tbody tr[data-username="carol"] button.flush-one`)),
		chromedp.WaitVisible(chromedp.ID("confirm")),
		chromedp.Click(chromedp.ID("confirm-ok")),
	); err != nil {
		t.Fatal(err)
	}
	waitFor("carol's row gone after the flush", rowOf("carol")+` === null && window.kamregMark === 1`)
	if d := cmp.Diff([]string{"alice", "bob"}, rows()); d != "" {
		t.Errorf("rows after the flush (-want +got):\n%s", d)
	}
	if n := lookup(t, "carol@"+a.realm); n != 0 {
		t.Errorf("Kamailio still holds %d contacts of carol", n)
	}

	// The same page on a phone's screen.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	waitFor("the phone layout", `getComputedStyle(document.querySelector("#regs tbody tr")).display === "block"`)
	screenshot(t, ctx, "registrations-phone.png")
}

// openPage opens the registrations page of base in a new headless
// Chromium and connects it to a's registrations with a's token.
func openPage(t *testing.T, base string, a account) context.Context {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is missing: run `make deps` (scripts/deps.sh installs Debian's chromium)")
	}
	ctx := newBrowser(t, chromium)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), a.token),
		chromedp.SendKeys(chromedp.ID("account"), a.id),
		chromedp.Click(chromedp.ID("connect")),
	); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// waitPage waits, within 20 s, until the JavaScript expression is true on
// the page, or fails the test with the page's status and error lines.
func waitPage(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(wctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("status").textContent`))
		errText, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("error").textContent`))
		t.Fatalf("%s: %v (status %q, error %q on the page)", what, err, status, errText)
	}
}

// newBrowser starts headless Chromium with a fresh profile, able to reach
// loopback only, and returns a tab's context; the test's end stops it.
func newBrowser(t *testing.T, chromium string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	tctx, cancelTime := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(tctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return tctx
}

// screenshot saves the whole page as a PNG in the test's artifacts.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

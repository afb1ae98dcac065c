//go:build integration

package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg/testbed"
)

// TestPageRestart: in headless Chromium, a phone's Restart button, once
// confirmed, reaches the phone registered through Kamailio as a NOTIFY
// check-sync; the rows show the registration columns.
func TestPageRestart(t *testing.T) {
	a := newAccount(t, "Page Restart", "restart.page.kamreg.test", "", false)
	phone := registerPhone(t, "desk", a.realm)
	waitCount(t, env.main, a, 1)

	ctx := openPage(t, env.main.Base, a)
	waitFor := func(what, expr string) {
		t.Helper()
		waitPage(t, ctx, what, expr)
	}
	waitFor("desk's row", `document.querySelector('#regs tbody tr[data-username="desk"]') !== null`)
	heads, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#regs thead th")].map(th => th.textContent.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"User", "Contact", "Source", "User agent", "Registered since", "Last registration", "Expires in", "Actions"}
	if d := cmp.Diff(want, heads); d != "" {
		t.Errorf("columns (-want +got):\n%s", d)
	}

	// Cancelled: nothing is sent.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#regs tbody tr[data-username="desk"] button.restart-one`)),
		chromedp.WaitVisible(chromedp.ID("confirm")),
		chromedp.Click(chromedp.ID("confirm-cancel")),
		chromedp.WaitNotVisible(chromedp.ID("confirm")),
	); err != nil {
		t.Fatal(err)
	}
	// Asked again, cancelled and asked again in one task, before the
	// dialog's close event of the cancel: the third answer is the one that
	// counts, and it confirms. The phone gets its NOTIFY.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#regs tbody tr[data-username="desk"] button.restart-one`)),
		chromedp.WaitVisible(chromedp.ID("confirm")),
	); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("confirm-cancel").click();
		document.querySelector('#regs tbody tr[data-username="desk"] button.restart-one').click();
		true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("confirm")),
		chromedp.Click(chromedp.ID("confirm-ok")),
	); err != nil {
		t.Fatal(err)
	}
	// The notice first: it comes once kamreg answered, and a failure
	// names what the page showed instead.
	waitFor("the notice", `document.getElementById("notice").textContent === "Restart sent to desk."`)
	if got := testbed.Receive(t, phone.events, 10*time.Second, "the NOTIFY of the Restart button"); got != "check-sync" {
		t.Errorf("Event %q, want check-sync", got)
	}
	select {
	case e := <-phone.events:
		t.Errorf("a second NOTIFY (the cancelled one?): %q", e)
	default:
	}
}

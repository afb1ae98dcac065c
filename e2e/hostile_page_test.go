//go:build integration

package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
)

// TestHostilePage: what phones write reaches the registrations page as
// text only. Phones registered through the real Kamailio with User-Agents
// and channel vars that are HTML and script fragments are shown, in
// Chromium, exactly as they were written, and none of it becomes an
// element or runs.
func TestHostilePage(t *testing.T) {
	a := newAccount(t, "Hostile page", "hostile-page.kamreg.test", "", false)
	agents := map[string]string{
		"img":    `<img src=x onerror="window.kamregRan=1">`,
		"script": `<script>window.kamregRan=1</script>`,
		"attr":   `" onmouseover="window.kamregRan=1`,
		"amp":    `&lt;b&gt;bold&lt;/b&gt; =HYPERLINK("http://x/")`,
	}
	var phones []rawPhone
	for u, ua := range agents {
		phones = append(phones, rawPhone{User: u, Agent: ua,
			Headers: []string{`X-Kazoo-CCV: {"Authorizing-ID":"<i>id</i>","Owner-ID":"</td><img src=y onerror=window.kamregRan=1>"}`}})
	}
	registerRaw(t, env.kam.SIPAddr(), a.realm, phones...)
	waitCount(t, env.main, a, len(agents))

	ctx := openPage(t, env.main.Base, a)
	waitPage(t, ctx, "the hostile rows", `document.querySelectorAll("#regs tbody tr").length === 4`)
	agentsShown, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](
		`Object.fromEntries([...document.querySelectorAll("#regs tbody tr")].map(tr => [tr.dataset.username, tr.querySelector(".agent").textContent]))`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(agents, agentsShown); diff != "" {
		t.Errorf("User-Agents on the page (-want +got):\n%s", diff)
	}
	injected, err := chromedp.Run(ctx, chromedp.Evaluate[int](
		`document.querySelectorAll("#regs img, #regs script, #regs i, #regs [onerror], #regs [onmouseover]").length + (window.kamregRan ? 100 : 0)`))
	if err != nil || injected != 0 {
		t.Errorf("elements made from what phones wrote, or script run: %d (%v)", injected, err)
	}
}

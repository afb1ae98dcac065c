//go:build integration

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kamreg/kamreg/testbed"
)

// scaleContacts is how many contacts the big node holds besides the
// account's phones: enough that ul.dump on it cannot answer in time.
const scaleContacts = 50000

// TestRealmFlushOnABigNode preloads a node with 50,000 contacts, registers
// ten sipp phones in one account's realm, and flushes the account: the
// flush is complete ("ok", every phone gone from the node, a count of 0
// at once) and sends no ul.dump to the node.
func TestRealmFlushOnABigNode(t *testing.T) {
	ctx := context.Background()
	dbURL, err := env.pg.CreateDatabase(ctx, "scale")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := testbed.Preload(ctx, dbURL, "bulk", scaleContacts, 1000, 1, kamailioTZ); err != nil {
		t.Fatal(err)
	}
	k := startNode(t, testbed.KamailioOptions{DBURL: dbURL, DBMode: 2, TimerInterval: 1, TZ: kamailioTZ,
		SharedMemMB: 768, PkgMemMB: 32, StartTimeout: 2 * time.Minute})
	// Kamailio answers RPC before usrloc has loaded every row: wait for the
	// last preloaded AoR.
	last := fmt.Sprintf("u%06d@bulk%04d.test", 999, scaleContacts/1000-1)
	testbed.Eventually(t, 2*time.Minute, "the node holds "+last, func() bool { return lookupAt(t, k, last) == 1 })
	t.Logf("%d contacts preloaded and loaded by the node in %s", scaleContacts, time.Since(start).Round(time.Millisecond))

	kr := serveFor(t, "big="+k.RPCURL(), "KAMREG_DATABASE_URL="+dbURL, "KAMREG_RPC_TIMEOUT=5s")
	a := newAccountIn(t, dbURL, "Scale", "scale.kamreg.test", "", false)
	var phones []testbed.Phone
	for i := 0; i < 10; i++ {
		phones = append(phones, testbed.Phone{User: fmt.Sprintf("phone%02d", i), Domain: a.realm, ContactPort: 5070})
	}
	registerAt(t, k, phones...)
	waitCount(t, kr, a, 10)

	began := time.Now()
	wantOK(t, call(t, "DELETE", kr.Base+"/v2/accounts/"+a.id+"/registrations", a.token))
	t.Logf("realm flush of 10 phones on a node of %d contacts: %s", scaleContacts, time.Since(began).Round(time.Millisecond))
	if c := countNow(t, kr, a); c != 0 {
		t.Errorf("count right after the flush: %d, want 0", c)
	}
	for _, p := range phones {
		if n := lookupAt(t, k, p.User+"@"+a.realm); n != 0 {
			t.Errorf("the node still holds %d contacts of %s", n, p.User)
		}
	}
	// The preloaded contacts of other realms are untouched.
	if n := lookupAt(t, k, last); n != 1 {
		t.Errorf("a contact of another realm was flushed (%d left)", n)
	}
	metrics := string(call(t, "GET", metricsURL(kr), "").body)
	if strings.Contains(metrics, `method="ul.dump"`) {
		t.Errorf("kamreg sent ul.dump to the node:\n%s", grepLines(metrics, "ul.dump"))
	}
	if !strings.Contains(metrics, `kamreg_kamailio_rpc_calls_total{method="ul.rm",node="big",outcome="ok"}`) {
		t.Errorf("no ul.rm counted:\n%s", grepLines(metrics, "rpc_calls"))
	}
}

// countNow reads the account's count once.
func countNow(t *testing.T, s *kamregServer, a account) int {
	t.Helper()
	r := call(t, "GET", s.Base+"/v2/accounts/"+a.id+"/registrations/count", a.token)
	if r.status != 200 {
		t.Fatalf("count: %d %s", r.status, r.body)
	}
	return int(r.json(t)["data"].(map[string]any)["count"].(float64))
}

// metricsURL is where the kamreg serves /metrics.
func metricsURL(s *kamregServer) string { return s.Metrics + "/metrics" }

// grepLines returns the lines of text that contain s.
func grepLines(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

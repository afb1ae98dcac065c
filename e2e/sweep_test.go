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

// TestRealmFlushSweepsWhatTheTimerWritesLate: under usrloc db_mode 2 with
// Kazoo's 5 s timer, a phone that registered just before a realm flush,
// with no device record, is only in Kamailio's memory, so the first pass
// cannot name it. The flush's sweep, one timer interval later, removes
// it: once the flush answers "ok" Kamailio holds none of the realm's
// phones, and the late row is never listed or counted.
func TestRealmFlushSweepsWhatTheTimerWritesLate(t *testing.T) {
	ctx := context.Background()
	dbURL, err := env.pg.CreateDatabase(ctx, "sweep")
	if err != nil {
		t.Fatal(err)
	}
	k := startNode(t, testbed.KamailioOptions{DBURL: dbURL, DBMode: 2, TimerInterval: 5, TZ: kamailioTZ})
	kr := serveFor(t, "node="+k.RPCURL(), "KAMREG_DATABASE_URL="+dbURL, "KAMREG_USRLOC_TIMER=5s")
	a := newAccountIn(t, dbURL, "Sweep", "sweep.kamreg.test", "", false)
	registerAt(t, k, testbed.Phone{User: "old", Domain: a.realm, ContactPort: 5070})
	// The count reads the table: it turns 1 just after the timer ran,
	// which leaves most of an interval before it runs again.
	waitCount(t, kr, a, 1)
	registerAt(t, k, testbed.Phone{User: "fresh", Domain: a.realm, ContactPort: 5072})
	if got := usernames(t, kr, a); len(got) != 1 || got[0] != "old" {
		t.Fatalf("before the flush the table holds %v, want only old (fresh only in memory)", got)
	}
	if lookupAt(t, k, "fresh@"+a.realm) != 1 {
		t.Fatal("Kamailio does not hold the fresh phone")
	}

	// Another replica on the same database: once the realm reads empty
	// on either, the late row never shows on either, though the timer
	// writes it before the sweep removes it.
	replica := serveFor(t, "node="+k.RPCURL(), "KAMREG_DATABASE_URL="+dbURL, "KAMREG_USRLOC_TIMER=5s")
	start := time.Now()
	done := callAsync("DELETE", kr.Base+"/v2/accounts/"+a.id+"/registrations", a.token)
	emptied := map[string]bool{}
	var r reply
	for answered := false; !answered; {
		for _, s := range []*kamregServer{kr, replica} {
			got := usernames(t, s, a)
			if len(got) == 0 {
				emptied[s.Base] = true
			} else if emptied[s.Base] {
				t.Fatalf("%v listed again by %s while the flush was in flight", got, s.Base)
			}
		}
		select {
		case res := <-done:
			if res.err != nil {
				t.Fatal(res.err)
			}
			r, answered = res.reply, true
		case <-time.After(200 * time.Millisecond):
			if time.Since(start) > 30*time.Second {
				t.Fatal("the realm flush did not answer in 30 s")
			}
		}
	}
	wantOK(t, r)
	took := time.Since(start)
	t.Logf("the realm flush answered after %v", took.Round(10*time.Millisecond))
	for _, u := range []string{"old", "fresh"} {
		if c := lookupAt(t, k, u+"@"+a.realm); c != 0 {
			t.Errorf("after the flush answered ok, Kamailio still holds %d contacts of %s", c, u)
		}
	}
	if took < 5*time.Second {
		t.Errorf("the flush answered after %v, before one timer interval: its ok cannot cover the sweep", took)
	}

	// Never listed again, through two more timer runs.
	for deadline := time.Now().Add(11 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		for _, s := range []*kamregServer{kr, replica} {
			if got := usernames(t, s, a); len(got) != 0 {
				t.Fatalf("listed again %v by %s after the flush", got, s.Base)
			}
		}
	}
	waitCount(t, kr, a, 0)
	m := string(call(t, "GET", kr.Metrics+"/metrics", "").body)
	for _, want := range []string{`kamreg_flush_sweeps_total{outcome="removed"} 1`, "kamreg_flush_swept_aors_total 1"} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// A phone that registers after the flush shows at once.
	registerAt(t, k, testbed.Phone{User: "fresh", Domain: a.realm, ContactPort: 5072})
	waitCount(t, kr, a, 1)
}

// TestFreshRPCReplicaRealmFlush: a kamreg of the rpc source that has read
// nothing yet (no dump held) flushes a realm of three phones, only one of
// which has a device record: every phone goes. With a node it cannot
// dump, the answer is a 503 flush incomplete naming it, never "ok".
func TestFreshRPCReplicaRealmFlush(t *testing.T) {
	ctx := context.Background()
	dbURL, err := env.pg.CreateDatabase(ctx, "freshrpc")
	if err != nil {
		t.Fatal(err)
	}
	k0 := startNode(t, testbed.KamailioOptions{MemoryOnly: true})
	// A replica that has served nothing yet (its start migrates the
	// database): it holds no dump.
	kr := serveFor(t, "zero="+k0.RPCURL(), "KAMREG_DATABASE_URL="+dbURL, "KAMREG_SOURCE=rpc", "KAMREG_DB_TIMEZONE=UTC",
		"KAMREG_DUMP_TTL=1m")
	a := newAccountIn(t, dbURL, "Fresh", "fresh.kamreg.test", "", false)
	mustCLIIn(t, dbURL, "devices", "put", "--account", a.id, "--username", "alice", "--device-id", newID())
	users := []string{"alice", "bob", "carol"}
	var phones []testbed.Phone
	for i, u := range users {
		phones = append(phones, testbed.Phone{User: u, Domain: a.realm, ContactPort: 5070 + 2*i})
	}
	registerAt(t, k0, phones...)
	wantOK(t, call(t, "DELETE", kr.Base+"/v2/accounts/"+a.id+"/registrations", a.token))
	for _, u := range users {
		if c := lookupAt(t, k0, u+"@"+a.realm); c != 0 {
			t.Errorf("after ok, the node still holds %d contacts of %s", c, u)
		}
	}
	waitCount(t, kr, a, 0)

	registerAt(t, k0, phones...)
	port, err := testbed.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	down := fmt.Sprintf("http://127.0.0.1:%d/RPC", port)
	kr2 := serveFor(t, "zero="+k0.RPCURL()+",gone="+down, "KAMREG_DATABASE_URL="+dbURL, "KAMREG_SOURCE=rpc",
		"KAMREG_DB_TIMEZONE=UTC", "KAMREG_RPC_TIMEOUT=1s")
	r := call(t, "DELETE", kr2.Base+"/v2/accounts/"+a.id+"/registrations", a.token)
	if r.status != 503 || !strings.Contains(string(r.body), `"message":"flush incomplete"`) ||
		!strings.Contains(string(r.body), "Kamailio node gone holds could not be known") {
		t.Errorf("realm flush with a node it cannot dump: %d %s", r.status, r.body)
	}
	for _, u := range users {
		if c := lookupAt(t, k0, u+"@"+a.realm); c != 1 {
			t.Errorf("the incomplete flush removed %s (%d contacts left), though it said nothing was flushed", u, c)
		}
	}
}

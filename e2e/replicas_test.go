//go:build integration

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kamreg/kamreg/testbed"
)

// eventLatency is how soon after a flush's answer the watchers of another
// replica must hear of it.
const eventLatency = 300 * time.Millisecond

// heardAt reports when the stream delivers the unregistered event of user.
func heardAt(events <-chan event, user string) <-chan time.Time {
	out := make(chan time.Time, 1)
	go func() {
		for e := range events {
			if e.Type == "unregistered" && len(e.Users) == 1 && e.Users[0] == user {
				out <- time.Now()
				return
			}
		}
	}()
	return out
}

// awaitSnapshot reads the stream's first event, the snapshot.
func awaitSnapshot(t *testing.T, events <-chan event, want string) {
	t.Helper()
	e := testbed.Receive(t, events, 10*time.Second, "the snapshot")
	if e.Type != "snapshot" || strings.Join(e.Users, ",") != want {
		t.Fatalf("first event %+v, want the snapshot of %q", e, want)
	}
}

// flushSeenByReplicas flushes bob through one replica and checks that the
// others no longer list or count him in their very next read, and that
// their watchers hear of it within eventLatency of the flush's answer.
func flushSeenByReplicas(t *testing.T, through *kamregServer, others []*kamregServer, a account) {
	t.Helper()
	var heard []<-chan time.Time
	for _, s := range others {
		waitCount(t, s, a, 3)
		events := openEventsAt(t, s, a, "")
		awaitSnapshot(t, events, "alice,bob,carol")
		heard = append(heard, heardAt(events, "bob"))
		// The replica has read the realm (its flush records, its dumps).
		if n := countNow(t, s, a); n != 3 {
			t.Fatalf("count before the flush %d, want 3", n)
		}
	}
	wantOK(t, call(t, "DELETE", through.Base+"/v2/accounts/"+a.id+"/registrations/bob", a.token))
	answered := time.Now()
	for i, s := range others {
		if n := countNow(t, s, a); n != 2 {
			t.Errorf("replica %d: count right after the flush %d, want 2", i, n)
		}
		if got := strings.Join(usernames(t, s, a), ","); got != "alice,carol" {
			t.Errorf("replica %d: list right after the flush %q, want alice,carol", i, got)
		}
	}
	for i, h := range heard {
		at := testbed.Receive(t, h, 10*time.Second, "the unregistered event of bob")
		if d := at.Sub(answered); d > eventLatency {
			t.Errorf("replica %d: watchers heard the flush %s after its answer, want at most %s", i, d.Round(time.Millisecond), eventLatency)
		}
	}
}

// TestReplicasSeeAFlushAtOnce: three kamreg replicas on one database and
// one Kamailio (usrloc db_mode 2, rows deleted at the next timer run).
func TestReplicasSeeAFlushAtOnce(t *testing.T) {
	a := newAccount(t, "Replicas", "replicas.kamreg.test", "", false)
	register(t,
		testbed.Phone{User: "alice", Domain: a.realm, ContactPort: 5070},
		testbed.Phone{User: "bob", Domain: a.realm, ContactPort: 5071},
		testbed.Phone{User: "carol", Domain: a.realm, ContactPort: 5072})
	third := serveFor(t, "main="+env.kam.RPCURL())
	flushSeenByReplicas(t, env.main, []*kamregServer{env.replica, third}, a)
}

// TestReplicasSeeAFlushAtOnceInRPCMode: three replicas of the rpc source
// on a usrloc db_mode 0 node, each holding a dump it may reuse for 2 s.
func TestReplicasSeeAFlushAtOnceInRPCMode(t *testing.T) {
	dbURL, err := env.pg.CreateDatabase(context.Background(), "replicasrpc")
	if err != nil {
		t.Fatal(err)
	}
	k0 := startNode(t, testbed.KamailioOptions{MemoryOnly: true})
	var replicas []*kamregServer
	for i := 0; i < 3; i++ {
		replicas = append(replicas, serveFor(t, "zero="+k0.RPCURL(), "KAMREG_DATABASE_URL="+dbURL, "KAMREG_SOURCE=rpc",
			"KAMREG_DB_TIMEZONE=UTC", "KAMREG_DUMP_TTL=2s"))
	}
	a := newAccountIn(t, dbURL, "Replicas RPC", "replicas-rpc.kamreg.test", "", false)
	registerAt(t, k0,
		testbed.Phone{User: "alice", Domain: a.realm, ContactPort: 5070},
		testbed.Phone{User: "bob", Domain: a.realm, ContactPort: 5071},
		testbed.Phone{User: "carol", Domain: a.realm, ContactPort: 5072})
	flushSeenByReplicas(t, replicas[0], replicas[1:], a)
}

//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/store"
	"github.com/kamreg/kamreg/testbed"
)

// usernames lists the usernames of an account's registrations, one per
// entry, through the given server.
func usernames(t *testing.T, s *kamregServer, a account) []string {
	t.Helper()
	r := call(t, "GET", s.Base+"/v2/accounts/"+a.id+"/registrations", a.token)
	if r.status != 200 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	var v struct{ Data []struct{ Username string } }
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, e := range v.Data {
		out = append(out, e.Username)
	}
	return out
}

func wantOK(t *testing.T, r reply) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("flush: %d %s", r.status, r.body)
	}
	if d := r.json(t)["data"]; d != "ok" {
		t.Fatalf("flush data %v", d)
	}
}

// TestFlushUser flushes one username under usrloc db_mode 2: the very next
// read, from this kamreg and from a replica, no longer shows it; Kamailio no
// longer holds it; a phone that registers again shows again.
func TestFlushUser(t *testing.T) {
	a := newAccount(t, "Flush User", "Flush-User.Kamreg.Test", "", false)
	const realm = "flush-user.kamreg.test"
	register(t,
		testbed.Phone{User: "alice", Domain: realm, ContactPort: 5070},
		testbed.Phone{User: "alice", Domain: realm, ContactPort: 5072},
		testbed.Phone{User: "bob", Domain: realm, ContactPort: 5070},
	)
	waitCount(t, env.main, a, 3)

	wantOK(t, call(t, "DELETE", env.main.Base+"/v2/accounts/"+a.id+"/registrations/Alice", a.token))
	for _, s := range []*kamregServer{env.main, env.replica} {
		if diff := cmp.Diff([]string{"bob"}, usernames(t, s, a)); diff != "" {
			t.Errorf("after the flush (-want +got):\n%s", diff)
		}
	}
	if n := lookup(t, "alice@"+realm); n != 0 {
		t.Errorf("Kamailio still holds %d contacts of alice", n)
	}
	if n := lookup(t, "bob@"+realm); n != 1 {
		t.Errorf("Kamailio holds %d contacts of bob, want 1", n)
	}

	// A flushed user with no device and no registration is now unknown.
	if r := call(t, "DELETE", env.main.Base+"/v2/accounts/"+a.id+"/registrations/alice", a.token); r.status != 404 {
		t.Errorf("second flush of alice: %d %s", r.status, r.body)
	}

	// alice registers again: she shows again.
	register(t, testbed.Phone{User: "alice", Domain: realm, ContactPort: 5070})
	waitCount(t, env.main, a, 2)
	if diff := cmp.Diff([]string{"alice", "bob"}, usernames(t, env.replica, a)); diff != "" {
		t.Errorf("after registering again (-want +got):\n%s", diff)
	}
}

// TestFlushDeviceOnly flushes a username that has a device record but no
// registration: "ok", as in Kazoo.
func TestFlushDeviceOnly(t *testing.T) {
	a := newAccount(t, "Device Only", "device-only.kamreg.test", "", false)
	mustCLI(t, "devices", "put", "--account", a.id, "--username", "dave", "--device-id", newID())
	wantOK(t, call(t, "DELETE", env.main.Base+"/v2/accounts/"+a.id+"/registrations/dave", a.token))
}

// TestFlushAccount flushes a whole realm, as its parent: nothing of the realm
// is listed or counted any more, Kamailio holds no AoR of it, and another
// realm is untouched.
func TestFlushAccount(t *testing.T) {
	parent := newAccount(t, "Flush Parent", "flush-parent.kamreg.test", "", false)
	a := newAccount(t, "Flush All", "flush-all.kamreg.test", parent.id, false)
	keep := newAccount(t, "Flush Keep", "flush-keep.kamreg.test", "", false)
	var phones []testbed.Phone
	for _, u := range []string{"u1", "u2", "u3", "u4", "u5"} {
		phones = append(phones, testbed.Phone{User: u, Domain: a.realm, ContactPort: 5070})
	}
	phones = append(phones, testbed.Phone{User: "k1", Domain: keep.realm, ContactPort: 5070})
	register(t, phones...)
	waitCount(t, env.main, a, 5)
	waitCount(t, env.main, keep, 1)
	// One more phone that is only in Kamailio's memory (db_mode 2) when the
	// flush comes: no flush asks a node to dump its memory, and its device
	// record is how kamreg knows of it.
	mustCLI(t, "devices", "put", "--account", a.id, "--username", "u6", "--device-id", newID())
	register(t, testbed.Phone{User: "u6", Domain: a.realm, ContactPort: 5070})

	wantOK(t, call(t, "DELETE", env.main.Base+"/v2/accounts/"+a.id+"/registrations", parent.token))
	for _, s := range []*kamregServer{env.main, env.replica} {
		c := call(t, "GET", s.Base+"/v2/accounts/"+a.id+"/registrations/count", a.token).json(t)
		if diff := cmp.Diff(map[string]any{"count": 0.0}, c["data"]); diff != "" {
			t.Errorf("count after the flush (-want +got):\n%s", diff)
		}
	}
	// In db_mode 2 ul.dump keeps listing a flushed AoR until the timer
	// drops it; ul.lookup tells whether contacts are left.
	for _, u := range []string{"u1", "u2", "u3", "u4", "u5", "u6"} {
		if n := lookup(t, u+"@"+a.realm); n != 0 {
			t.Errorf("Kamailio still holds %d contacts of %s", n, u)
		}
	}
	// Kamailio's timer removes the rows (every second here); the count,
	// looked at every 100 ms, stays 0 throughout: until the table holds
	// no row of the realm, and for two timer runs after.
	conn, err := pgx.Connect(context.Background(), env.pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var gone time.Time
	looks := 0
	testbed.Eventually(t, 15*time.Second, "the rows of "+a.realm+" gone from the location table, and two timer runs after", func() bool {
		for _, s := range []*kamregServer{env.main, env.replica} {
			r := call(t, "GET", s.Base+"/v2/accounts/"+a.id+"/registrations/count", a.token)
			var v struct{ Data struct{ Count *int } }
			if err := json.Unmarshal(r.body, &v); r.status != 200 || err != nil || v.Data.Count == nil || *v.Data.Count != 0 {
				t.Fatalf("count while Kamailio's timer removes the rows: %d %s", r.status, r.body)
			}
		}
		looks++
		var rows int
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM location WHERE domain = $1`, a.realm).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows == 0 && gone.IsZero() {
			gone = time.Now()
		}
		return !gone.IsZero() && time.Since(gone) >= 2*time.Second
	})
	t.Logf("count 0 at each of %d looks", looks)
	waitCount(t, env.main, keep, 1)
}

// TestFlushNodeDown flushes through a kamreg whose second node is down: a
// 503 that names it, and nothing recorded as flushed.
func TestFlushNodeDown(t *testing.T) {
	a := newAccount(t, "Node Down", "node-down.kamreg.test", "", false)
	register(t, testbed.Phone{User: "erin", Domain: a.realm, ContactPort: 5070})
	waitCount(t, env.main, a, 1)

	r := call(t, "DELETE", env.replica.Base+"/v2/accounts/"+a.id+"/registrations/erin", a.token, "X-Request-ID", "rid")
	if r.status != 503 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var v struct {
		Data struct {
			Message string
			Nodes   []struct{ Node, Error string }
			Flushed int
			Failed  int
		}
		Error, Message, Status string
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	if v.Error != "503" || v.Message != "flush incomplete" || v.Status != "error" || v.Data.Flushed != 0 || v.Data.Failed != 1 ||
		len(v.Data.Nodes) != 1 || v.Data.Nodes[0].Node != "dead" || !strings.Contains(v.Data.Nodes[0].Error, "connection refused") {
		t.Errorf("answer: %s", r.body)
	}
	if !strings.Contains(string(r.body), `"data":{"message":`) {
		t.Errorf("data keys out of the order of the README's error table: %s", r.body)
	}
	if recs := flushRecords(t, a.realm); len(recs) != 0 {
		t.Errorf("flush records %+v for a flush that did not reach every node", recs)
	}
}

// flushRecords reads the realm's live flush records as kamreg does
// (store.Directory).
func flushRecords(t *testing.T, realm string) []kamreg.FlushRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := store.Open(ctx, env.pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	recs, err := store.Directory{Pool: pool}.FlushRecords(ctx, realm)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

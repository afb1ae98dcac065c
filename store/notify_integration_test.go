//go:build integration

package store

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/kamailio"
	"github.com/kamreg/kamreg/registry"
	"github.com/kamreg/kamreg/testbed"
)

// heard is a Listener run for a test, with what it told.
type heard struct {
	l               *Listener
	flushed         chan string
	listening, lost chan struct{}
	cache           *registry.FlushCache
}

// listen runs a Listener named self on pool until the test ends, wired to
// a flush cache as the server wires it, and waits until it listens.
func listen(t *testing.T, pool *Listener) *heard {
	t.Helper()
	h := &heard{l: pool, flushed: make(chan string, 16), listening: make(chan struct{}, 16), lost: make(chan struct{}, 16),
		cache: &registry.FlushCache{Refresh: time.Hour, Sync: pool.Begin}}
	pool.Backoff = 10 * time.Millisecond
	pool.OnFlushed = func(realm string) { h.cache.Invalidate(realm); h.flushed <- realm }
	pool.OnListening = func() { h.cache.SetListening(true); h.listening <- struct{}{} }
	pool.OnLost = func() { h.cache.SetListening(false); h.lost <- struct{}{} }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); pool.Run(ctx) }()
	t.Cleanup(func() { cancel(); testbed.Receive(t, done, 10*time.Second, "the listener to stop") })
	testbed.Receive(t, h.listening, 10*time.Second, "LISTEN")
	return h
}

// told returns what the listener told so far, without waiting.
func (h *heard) told() []string {
	var out []string
	for {
		select {
		case r := <-h.flushed:
			out = append(out, r)
		default:
			return out
		}
	}
}

// TestFlushesNotifyOtherReplicas: two replicas, each with a pool of its
// own on one database. A flush recorded by one is told to the other (its
// realm in lower case, an over-long realm as "every realm"), never to
// itself; Sync returns only once what was committed before is told.
func TestFlushesNotifyOtherReplicas(t *testing.T) {
	ctx := testCtx(t)
	poolA := freshDB(t, true)
	poolB, err := Open(ctx, poolA.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(poolB.Close)
	a := listen(t, &Listener{Pool: poolA, Self: "a"})
	b := listen(t, &Listener{Pool: poolB, Self: "b"})
	flushA := Flushes{Pool: poolA, Listener: a.l}
	flushB := Flushes{Pool: poolB, Listener: b.l}
	long := strings.Repeat("x", 5000) + ".test"
	for _, tt := range []struct {
		name     string
		by       Flushes
		realm    string
		recs     []kamreg.FlushRecord
		toA, toB []string
	}{
		{"a user flush through A", flushA, "Acme.Test", []kamreg.FlushRecord{flushRecord("r1", "alice", "acme.test", 1, time.Now())}, nil, []string{"acme.test"}},
		{"a realm flush through B that recorded nothing", flushB, "other.test", nil, []string{"other.test"}, nil},
		{"a realm too long for a payload", flushA, long, nil, nil, []string{""}},
	} {
		if err := tt.by.Record(ctx, tt.realm, tt.recs); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		// No wait: Sync has heard what was committed before it.
		for _, r := range []struct {
			h    *heard
			want []string
		}{{a, tt.toA}, {b, tt.toB}} {
			if !r.h.l.Sync(ctx) {
				t.Fatalf("%s: Sync failed", tt.name)
			}
			if diff := cmp.Diff(r.want, r.h.told()); diff != "" {
				t.Errorf("%s: told %s (-want +got):\n%s", tt.name, r.h.l.Self, diff)
			}
		}
	}
}

// TestDirectoryChangesNotifyEveryReplica: a device put for an account
// tells every replica that the account's realm changed, an account put
// that every realm may have; a failed put tells nothing.
func TestDirectoryChangesNotifyEveryReplica(t *testing.T) {
	ctx := testCtx(t)
	pool := freshDB(t, true)
	h := listen(t, &Listener{Pool: pool, Self: "a"})
	acct := kamreg.Account{ID: strings.Repeat("a", 32), Name: "Acme", Realm: "Acme.Test"}
	for _, tt := range []struct {
		name string
		put  func() error
		want []string
	}{
		{"an account", func() error { return Accounts{Pool: pool}.Put(ctx, acct) }, []string{""}},
		{"a device", func() error {
			return Devices{Pool: pool}.Put(ctx, kamreg.Device{AccountID: acct.ID, Username: "alice", DeviceID: strings.Repeat("d", 32)})
		}, []string{"acme.test"}},
		{"a device of no account", func() error {
			err := Devices{Pool: pool}.Put(ctx, kamreg.Device{AccountID: strings.Repeat("b", 32), Username: "bob", DeviceID: strings.Repeat("d", 32)})
			if kamreg.ErrorCode(err) != kamreg.EINVALID {
				t.Errorf("a device of no account: %v, want invalid", err)
			}
			return nil
		}, nil},
	} {
		if err := tt.put(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !h.l.Sync(ctx) {
			t.Fatalf("%s: Sync failed", tt.name)
		}
		if diff := cmp.Diff(tt.want, h.told()); diff != "" {
			t.Errorf("%s: told (-want +got):\n%s", tt.name, diff)
		}
	}
}

// countingDirectory counts the reads of flush records.
type countingDirectory struct {
	Directory
	reads atomic.Int32
}

func (d *countingDirectory) FlushRecords(ctx context.Context, realm string) ([]kamreg.FlushRecord, error) {
	d.reads.Add(1)
	return d.Directory.FlushRecords(ctx, realm)
}

// TestAListenerThatReconnectsReadsEveryRealmAgain: the listening backend
// is terminated; the cache serves nothing meanwhile, and once LISTEN is
// back the realm's records are read again, then cached again; a flush
// notified after that is heard.
func TestAListenerThatReconnectsReadsEveryRealmAgain(t *testing.T) {
	ctx := testCtx(t)
	pool := freshDB(t, true)
	usrloc, err := kamailio.NewUsrloc(pool, "location", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	h := listen(t, &Listener{Pool: pool, Self: "b"})
	dir := &countingDirectory{Directory: Directory{Pool: pool}}
	reg := &registry.Registry{Source: usrloc, Directory: dir, Cache: h.cache}
	count := func() {
		t.Helper()
		if _, err := reg.Count(ctx, kamreg.ListQuery{Scope: kamreg.Scope{Realm: "acme.test"}}); err != nil {
			t.Fatal(err)
		}
	}
	count()
	count()
	if n := dir.reads.Load(); n != 1 {
		t.Fatalf("%d reads of the flush records for two counts, want 1 (the second from the cache)", n)
	}
	var killed bool
	if err := pool.QueryRow(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1`, listenerName).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate the listener's backend: %v %v", killed, err)
	}
	testbed.Receive(t, h.lost, 10*time.Second, "the listener to see its connection lost")
	testbed.Receive(t, h.listening, 10*time.Second, "LISTEN again")
	count()
	count()
	if n := dir.reads.Load(); n != 2 {
		t.Errorf("%d reads of the flush records, want 2: one after the reconnection, then the cache", n)
	}
	if err := (Flushes{Pool: pool}).Record(ctx, "acme.test", nil); err != nil {
		t.Fatal(err)
	}
	if got := testbed.Receive(t, h.flushed, 10*time.Second, "a flush after the reconnection"); got != "acme.test" {
		t.Errorf("told %q, want acme.test", got)
	}
	count()
	if n := dir.reads.Load(); n != 3 {
		t.Errorf("%d reads of the flush records, want 3: the notified realm read again", n)
	}
}

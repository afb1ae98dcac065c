package registry

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
)

// heldClock is the sweep's clock in a test: the sweep's wait ends when the
// test says so, after it has changed the world (a node's timer writing
// its rows late).
type heldClock struct {
	asked   chan time.Duration
	release chan time.Time
}

func newHeldClock() *heldClock {
	return &heldClock{asked: make(chan time.Duration, 1), release: make(chan time.Time)}
}

func (c *heldClock) After(d time.Duration) <-chan time.Time {
	c.asked <- d
	return c.release
}

// sweeps records what OnSweep is told.
type sweeps struct {
	mu  sync.Mutex
	got []string
	n   int
}

func (s *sweeps) on(outcome string, removed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, outcome)
	s.n += removed
}

// TestRealmFlushSweepsTheRowsWrittenLate: the first pass removes what the
// location table and the devices name; one timer interval later the node's
// timer has written the row of a phone that registered just before the
// flush (only in memory then), and the sweep removes it. A phone that
// registered after the flush began is left alone.
func TestRealmFlushSweepsTheRowsWrittenLate(t *testing.T) {
	began := now
	late := bind("late", "late", "acme.test", "sip:late@127.0.0.9")
	late.LastModified = began.Add(-time.Second)
	again := bind("again", "again", "acme.test", "sip:again@127.0.0.8")
	again.LastModified = began.Add(2 * time.Second)
	failOn := func(name string) func(string) error {
		return func(aor string) error {
			if aor == name {
				return errors.New("node k2: timeout")
			}
			return nil
		}
	}
	tests := []struct {
		name        string
		written     []kamreg.Binding // rows the timer writes before the sweep
		readErr     error            // the realm cannot be read again
		k2          func(string) error
		wantRemoved []string // on k1, both passes
		wantFlushed []string
		wantFailed  []string
		wantCode    string
		wantSweeps  []string
		wantSwept   int
	}{
		{
			name:        "a row written late is swept",
			written:     []kamreg.Binding{late},
			wantRemoved: []string{"alice@acme.test", "bob@acme.test", "late@acme.test"},
			wantFlushed: []string{"alice@acme.test", "bob@acme.test", "late@acme.test"},
			wantSweeps:  []string{SweepRemoved},
			wantSwept:   1,
		},
		{
			name:        "nothing written late",
			wantRemoved: []string{"alice@acme.test", "bob@acme.test"},
			wantFlushed: []string{"alice@acme.test", "bob@acme.test"},
			wantSweeps:  []string{SweepClean},
		},
		{
			name:        "a phone that registered after the flush began stays",
			written:     []kamreg.Binding{again},
			wantRemoved: []string{"alice@acme.test", "bob@acme.test"},
			wantFlushed: []string{"alice@acme.test", "bob@acme.test"},
			wantSweeps:  []string{SweepClean},
		},
		{
			name:        "a node that does not acknowledge the sweep",
			written:     []kamreg.Binding{late},
			k2:          failOn("late@acme.test"),
			wantRemoved: []string{"alice@acme.test", "bob@acme.test", "late@acme.test"},
			wantFlushed: []string{"alice@acme.test", "bob@acme.test"},
			wantFailed:  []string{"late@acme.test"},
			wantCode:    kamreg.EINCOMPLETE,
			wantSweeps:  []string{SweepFailed},
		},
		{
			name:        "the realm cannot be read again",
			written:     []kamreg.Binding{late},
			readErr:     kamreg.Errorf(kamreg.EUNAVAILABLE, "PostgreSQL is unreachable or failing"),
			wantRemoved: []string{"alice@acme.test", "bob@acme.test"},
			wantFlushed: []string{"alice@acme.test", "bob@acme.test"},
			wantCode:    kamreg.EINCOMPLETE,
			wantSweeps:  []string{SweepFailed},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			realm := kamreg.Scope{Realm: "Acme.Test"}
			src := &fakeSource{
				bindings: []kamreg.Binding{bind("r1", "alice", "acme.test", "sip:alice@127.0.0.1"),
					bind("r3", "bob", "acme.test", "sip:bob@127.0.0.3")},
				aors: map[kamreg.Scope][]kamreg.AoR{realm: {{Username: "alice", Domain: "acme.test"}, {Username: "bob", Domain: "acme.test"}}},
			}
			dir := &fakeDirectory{}
			k1, k2 := &fakeNode{name: "k1"}, &fakeNode{name: "k2", removeFn: tt.k2}
			clock := newHeldClock()
			var seen sweeps
			r := &Registry{Source: src, Directory: dir, Devices: devices{}, Flushes: dir, Nodes: []Node{k1, k2},
				Table: "location", Now: func() time.Time { return began },
				Sweep: &Sweep{Delay: 6 * time.Second, After: clock.After, OnSweep: seen.on}}
			type result struct {
				report kamreg.FlushReport
				err    error
			}
			done := make(chan result, 1)
			go func() {
				report, err := r.FlushRealm(context.Background(), acmeAccount)
				done <- result{report, err}
			}()
			if d := <-clock.asked; d != 6*time.Second {
				t.Errorf("the sweep waits %v, want 6s", d)
			}
			// The first pass is over: the realm-wide record hides the
			// rows last modified before the flush began.
			if diff := cmp.Diff([]kamreg.FlushRecord{kamreg.RealmFlush("acme.test", began)}, dir.records[len(dir.records)-1:]); diff != "" {
				t.Errorf("realm-wide record (-want +got):\n%s", diff)
			}
			for _, b := range tt.written {
				src.bindings = append(src.bindings, b)
				src.aors[realm] = append(src.aors[realm], kamreg.AoR{Username: b.Username, Domain: b.Domain})
			}
			src.err = tt.readErr
			clock.release <- began.Add(6 * time.Second)
			res := <-done
			if got := kamreg.ErrorCode(res.err); got != tt.wantCode {
				t.Errorf("error %v (%q), want %q", res.err, got, tt.wantCode)
			}
			if diff := cmp.Diff(tt.wantRemoved, k1.sortedRemoved()); diff != "" {
				t.Errorf("removed on k1 (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantFlushed, res.report.Flushed); diff != "" {
				t.Errorf("flushed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantFailed, res.report.Failed); diff != "" {
				t.Errorf("failed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSweeps, seen.got); diff != "" {
				t.Errorf("sweeps (-want +got):\n%s", diff)
			}
			if seen.n != tt.wantSwept {
				t.Errorf("%d AoRs swept, want %d", seen.n, tt.wantSwept)
			}
		})
	}
}

// TestNoSweepWithoutARecordOrAFirstPass: a first pass that did not reach
// every node answers at once, with no sweep; a realm-wide record that
// cannot be written is a 503, not "ok".
func TestNoSweepWithoutARecordOrAFirstPass(t *testing.T) {
	t.Run("first pass incomplete", func(t *testing.T) {
		src, dir := acme()
		src.aors = map[kamreg.Scope][]kamreg.AoR{{Realm: "Acme.Test"}: {{Username: "bob", Domain: "acme.test"}}}
		k1 := &fakeNode{name: "k1", removeFn: func(string) error { return errors.New("timeout") }}
		var seen sweeps
		r := &Registry{Source: src, Directory: dir, Devices: devices{}, Flushes: dir, Nodes: []Node{k1},
			Sweep: &Sweep{After: func(time.Duration) <-chan time.Time { t.Fatal("swept"); return nil }, OnSweep: seen.on}}
		if _, err := r.FlushRealm(context.Background(), acmeAccount); kamreg.ErrorCode(err) != kamreg.EINCOMPLETE {
			t.Fatalf("error %v, want EINCOMPLETE", err)
		}
		if len(seen.got) != 0 {
			t.Errorf("sweeps %v, want none", seen.got)
		}
	})
	t.Run("the realm-wide record cannot be written", func(t *testing.T) {
		src, dir := acme()
		down := failingRecorder{kamreg.Errorf(kamreg.EUNAVAILABLE, "PostgreSQL is unreachable or failing")}
		var seen sweeps
		r := &Registry{Source: src, Directory: dir, Devices: devices{}, Flushes: down, Nodes: []Node{&fakeNode{name: "k1"}},
			Sweep: &Sweep{After: func(time.Duration) <-chan time.Time { t.Fatal("swept"); return nil }, OnSweep: seen.on}}
		if _, err := r.FlushRealm(context.Background(), acmeAccount); kamreg.ErrorCode(err) != kamreg.EUNAVAILABLE {
			t.Fatalf("error %v, want EUNAVAILABLE", err)
		}
		if diff := cmp.Diff([]string{SweepFailed}, seen.got); diff != "" {
			t.Errorf("sweeps (-want +got):\n%s", diff)
		}
	})
}

// failingRecorder records nothing but the realm-wide record, which fails.
type failingRecorder struct{ err error }

func (f failingRecorder) Record(_ context.Context, _ string, recs []kamreg.FlushRecord) error {
	for _, r := range recs {
		if r.RealmWide() {
			return f.err
		}
	}
	return nil
}

// TestARealmFlushRecordHidesWhatWasModifiedBeforeIt: rows of the realm
// last modified no later than the realm flush began are hidden from lists
// and counts, and the source leaves them out (ModifiedAfter); a phone that
// registered since shows.
func TestARealmFlushRecordHidesWhatWasModifiedBeforeIt(t *testing.T) {
	src, dir := acme()
	since := bind("r9", "erin", "acme.test", "sip:erin@127.0.0.9")
	since.LastModified = now.Add(time.Second)
	src.bindings = append(src.bindings, since)
	dir.records = []kamreg.FlushRecord{kamreg.RealmFlush("acme.test", now),
		{Ruid: "r9", Username: "erin", Domain: "acme.test", CallID: "c-r9", CSeq: 2, LastModified: since.LastModified}}
	r := &Registry{Source: src, Directory: dir}
	ctx := context.Background()
	for _, realm := range []string{"acme.test", "ACME.test"} {
		page, err := r.List(ctx, kamreg.ListQuery{Scope: kamreg.Scope{Realm: realm}, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"r9"}, ruids(page)); diff != "" {
			t.Errorf("%s: listed (-want +got):\n%s", realm, diff)
		}
		if got := src.queries[len(src.queries)-1].ModifiedAfter; !got.Equal(now) {
			t.Errorf("%s: the list reads rows modified after %v, want %v", realm, got, now)
		}
		n, err := r.Count(ctx, kamreg.ListQuery{Scope: kamreg.Scope{Realm: realm}})
		if n != 1 || err != nil {
			t.Errorf("%s: count %d %v, want 1", realm, n, err)
		}
	}
	n, err := r.Count(ctx, kamreg.ListQuery{})
	if n != 2 || err != nil {
		t.Errorf("count of every realm %d %v, want 2 (erin and dave)", n, err)
	}
}

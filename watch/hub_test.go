package watch

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/metrics"
)

// wait bounds every wait of these tests.
const wait = 5 * time.Second

// fakeSource serves the entries a test sets, counting reads.
type fakeSource struct {
	mu      sync.Mutex
	entries []Entry
	err     error
	reads   int
}

func (f *fakeSource) Watched(_ context.Context, realm string) ([]Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.err != nil {
		return nil, f.err
	}
	return append([]Entry(nil), f.entries...), nil
}

func (f *fakeSource) set(entries ...Entry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = entries
}

func (f *fakeSource) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeSource) readCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

// fakeClock is the pollers' ticker: tick hands one tick to a poller
// (blocking until one takes it); stopped closes when a poller stops its
// ticker.
type fakeClock struct {
	c       chan time.Time
	stopped chan struct{}
	once    sync.Once
}

func newHub(src Source) (*Hub, *fakeClock, *metrics.Watch) {
	clk := &fakeClock{c: make(chan time.Time), stopped: make(chan struct{})}
	m := metrics.NewWatch(prometheus.NewRegistry())
	h := &Hub{Source: src, Metrics: m, Ticker: func(time.Duration) (<-chan time.Time, func()) {
		return clk.c, func() { clk.once.Do(func() { close(clk.stopped) }) }
	}}
	return h, clk, m
}

func (c *fakeClock) tick(t *testing.T) {
	t.Helper()
	select {
	case c.c <- time.Time{}:
	case <-time.After(wait):
		t.Fatal("no poller took the tick")
	}
}

// got is an event as a test compares it.
type got struct {
	Type string
	ID   uint64
	User string
}

func next(t *testing.T, w *Watch) []got {
	t.Helper()
	select {
	case batch, ok := <-w.Events():
		if !ok {
			t.Fatalf("events closed: %v", w.Err())
		}
		var out []got
		for _, e := range batch {
			var r struct{ Username string }
			if err := json.Unmarshal(e.Data, &r); err != nil {
				t.Fatalf("event data %s: %v", e.Data, err)
			}
			out = append(out, got{e.Type, e.ID, r.Username})
		}
		return out
	case <-time.After(wait):
		t.Fatal("no event")
	}
	return nil
}

func snapshotUsers(t *testing.T, w *Watch) (uint64, []string) {
	t.Helper()
	var data []byte
	if err := w.WriteSnapshot(func(p []byte) error {
		data = append(data, p...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	id := w.SnapshotID()
	var regs []struct{ Username string }
	if err := json.Unmarshal(data, &regs); err != nil {
		t.Fatalf("snapshot %s: %v", data, err)
	}
	users := []string{}
	for _, r := range regs {
		users = append(users, r.Username)
	}
	return id, users
}

func subscribe(t *testing.T, h *Hub, filters ...kamreg.Filter) *Watch {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	w, err := h.Subscribe(ctx, "Acme.Test", filters)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestSnapshotThenEventsForEveryWatcher(t *testing.T) {
	src := &fakeSource{}
	src.set(ent("r1", "alice", "1"), ent("r2", "bob", "1"))
	h, clk, m := newHub(src)
	defer h.Close()
	all := subscribe(t, h)
	defer all.Close()
	bobOnly := subscribe(t, h, kamreg.Filter{Key: "username", Value: "bob"})
	defer bobOnly.Close()

	for _, tc := range []struct {
		w    *Watch
		want []string
	}{{all, []string{"alice", "bob"}}, {bobOnly, []string{"bob"}}} {
		id, users := snapshotUsers(t, tc.w)
		if d := cmp.Diff(tc.want, users); d != "" || id != 0 {
			t.Errorf("snapshot %d (-want +got):\n%s", id, d)
		}
	}

	src.set(ent("r2", "bob", "2"), ent("r3", "carol", "1"))
	clk.tick(t)
	if d := cmp.Diff([]got{{Unregistered, 1, "alice"}, {Refreshed, 2, "bob"}, {Registered, 3, "carol"}}, next(t, all)); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]got{{Refreshed, 2, "bob"}}, next(t, bobOnly)); d != "" {
		t.Errorf("filtered events (-want +got):\n%s", d)
	}

	// A poll that changes nothing sends nothing: the next batch is the
	// next change.
	clk.tick(t)
	src.set(ent("r3", "carol", "1"))
	clk.tick(t)
	if d := cmp.Diff([]got{{Unregistered, 4, "bob"}}, next(t, all)); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]got{{Unregistered, 4, "bob"}}, next(t, bobOnly)); d != "" {
		t.Errorf("filtered events (-want +got):\n%s", d)
	}

	// A late watcher's snapshot is the last read, numbered as of the
	// last event.
	late := subscribe(t, h)
	defer late.Close()
	id, users := snapshotUsers(t, late)
	if d := cmp.Diff([]string{"carol"}, users); d != "" || id != 4 {
		t.Errorf("late snapshot %d (want 4) (-want +got):\n%s", id, d)
	}
	if n := testutil.ToFloat64(m.EventsCounter(Unregistered)); n != 3 {
		t.Errorf("unregistered events counted %v, want 3", n)
	}
}

func TestOneReadPerTickWhateverTheWatchers(t *testing.T) {
	src := &fakeSource{}
	h, clk, _ := newHub(src)
	defer h.Close()
	ws := make([]*Watch, 200)
	for i := range ws {
		ws[i] = subscribe(t, h)
		defer ws[i].Close()
	}
	for i, user := range []string{"alice", "bob", "carol"} {
		src.set(ent("r"+user, user, "1"))
		clk.tick(t)
		for _, w := range ws {
			if evs := next(t, w); len(evs) == 0 || evs[len(evs)-1].User != user {
				t.Fatalf("tick %d: events %v", i, evs)
			}
		}
	}
	if n := src.readCount(); n != 4 {
		t.Errorf("%d reads for 200 watchers and 3 ticks, want 4 (the first, then one per tick)", n)
	}
}

func TestASlowWatcherIsDroppedOthersGoOn(t *testing.T) {
	src := &fakeSource{}
	h, clk, m := newHub(src)
	h.Buffer = 2
	defer h.Close()
	slow := subscribe(t, h)
	defer slow.Close()
	fast := subscribe(t, h)
	defer fast.Close()
	for i, user := range []string{"a", "b", "c"} {
		src.set(ent("r"+user, user, "1"))
		clk.tick(t)
		if evs := next(t, fast); evs[len(evs)-1].User != user {
			t.Fatalf("tick %d: fast watcher got %v", i, evs)
		}
	}
	var batches int
	for range slow.Events() {
		batches++
	}
	if batches != 2 || !errors.Is(slow.Err(), ErrSlow) {
		t.Errorf("slow watcher: %d batches then %v; want 2 then ErrSlow", batches, slow.Err())
	}
	if n := testutil.ToFloat64(m.DroppedCounter("slow")); n != 1 {
		t.Errorf("dropped (slow) counted %v, want 1", n)
	}
}

func TestThePollerStopsWithItsLastWatcher(t *testing.T) {
	src := &fakeSource{}
	h, clk, m := newHub(src)
	defer h.Close()
	a, b := subscribe(t, h), subscribe(t, h)
	a.Close()
	clk.tick(t) // b still watches: the poller goes on
	b.Close()
	select {
	case <-clk.stopped:
	case <-time.After(wait):
		t.Fatal("the poller did not stop after its last watcher left")
	}
	if n := testutil.ToFloat64(m.RealmsGauge()); n != 0 {
		t.Errorf("realms gauge %v after the last watcher left, want 0", n)
	}
	if n := testutil.ToFloat64(m.WatchersGauge()); n != 0 {
		t.Errorf("watchers gauge %v, want 0", n)
	}
}

func TestAKickIsReadAtOnce(t *testing.T) {
	for _, realm := range []string{"ACME.test", ""} {
		t.Run("kick "+realm, func(t *testing.T) {
			src := &fakeSource{}
			src.set(ent("r1", "alice", "1"))
			h, _, _ := newHub(src)
			defer h.Close()
			w := subscribe(t, h)
			defer w.Close()
			src.set()
			h.Kick(realm)
			// No tick: the kick itself made the poller read.
			if d := cmp.Diff([]got{{Unregistered, 1, "alice"}}, next(t, w)); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
		})
	}
}

func TestAFailedFirstReadFailsTheSubscriptionThenARetryWorks(t *testing.T) {
	src := &fakeSource{}
	down := kamreg.Errorf(kamreg.EUNAVAILABLE, "PostgreSQL is down")
	src.fail(down)
	h, _, _ := newHub(src)
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := h.Subscribe(ctx, "acme.test", nil); !errors.Is(err, down) {
		t.Fatalf("subscribe while the source fails: %v, want %v", err, down)
	}
	src.fail(nil)
	w := subscribe(t, h)
	w.Close()
}

func TestCloseEndsEveryWatch(t *testing.T) {
	src := &fakeSource{}
	h, _, _ := newHub(src)
	w := subscribe(t, h)
	defer w.Close()
	h.Close()
	select {
	case _, ok := <-w.Events():
		if ok || !errors.Is(w.Err(), ErrClosed) {
			t.Errorf("after Close: open %v, err %v", ok, w.Err())
		}
	case <-time.After(wait):
		t.Fatal("Close did not end the watch")
	}
	if _, err := h.Subscribe(context.Background(), "acme.test", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("subscribe after Close: %v, want ErrClosed", err)
	}
}

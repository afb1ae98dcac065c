package watch

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"weak"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
)

// written returns what a snapshot writes for the filters, and in how many
// pieces.
func written(t *testing.T, s *snapshot, filters []kamreg.Filter) (string, int) {
	t.Helper()
	var b strings.Builder
	pieces := 0
	if err := s.write(filters, func(p []byte) error {
		b.Write(p)
		pieces++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return b.String(), pieces
}

// arrayOf is the list's JSON array of the entries of users, in that order.
func arrayOf(users ...string) string {
	parts := make([]string, len(users))
	for i, u := range users {
		e := ent("r-"+u, u, "1")
		parts[i] = string(adapter.AppendJSON(nil, &e.Reg))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func TestSnapshotWritesWhatTheFiltersKeep(t *testing.T) {
	var entries []Entry
	for _, u := range []string{"alice", "bob", "carol", "dave", "erin"} {
		entries = append(entries, ent("r-"+u, u, "1"))
	}
	user := func(u string, not bool) kamreg.Filter { return kamreg.Filter{Key: "username", Value: u, Not: not} }
	tests := []struct {
		name    string
		filters []kamreg.Filter
		want    []string
		pieces  int
	}{
		{"no filter: the whole encoding in one piece", nil, []string{"alice", "bob", "carol", "dave", "erin"}, 1},
		{"the first only", []kamreg.Filter{user("alice", false)}, []string{"alice"}, 3},
		{"one in the middle", []kamreg.Filter{user("carol", false)}, []string{"carol"}, 3},
		{"the last only", []kamreg.Filter{user("erin", false)}, []string{"erin"}, 3},
		{"all but one: two runs", []kamreg.Filter{user("carol", true)}, []string{"alice", "bob", "dave", "erin"}, 4},
		{"all but the first: one run", []kamreg.Filter{user("alice", true)}, []string{"bob", "carol", "dave", "erin"}, 3},
		{"every other: three runs", []kamreg.Filter{user("bob", true), user("dave", true)}, []string{"alice", "carol", "erin"}, 5},
		{"none kept", []kamreg.Filter{user("zoe", false)}, nil, 2},
	}
	s := newSnapshot(entries)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, pieces := written(t, s, tt.filters)
			if d := cmp.Diff(arrayOf(tt.want...), got); d != "" {
				t.Errorf("snapshot (-want +got):\n%s", d)
			}
			if pieces != tt.pieces {
				t.Errorf("%d pieces, want %d", pieces, tt.pieces)
			}
		})
	}
	if got, _ := written(t, newSnapshot(nil), nil); got != "[]" {
		t.Errorf("empty realm: %s, want []", got)
	}
	if got, _ := written(t, newSnapshot(nil), []kamreg.Filter{user("alice", false)}); got != "[]" {
		t.Errorf("empty realm, filtered: %s, want []", got)
	}
}

func TestOneSnapshotPerReadWhateverTheFilters(t *testing.T) {
	src := &fakeSource{}
	src.set(ent("r1", "alice", "1"), ent("r2", "bob", "1"), ent("r3", "carol", "1"))
	h, clk, _ := newHub(src)
	defer h.Close()
	all := subscribe(t, h)
	defer all.Close()
	bob := subscribe(t, h, kamreg.Filter{Key: "username", Value: "bob"})
	defer bob.Close()
	notBob := subscribe(t, h, kamreg.Filter{Key: "username", Value: "bob", Not: true})
	defer notBob.Close()
	shared := all.snap
	if shared == nil || bob.snap != shared || notBob.snap != shared {
		t.Fatalf("snapshots %p %p %p: want one shared by the three watchers", all.snap, bob.snap, notBob.snap)
	}
	for _, tc := range []struct {
		w    *Watch
		want []string
	}{{all, []string{"alice", "bob", "carol"}}, {bob, []string{"bob"}}, {notBob, []string{"alice", "carol"}}} {
		if _, users := snapshotUsers(t, tc.w); !cmp.Equal(tc.want, users) {
			t.Errorf("snapshot %v, want %v", users, tc.want)
		}
		if tc.w.snap != nil {
			t.Error("the watch still holds its snapshot once written")
		}
		if err := tc.w.WriteSnapshot(func([]byte) error { return nil }); err == nil {
			t.Error("a second WriteSnapshot did not fail")
		}
	}

	// Once every watcher of a read has written it and the realm was read
	// again, nothing holds that read's snapshot.
	gone := weak.Make(shared)
	shared = nil
	src.set(ent("r2", "bob", "1"))
	clk.tick(t)
	next(t, all) // the poll is done
	runtime.GC()
	if gone.Value() != nil {
		t.Error("the snapshot of an older read is still held")
	}
	late := subscribe(t, h, kamreg.Filter{Key: "username", Value: "alice"})
	defer late.Close()
	if _, users := snapshotUsers(t, late); len(users) != 0 {
		t.Errorf("late snapshot %v, want the last read's (no alice)", users)
	}
}

func TestAFilteredWatcherCostsLittleWhateverTheRealm(t *testing.T) {
	src := &fakeSource{}
	var entries []Entry
	for i := 0; i < 1000; i++ {
		e := ent(fmt.Sprint("r", i), fmt.Sprintf("u%04d", i), "1")
		if i%2 == 0 {
			e.Reg.UserAgent = "even"
		}
		entries = append(entries, e)
	}
	src.set(entries...)
	h, _, _ := newHub(src)
	defer h.Close()
	first := subscribe(t, h) // the read, and its one encoding
	defer first.Close()
	const watchers = 100
	ws := make([]*Watch, watchers)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range ws {
		// Each sees half the realm: the even phones, or the others.
		ws[i] = subscribe(t, h, kamreg.Filter{Key: "user_agent", Value: "even", Not: i%2 == 1})
		if err := ws[i].WriteSnapshot(func([]byte) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	for _, w := range ws {
		w.Close()
	}
	// A realm of 1,000 is about 850 kB of JSON: a copy per watcher would
	// be hundreds of kB each.
	per := (after.TotalAlloc - before.TotalAlloc) / watchers
	t.Logf("%d bytes allocated per filtered watcher", per)
	if per > 8<<10 {
		t.Errorf("each filtered watcher allocated %d bytes, want at most 8 kB", per)
	}
}

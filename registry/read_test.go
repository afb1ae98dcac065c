package registry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
)

// TestOneReadPath: list, count and watch read, hide and map alike, for
// every mix of flush records and filters.
func TestOneReadPath(t *testing.T) {
	hideR2 := kamreg.FlushRecord{Ruid: "r2", CallID: "c-r2", CSeq: 1, LastModified: now.Add(-time.Minute)}
	for _, tt := range []struct {
		name    string
		records []kamreg.FlushRecord
		filters []kamreg.Filter
		want    []string
	}{
		{"nothing hidden", nil, nil, []string{"r1", "r2", "r3", "r4"}},
		{"a flushed binding", []kamreg.FlushRecord{hideR2}, nil, []string{"r1", "r3", "r4"}},
		{"a column filter", []kamreg.FlushRecord{hideR2}, []kamreg.Filter{{Key: "username", Value: "alice"}}, []string{"r1"}},
		{"a filter after mapping", nil, []kamreg.Filter{{Key: "authorizing_type", Value: "device"}}, []string{"r3"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src, dir := acme()
			dir.records = tt.records
			r := &Registry{Source: src, Directory: dir, Now: func() time.Time { return now }}
			scope := kamreg.Scope{Realm: "acme.test"}
			page, err := r.List(context.Background(), kamreg.ListQuery{Scope: scope, Filters: tt.filters})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ruids(page)); diff != "" {
				t.Errorf("list (-want +got):\n%s", diff)
			}
			n, err := r.Count(context.Background(), kamreg.ListQuery{Scope: scope, Filters: tt.filters})
			if err != nil || n != len(tt.want) {
				t.Errorf("count %d, %v; want %d", n, err, len(tt.want))
			}
			if tt.filters != nil {
				return // the stream applies its filters itself
			}
			entries, err := r.Watched(context.Background(), "acme.test")
			if err != nil {
				t.Fatal(err)
			}
			var watched []string
			for _, e := range entries {
				watched = append(watched, e.ID)
			}
			if diff := cmp.Diff(tt.want, watched); diff != "" {
				t.Errorf("watched (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCountUsesTheCachedRecords: with a realm's records cached, a count is
// the source's count alone; a flush, a lost connection or a failed sync
// make the next one read them again.
func TestCountUsesTheCachedRecords(t *testing.T) {
	scope := kamreg.ListQuery{Scope: kamreg.Scope{Realm: "acme.test"}}
	for _, tt := range []struct {
		name string
		// between runs between the second and the third count.
		between   func(c *FlushCache, synced *bool)
		wantReads int
		// discarded counts the counts made beside a sync that then said
		// the cached records may not serve.
		discarded int
	}{
		{"nothing happens", func(*FlushCache, *bool) {}, 1, 0},
		{"a flush of the realm", func(c *FlushCache, _ *bool) { c.Invalidate("ACME.test") }, 2, 0},
		{"a flush of any realm", func(c *FlushCache, _ *bool) { c.Invalidate("") }, 2, 0},
		{"a flush of another realm", func(c *FlushCache, _ *bool) { c.Invalidate("other.test") }, 1, 0},
		{"the connection is lost", func(c *FlushCache, _ *bool) { c.SetListening(false) }, 2, 0},
		{"the connection is back", func(c *FlushCache, _ *bool) { c.SetListening(true) }, 2, 0},
		{"the sync fails", func(_ *FlushCache, synced *bool) { *synced = false }, 2, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src, dir := acme()
			dir.records = []kamreg.FlushRecord{{Ruid: "r3", CallID: "c-r3", CSeq: 1, LastModified: now.Add(-time.Minute)}}
			synced := true
			cache := &FlushCache{Refresh: time.Hour, Sync: func() <-chan bool { return answered(synced) }}
			cache.SetListening(true)
			r := &Registry{Source: src, Directory: dir, Cache: cache}
			for i := 0; i < 3; i++ {
				if i == 2 {
					tt.between(cache, &synced)
				}
				if n, err := r.Count(context.Background(), scope); n != 3 || err != nil {
					t.Fatalf("count %d: %d %v, want 3 (bob hidden)", i, n, err)
				}
			}
			if dir.reads != tt.wantReads {
				t.Errorf("%d reads of kamreg's tables for three counts, want %d", dir.reads, tt.wantReads)
			}
			// Uncached, a count with records is the count and the
			// records read at once, then the count at one moment again;
			// cached, that one count alone (beside the sync).
			if want := 3 + tt.wantReads + tt.discarded; src.counts != want {
				t.Errorf("%d counts of the source, want %d", src.counts, want)
			}
		})
	}
}

// TestTheCacheIsReadAgainAfterRefresh: records older than Refresh are
// read again even without a notification.
func TestTheCacheIsReadAgainAfterRefresh(t *testing.T) {
	clock := now
	src, dir := acme()
	cache := &FlushCache{Refresh: 5 * time.Second, Now: func() time.Time { return clock }}
	cache.SetListening(true)
	r := &Registry{Source: src, Directory: dir, Cache: cache}
	scope := kamreg.ListQuery{Scope: kamreg.Scope{Realm: "acme.test"}}
	for _, step := range []struct {
		after     time.Duration
		wantReads int
	}{{0, 1}, {4 * time.Second, 1}, {time.Second, 2}, {time.Second, 2}} {
		clock = clock.Add(step.after)
		if _, err := r.Count(context.Background(), scope); err != nil {
			t.Fatal(err)
		}
		if dir.reads != step.wantReads {
			t.Errorf("after %s more: %d reads, want %d", step.after, dir.reads, step.wantReads)
		}
	}
}

// TestOnFlushedOncePerFlush: every flush that removed something is told
// once, with its realm, after it is recorded and notified; a flush that
// removed nothing is not.
func TestOnFlushedOncePerFlush(t *testing.T) {
	refused := errors.New("connection refused")
	for _, tt := range []struct {
		name     string
		removeFn func(string) error
		flush    func(r *Registry) error
		want     []string
	}{
		{"a user", nil, func(r *Registry) error {
			_, err := r.FlushUser(context.Background(), acmeAccount, "alice")
			return err
		}, []string{"Acme.Test"}},
		{"a realm", nil, func(r *Registry) error {
			_, err := r.FlushRealm(context.Background(), acmeAccount)
			return err
		}, []string{"Acme.Test"}},
		{"a realm, partly", func(aor string) error {
			if aor == "bob@acme.test" {
				return refused
			}
			return nil
		}, func(r *Registry) error {
			_, err := r.FlushRealm(context.Background(), acmeAccount)
			return err
		}, []string{"Acme.Test"}},
		{"nothing removed", func(string) error { return refused }, func(r *Registry) error {
			_, err := r.FlushRealm(context.Background(), acmeAccount)
			return err
		}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src, dir := acme()
			src.aors = map[kamreg.Scope][]kamreg.AoR{
				{Realm: "Acme.Test"}:                    {{Username: "alice", Domain: "acme.test"}, {Username: "bob", Domain: "acme.test"}},
				{Realm: "Acme.Test", Username: "alice"}: {{Username: "alice", Domain: "acme.test"}},
			}
			var told []string
			cache := &FlushCache{Refresh: time.Hour}
			cache.SetListening(true)
			r := &Registry{Source: src, Directory: dir, Devices: devices{}, Flushes: dir, Table: "location", Cache: cache,
				Nodes: []Node{&fakeNode{name: "k1", removeFn: tt.removeFn}},
				OnFlushed: func(realm string) {
					told = append(told, realm)
					if len(dir.notified) == 0 {
						t.Error("told before the flush was recorded and notified")
					}
					if _, ok, _ := cache.get(realm); ok {
						t.Error("told while the realm's records were still cached")
					}
				}}
			// The realm's records are cached before the flush.
			if _, err := r.Count(context.Background(), kamreg.ListQuery{Scope: kamreg.Scope{Realm: "acme.test"}}); err != nil {
				t.Fatal(err)
			}
			_ = tt.flush(r)
			if diff := cmp.Diff(tt.want, told); diff != "" {
				t.Errorf("told (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBatchedReads: a source read in batches of any size gives the same
// lists and pages as one read, with each read starting after the last
// row of the one before, and a read that fails mid-list fails the list
// after what was already handed on.
func TestBatchedReads(t *testing.T) {
	hideR2 := kamreg.FlushRecord{Ruid: "r2", CallID: "c-r2", CSeq: 1, LastModified: now.Add(-time.Minute)}
	scope := kamreg.Scope{Realm: "acme.test"}
	for _, tt := range []struct {
		name  string
		batch int
		limit int
		want  []string
		reads int
	}{
		{"one read", 0, 0, []string{"r1", "r3", "r4"}, 1},
		{"batches of one", 1, 0, []string{"r1", "r3", "r4"}, 5},
		{"batches of two", 2, 0, []string{"r1", "r3", "r4"}, 3},
		{"one batch larger than the realm", 10, 0, []string{"r1", "r3", "r4"}, 1},
		{"a page of two in batches of one", 1, 2, []string{"r1", "r3"}, 4},
		{"a page of two in one read", 0, 2, []string{"r1", "r3"}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src, dir := acme()
			src.batch = tt.batch
			dir.records = []kamreg.FlushRecord{hideR2}
			r := &Registry{Source: src, Directory: dir, Now: func() time.Time { return now }}
			page, err := r.List(context.Background(), kamreg.ListQuery{Scope: scope, Limit: tt.limit})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ruids(page)); diff != "" {
				t.Errorf("list (-want +got):\n%s", diff)
			}
			if (page.Next != nil) != (tt.limit > 0) {
				t.Errorf("next page %v with limit %d", page.Next, tt.limit)
			}
			if len(src.queries) != tt.reads {
				t.Errorf("%d reads, want %d", len(src.queries), tt.reads)
			}
			for i := 1; i < len(src.queries); i++ {
				prev, q := src.queries[i-1], src.queries[i]
				if q.After == nil || (prev.After != nil && !prev.After.Less(*q.After)) {
					t.Errorf("read %d starts after %v, the read before after %v", i, q.After, prev.After)
				}
			}
		})
	}

	t.Run("a read fails mid-list", func(t *testing.T) {
		src, dir := acme()
		src.batch, src.failAt, src.err = 2, 2, errors.New("connection reset")
		r := &Registry{Source: src, Directory: dir, Now: func() time.Time { return now }}
		var got []string
		_, err := r.Stream(context.Background(), kamreg.ListQuery{Scope: scope}, func(reg *kamreg.Registration) error {
			got = append(got, reg.CallID[2:])
			return nil
		})
		if !errors.Is(err, src.err) {
			t.Errorf("error %v, want the source's", err)
		}
		if diff := cmp.Diff([]string{"r1", "r2"}, got); diff != "" {
			t.Errorf("handed on before the failure (-want +got):\n%s", diff)
		}
	})

	t.Run("emit's error stops the read", func(t *testing.T) {
		src, dir := acme()
		src.batch = 1
		r := &Registry{Source: src, Directory: dir, Now: func() time.Time { return now }}
		gone := errors.New("client went away")
		_, err := r.Stream(context.Background(), kamreg.ListQuery{Scope: scope}, func(*kamreg.Registration) error { return gone })
		if !errors.Is(err, gone) || len(src.queries) != 1 {
			t.Errorf("error %v after %d reads, want emit's after 1", err, len(src.queries))
		}
	})
}

// TestCountHearsAFlushDuringItsSync: a flush notified while the count runs
// beside its sync is not missed: the records are read again and the count
// made again with them.
func TestCountHearsAFlushDuringItsSync(t *testing.T) {
	scope := kamreg.ListQuery{Scope: kamreg.Scope{Realm: "acme.test"}}
	src, dir := acme()
	cache := &FlushCache{Refresh: time.Hour}
	cache.SetListening(true)
	r := &Registry{Source: src, Directory: dir, Cache: cache}
	if n, err := r.Count(context.Background(), scope); n != 4 || err != nil {
		t.Fatalf("first count: %d %v, want 4", n, err)
	}
	// Another replica flushed bob; its notification arrives during the
	// next count's sync.
	cache.Sync = func() <-chan bool {
		dir.records = []kamreg.FlushRecord{{Ruid: "r3", CallID: "c-r3", CSeq: 1, LastModified: now.Add(-time.Minute)}}
		cache.Invalidate("acme.test")
		return answered(true)
	}
	if n, err := r.Count(context.Background(), scope); n != 3 || err != nil {
		t.Errorf("count after a flush heard during its sync: %d %v, want 3 (bob hidden)", n, err)
	}
}

// TestAListOfEveryRealmLeavesTheCachesAlone: the list of every realm
// maps without keeping, and the channel vars it parses are not kept; a
// realm's list keeps its registrations.
func TestAListOfEveryRealmLeavesTheCachesAlone(t *testing.T) {
	src, dir := acme()
	r := &Registry{Source: src, Directory: dir, Entries: adapter.NewEntryCache(), Now: func() time.Time { return now }}
	all, err := r.List(context.Background(), kamreg.ListQuery{})
	if err != nil || len(all.Entries) != 5 {
		t.Fatalf("list of every realm: %d entries, %v", len(all.Entries), err)
	}
	if n := r.Entries.Len(); n != 0 || !src.queries[0].Uncached {
		t.Errorf("after the list of every realm: %d registrations kept, source asked uncached %t; want 0, true", n, src.queries[0].Uncached)
	}
	if _, err := r.List(context.Background(), kamreg.ListQuery{Scope: kamreg.Scope{Realm: "acme.test"}}); err != nil {
		t.Fatal(err)
	}
	if n := r.Entries.Len(); n != 4 || src.queries[1].Uncached {
		t.Errorf("after a realm's list: %d registrations kept, source asked uncached %t; want 4, false", n, src.queries[1].Uncached)
	}
}

// TestListsUseTheCachedDirectory: with the realm's directory and records
// cached, a list reads neither, once the listener's sync says they may
// serve; when it does not (a flush was heard meanwhile, or the sync
// failed) both are read again before anything is handed on, and the list
// hides what the new records hide.
func TestListsUseTheCachedDirectory(t *testing.T) {
	scope := kamreg.ListQuery{Scope: kamreg.Scope{Realm: "acme.test"}}
	bob := []kamreg.FlushRecord{{Ruid: "r3", CallID: "c-r3", CSeq: 1, LastModified: now.Add(-time.Minute)}}
	for _, tt := range []struct {
		name      string
		sync      func(c *FlushCache, dir *fakeDirectory) bool
		want      []string
		wantReads int
	}{
		{"nothing happened", func(*FlushCache, *fakeDirectory) bool { return true }, []string{"r1", "r2", "r3", "r4"}, 1},
		{"another replica flushed bob", func(c *FlushCache, dir *fakeDirectory) bool {
			dir.records = bob
			c.Invalidate("acme.test")
			return true
		}, []string{"r1", "r2", "r4"}, 2},
		{"the sync failed", func(*FlushCache, *fakeDirectory) bool { return false }, []string{"r1", "r2", "r3", "r4"}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src, dir := acme()
			cache := &FlushCache{Refresh: time.Hour}
			cache.SetListening(true)
			r := &Registry{Source: src, Directory: dir, Cache: cache, Now: func() time.Time { return now }}
			if _, err := r.List(context.Background(), scope); err != nil {
				t.Fatal(err)
			}
			cache.Sync = func() <-chan bool { return answered(tt.sync(cache, dir)) }
			page, err := r.List(context.Background(), scope)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ruids(page)); diff != "" {
				t.Errorf("second list (-want +got):\n%s", diff)
			}
			if dir.reads != tt.wantReads {
				t.Errorf("%d reads of kamreg's tables for two lists, want %d", dir.reads, tt.wantReads)
			}
		})
	}
}

// answered is a sync's channel that has its answer.
func answered(ok bool) <-chan bool {
	ch := make(chan bool, 1)
	ch <- ok
	return ch
}

// TestExpiresCountFromAfterTheRead: a list's expires count from the clock
// after its first read, as an rpc source's binding counts from its dump.
func TestExpiresCountFromAfterTheRead(t *testing.T) {
	src, dir := acme()
	for i := range src.bindings {
		src.bindings[i].Expires = now.Add(300 * time.Second)
	}
	clock := func() time.Time {
		if len(src.queries) == 0 {
			return now.Add(-time.Second) // before the read
		}
		return now
	}
	r := &Registry{Source: src, Directory: dir, Now: clock}
	page, err := r.List(context.Background(), kamreg.ListQuery{Scope: kamreg.Scope{Realm: "acme.test"}})
	if err != nil || len(page.Entries) == 0 {
		t.Fatal(page, err)
	}
	if got := page.Entries[0].Expires; got != 300 {
		t.Errorf("expires %d, want 300 (counted from after the read)", got)
	}
}

// TestAPageOfEveryRealmAfterARealmFlush: a realm flush's record hides
// any number of rows of its realm; a page of every realm still fills
// from the other realms and says whether more remain.
func TestAPageOfEveryRealmAfterARealmFlush(t *testing.T) {
	for _, batch := range []int{0, 1, 2} {
		src, dir := acme()
		src.batch = batch
		src.bindings = append(src.bindings, bind("r6", "erin", "other.test", "sip:erin@127.0.0.6"))
		dir.records = []kamreg.FlushRecord{kamreg.RealmFlush("acme.test", now)}
		r := &Registry{Source: src, Directory: dir, Now: func() time.Time { return now }}
		page, err := r.List(context.Background(), kamreg.ListQuery{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"r5"}, ruids(page)); diff != "" || page.Next == nil {
			t.Errorf("batch %d: first page (-want +got):\n%s, next %v", batch, diff, page.Next)
			continue
		}
		page, err = r.List(context.Background(), kamreg.ListQuery{Limit: 1, After: page.Next})
		if diff := cmp.Diff([]string{"r6"}, ruids(page)); err != nil || diff != "" || page.Next != nil {
			t.Errorf("batch %d: second page (-want +got):\n%s, next %v, %v", batch, diff, page.Next, err)
		}
	}
}

// TestCachedReadsThatFail: a read made again because the sync said no
// fails the list or count, never an empty or partial answer; a count
// whose source fails while its sync is pending fails too.
func TestCachedReadsThatFail(t *testing.T) {
	scope := kamreg.ListQuery{Scope: kamreg.Scope{Realm: "acme.test"}}
	gone := errors.New("connection reset")
	for _, tt := range []struct {
		name string
		// fail runs between the first read (which fills the cache) and
		// the second.
		fail func(src *fakeSource, dir *fakeDirectory, c *FlushCache)
	}{
		{"the directory, read again after the sync said no", func(_ *fakeSource, dir *fakeDirectory, c *FlushCache) {
			c.Sync = func() <-chan bool { return answered(false) }
			dir.err = gone
		}},
		{"the source, while the sync is pending", func(src *fakeSource, _ *fakeDirectory, c *FlushCache) {
			c.Sync = func() <-chan bool { return make(chan bool) } // never answers
			src.err = gone
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, read := range []struct {
				name string
				do   func(r *Registry) error
			}{
				{"list", func(r *Registry) error { _, err := r.List(context.Background(), scope); return err }},
				{"count", func(r *Registry) error { _, err := r.Count(context.Background(), scope); return err }},
			} {
				src, dir := acme()
				cache := &FlushCache{Refresh: time.Hour}
				cache.SetListening(true)
				r := &Registry{Source: src, Directory: dir, Cache: cache, Now: func() time.Time { return now }}
				if err := read.do(r); err != nil {
					t.Fatal(err)
				}
				tt.fail(src, dir, cache)
				if err := read.do(r); !errors.Is(err, gone) {
					t.Errorf("%s: %v, want the failure", read.name, err)
				}
			}
		})
	}
}

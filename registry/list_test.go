package registry

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/kamailio"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func bind(ruid, user, domain, contact string) kamreg.Binding {
	return kamreg.Binding{Ruid: ruid, Username: user, Domain: domain, Contact: contact, CallID: "c-" + ruid, CSeq: 1,
		Socket: "udp:127.0.0.1:5060", Expires: now.Add(time.Minute), LastModified: now.Add(-time.Minute)}
}

// acme holds five bindings in two realms: alice twice, bob, carol, and
// dave in another realm.
func acme() (*fakeSource, *fakeDirectory) {
	src := &fakeSource{bindings: []kamreg.Binding{
		bind("r3", "bob", "acme.test", "sip:bob@127.0.0.3"),
		bind("r1", "alice", "acme.test", "sip:alice@127.0.0.1"),
		bind("r2", "alice", "acme.test", "sip:alice@127.0.0.2"),
		bind("r4", "carol", "acme.test", "sip:carol@127.0.0.4"),
		bind("r5", "dave", "other.test", "sip:dave@127.0.0.5"),
	}}
	dir := kamreg.NewDirectory()
	dir.AddAccount(kamreg.Account{ID: "acct", Name: "Acme", Realm: "Acme.Test"})
	dir.AddDevice("acme.test", kamreg.Device{Username: "bob", DeviceID: "dev-bob"})
	return src, &fakeDirectory{dir: dir}
}

func ruids(p kamreg.Page) []string {
	out := []string{}
	for _, e := range p.Entries {
		out = append(out, e.CallID[2:])
	}
	return out
}

func TestList(t *testing.T) {
	realm := kamreg.Scope{Realm: "Acme.Test"}
	key := func(r string) *kamreg.Key {
		return &kamreg.Key{Username: map[string]string{"r1": "alice", "r2": "alice", "r3": "bob"}[r],
			Contact: map[string]string{"r1": "sip:alice@127.0.0.1", "r2": "sip:alice@127.0.0.2", "r3": "sip:bob@127.0.0.3"}[r], Ruid: r}
	}
	hideR2 := kamreg.FlushRecord{Ruid: "r2", CallID: "c-r2", CSeq: 1, LastModified: now.Add(-time.Minute)}
	staleR2 := hideR2
	staleR2.CSeq = 0 // r2 registered again since: the record no longer hides it
	tests := []struct {
		name     string
		q        kamreg.ListQuery
		records  []kamreg.FlushRecord
		want     []string
		wantNext *kamreg.Key
	}{
		{"the realm, ordered by username then contact", kamreg.ListQuery{Scope: realm}, nil, []string{"r1", "r2", "r3", "r4"}, nil},
		{"every realm", kamreg.ListQuery{}, nil, []string{"r1", "r2", "r3", "r4", "r5"}, nil},
		{"first page", kamreg.ListQuery{Scope: realm, Limit: 2}, nil, []string{"r1", "r2"}, key("r2")},
		{"next page", kamreg.ListQuery{Scope: realm, Limit: 2, After: key("r2")}, nil, []string{"r3", "r4"}, nil},
		{"a page that ends the list has no next key", kamreg.ListQuery{Scope: realm, Limit: 4}, nil, []string{"r1", "r2", "r3", "r4"}, nil},
		{"column filter", kamreg.ListQuery{Scope: realm, Filters: []kamreg.Filter{{Key: "username", Value: "alice"}}}, nil, []string{"r1", "r2"}, nil},
		{"filter on a mapped key", kamreg.ListQuery{Scope: realm, Filters: []kamreg.Filter{{Key: "authorizing_id", Value: "dev-bob"}}}, nil, []string{"r3"}, nil},
		{"negated mapped filter, paged", kamreg.ListQuery{Scope: realm, Limit: 1, Filters: []kamreg.Filter{{Key: "owner_id", Value: "x", Not: true}}}, nil, []string{"r1"}, key("r1")},
		{"flushed binding hidden", kamreg.ListQuery{Scope: realm}, []kamreg.FlushRecord{hideR2}, []string{"r1", "r3", "r4"}, nil},
		{"flushed binding hidden, page still full", kamreg.ListQuery{Scope: realm, Limit: 2}, []kamreg.FlushRecord{hideR2}, []string{"r1", "r3"}, key("r3")},
		{"registered again since the flush", kamreg.ListQuery{Scope: realm}, []kamreg.FlushRecord{staleR2}, []string{"r1", "r2", "r3", "r4"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dir := acme()
			dir.records = tt.records
			r := &Registry{Source: src, Directory: dir, Now: func() time.Time { return now }}
			page, err := r.List(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ruids(page)); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantNext, page.Next); diff != "" {
				t.Errorf("next (-want +got):\n%s", diff)
			}
			n, err := r.Count(context.Background(), kamreg.ListQuery{Scope: tt.q.Scope, Filters: tt.q.Filters})
			if err != nil {
				t.Fatal(err)
			}
			all, _ := r.List(context.Background(), kamreg.ListQuery{Scope: tt.q.Scope, Filters: tt.q.Filters})
			if n != len(all.Entries) {
				t.Errorf("count %d, the unpaged list has %d", n, len(all.Entries))
			}
		})
	}
}

func TestListMapsWithTheDirectory(t *testing.T) {
	src, dir := acme()
	r := &Registry{Source: src, Directory: dir, Now: func() time.Time { return now }}
	page, err := r.List(context.Background(), kamreg.ListQuery{Scope: kamreg.Scope{Realm: "acme.test"}, Filters: []kamreg.Filter{{Key: "username", Value: "bob"}}})
	if err != nil || len(page.Entries) != 1 {
		t.Fatalf("%+v %v", page, err)
	}
	e := page.Entries[0]
	got := []string{e.AccountName, e.AccountRealm, e.AuthorizingID, e.AuthorizingType, e.ProxyIP, e.ProxyProtocol}
	if diff := cmp.Diff([]string{"Acme", "Acme.Test", "dev-bob", "device", "127.0.0.1", "udp"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCountIsOneQueryWithoutFlushRecords(t *testing.T) {
	src, dir := acme()
	r := &Registry{Source: src, Directory: dir}
	if n, err := r.Count(context.Background(), kamreg.ListQuery{Scope: kamreg.Scope{Realm: "acme.test"}}); n != 4 || err != nil {
		t.Fatalf("count %d %v", n, err)
	}
	if src.counts != 1 || len(src.queries) != 0 {
		t.Errorf("%d counts and %d reads, want one count only", src.counts, len(src.queries))
	}
}

// countStarted is a source that says when a count begins.
type countStarted struct {
	*fakeSource
	started chan struct{}
}

func (c countStarted) Count(ctx context.Context, q kamailio.Query) (int, error) {
	close(c.started)
	return c.fakeSource.Count(ctx, q)
}

// recordsAfterCount is a directory whose read of flush records waits until
// the count has begun, or its context ends.
type recordsAfterCount struct {
	*fakeDirectory
	started chan struct{}
}

func (d recordsAfterCount) FlushRecords(ctx context.Context, realm string) ([]kamreg.FlushRecord, error) {
	select {
	case <-d.started:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return d.fakeDirectory.FlushRecords(ctx, realm)
}

// TestCountReadsBothAtOnce: the flush records are read while the count
// runs. A count that waited for the records first would wait for ever;
// the context's deadline turns that into an error.
func TestCountReadsBothAtOnce(t *testing.T) {
	src, dir := acme()
	dir.records = []kamreg.FlushRecord{{Ruid: "r3", Username: "bob", Domain: "acme.test", CallID: "c-r3", CSeq: 1,
		LastModified: now.Add(-time.Minute)}}
	started := make(chan struct{})
	r := &Registry{Source: countStarted{src, started}, Directory: recordsAfterCount{dir, started}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := r.Count(ctx, kamreg.ListQuery{Scope: kamreg.Scope{Realm: "acme.test"}})
	if n != 3 || err != nil {
		t.Fatalf("count %d, %v; want 3 (bob's flushed binding hidden), nil", n, err)
	}
}

func TestReadFailuresAreNeverAnEmptyList(t *testing.T) {
	down := kamreg.Errorf(kamreg.EUNAVAILABLE, "PostgreSQL is unreachable or failing")
	for _, tt := range []struct {
		name string
		src  *fakeSource
		dir  *fakeDirectory
	}{
		{"location read fails", &fakeSource{err: down}, &fakeDirectory{}},
		{"kamreg's tables fail", &fakeSource{}, &fakeDirectory{err: down}},
	} {
		r := &Registry{Source: tt.src, Directory: tt.dir}
		if _, err := r.List(context.Background(), kamreg.ListQuery{}); kamreg.ErrorCode(err) != kamreg.EUNAVAILABLE {
			t.Errorf("%s: list error %v", tt.name, err)
		}
		if _, err := r.Count(context.Background(), kamreg.ListQuery{}); kamreg.ErrorCode(err) != kamreg.EUNAVAILABLE {
			t.Errorf("%s: count error %v", tt.name, err)
		}
	}
}

// TestWatchVersion: a refresh (CSeq, Call-ID, last_modified) is a new
// version; an expiry computed from another dump's time is not.
func TestWatchVersion(t *testing.T) {
	a := bind("r1", "alice", "acme.test", "sip:alice@127.0.0.1")
	laterDump := a
	laterDump.Expires = a.Expires.Add(-700 * time.Millisecond)
	refreshed := a
	refreshed.CSeq++
	if version(&a) != version(&laterDump) {
		t.Error("the same binding seen in a later dump has a new version")
	}
	if version(&a) == version(&refreshed) {
		t.Error("a refreshed binding has the same version")
	}
}

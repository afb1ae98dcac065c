package registry

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/kamailio"
	"github.com/kamreg/kamreg/testbed"
)

// dumpNode answers ul.dump with records; with a gate, each dump waits
// until the gate is closed.
type dumpNode struct {
	name    string
	records []kamailio.Record
	err     error
	gate    chan struct{}
	dumps   atomic.Int32
}

func (n *dumpNode) Node() kamailio.Node { return kamailio.Node{Name: n.name} }

func (n *dumpNode) Dump(ctx context.Context, _ string) ([]kamailio.Record, error) {
	n.dumps.Add(1)
	if n.gate != nil {
		select {
		case <-n.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return n.records, n.err
}

func (n *dumpNode) Lookup(_ context.Context, _, aor string) ([]kamailio.Contact, error) {
	for _, r := range n.records {
		if r.AoR == aor {
			return r.Contacts, n.err
		}
	}
	return nil, n.err
}

func contact(ruid, addr string, expires kamailio.Expiry) kamailio.Contact {
	return kamailio.Contact{Ruid: kamailio.Text(ruid), Address: kamailio.Text(addr), Expires: expires, LastModified: 1795724632}
}

func TestRPCSourceMergesAndFilters(t *testing.T) {
	live := kamailio.Expiry{Seconds: 120}
	k1 := &dumpNode{name: "k1", records: []kamailio.Record{
		{AoR: "bob@acme.test", Contacts: []kamailio.Contact{contact("r2", "sip:bob@127.0.0.1", live)}},
		{AoR: "alice@acme.test", Contacts: []kamailio.Contact{
			contact("r1", "sip:alice@127.0.0.2", live),
			contact("gone", "sip:alice@127.0.0.3", kamailio.Expiry{State: "expired"}),
			contact("del", "sip:alice@127.0.0.4", kamailio.Expiry{State: "deleted"}),
		}},
		{AoR: "carol@other.test", Contacts: []kamailio.Contact{contact("r3", "sip:carol@127.0.0.1", live)}},
	}}
	k2 := &dumpNode{name: "k2", records: []kamailio.Record{
		{AoR: "alice@ACME.test", Contacts: []kamailio.Contact{
			contact("r1", "sip:alice@127.0.0.2", live), // the same binding, seen by both nodes
			contact("r4", "sip:alice@127.0.0.1", kamailio.Expiry{State: "permanent"}),
		}},
	}}
	now := time.Unix(1795724700, 0)
	r := &RPCSource{Nodes: []Dumper{k1, k2}, Table: "location", Now: func() time.Time { return now }}
	ctx := context.Background()
	got, err := r.Live(ctx, kamailio.Query{Scope: kamreg.Scope{Realm: "Acme.Test"}})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Ruid, Contact string
		Expires       time.Time
	}
	var rows []row
	for _, b := range got {
		rows = append(rows, row{b.Ruid, b.Contact, b.Expires})
	}
	want := []row{
		{"r4", "sip:alice@127.0.0.1", time.Time{}},
		{"r1", "sip:alice@127.0.0.2", now.Add(120 * time.Second)},
		{"r2", "sip:bob@127.0.0.1", now.Add(120 * time.Second)},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if n, _ := r.Count(ctx, kamailio.Query{Scope: kamreg.Scope{Realm: "acme.test", Username: "ALICE"}}); n != 2 {
		t.Errorf("count of alice %d, want 2", n)
	}
	page, err := r.Live(ctx, kamailio.Query{Scope: kamreg.Scope{Realm: "acme.test"},
		After: &kamreg.Key{Username: "alice", Contact: "sip:alice@127.0.0.2", Ruid: "r1"}, Limit: 5})
	if err != nil || len(page) != 1 || page[0].Ruid != "r2" {
		t.Errorf("page after alice: %+v, %v", page, err)
	}
	if n, _ := r.Count(ctx, kamailio.Query{Scope: kamreg.Scope{Realm: "acme.test"},
		Where: []kamailio.Cond{{Column: kamailio.ColumnUsername, Value: "bob", Not: true}}}); n != 2 {
		t.Errorf("count of not-bob %d, want 2", n)
	}
	aors, _ := r.AoRs(ctx, kamreg.Scope{Realm: "acme.test"})
	if len(aors) != 3 { // as each node spells them
		t.Errorf("AoRs from the dumps held: %v", aors)
	}
	k2.err = errors.New("node k2: reply too large")
	r.Forget()
	if _, err := r.Live(ctx, kamailio.Query{}); err == nil {
		t.Error("a node failed and the list was served anyway")
	}
}

// TestRPCSourceSharesDumps: fifty concurrent readers cost one dump per
// node; a finished dump serves reads for TTL, and a flush drops it.
func TestRPCSourceSharesDumps(t *testing.T) {
	k1 := &dumpNode{name: "k1", gate: make(chan struct{})}
	k2 := &dumpNode{name: "k2", gate: make(chan struct{})}
	clock := time.Unix(1795724700, 0)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	r := &RPCSource{Nodes: []Dumper{k1, k2}, Table: "location", TTL: 2 * time.Second, Now: now}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := r.Count(ctx, kamailio.Query{})
			errs <- err
		}()
	}
	testbed.Eventually(t, 10*time.Second, "a dump started on each node", func() bool {
		return k1.dumps.Load() >= 1 && k2.dumps.Load() >= 1
	})
	close(k1.gate)
	close(k2.gate)
	testbed.Wait(t, &wg, 10*time.Second, "50 concurrent counts")
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if d1, d2 := k1.dumps.Load(), k2.dumps.Load(); d1 != 1 || d2 != 1 {
		t.Fatalf("50 concurrent reads sent %d and %d dumps, want one per node", d1, d2)
	}
	mu.Lock()
	clock = clock.Add(1900 * time.Millisecond)
	mu.Unlock()
	_, _ = r.Count(ctx, kamailio.Query{})
	if d := k1.dumps.Load(); d != 1 {
		t.Errorf("a read within the TTL sent a dump (%d)", d)
	}
	mu.Lock()
	clock = clock.Add(200 * time.Millisecond)
	mu.Unlock()
	_, _ = r.Count(ctx, kamailio.Query{})
	if d := k1.dumps.Load(); d != 2 {
		t.Errorf("a read after the TTL sent %d dumps in all, want 2", d)
	}
	r.Forget() // what the registry does after a flush
	_, _ = r.Count(ctx, kamailio.Query{})
	if d := k1.dumps.Load(); d != 3 {
		t.Errorf("a read after a flush sent %d dumps in all, want 3", d)
	}
}

func TestRPCSourceWithoutReuse(t *testing.T) {
	k1 := &dumpNode{name: "k1"}
	r := &RPCSource{Nodes: []Dumper{k1}, Table: "location"}
	for i := 0; i < 3; i++ {
		_, _ = r.Count(context.Background(), kamailio.Query{})
	}
	if d := k1.dumps.Load(); d != 3 {
		t.Errorf("TTL 0: %d dumps for 3 reads, want 3", d)
	}
}

// TestRPCSourceForgetsADumpInFlight: a dump that started before a flush is
// neither kept nor shared with a read that comes after the flush.
func TestRPCSourceForgetsADumpInFlight(t *testing.T) {
	k1 := &dumpNode{name: "k1", gate: make(chan struct{})}
	r := &RPCSource{Nodes: []Dumper{k1}, Table: "location", TTL: time.Hour}
	ctx := context.Background()
	first := make(chan error, 1)
	go func() { _, err := r.Count(ctx, kamailio.Query{}); first <- err }()
	testbed.Eventually(t, 10*time.Second, "the first read's dump started", func() bool { return k1.dumps.Load() >= 1 })
	r.Forget() // a flush ends while the dump runs
	second := make(chan error, 1)
	go func() { _, err := r.Count(ctx, kamailio.Query{}); second <- err }()
	testbed.Eventually(t, 10*time.Second, "the read after the flush started its own dump", func() bool { return k1.dumps.Load() >= 2 })
	close(k1.gate)
	for _, ch := range []chan error{first, second} {
		select {
		case err := <-ch:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a read did not end")
		}
	}
	if d := k1.dumps.Load(); d != 2 {
		t.Fatalf("%d dumps, want 2: the read after the flush shared the older one", d)
	}
	_, _ = r.Count(ctx, kamailio.Query{})
	if d := k1.dumps.Load(); d != 2 {
		t.Errorf("a read after both sent dump %d: the post-flush dump was not kept", d)
	}
}

// TestRPCSourceStatesRecordTheFlush: in rpc mode a flush is recorded as in
// db mode, from the dumps held and, for AoRs they lack, from ul.lookup on
// every node; a contact modified after the flush began is left out.
func TestRPCSourceStatesRecordTheFlush(t *testing.T) {
	live := kamailio.Expiry{Seconds: 120}
	k1 := &dumpNode{name: "k1", records: []kamailio.Record{
		{AoR: "alice@acme.test", Contacts: []kamailio.Contact{contact("r1", "sip:alice@127.0.0.2", live)}},
	}}
	k2 := &dumpNode{name: "k2"}
	now := time.Unix(1795724700, 0)
	r := &RPCSource{Nodes: []Dumper{k1, k2}, Table: "location", TTL: time.Minute, Now: func() time.Time { return now }}
	ctx := context.Background()
	if _, err := r.Live(ctx, kamailio.Query{}); err != nil {
		t.Fatal(err)
	}
	// Registered on k2 since its dump; and a refresh after the flush began.
	later := contact("r3", "sip:carol@127.0.0.1", live)
	later.LastModified = now.Unix() + 5
	k2.records = []kamailio.Record{
		{AoR: "bob@acme.test", Contacts: []kamailio.Contact{contact("r2", "sip:bob@127.0.0.1", live)}},
		{AoR: "carol@acme.test", Contacts: []kamailio.Contact{later}},
	}
	got, err := r.States(ctx, []kamreg.AoR{{Username: "alice", Domain: "acme.test"}, {Username: "bob", Domain: "acme.test"},
		{Username: "carol", Domain: "acme.test"}, {Username: "nobody", Domain: "acme.test"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	var ruids []string
	for _, f := range got {
		ruids = append(ruids, f.Ruid+" "+f.Username+"@"+f.Domain)
	}
	sort.Strings(ruids)
	if diff := cmp.Diff([]string{"r1 alice@acme.test", "r2 bob@acme.test"}, ruids); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

// TestRPCRealmFlushOnAFreshReplica: a replica that holds no dump asks
// every node for one before a realm flush, so that every AoR any node
// holds is removed; a node it cannot dump makes the flush a 503 "flush
// incomplete" that names the node, with nothing removed, never "ok".
func TestRPCRealmFlushOnAFreshReplica(t *testing.T) {
	live := kamailio.Expiry{Seconds: 120}
	records := func(users ...string) []kamailio.Record {
		var out []kamailio.Record
		for _, u := range users {
			out = append(out, kamailio.Record{AoR: u, Contacts: []kamailio.Contact{contact("r-"+u, "sip:"+u, live)}})
		}
		return out
	}
	tests := []struct {
		name        string
		k2Err       error
		wantRemoved []string
		wantCode    string
		wantMessage string
	}{
		{name: "every node dumped", wantRemoved: []string{"alice@acme.test", "bob@acme.test", "carol@Acme.Test"}}, // as the node spells it
		{name: "a node that cannot be dumped", k2Err: kamreg.Errorf(kamreg.EUNAVAILABLE, "Kamailio node k2 did not answer ul.dump in time"),
			wantCode: kamreg.EINCOMPLETE, wantMessage: "flush incomplete: nothing was flushed: the AoRs Kamailio node k2 " +
				"holds could not be known (ul.dump: Kamailio node k2 did not answer ul.dump in time)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d1 := &dumpNode{name: "k1", records: records("alice@acme.test", "dave@other.test")}
			d2 := &dumpNode{name: "k2", records: records("bob@acme.test", "carol@Acme.Test"), err: tt.k2Err}
			src := &RPCSource{Nodes: []Dumper{d1, d2}, Table: "location", TTL: time.Minute}
			k1, k2 := &fakeNode{name: "k1"}, &fakeNode{name: "k2"}
			r := &Registry{Source: src, Directory: &fakeDirectory{}, Devices: devices{}, Flushes: &fakeDirectory{},
				Nodes: []Node{k1, k2}, Table: "location"}
			_, err := r.FlushRealm(context.Background(), acmeAccount)
			if got := kamreg.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("error %v (%q), want %q", err, got, tt.wantCode)
			}
			if err != nil && err.Error() != tt.wantMessage {
				t.Errorf("error %q, want %q", err.Error(), tt.wantMessage)
			}
			for _, n := range []*fakeNode{k1, k2} {
				if diff := cmp.Diff(tt.wantRemoved, n.sortedRemoved()); diff != "" {
					t.Errorf("removed on %s (-want +got):\n%s", n.name, diff)
				}
			}
			if d1.dumps.Load() != 1 || d2.dumps.Load() != 1 {
				t.Errorf("dumps %d and %d, want one per node", d1.dumps.Load(), d2.dumps.Load())
			}
		})
	}
}

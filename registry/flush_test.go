package registry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
)

var acmeAccount = kamreg.Account{ID: "acct", Name: "Acme", Realm: "Acme.Test"}

func TestFlushRealmAsksNoNodeForItsMemory(t *testing.T) {
	k1 := &fakeNode{name: "k1"}
	src := &fakeSource{aors: map[kamreg.Scope][]kamreg.AoR{{Realm: "Acme.Test"}: {
		{Username: "a", Domain: "acme.test"}, {Username: "b", Domain: "acme.test"}}}}
	// A realm flush's own record names no AoR.
	dir := &fakeDirectory{records: []kamreg.FlushRecord{{Ruid: "old", Username: "flushed-lately", Domain: "acme.test"},
		kamreg.RealmFlush("acme.test", now)}}
	r := &Registry{Source: src, Directory: dir, Devices: devices{"Desk": true}, Flushes: dir, Nodes: []Node{k1},
		Table: "location", PerNode: 2}
	report, err := r.FlushRealm(context.Background(), acmeAccount)
	if err != nil || !report.Complete() {
		t.Fatalf("%+v %v", report, err)
	}
	want := []string{"Desk@acme.test", "a@acme.test", "b@acme.test", "desk@acme.test", "flushed-lately@acme.test"}
	if diff := cmp.Diff(want, k1.sortedRemoved()); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
}

func TestFlushRecordsOnlyWhatEveryNodeAcknowledged(t *testing.T) {
	k1 := &fakeNode{name: "k1"}
	k2 := &fakeNode{name: "k2", removeFn: func(aor string) error {
		if aor == "bob@acme.test" {
			return errors.New("node k2: timeout")
		}
		return nil
	}}
	src, dir := acme()
	src.aors = map[kamreg.Scope][]kamreg.AoR{{Realm: "Acme.Test"}: {{Username: "alice", Domain: "acme.test"}, {Username: "bob", Domain: "acme.test"}}}
	r := &Registry{Source: src, Directory: dir, Devices: devices{}, Flushes: dir, Nodes: []Node{k1, k2}, Table: "location"}
	report, err := r.FlushRealm(context.Background(), acmeAccount)
	var incomplete *kamreg.FlushError
	if !errors.As(err, &incomplete) || kamreg.ErrorCode(err) != kamreg.EINCOMPLETE {
		t.Fatalf("error %v, want a FlushError", err)
	}
	var recorded []string
	for _, f := range dir.records {
		recorded = append(recorded, f.Ruid)
	}
	if diff := cmp.Diff([]string{"r1", "r2"}, recorded); diff != "" {
		t.Errorf("recorded (-want +got):\n%s", diff)
	}
	wantNodes := []kamreg.NodeFailure{{Node: "k2", Error: "1 of 2 AoRs not flushed: node k2: timeout"}}
	if diff := cmp.Diff(wantNodes, report.Nodes); diff != "" {
		t.Errorf("each failing node once (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"bob@acme.test"}, report.Failed); diff != "" {
		t.Errorf("failed (-want +got):\n%s", diff)
	}
}

func TestFlushUser(t *testing.T) {
	tests := []struct {
		name    string
		devices devices
		rows    []kamreg.AoR
		held    map[string]int
		wantErr error
	}{
		{"unknown", devices{}, nil, nil, kamreg.ErrUnknownUser},
		{"device only", devices{"dave": true}, nil, nil, nil},
		{"in the location table", devices{}, []kamreg.AoR{{Username: "dave", Domain: "acme.test"}}, nil, nil},
		{"only a row a flush record hides", devices{}, []kamreg.AoR{{Username: "flushed", Domain: "acme.test"}}, nil, kamreg.ErrUnknownUser},
		{"only in Kamailio's memory", devices{}, nil, map[string]int{"dave@acme.test": 1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k1 := &fakeNode{name: "k1", held: tt.held}
			live := bind("r-dave", "dave", "acme.test", "sip:dave@127.0.0.9")
			hidden := bind("r-flushed", "Dave", "acme.test", "sip:dave@127.0.0.8")
			dir := &fakeDirectory{records: []kamreg.FlushRecord{{Ruid: "r-flushed", CallID: hidden.CallID, CSeq: hidden.CSeq,
				LastModified: hidden.LastModified}}}
			src := &fakeSource{aors: map[kamreg.Scope][]kamreg.AoR{{Realm: "Acme.Test", Username: "Dave"}: tt.rows}}
			if len(tt.rows) > 0 && tt.rows[0].Username == "dave" {
				src.bindings = []kamreg.Binding{live}
			} else if len(tt.rows) > 0 {
				src.bindings = []kamreg.Binding{hidden}
			}
			r := &Registry{Source: src, Directory: dir, Devices: tt.devices, Flushes: dir, Nodes: []Node{k1}, Table: "location"}
			_, err := r.FlushUser(context.Background(), acmeAccount, "Dave")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if err == nil {
				if diff := cmp.Diff([]string{"Dave@acme.test", "dave@acme.test"}, k1.sortedRemoved()); diff != "" {
					t.Errorf("removed (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestFlushFailures(t *testing.T) {
	rows := map[kamreg.Scope][]kamreg.AoR{{Realm: "Acme.Test", Username: "a"}: {{Username: "a", Domain: "acme.test"}}}
	src := &fakeSource{aors: rows, bindings: []kamreg.Binding{bind("r-a", "a", "acme.test", "sip:a@127.0.0.1")}}
	r := &Registry{Source: src, Directory: &fakeDirectory{}, Devices: devices{}, Flushes: &fakeDirectory{}, Table: "location"}
	report, err := r.FlushUser(context.Background(), acmeAccount, "a")
	var incomplete *kamreg.FlushError
	if !errors.As(err, &incomplete) || incomplete.Cause != ErrNoNodes || len(report.Failed) != 1 {
		t.Errorf("no nodes: %+v %v", report, err)
	}

	down := kamreg.Errorf(kamreg.EUNAVAILABLE, "PostgreSQL is unreachable or failing")
	r.Nodes = []Node{&fakeNode{name: "k1"}}
	r.Flushes = &fakeDirectory{err: down}
	_, err = r.FlushUser(context.Background(), acmeAccount, "a")
	want := "the flush reached every node but could not be recorded: PostgreSQL is unreachable or failing"
	if kamreg.ErrorCode(err) != kamreg.EUNAVAILABLE || kamreg.ErrorMessage(err) != want {
		t.Errorf("record failure: %v", err)
	}
}

// TestFlushRecordsTheRowsAsTheyWereBeforeTheRemoval: a phone that
// registers again while the flush runs (a new CSeq, the same second) is
// listed after it; the others are hidden.
func TestFlushRecordsTheRowsAsTheyWereBeforeTheRemoval(t *testing.T) {
	src, dir := acme()
	src.aors = map[kamreg.Scope][]kamreg.AoR{{Realm: "Acme.Test"}: {{Username: "alice", Domain: "acme.test"}, {Username: "bob", Domain: "acme.test"}}}
	k1 := &fakeNode{name: "k1", removeFn: func(aor string) error {
		if aor == "bob@acme.test" { // bob's phone registers again at once
			for i := range src.bindings {
				if src.bindings[i].Username == "bob" {
					src.bindings[i].CSeq++
				}
			}
		}
		return nil
	}}
	r := &Registry{Source: src, Directory: dir, Devices: devices{}, Flushes: dir, Nodes: []Node{k1}, Table: "location", PerNode: 1,
		Now: func() time.Time { return now }}
	if _, err := r.FlushRealm(context.Background(), acmeAccount); err != nil {
		t.Fatal(err)
	}
	page, err := r.List(context.Background(), kamreg.ListQuery{Scope: kamreg.Scope{Realm: "acme.test"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"r3", "r4"}, ruids(page)); diff != "" {
		t.Errorf("listed after the flush (-want +got):\n%s", diff)
	}
}

// TestAnIncompleteFlushThatCannotBeRecordedStillNamesTheNode: the report
// of the nodes that failed is not lost to the recording's failure.
func TestAnIncompleteFlushThatCannotBeRecordedStillNamesTheNode(t *testing.T) {
	src, dir := acme()
	src.aors = map[kamreg.Scope][]kamreg.AoR{{Realm: "Acme.Test"}: {{Username: "alice", Domain: "acme.test"}}}
	down := kamreg.Errorf(kamreg.EUNAVAILABLE, "PostgreSQL is unreachable or failing")
	k2 := &fakeNode{name: "k2", removeFn: func(string) error { return errors.New("node k2: timeout") }}
	r := &Registry{Source: src, Directory: dir, Devices: devices{}, Flushes: &fakeDirectory{err: down},
		Nodes: []Node{&fakeNode{name: "k1"}, k2}, Table: "location"}
	_, err := r.FlushRealm(context.Background(), acmeAccount)
	var incomplete *kamreg.FlushError
	if !errors.As(err, &incomplete) || len(incomplete.Report.Nodes) != 1 || incomplete.Report.Nodes[0].Node != "k2" {
		t.Errorf("error %v, want a FlushError naming k2", err)
	}
}

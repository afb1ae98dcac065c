package registry

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg/kamailio"
)

type fakeNode struct {
	name     string
	held     map[string]int // AoR -> contacts in memory
	dumpErr  error
	removeFn func(aor string) error
	mu       sync.Mutex
	removed  []string
}

func (n *fakeNode) Node() kamailio.Node { return kamailio.Node{Name: n.name} }
func (n *fakeNode) Remove(_ context.Context, _, aor string) error {
	if n.removeFn != nil {
		if err := n.removeFn(aor); err != nil {
			return err
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.removed = append(n.removed, aor)
	return nil
}
func (n *fakeNode) Lookup(_ context.Context, _, aor string) ([]kamailio.Contact, error) {
	return make([]kamailio.Contact, n.held[aor]), nil
}
func (n *fakeNode) Dump(context.Context, string) ([]kamailio.Record, error) { return nil, nil }
func (n *fakeNode) AoRs(context.Context, string) ([]string, error) {
	var out []string
	for a := range n.held {
		out = append(out, a)
	}
	sort.Strings(out)
	return out, n.dumpErr
}

type fakeBindings struct {
	rows map[kamailio.Scope][]kamailio.AoR
	live int
}

func (f fakeBindings) Live(context.Context, kamailio.Query) ([]kamailio.Binding, error) {
	return nil, nil
}
func (f fakeBindings) Count(context.Context, kamailio.Query) (int, error) { return f.live, nil }
func (f fakeBindings) AoRs(_ context.Context, s kamailio.Scope) ([]kamailio.AoR, error) {
	return f.rows[s], nil
}

type fakeRecorder struct{ recorded []kamailio.AoR }

func (f *fakeRecorder) Record(_ context.Context, aors []kamailio.AoR, _ time.Time) error {
	f.recorded = append(f.recorded, aors...)
	return nil
}

type devices map[string]bool

func (d devices) Exists(_ context.Context, _, username string) (bool, error) {
	return d[strings.ToLower(username)], nil
}

func TestFlushRealmMergesTableAndMemory(t *testing.T) {
	k1 := &fakeNode{name: "k1", held: map[string]int{"mem@acme.test": 1, "x@other.test": 1}}
	rec := &fakeRecorder{}
	r := &Registry{
		Bindings: fakeBindings{rows: map[kamailio.Scope][]kamailio.AoR{{Realm: "Acme.Test"}: {{Username: "a", Domain: "acme.test"}, {Username: "b", Domain: "acme.test"}}}},
		Devices:  devices{}, Flushes: rec, Nodes: []Node{k1}, Table: "location", PerNode: 2, ScanMemory: true,
	}
	report, err := r.FlushRealm(context.Background(), "Acme.Test")
	if err != nil || !report.Complete() {
		t.Fatalf("%+v %v", report, err)
	}
	want := []string{"a@acme.test", "b@acme.test", "mem@acme.test"}
	sort.Strings(k1.removed)
	if diff := cmp.Diff(want, k1.removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	if len(rec.recorded) != 3 {
		t.Errorf("recorded %v", rec.recorded)
	}
}

func TestFlushRecordsOnlyWhatEveryNodeAcknowledged(t *testing.T) {
	k1 := &fakeNode{name: "k1"}
	k2 := &fakeNode{name: "k2", dumpErr: errors.New("too big"), removeFn: func(aor string) error {
		if aor == "b@acme.test" {
			return errors.New("timeout")
		}
		return nil
	}}
	rec := &fakeRecorder{}
	r := &Registry{
		Bindings: fakeBindings{rows: map[kamailio.Scope][]kamailio.AoR{{Realm: "acme.test"}: {{Username: "a", Domain: "acme.test"}, {Username: "b", Domain: "acme.test"}}}},
		Devices:  devices{}, Flushes: rec, Nodes: []Node{k1, k2}, Table: "location", ScanMemory: true,
	}
	report, err := r.FlushRealm(context.Background(), "acme.test")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]kamailio.AoR{{Username: "a", Domain: "acme.test"}}, rec.recorded); diff != "" {
		t.Errorf("recorded (-want +got):\n%s", diff)
	}
	if len(report.Nodes) != 2 || report.Nodes[0].Node != "k2" || report.Complete() {
		t.Errorf("report %+v", report)
	}
}

func TestFlushUser(t *testing.T) {
	tests := []struct {
		name    string
		devices devices
		live    int
		held    map[string]int
		wantErr error
	}{
		{"unknown", devices{}, 0, nil, ErrUnknownUser},
		{"device only", devices{"dave": true}, 0, nil, nil},
		{"registered", devices{}, 1, nil, nil},
		{"only in Kamailio's memory", devices{}, 0, map[string]int{"dave@acme.test": 1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k1 := &fakeNode{name: "k1", held: tt.held}
			r := &Registry{Bindings: fakeBindings{live: tt.live}, Devices: tt.devices, Flushes: &fakeRecorder{},
				Nodes: []Node{k1}, Table: "location"}
			_, err := r.FlushUser(context.Background(), "acct", "Acme.Test", "Dave")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if err == nil {
				sort.Strings(k1.removed)
				if diff := cmp.Diff([]string{"Dave@acme.test", "dave@acme.test"}, k1.removed); diff != "" {
					t.Errorf("removed (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestFlushWithoutNodesIsAnError(t *testing.T) {
	r := &Registry{Bindings: fakeBindings{live: 1}, Devices: devices{}, Flushes: &fakeRecorder{}, Table: "location"}
	report, err := r.FlushUser(context.Background(), "acct", "acme.test", "a")
	if !errors.Is(err, ErrNoNodes) || len(report.Failed) != 1 {
		t.Errorf("%+v %v", report, err)
	}
}

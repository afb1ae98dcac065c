package registry

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/kamailio"
	"github.com/kamreg/kamreg/testbed"
)

// fakeRemover is a Node whose RemoveFn decides each call; with a gate,
// each call waits until the gate is closed.
type fakeRemover struct {
	name     string
	RemoveFn func(aor string) error
	gate     chan struct{}
	inFlight atomic.Int32
	peak     atomic.Int32
	mu       sync.Mutex
	removed  []string
}

func (n *fakeRemover) Node() kamailio.Node { return kamailio.Node{Name: n.name} }

func (n *fakeRemover) Lookup(context.Context, string, string) ([]kamailio.Contact, error) {
	return nil, nil
}

func (n *fakeRemover) Remove(ctx context.Context, _, aor string) error {
	cur := n.inFlight.Add(1)
	defer n.inFlight.Add(-1)
	for {
		p := n.peak.Load()
		if cur <= p || n.peak.CompareAndSwap(p, cur) {
			break
		}
	}
	if n.gate != nil {
		select {
		case <-n.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if n.RemoveFn != nil {
		if err := n.RemoveFn(aor); err != nil {
			return err
		}
	}
	n.mu.Lock()
	n.removed = append(n.removed, aor)
	n.mu.Unlock()
	return nil
}

func TestFanout(t *testing.T) {
	aors := []string{"a@r", "b@r", "c@r"}
	refused := errors.New("connection refused")
	tests := []struct {
		name  string
		nodes []*fakeRemover
		want  kamreg.FlushReport
	}{
		{"every node acknowledges", []*fakeRemover{{name: "k1"}, {name: "k2"}},
			kamreg.FlushReport{Flushed: aors}},
		{"one node down", []*fakeRemover{{name: "k1"}, {name: "k2", RemoveFn: func(string) error { return refused }}},
			kamreg.FlushReport{Failed: aors, Nodes: []kamreg.NodeFailure{{Node: "k2", Error: "3 of 3 AoRs not flushed: connection refused"}}}},
		{"one AoR fails on one node", []*fakeRemover{{name: "k2", RemoveFn: func(a string) error {
			if a == "b@r" {
				return refused
			}
			return nil
		}}, {name: "k1"}},
			kamreg.FlushReport{Flushed: []string{"a@r", "c@r"}, Failed: []string{"b@r"}, Nodes: []kamreg.NodeFailure{{Node: "k2", Error: "1 of 3 AoRs not flushed: connection refused"}}}},
		{"no AoRs", []*fakeRemover{{name: "k1"}}, kamreg.FlushReport{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := aors
			if tt.name == "no AoRs" {
				in = nil
			}
			var nodes []Node
			for _, n := range tt.nodes {
				nodes = append(nodes, n)
			}
			got := fanout(context.Background(), nodes, "location", in, 2)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.Complete() != (len(tt.want.Failed) == 0 && len(tt.want.Nodes) == 0) {
				t.Errorf("Complete() = %v", got.Complete())
			}
		})
	}
}

func TestFanoutBoundsConcurrencyPerNode(t *testing.T) {
	var aors []string
	for i := 0; i < 100; i++ {
		aors = append(aors, string(rune('a'+i%26))+"@r"+string(rune('0'+i/26)))
	}
	n := &fakeRemover{name: "k1", gate: make(chan struct{})}
	done := make(chan kamreg.FlushReport, 1)
	go func() { done <- fanout(context.Background(), []Node{n}, "location", aors, 4) }()
	// Four calls in flight, each held at the gate: the bound is reached.
	testbed.Eventually(t, 10*time.Second, "four calls in flight", func() bool { return n.inFlight.Load() >= 4 })
	if got := n.inFlight.Load(); got != 4 {
		t.Fatalf("%d calls in flight, want 4", got)
	}
	close(n.gate)
	var r kamreg.FlushReport
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the flush did not end")
	}
	if !r.Complete() || len(n.removed) != 100 {
		t.Fatalf("report %+v, removed %d", r, len(n.removed))
	}
	if p := n.peak.Load(); p != 4 {
		t.Errorf("peak in flight %d, want 4", p)
	}
}

func TestFanoutGivesUpOnADeadNode(t *testing.T) {
	var aors []string
	for i := 0; i < 500; i++ {
		aors = append(aors, "u"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@r")
	}
	var calls atomic.Int32
	dead := &fakeRemover{name: "dead", RemoveFn: func(string) error { calls.Add(1); return errors.New("connection refused") }}
	r := fanout(context.Background(), []Node{dead, &fakeRemover{name: "k1"}}, "location", aors, 4)
	if len(r.Failed) != 500 || len(r.Flushed) != 0 {
		t.Fatalf("flushed %d failed %d", len(r.Flushed), len(r.Failed))
	}
	if c := calls.Load(); c > 20 {
		t.Errorf("%d calls sent to a dead node, want it given up after about 8", c)
	}
	if want := "500 of 500 AoRs not flushed: connection refused"; r.Nodes[0].Error != want {
		t.Errorf("node error %q, want %q", r.Nodes[0].Error, want)
	}
}

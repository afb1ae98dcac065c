package adapter

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeNode is a Remover whose RemoveFn decides each call.
type fakeNode struct {
	name     string
	RemoveFn func(aor string) error
	inFlight atomic.Int32
	peak     atomic.Int32
	mu       sync.Mutex
	removed  []string
}

func (n *fakeNode) Name() string { return n.name }

func (n *fakeNode) Remove(ctx context.Context, aor string) error {
	cur := n.inFlight.Add(1)
	defer n.inFlight.Add(-1)
	for {
		p := n.peak.Load()
		if cur <= p || n.peak.CompareAndSwap(p, cur) {
			break
		}
	}
	time.Sleep(time.Millisecond)
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

func TestFlush(t *testing.T) {
	aors := []string{"a@r", "b@r", "c@r"}
	refused := errors.New("connection refused")
	tests := []struct {
		name  string
		nodes []*fakeNode
		want  FlushReport
	}{
		{"every node acknowledges", []*fakeNode{{name: "k1"}, {name: "k2"}},
			FlushReport{Flushed: aors}},
		{"one node down", []*fakeNode{{name: "k1"}, {name: "k2", RemoveFn: func(string) error { return refused }}},
			FlushReport{Failed: aors, Nodes: []NodeFailure{{"k2", "3 of 3 AoRs not flushed: connection refused"}}}},
		{"one AoR fails on one node", []*fakeNode{{name: "k2", RemoveFn: func(a string) error {
			if a == "b@r" {
				return refused
			}
			return nil
		}}, {name: "k1"}},
			FlushReport{Flushed: []string{"a@r", "c@r"}, Failed: []string{"b@r"}, Nodes: []NodeFailure{{"k2", "1 of 3 AoRs not flushed: connection refused"}}}},
		{"no AoRs", []*fakeNode{{name: "k1"}}, FlushReport{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := aors
			if tt.name == "no AoRs" {
				in = nil
			}
			var removers []Remover
			for _, n := range tt.nodes {
				removers = append(removers, n)
			}
			got := Flush(context.Background(), removers, in, 2)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.Complete() != (len(tt.want.Failed) == 0 && len(tt.want.Nodes) == 0) {
				t.Errorf("Complete() = %v", got.Complete())
			}
		})
	}
}

func TestFlushBoundsConcurrencyPerNode(t *testing.T) {
	var aors []string
	for i := 0; i < 100; i++ {
		aors = append(aors, string(rune('a'+i%26))+"@r"+string(rune('0'+i/26)))
	}
	n := &fakeNode{name: "k1"}
	r := Flush(context.Background(), []Remover{n}, aors, 4)
	if !r.Complete() || len(n.removed) != 100 {
		t.Fatalf("report %+v, removed %d", r, len(n.removed))
	}
	if p := n.peak.Load(); p > 4 || p < 2 {
		t.Errorf("peak in flight %d, want 2..4", p)
	}
}

func TestFlushGivesUpOnADeadNode(t *testing.T) {
	var aors []string
	for i := 0; i < 500; i++ {
		aors = append(aors, "u"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@r")
	}
	var calls atomic.Int32
	dead := &fakeNode{name: "dead", RemoveFn: func(string) error { calls.Add(1); return errors.New("connection refused") }}
	r := Flush(context.Background(), []Remover{dead, &fakeNode{name: "k1"}}, aors, 4)
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

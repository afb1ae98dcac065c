package auth

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestBudgets: a key's bucket holds its burst, refills at its rate, and a
// refunded charge is given back, whichever charges came between.
func TestBudgets(t *testing.T) {
	clock := newFakeClock()
	b := newBudgets(1, 3, 10, clock.now) // one a second, bursts of 3
	take := func(key string) bool { _, ok := b.take(key); return ok }
	var got []bool
	for range 4 {
		got = append(got, take("a"))
	}
	got = append(got, take("b")) // its own bucket
	clock.add(time.Second)
	got = append(got, take("a"), take("a")) // one refilled
	if diff := cmp.Diff([]bool{true, true, true, false, true, true, false}, got); diff != "" {
		t.Errorf("takes (-want +got):\n%s", diff)
	}

	// Refunds: two charges in flight at once, both refunded, give the
	// bucket back whole.
	clock.add(3 * time.Second)
	c1, _ := b.take("a")
	clock.add(time.Millisecond)
	c2, _ := b.take("a")
	c1.Refund()
	c2.Refund()
	Charge{}.Refund() // the zero Charge took nothing
	got = got[:0]
	for range 4 {
		got = append(got, take("a"))
	}
	if diff := cmp.Diff([]bool{true, true, true, false}, got); diff != "" {
		t.Errorf("takes after two refunds (-want +got):\n%s", diff)
	}
}

// TestBudgetsAreBounded: past its size, the least recently used key goes,
// not every key (an exhausted key used lately stays exhausted).
func TestBudgetsAreBounded(t *testing.T) {
	clock := newFakeClock()
	b := newBudgets(0.0001, 1, 3, clock.now)
	b.allow("busy")
	for i := range 2 {
		b.allow("other-" + strconv.Itoa(i))
	}
	b.allow("busy")  // refused, and the most recently used
	b.allow("new-1") // other-0 goes
	if b.allow("busy") {
		t.Error("an exhausted key used lately was dropped when the budgets were full")
	}
	if !b.allow("other-0") {
		t.Error("the least recently used key is still held")
	}
}

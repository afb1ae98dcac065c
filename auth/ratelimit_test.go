package auth

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRequestLimit(t *testing.T) {
	clock := newFakeClock()
	l := newRequestLimit(1, 0, clock.now) // bursts of twice the rate
	var got []bool
	for range 3 {
		got = append(got, l.Allow("a"))
	}
	got = append(got, l.Allow("b"))
	clock.add(time.Second)
	got = append(got, l.Allow("a"), l.Allow("a"))
	if diff := cmp.Diff([]bool{true, true, false, true, true, false}, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if NewRequestLimit(0, 10) != nil || NewRequestLimit(-1, 10) != nil || !(*RequestLimit)(nil).Allow("x") {
		t.Error("a rate of 0 or less must turn the limit off")
	}
}

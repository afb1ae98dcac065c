package auth

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestExpiring(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newExpiring[string, int](2, time.Minute, func() time.Time { return now })
	c.Add("a", 1)
	c.Add("b", 2)
	_, _ = c.Get("a") // a is now the most recently used
	c.Add("c", 3)     // b goes
	now = now.Add(59 * time.Second)
	c.Add("a", 10) // a lives a minute more from here
	now = now.Add(2 * time.Second)
	type got struct {
		V  int
		OK bool
	}
	var gots []got
	for _, k := range []string{"a", "b", "c"} {
		v, ok := c.Get(k)
		gots = append(gots, got{v, ok})
	}
	// a was added again 2 s ago; b was pushed out; c is 61 s old.
	if diff := cmp.Diff([]got{{10, true}, {0, false}, {0, false}}, gots); diff != "" {
		t.Errorf("a b c (-want +got):\n%s", diff)
	}
	if c.lru.Contains("c") {
		t.Error("an expired entry read is still held")
	}
	c.Remove("a")
	if c.Contains("a") {
		t.Error("a removed entry is still held")
	}
}

package testbed

import (
	"strings"
	"testing"
	"time"
)

// TestUntil: Until returns once the condition holds, and names what it
// waited for when it never does.
func TestUntil(t *testing.T) {
	calls := 0
	if err := Until(time.Minute, "the third call", func() bool { calls++; return calls == 3 }); err != nil || calls != 3 {
		t.Errorf("Until = %v after %d calls, want nil after 3", err, calls)
	}
	err := Until(0, "a condition that never holds", func() bool { return false })
	if err == nil || !strings.Contains(err.Error(), "a condition that never holds") {
		t.Errorf("Until = %v, want an error naming what it waited for", err)
	}
}

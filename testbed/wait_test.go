package testbed

import (
	"errors"
	"fmt"
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

// fatalTB records a Fatal instead of ending the goroutine.
type fatalTB struct {
	testing.TB
	failed string
}

func (f *fatalTB) Helper()           {}
func (f *fatalTB) Fatal(args ...any) { f.failed = fmt.Sprint(args...) }

// TestEventually: Eventually and EventuallyOK return once the condition
// holds without failing, and fail at their deadline naming what they
// waited for (and, for EventuallyOK, the last error); no wait carries on
// past its deadline.
func TestEventually(t *testing.T) {
	tests := []struct {
		name     string
		wait     func(tb testing.TB)
		wantFail []string
	}{
		{"holds at the third call", func(tb testing.TB) {
			calls := 0
			Eventually(tb, time.Minute, "the third call", func() bool { calls++; return calls == 3 })
		}, nil},
		{"never holds", func(tb testing.TB) {
			Eventually(tb, 20*time.Millisecond, "a condition that never holds", func() bool { return false })
		}, []string{"a condition that never holds", "not within 20ms"}},
		{"ok at the second call", func(tb testing.TB) {
			calls := 0
			EventuallyOK(tb, time.Minute, "the second call", func() error {
				if calls++; calls < 2 {
					return errors.New("first")
				}
				return nil
			})
		}, nil},
		{"never ok", func(tb testing.TB) {
			EventuallyOK(tb, 20*time.Millisecond, "a server that never answers", func() error { return errors.New("connection refused") })
		}, []string{"a server that never answers", "not within 20ms", "connection refused"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fatalTB{TB: t}
			start := time.Now()
			tt.wait(f)
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("took %s", took)
			}
			if tt.wantFail == nil && f.failed != "" {
				t.Errorf("failed with %q, want no failure", f.failed)
			}
			for _, w := range tt.wantFail {
				if !strings.Contains(f.failed, w) {
					t.Errorf("failure %q does not say %q", f.failed, w)
				}
			}
			if tt.wantFail != nil && f.failed == "" {
				t.Error("no failure at the deadline")
			}
		})
	}
}

package testbed

import (
	"sync"
	"testing"
	"time"
)

// Receive returns the next value from ch (or the zero value once ch is
// closed), failing t when nothing comes within timeout. Call it on the
// test's goroutine.
func Receive[T any](t testing.TB, ch <-chan T, timeout time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		t.Fatalf("%s: nothing within %s", what, timeout)
	}
	var zero T
	return zero
}

// Wait waits for wg, failing t when it has not finished within timeout.
// Call it on the test's goroutine.
func Wait(t testing.TB, wg *sync.WaitGroup, timeout time.Duration, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	Receive(t, done, timeout, what)
}

package testbed

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Eventually polls cond until it holds, failing t (naming what) once
// timeout has passed. It is the tests' one wait for a condition; call it
// on the test's goroutine.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if err := Until(timeout, what, cond); err != nil {
		t.Fatal(err)
	}
}

// EventuallyOK calls ok until it returns nil, failing t once timeout has
// passed with what and ok's last error. Call it on the test's goroutine.
func EventuallyOK(t testing.TB, timeout time.Duration, what string, ok func() error) {
	t.Helper()
	if err := waitFor(timeout, what, ok); err != nil {
		t.Fatal(err)
	}
}

// Until polls ok until it holds, or returns an error naming what once
// timeout has passed: the benchmarks' wait for a condition, and
// Eventually's.
func Until(timeout time.Duration, what string, ok func() bool) error {
	return waitFor(timeout, what, func() error {
		if ok() {
			return nil
		}
		return errNotYet
	})
}

var errNotYet = errors.New("not yet")

// Polling starts at firstPoll and doubles up to maxPoll: a condition that
// holds at once costs little, a process that starts slowly is not asked
// hundreds of times.
const (
	firstPoll = time.Millisecond
	maxPoll   = 100 * time.Millisecond
)

// waitFor calls ok until it returns nil, or returns an error naming what
// and ok's last error once timeout has passed. ok is called at least once.
func waitFor(timeout time.Duration, what string, ok func() error) error {
	deadline := time.Now().Add(timeout)
	for pause := firstPoll; ; pause = min(2*pause, maxPoll) {
		err := ok()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %s: %w", what, timeout, err)
		}
		time.Sleep(pause)
	}
}

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

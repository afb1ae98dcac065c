package store

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeClock moves only when slept on.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time                           { return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) { c.now = c.now.Add(d) }

// TestOpenWaitRetriesThenGivesUp: a database that never answers is tried
// again after 0.5, 1, 2, 4, then 5 s at most, until the wait is over.
func TestOpenWaitRetriesThenGivesUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nobody listens there now
	var delays []time.Duration
	_, err = openWait(context.Background(), "postgres://u:p@"+addr+"/db?connect_timeout=1", 20*time.Second,
		func(_ error, retry time.Duration) { delays = append(delays, retry) }, &fakeClock{now: time.Unix(0, 0)})
	if err == nil {
		t.Fatal("opened a database nobody serves")
	}
	s := time.Second
	want := []time.Duration{s / 2, s, 2 * s, 4 * s, 5 * s, 5 * s} // 17.5 s; 5 s more would pass the 20 s
	if diff := cmp.Diff(want, delays); diff != "" {
		t.Errorf("retries (-want +got):\n%s", diff)
	}
	if _, err := OpenWait(context.Background(), "::not a url", time.Minute, nil); err == nil {
		t.Error("a bad URL was retried")
	}
}

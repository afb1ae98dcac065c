package store

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestOpenWaitRetriesThenGivesUp: a database that never answers is tried
// again with a growing delay, until the wait is over.
func TestOpenWaitRetriesThenGivesUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nobody listens there now
	var delays []time.Duration
	start := time.Now()
	_, err = OpenWait(context.Background(), "postgres://u:p@"+addr+"/db?connect_timeout=1", 2*time.Second,
		func(_ error, retry time.Duration) { delays = append(delays, retry) })
	if err == nil {
		t.Fatal("opened a database nobody serves")
	}
	if len(delays) < 2 || delays[1] <= delays[0] {
		t.Errorf("retries %v, want at least two with a growing delay", delays)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("gave up after %s, want about the 2 s wait", took)
	}
	if _, err := OpenWait(context.Background(), "::not a url", time.Minute, nil); err == nil {
		t.Error("a bad URL was retried")
	}
}

package main

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLogWriterFlushes(t *testing.T) {
	var out lockedBuffer
	lw := newLogWriter(&out)
	_, _ = lw.Write([]byte("one\n"))
	deadline := time.Now().Add(2 * time.Second)
	for out.String() != "one\n" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if out.String() != "one\n" {
		t.Fatalf("not flushed on the interval: %q", out.String())
	}
	_, _ = lw.Write([]byte("two\n"))
	_ = lw.Close()
	if out.String() != "one\ntwo\n" {
		t.Errorf("not flushed on close: %q", out.String())
	}
}

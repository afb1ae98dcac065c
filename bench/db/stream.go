package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// streamed is one list of every realm through kamreg, as a client saw it
// and as kamreg's resident set did.
type streamed struct {
	status           int
	firstByte, total time.Duration // until the body's first byte, and its last
	bytes            int64
	complete         bool   // the body ends as a whole envelope does
	cut              string // why the body ended early, if it did
	before           memory // kamreg's, before the request
	peakKB           int    // kamreg's VmHWM after it
	peakReset        bool   // the peak was reset before the request, so peakKB is the request's own
}

// The targets of the list of every realm.
const (
	firstByteTarget = time.Second
	streamPeakKB    = 150 * 1024
)

// tailSize is how much of the body's end is kept to see that it is whole.
const tailSize = 256

// streamList sends GET url with token, reads the whole body (at most limit
// in all) and measures it, with kamreg (process pid) before and after.
func streamList(url, token string, pid int, limit time.Duration) (streamed, error) {
	var s streamed
	var err error
	if s.before, err = readMemory(pid); err != nil {
		return s, err
	}
	s.peakReset = resetPeak(pid) == nil
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return s, err
	}
	req.Header.Set("X-Auth-Token", token)
	// The bytes counted are the bytes kamreg wrote: no transparent gzip.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		s.cut = err.Error()
	} else {
		s.status = resp.StatusCode
		s.readBody(resp.Body, start)
		resp.Body.Close()
	}
	s.total = time.Since(start)
	after, err := readMemory(pid)
	if err != nil {
		return s, err
	}
	s.peakKB = after.peakKB
	return s, nil
}

// readBody reads body to its end, timing its first byte and keeping its
// tail.
func (s *streamed) readBody(body io.Reader, start time.Time) {
	buf := make([]byte, 64<<10)
	var tail []byte
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if s.bytes == 0 {
				s.firstByte = time.Since(start)
			}
			s.bytes += int64(n)
			tail = append(tail, buf[:n]...)
			if len(tail) > tailSize {
				tail = append(tail[:0], tail[len(tail)-tailSize:]...)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.cut = err.Error()
			return
		}
	}
	s.complete = wholeEnvelope(tail)
}

// wholeEnvelope says whether the end of a body is the end of a successful
// envelope: its status, which follows the rows, closing it.
func wholeEnvelope(tail []byte) bool {
	return bytes.HasSuffix(bytes.TrimSpace(tail), []byte(`"status":"success"}`))
}

// report prints the measurement against its targets.
func (s streamed) report(limit time.Duration) {
	fmt.Printf("  answer: HTTP %d, %.1f MB in %s, complete envelope: %s\n",
		s.status, float64(s.bytes)/1e6, s.total.Round(time.Millisecond), yesNo(s.complete))
	if s.cut != "" {
		fmt.Printf("  cut: %s (the request is bounded at %s)\n", s.cut, limit)
	}
	if s.bytes > 0 {
		fmt.Printf("  first byte of the body: %s (target <= 1 s: %s)\n", s.firstByte.Round(time.Millisecond), mark(s.firstByte <= firstByteTarget))
	} else {
		fmt.Printf("  first byte of the body: none within %s (target <= 1 s: %s)\n", s.total.Round(time.Millisecond), mark(false))
	}
	fmt.Printf("  kamreg before it: RSS %.1f MB, peak so far %.1f MB\n", mb(s.before.rssKB), mb(s.before.peakKB))
	if s.peakReset {
		fmt.Printf("  kamreg peak RSS during it: %.1f MB (target <= 150: %s)\n", mb(s.peakKB), mark(s.peakKB <= streamPeakKB))
	} else {
		// The peak could not be reset: it covers the whole run.
		fmt.Printf("  kamreg peak RSS of the whole run after it: %.1f MB (target <= 150 during it: %s)\n",
			mb(s.peakKB), mark(s.peakKB <= streamPeakKB))
	}
}

// misses names the targets the list missed.
func (s streamed) misses() []string {
	var m []string
	if s.bytes == 0 || s.firstByte > firstByteTarget {
		m = append(m, "list of every realm: first byte of the body later than 1 s")
	}
	if s.peakKB > streamPeakKB {
		m = append(m, fmt.Sprintf("list of every realm: kamreg peak RSS %.1f MB, target <= 150", mb(s.peakKB)))
	}
	if !s.complete {
		m = append(m, "list of every realm: not answered whole")
	}
	return m
}

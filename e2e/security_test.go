//go:build integration

package e2e

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptrace"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kamreg/kamreg/testbed"
)

// tokenLookups returns the token look-ups kamreg sent to PostgreSQL, from
// its metrics listener.
func tokenLookups(t *testing.T, s *kamregServer) int64 {
	t.Helper()
	body := string(call(t, "GET", s.Metrics+"/metrics", "").body)
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, "kamreg_token_lookups_total "); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("kamreg_token_lookups_total %q: %v", v, err)
			}
			return int64(n)
		}
	}
	t.Fatalf("no kamreg_token_lookups_total in the metrics:\n%.2000s", body)
	return 0
}

// TestTokenFloodIsCheap floods a kamreg with the default limit of failed
// authentications with made-up tokens from one address: after the burst
// every answer is a 429 with Retry-After that PostgreSQL never sees, while
// a valid token from the same address keeps working; repeated unknown ids
// and malformed tokens never reach the table.
func TestTokenFloodIsCheap(t *testing.T) {
	s := serveFor(t, "main="+env.kam.RPCURL(), "KAMREG_AUTH_FAIL_BURST=20", "KAMREG_AUTH_FAIL_RATE=5/s")
	a := newAccount(t, "Flood", "flood.kamreg.test", "", false)
	url := s.Base + "/v2/accounts/" + a.id + "/registrations/count"
	if r := call(t, "GET", url, a.token); r.status != 200 {
		t.Fatalf("valid token: %d %s", r.status, r.body)
	}
	before := tokenLookups(t, s)
	start := time.Now()
	// 300 made-up tokens from 100 connections at once: refusals are held
	// back 1 s each, so a sequential flood would crawl (as it should).
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for w := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 3 {
				tok := newID() + "." + strings.Repeat(strconv.Itoa((w+j)%10), 64)
				r, err := tryCall("GET", url, tok)
				mu.Lock()
				codes[r.status]++
				if err == nil && r.status == 429 && r.header.Get("Retry-After") == "" {
					codes[-1]++
				}
				mu.Unlock()
			}
		}()
	}
	for range 5 {
		if v := call(t, "GET", url, a.token); v.status != 200 {
			t.Errorf("the valid token during the flood: %d %s", v.status, v.body)
		}
	}
	testbed.Wait(t, &wg, time.Minute, "the flood of made-up tokens")
	if codes[-1] > 0 {
		t.Errorf("%d answers 429 without Retry-After", codes[-1])
		delete(codes, -1)
	}
	elapsed := time.Since(start).Seconds()
	after := tokenLookups(t, s)
	// Malformed tokens never reach PostgreSQL, refused or not.
	for _, tok := range []string{"malformed", "a.b.c", strings.Repeat("x", 200)} {
		if r := call(t, "GET", url, tok); r.status != 429 && r.status != 401 {
			t.Errorf("%.20s…: %d", tok, r.status)
		}
	}
	if got := tokenLookups(t, s); got != after {
		t.Errorf("malformed tokens reached PostgreSQL: %d look-ups", got-after)
	}
	// The burst, plus what the rate refills while the flood lasts.
	most := int64(20 + 5*elapsed + 1)
	if got := after - before; got > most {
		t.Errorf("%d token look-ups reached PostgreSQL during the flood of 300 tokens in %.1fs; want at most %d", got, elapsed, most)
	}
	if codes[401] > int(most) || codes[429] < 300-int(most) || codes[401]+codes[429] != 300 {
		t.Errorf("answers to the flood: %v", codes)
	}
	// The metrics, on their own listener, count the failures by reason.
	body := string(call(t, "GET", s.Metrics+"/metrics", "").body)
	for _, want := range []string{`kamreg_auth_failures_total{reason="rate_limited"}`, `kamreg_auth_failures_total{reason="unknown_token"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestNegativeCache sends one unknown token id again and again from
// addresses that stay within the limit: PostgreSQL reads it once.
func TestNegativeCache(t *testing.T) {
	s := serveFor(t, "main="+env.kam.RPCURL())
	a := newAccount(t, "Negative", "negative.kamreg.test", "", false)
	url := s.Base + "/v2/accounts/" + a.id + "/registrations/count"
	unknown := newID() + "." + strings.Repeat("a", 64)
	before := tokenLookups(t, s)
	for range 50 {
		if r := call(t, "GET", url, unknown); r.status != 401 {
			t.Fatalf("unknown token: %d %s", r.status, r.body)
		}
	}
	if got := tokenLookups(t, s) - before; got != 1 {
		t.Errorf("%d token look-ups reached PostgreSQL for 50 tries of one unknown id; want 1", got)
	}
}

// TestHTTPSAndSIGHUP serves the API over HTTPS with a certificate of a CA
// made here, renews the pair and sends SIGHUP: new connections get the new
// certificate, the connection already open goes on, and the metrics stay
// on their own plain-HTTP listener.
func TestHTTPSAndSIGHUP(t *testing.T) {
	ca, err := testbed.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	roots := ca.Pool
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	issue := func(serial int64) {
		if err := ca.Issue(certFile, keyFile, serial); err != nil {
			t.Fatal(err)
		}
	}
	issue(1)
	// SIGHUP goes to a process: this one runs the binary.
	s, err := startKamregBinary("main="+env.kam.RPCURL(), "KAMREG_TLS_CERT="+certFile, "KAMREG_TLS_KEY="+keyFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if !strings.HasPrefix(s.Base, "https://127.0.0.1:") {
		t.Fatalf("base %s", s.Base)
	}
	serial := func(c *http.Client) (int64, bool) {
		t.Helper()
		reused := false
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
		ctx, cancel := context.WithTimeout(httptrace.WithClientTrace(context.Background(), trace), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", s.Base+"/readyz", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("HTTPS /readyz: %v", err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != 200 || resp.TLS.Version < tls.VersionTLS12 {
			t.Fatalf("HTTPS /readyz: %d over TLS %x", resp.StatusCode, resp.TLS.Version)
		}
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64(), reused
	}
	open := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer open.CloseIdleConnections()
	if got, _ := serial(open); got != 1 {
		t.Fatalf("serial %d, want 1", got)
	}
	if r := call(t, "GET", s.Metrics+"/metrics", ""); r.status != 200 {
		t.Errorf("plain-HTTP metrics listener: %d", r.status)
	}

	issue(2)
	if err := s.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testbed.Eventually(t, 10*time.Second, "the renewed certificate served after SIGHUP", func() bool {
		fresh := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, DisableKeepAlives: true}}
		got, _ := serial(fresh)
		return got == 2
	})
	if got, reused := serial(open); got != 1 || !reused {
		t.Errorf("the connection opened before SIGHUP: serial %d, reused %v; want 1, true", got, reused)
	}
}

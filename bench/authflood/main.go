// Command authflood measures what a flood of made-up tokens costs: 8
// connections list an account's registrations with a valid token, first
// alone, then while 200 connections send random tokens from the same
// address, against kamreg on a real PostgreSQL, Kamailio and sipp phones on
// loopback. It reports the valid clients' errors and latency in both runs
// and the token look-ups per second that reach PostgreSQL, with kamreg's
// default limit of failed authentications and with the limit off.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kamreg/kamreg/testbed"
)

func main() {
	bin := flag.String("kamreg", "bin/kamreg", "the kamreg binary")
	valid := flag.Int("valid", 8, "connections listing with a valid token")
	flood := flag.Int("flood", 200, "connections sending random tokens")
	dur := flag.Duration("duration", 30*time.Second, "how long each run lasts")
	flag.Parse()
	if err := run(*bin, *valid, *flood, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "authflood bench:", err)
		os.Exit(1)
	}
}

const phones = 50

func run(bin string, valid, flood int, dur time.Duration) error {
	ctx := context.Background()
	b, err := testbed.StartBench(ctx, bin)
	if err != nil {
		return err
	}
	defer b.Close()
	pg, kr := b.PG, b.Kamreg
	k, err := testbed.StartKamailio(ctx, testbed.KamailioOptions{DBURL: pg.URL, DBMode: 1})
	if err != nil {
		return err
	}
	defer k.Close()
	const id, realm = "f100d000000000000000000000000001", "flood.bench.test"
	token, err := kr.AccountWithToken(id, "Flood", realm)
	if err != nil {
		return err
	}
	var ps []testbed.Phone
	for u := range phones {
		ps = append(ps, testbed.Phone{User: fmt.Sprintf("u%02d", u), Domain: realm, ContactPort: 5070 + u%4, Expires: 3600})
	}
	if _, err := testbed.Register(ctx, k, ps); err != nil {
		return err
	}
	list := "/v2/accounts/" + id + "/registrations"

	fmt.Printf("authflood: %d valid connections listing %d registrations, %d flooding connections with random tokens, %s per run\n",
		valid, phones, flood, dur)
	for _, limit := range []struct{ name, rate string }{{"default limit (5/s, burst 20)", "5/s"}, {"limit off", "0"}} {
		served, err := kr.Serve("KAMREG_KAMAILIO_RPC=main="+k.RPCURL(), "KAMREG_RATE_LIMIT=0", "KAMREG_AUTH_FAIL_RATE="+limit.rate)
		if err != nil {
			return err
		}
		fmt.Printf("\nkamreg with the %s:\n", limit.name)
		for _, flooding := range []int{0, flood} {
			if flooding == 0 && limit.rate == "0" {
				continue // the baseline does not depend on the limit
			}
			r, err := measure(pg.URL, served, list, token, valid, flooding, dur)
			if err != nil {
				served.Close()
				return err
			}
			r.print(flooding)
		}
		served.Close()
	}
	return nil
}

// figures are one run's results.
type figures struct {
	validTook     []time.Duration
	validErrors   map[string]int
	floodAnswers  map[string]int
	metricLookups float64
	pgScans       int64
	dur           time.Duration
}

func (f figures) print(flooding int) {
	d := f.validTook
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	what := "without the flood"
	if flooding > 0 {
		what = fmt.Sprintf("during the flood of %d connections", flooding)
	}
	fmt.Printf("  valid lists %s: %d (%.0f/s), errors %d, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", what, len(d),
		float64(len(d))/f.dur.Seconds(), sum(f.validErrors), ms(pct(d, 50)), ms(pct(d, 99)), ms(pct(d, 100)))
	for e, n := range f.validErrors {
		fmt.Printf("    %d × %s\n", n, e)
	}
	if flooding > 0 {
		fmt.Printf("  flood answers: %v (%.0f/s)\n", f.floodAnswers, float64(sum(f.floodAnswers))/f.dur.Seconds())
	}
	fmt.Printf("  token look-ups reaching PostgreSQL: %.1f/s by kamreg_token_lookups_total, %.1f/s by pg_stat_user_tables scans of kamreg_tokens\n",
		f.metricLookups/f.dur.Seconds(), float64(f.pgScans)/f.dur.Seconds())
}

// measure runs valid listing connections, and flooding ones when
// flooding > 0, for dur.
func measure(dbURL string, served *testbed.Served, path, token string, valid, flooding int, dur time.Duration) (figures, error) {
	f := figures{validErrors: map[string]int{}, floodAnswers: map[string]int{}, dur: dur}
	validClient := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: valid, MaxConnsPerHost: valid}}
	floodClient := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: flooding, MaxConnsPerHost: flooding}}
	defer validClient.CloseIdleConnections()
	defer floodClient.CloseIdleConnections()
	// The valid token authenticates once before the flood, as a UI that is
	// already open would have.
	if status, err := get(validClient, served.Base+path, token); err != nil || status != 200 {
		return f, fmt.Errorf("warm-up list: %d %v", status, err)
	}
	metricBefore, err := tokenLookups(served)
	if err != nil {
		return f, err
	}
	scansBefore, err := tokenScans(dbURL)
	if err != nil {
		return f, err
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	deadline := time.Now().Add(dur)
	for range valid {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				start := time.Now()
				status, err := get(validClient, served.Base+path, token)
				took := time.Since(start)
				mu.Lock()
				f.validTook = append(f.validTook, took)
				switch {
				case err != nil:
					f.validErrors[err.Error()]++
				case status != 200:
					f.validErrors["HTTP "+strconv.Itoa(status)]++
				}
				mu.Unlock()
			}
		}()
	}
	for range flooding {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				status, err := get(floodClient, served.Base+path, randomToken())
				answer := "HTTP " + strconv.Itoa(status)
				if err != nil {
					answer = err.Error()
				}
				mu.Lock()
				f.floodAnswers[answer]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	metricAfter, err := tokenLookups(served)
	if err != nil {
		return f, err
	}
	f.metricLookups = metricAfter - metricBefore
	// PostgreSQL publishes a backend's table statistics within about 10 s
	// of its last transaction.
	time.Sleep(11 * time.Second)
	scansAfter, err := tokenScans(dbURL)
	if err != nil {
		return f, err
	}
	f.pgScans = scansAfter - scansBefore
	return f, nil
}

func get(c *http.Client, url, token string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("X-Auth-Token", token)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// randomToken is a well-formed token nobody created.
func randomToken() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	s := hex.EncodeToString(b)
	return s[:32] + "." + s[32:] // 32 hex of id, 64 of secret
}

// tokenLookups reads kamreg_token_lookups_total from the metrics listener.
func tokenLookups(s *testbed.Served) (float64, error) {
	resp, err := http.Get(s.Metrics + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "kamreg_token_lookups_total "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("no kamreg_token_lookups_total at %s/metrics", s.Metrics)
}

// tokenScans reads PostgreSQL's count of index and sequential scans of
// kamreg_tokens.
func tokenScans(dbURL string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int64
	err = conn.QueryRow(ctx, `SELECT coalesce(idx_scan, 0) + coalesce(seq_scan, 0) FROM pg_stat_user_tables WHERE relname = 'kamreg_tokens'`).Scan(&n)
	return n, err
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := len(d) * p / 100
	if i >= len(d) {
		i = len(d) - 1
	}
	return d[i]
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

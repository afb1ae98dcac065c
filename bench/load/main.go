// Command load drives kamreg with 200 concurrent connections for a minute
// of mixed list, count and flush-one requests, against a real PostgreSQL
// and Kamailio on loopback with sipp phones, and reports errors, latency
// and kamreg's peak memory.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kamreg/kamreg/testbed"
)

func main() {
	bin := flag.String("kamreg", "bin/kamreg", "the kamreg binary")
	conns := flag.Int("conns", 200, "concurrent connections")
	dur := flag.Duration("duration", 60*time.Second, "how long the load runs")
	flag.Parse()
	if err := run(*bin, *conns, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "load bench:", err)
		os.Exit(1)
	}
}

const accounts, users = 20, 50

type result struct {
	op     string
	status int
	took   time.Duration
	err    error
}

func run(bin string, conns int, dur time.Duration) error {
	ctx := context.Background()
	b, err := testbed.StartBench(ctx, bin)
	if err != nil {
		return err
	}
	defer b.Close()
	pg, kr := b.PG, b.Kamreg
	k, err := testbed.StartKamailio(ctx, testbed.KamailioOptions{DBURL: pg.URL, DBMode: 2, TimerInterval: 5})
	if err != nil {
		return err
	}
	defer k.Close()
	kamreg := kr.Run
	ids, tokens := make([]string, accounts), make([]string, accounts)
	var phones []testbed.Phone
	for a := 0; a < accounts; a++ {
		ids[a] = fmt.Sprintf("%032x", 0x10ad00+a)
		realm := fmt.Sprintf("load%02d.bench.test", a)
		if _, err := kamreg("accounts", "put", "--id", ids[a], "--name", "Load "+realm, "--realm", realm); err != nil {
			return err
		}
		for u := 0; u < users; u++ {
			user := fmt.Sprintf("u%02d", u)
			if _, err := kamreg("devices", "put", "--account", ids[a], "--username", user, "--device-id", fmt.Sprintf("%032x", 0xdef000+a*users+u)); err != nil {
				return err
			}
			phones = append(phones, testbed.Phone{User: user, Domain: realm, ContactPort: 5070 + u%4, Expires: 600})
		}
		if tokens[a], err = kamreg("tokens", "create", "--account", ids[a]); err != nil {
			return err
		}
	}
	if _, err := testbed.Register(ctx, k, phones); err != nil {
		return err
	}
	served, err := kr.Serve("KAMREG_KAMAILIO_RPC=load="+k.RPCURL(), "KAMREG_RATE_LIMIT=0")
	if err != nil {
		return err
	}
	defer served.Close()
	defer os.Remove(served.LogPath)
	base := served.Base
	// usrloc db_mode 2 writes the phones at its next timer run: wait for
	// their rows, not for a fixed time.
	if err := waitForRows(ctx, pg.URL, len(phones)); err != nil {
		return err
	}

	// Phones flushed by the load register again in the background.
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Second):
				_, _ = testbed.Register(ctx, k, phones)
			}
		}
	}()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}, Timeout: 30 * time.Second}
	results := make(chan result, 4096)
	deadline := time.Now().Add(dur)
	var wg sync.WaitGroup
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			for time.Now().Before(deadline) {
				a := rng.IntN(accounts)
				url := base + "/v2/accounts/" + ids[a] + "/registrations"
				op, method := "count", "GET"
				switch p := rng.IntN(100); {
				case p < 30:
					op = "list"
				case p < 35:
					op, method, url = "flush-one", "DELETE", url+fmt.Sprintf("/u%02d", rng.IntN(users))
				default:
					url += "/count"
				}
				req, _ := http.NewRequest(method, url, nil)
				req.Header.Set("X-Auth-Token", tokens[a])
				start := time.Now()
				resp, err := client.Do(req)
				r := result{op: op, err: err}
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					r.status = resp.StatusCode
				}
				r.took = time.Since(start)
				results <- r
			}
		}(c)
	}
	go func() { wg.Wait(); close(results) }()
	byOp := map[string][]time.Duration{}
	errs := map[string]int{}
	total := 0
	for r := range results {
		total++
		byOp[r.op] = append(byOp[r.op], r.took)
		switch {
		case r.err != nil:
			errs[r.op+": "+r.err.Error()]++
		case r.status != 200:
			errs[fmt.Sprintf("%s: HTTP %d", r.op, r.status)]++
		}
	}
	close(stop)
	rss, _ := served.PeakRSS()
	fmt.Printf("%d connections for %s: %d requests (%.0f/s)\n", conns, dur, total, float64(total)/dur.Seconds())
	ops := []string{"count", "list", "flush-one"}
	for _, op := range ops {
		d := byOp[op]
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		if len(d) == 0 {
			continue
		}
		fmt.Printf("  %-9s %7d requests  p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms\n", op, len(d),
			ms(d[len(d)/2]), ms(d[len(d)*99/100]), ms(d[len(d)-1]))
	}
	fmt.Printf("errors: %d\n", len(errs))
	for e, n := range errs {
		fmt.Printf("  %d × %s\n", n, e)
	}
	fmt.Printf("kamreg peak RSS: %.1f MB\n", float64(rss)/1024)
	if len(errs) > 0 {
		return fmt.Errorf("%d kinds of error", len(errs))
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// waitForRows waits until location holds n live rows.
func waitForRows(ctx context.Context, url string, n int) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return testbed.Until(time.Minute, fmt.Sprintf("%d phones in location", n), func() bool {
		var got int
		err := conn.QueryRow(ctx, `SELECT count(*) FROM location WHERE expires > now() AT TIME ZONE 'UTC'`).Scan(&got)
		return err == nil && got >= n
	})
}

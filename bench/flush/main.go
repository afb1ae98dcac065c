// Command flush measures realm flushes at the size of a production node:
// one Kamailio (usrloc db_mode 2, -m 2048 -M 32) preloaded with 200,000
// contacts, and a realm of 10 and one of 1,000 sipp phones. Each round
// times kamreg's DELETE …/registrations against Kamailio's own rate: a
// sequential loop of ul.rm for the same AoRs over one kept-alive
// connection. Then, while another client's ul.dump ties up one of the
// node's JSON-RPC workers, each round times the 10-phone flush alone and
// counts the calls kamreg hedged. Everything runs in one process run, on
// loopback.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamreg/kamreg/testbed"
)

func main() {
	bin := flag.String("kamreg", "bin/kamreg", "the kamreg binary")
	preload := flag.Int("contacts", 200000, "contacts the node holds besides the phones")
	rounds := flag.Int("rounds", 5, "rounds of each measurement")
	flag.Parse()
	if err := run(*bin, *preload, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "flush bench:", err)
		os.Exit(1)
	}
}

// realm is one account whose phones the bench flushes.
type realm struct {
	id, name string
	phones   []testbed.Phone
	target   time.Duration
}

func run(bin string, preload, rounds int) error {
	ctx := context.Background()
	b, err := testbed.StartBench(ctx, bin)
	if err != nil {
		return err
	}
	defer b.Close()
	pg, kr := b.PG, b.Kamreg
	start := time.Now()
	if err := testbed.Preload(ctx, pg.URL, "bulk", preload, 1000, 1, "UTC"); err != nil {
		return err
	}
	k, err := testbed.StartKamailio(ctx, testbed.KamailioOptions{DBURL: pg.URL, DBMode: 2, TimerInterval: 5,
		SharedMemMB: 2048, PkgMemMB: 32, StartTimeout: 5 * time.Minute})
	if err != nil {
		return err
	}
	defer k.Close()
	last := fmt.Sprintf("u%06d@bulk%04d.test", 999, preload/1000-1)
	if err := testbed.Until(5*time.Minute, "the node's preload", func() bool { return held(k, last) == 1 }); err != nil {
		return fmt.Errorf("the node never loaded %s: %w", last, err)
	}
	fmt.Printf("node: Kamailio 5.6, usrloc db_mode 2, %d contacts preloaded and loaded in %s\n",
		preload, time.Since(start).Round(time.Second))

	realms := []*realm{
		{id: "00000000000000000000000000f1a510", name: "ten.flush.bench.test", target: time.Second},
		{id: "00000000000000000000000000f1a511", name: "thousand.flush.bench.test", target: 3 * time.Second},
	}
	for i, r := range realms {
		if _, err := kr.Run("accounts", "put", "--id", r.id, "--name", r.name, "--realm", r.name); err != nil {
			return err
		}
		for j := 0; j < []int{10, 1000}[i]; j++ {
			r.phones = append(r.phones, testbed.Phone{User: fmt.Sprintf("p%04d", j), Domain: r.name, ContactPort: 5070, Expires: 3600})
		}
	}
	// One super-duper token acts on both accounts.
	super := "00000000000000000000000000f1a5ff"
	token, err := kr.AccountWithToken(super, "Bench super", "super.flush.bench.test", "--superduper")
	if err != nil {
		return err
	}
	// The sweep is off: these figures are of the fan-out. Under usrloc
	// db_mode 2 a realm flush with the sweep on answers one usrloc timer
	// interval plus 1 s after its first pass, by design (README, "What
	// "ok" guarantees").
	served, err := kr.Serve("KAMREG_LOG_LEVEL=warn", "KAMREG_RATE_LIMIT=0", "KAMREG_USRLOC_TIMER=0", "KAMREG_KAMAILIO_RPC=big="+k.RPCURL())
	if err != nil {
		return err
	}
	defer served.Close()
	defer os.Remove(served.LogPath)
	pool, err := pgxpool.New(ctx, pg.URL)
	if err != nil {
		return err
	}
	defer pool.Close()

	fmt.Printf("\nrealm flush on that node, median of %d rounds (kamreg vs a sequential ul.rm loop of the same AoRs):\n", rounds)
	fmt.Printf("  %-7s %12s %14s %10s %8s\n", "phones", "kamreg", "ul.rm loop", "target", "met")
	for _, r := range realms {
		var kam, loop []time.Duration
		for i := 0; i < rounds; i++ {
			if err := registerAll(ctx, k, pool, r); err != nil {
				return err
			}
			d, err := flush(served.Base, r.id, token)
			if err != nil {
				return err
			}
			kam = append(kam, d)
			if err := registerAll(ctx, k, pool, r); err != nil {
				return err
			}
			if d, err = rmLoop(k, r); err != nil {
				return err
			}
			loop = append(loop, d)
		}
		mk, ml := median(kam), median(loop)
		fmt.Printf("  %-7d %12s %14s %10s %8v\n", len(r.phones), mk.Round(time.Millisecond), ml.Round(time.Millisecond),
			"<= "+r.target.String(), mk <= r.target)
	}
	if err := flushBesideDump(ctx, k, pool, served, realms[0], token, rounds); err != nil {
		return err
	}
	dumps, err := metricSum(served.Metrics, "kamreg_kamailio_rpc_calls_total{", `method="ul.dump"`)
	if err != nil {
		return err
	}
	fmt.Printf("\nul.dump calls kamreg sent (kamreg_kamailio_rpc_calls_total{method=\"ul.dump\"}): %d (target 0)\n", dumps)
	return nil
}

// flushBesideDump times the realm's flush in each round while another
// client's ul.dump brief is in flight: on this node it gets no answer for
// minutes and ties up one of Kamailio's two TCP workers meanwhile.
func flushBesideDump(ctx context.Context, k *testbed.Kamailio, pool *pgxpool.Pool, served *testbed.Served, r *realm,
	token string, rounds int) error {
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dumped, err := sendDump(dctx, k.RPCURL())
	if err != nil {
		return err
	}
	fmt.Printf("\n%d-phone realm flush while another client's ul.dump brief is in flight, each of %d rounds:\n", len(r.phones), rounds)
	fmt.Printf("  %-6s %10s %8s %14s %8s\n", "round", "kamreg", "hedged", "dump pending", "met")
	all := true
	for i := 0; i < rounds; i++ {
		if err := registerAll(ctx, k, pool, r); err != nil {
			return err
		}
		before, err := metricSum(served.Metrics, "kamreg_kamailio_rpc_hedged_total{", "")
		if err != nil {
			return err
		}
		d, err := flush(served.Base, r.id, token)
		if err != nil {
			return err
		}
		after, err := metricSum(served.Metrics, "kamreg_kamailio_rpc_hedged_total{", "")
		if err != nil {
			return err
		}
		pending := true
		select {
		case <-dumped:
			pending = false
		default:
		}
		met := d <= r.target && pending
		all = all && met
		fmt.Printf("  %-6d %10s %8d %14v %8v\n", i+1, d.Round(time.Millisecond), after-before, pending, met)
	}
	fmt.Printf("  every round <= %s with the dump pending: %v\n", r.target, all)
	return nil
}

// sendDump sends ul.dump brief as another JSON-RPC client would, and
// returns once the request is written; the channel closes when the node
// answers or the connection ends.
func sendDump(ctx context.Context, url string) (<-chan struct{}, error) {
	wrote, done := make(chan struct{}), make(chan struct{})
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { close(wrote) }}
	body := `{"jsonrpc":"2.0","method":"ul.dump","params":["brief"],"id":1}`
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	go func() {
		defer close(done)
		client := &http.Client{Transport: &http.Transport{}}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	select {
	case <-wrote:
		return done, nil
	case <-done:
		return nil, fmt.Errorf("ul.dump brief ended before it was sent")
	}
}

// registerAll registers the realm's phones and waits until usrloc (db_mode
// 2) has written them to the table, where a realm flush finds them.
func registerAll(ctx context.Context, k *testbed.Kamailio, pool *pgxpool.Pool, r *realm) error {
	if _, err := testbed.Register(ctx, k, r.phones); err != nil {
		return err
	}
	return testbed.Until(time.Minute, "the phones in location", func() bool {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(DISTINCT username) FROM location WHERE domain = $1
			AND expires > now() AT TIME ZONE 'UTC'`, r.name).Scan(&n)
		return err == nil && n == len(r.phones)
	})
}

func flush(base, accountID, token string) (time.Duration, error) {
	req, _ := http.NewRequest(http.MethodDelete, base+"/v2/accounts/"+accountID+"/registrations", nil)
	req.Header.Set("X-Auth-Token", token)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"data":"ok"`) {
		return 0, fmt.Errorf("kamreg flush: %d %s", resp.StatusCode, body)
	}
	return took, nil
}

// rmLoop sends ul.rm for each of the realm's AoRs, one at a time, over one
// kept-alive connection: the rate Kamailio itself allows.
func rmLoop(k *testbed.Kamailio, r *realm) (time.Duration, error) {
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}
	start := time.Now()
	for j, p := range r.phones {
		body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "ul.rm", "id": j,
			"params": []string{"location", p.User + "@" + p.Domain}})
		resp, err := client.Post(k.RPCURL(), "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return time.Since(start), nil
}

// held is how many contacts the node holds for aor (ul.lookup).
func held(k *testbed.Kamailio, aor string) int {
	contacts, err := k.Client().Lookup(context.Background(), "location", aor)
	if err != nil {
		return -1
	}
	return len(contacts)
}

// metricSum adds up the samples of kamreg's metrics whose line begins
// with prefix and contains label.
func metricSum(metricsBase, prefix, label string) (int, error) {
	resp, err := http.Get(metricsBase + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	n := 0
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, prefix) && strings.Contains(line, label) {
			var v float64
			_, _ = fmt.Sscanf(line[strings.LastIndexByte(line, ' ')+1:], "%g", &v)
			n += int(v)
		}
	}
	return n, nil
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

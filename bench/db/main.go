// Command db measures kamreg's list and count at one million location
// rows against the physical limit of the data, in one run: the plain
// indexed read and count of the realm's live rows through pgbench. A
// throwaway PostgreSQL with Kamailio's schema, 1,000 realms of 1,000
// contacts (half with Kazoo's channel vars), an account for one realm with
// 100 devices, kamreg serving it, wrk as the load.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamreg/kamreg/testbed"
)

const (
	accountID = "00000000000000000000000000be0c00"
	realm     = "realm0000.bench.test"
)

func main() {
	bin := flag.String("kamreg", "bin/kamreg", "the kamreg binary")
	rows := flag.Int("rows", 1000000, "location rows at the end")
	secs := flag.Int("seconds", 10, "seconds per throughput measurement")
	flag.Parse()
	if err := run(*bin, *rows, time.Duration(*secs)*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "db bench:", err)
		os.Exit(1)
	}
}

func run(bin string, total int, dur time.Duration) error {
	ctx := context.Background()
	for _, tool := range []string{"wrk", testbed.PGBin + "/pgbench"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s missing (Debian packages wrk, postgresql)", tool)
		}
	}
	b, err := testbed.StartBench(ctx, bin)
	if err != nil {
		return err
	}
	defer b.Close()
	pg, kr := b.PG, b.Kamreg
	pool, err := pgxpool.New(ctx, pg.URL)
	if err != nil {
		return err
	}
	defer pool.Close()

	token, err := kr.AccountWithToken(accountID, "Bench", realm)
	if err != nil {
		return err
	}
	for i := 0; i < 100; i++ {
		if _, err := kr.Run("devices", "put", "--account", accountID, "--username", fmt.Sprintf("user%04d", i*10),
			"--device-id", fmt.Sprintf("%032x", i+1), "--owner-id", fmt.Sprintf("%032x", i+1000)); err != nil {
			return err
		}
	}

	served, err := kr.Serve("KAMREG_RATE_LIMIT=0")
	if err != nil {
		return err
	}
	defer served.Close()
	defer os.Remove(served.LogPath)
	base := served.Base + "/v2/accounts/" + accountID + "/registrations"

	fmt.Println("list latency as the table grows (1 connection, the realm always has 1,000 contacts):")
	seeded := 0
	var first time.Duration
	for _, stage := range []int{10000, 100000, total} {
		if stage > total || stage <= seeded {
			continue
		}
		start := time.Now()
		if err := seed(ctx, pool, seeded+1, stage); err != nil {
			return err
		}
		seeded = stage
		fmt.Printf("  seeded %d rows in %s\n", stage, time.Since(start).Round(time.Second))
		w, err := runWrk(base, token, 1, 5*time.Second)
		if err != nil {
			return err
		}
		if first == 0 {
			first = w.latency
		}
		fmt.Printf("  %9d rows: %8.2f ms per list (%.2fx of the first)\n", stage, ms(w.latency), float64(w.latency)/float64(first))
	}

	// The yardstick: what any reader of the realm's live rows must pay.
	const live = `(expires > (now() AT TIME ZONE 'UTC') OR expires = '1970-01-01 00:00:00')`
	listSQL := `SELECT * FROM location WHERE domain = '` + realm + `' AND ` + live + ` ORDER BY username, contact`
	countSQL := `SELECT count(*) FROM location WHERE domain = '` + realm + `' AND ` + live
	dir, _ := os.MkdirTemp("", "kamreg-pgbench-")
	defer os.RemoveAll(dir)
	listFile, countFile := filepath.Join(dir, "list.sql"), filepath.Join(dir, "count.sql")
	_ = os.WriteFile(listFile, []byte(listSQL+";\n"), 0o644)
	_ = os.WriteFile(countFile, []byte(countSQL+";\n"), 0o644)

	fmt.Printf("\nthroughput at %d rows, %s each (kamreg through wrk; the plain indexed read through pgbench -M prepared):\n", seeded, dur)
	fmt.Printf("  %-6s %5s %14s %14s %7s %7s\n", "query", "conns", "kamreg req/s", "plain read tps", "ratio", "target")
	non2xx := 0
	for _, c := range []struct {
		name, query, file string
		target            float64
	}{{"list", "", listFile, 0.6}, {"count", "/count", countFile, 0.8}} {
		for _, conns := range []int{1, 8} {
			w, err := runWrk(base+c.query, token, conns, dur)
			if err != nil {
				return err
			}
			non2xx += w.non2xx
			tps, err := runPgbench(pg, c.file, conns, dur)
			if err != nil {
				return err
			}
			target := "-"
			if conns == 8 {
				target = fmt.Sprintf(">=%.1f", c.target)
			}
			fmt.Printf("  %-6s %5d %14.0f %14.0f %7.2f %7s\n", c.name, conns, w.rps, tps, w.rps/tps, target)
		}
	}
	rss, err := served.PeakRSS()
	if err != nil {
		return err
	}
	fmt.Printf("\nkamreg peak RSS: %.1f MB (target <= 96); non-2xx answers: %d\n", float64(rss)/1024, non2xx)
	return nil
}

// seed inserts location rows from..to: realm n holds rows n*1000+1 to
// (n+1)*1000, one contact per username; every other row has Kazoo's
// channel vars in location_attrs.
func seed(ctx context.Context, pool *pgxpool.Pool, from, to int) error {
	for lo := from; lo <= to; lo += 100000 {
		hi := min(lo+99999, to)
		if _, err := pool.Exec(ctx, `
			INSERT INTO location (ruid, username, domain, contact, received, expires, q, callid, cseq, last_modified,
				flags, cflags, user_agent, socket, methods, reg_id, server_id, connection_id, keepalive, partition)
			SELECT 'uloc-bench-' || g, 'user' || lpad(((g - 1) % 1000)::text, 4, '0'),
				'realm' || lpad(((g - 1) / 1000)::text, 4, '0') || '.bench.test',
				'sip:user' || lpad(((g - 1) % 1000)::text, 4, '0') || '@127.0.' || (g % 250) || '.' || (1 + g % 200) || ':' || (5060 + g % 900) || ';transport=udp',
				'sip:127.1.' || (g % 250) || '.' || (1 + g % 200) || ':' || (20000 + g % 40000),
				(now() AT TIME ZONE 'UTC') + interval '1 hour' + (g % 600) * interval '1 second', -1,
				md5(g::text) || '@127.0.0.1', 1 + g % 50, (now() AT TIME ZONE 'UTC') - (g % 600) * interval '1 second',
				0, 0, 'Yealink SIP-T46S 66.86.0.' || (g % 20), 'udp:127.0.0.1:5060', 8191, 0, 1, -1, 0, 0
			FROM generate_series($1::int, $2::int) g`, lo, hi); err != nil {
			return err
		}
		if _, err := pool.Exec(ctx, `
			INSERT INTO location_attrs (ruid, username, domain, aname, atype, avalue, last_modified)
			SELECT ruid, username, domain, 'custom_channel_vars', 0,
				'{"Account-ID":"`+accountID+`","Authorizing-ID":"' || md5(ruid) || '","Authorizing-Type":"device","Owner-ID":"' || md5(username) || '"}',
				last_modified
			FROM location WHERE id BETWEEN $1 AND $2 AND id % 2 = 0`, lo, hi); err != nil {
			return err
		}
	}
	_, err := pool.Exec(ctx, `ANALYZE location; ANALYZE location_attrs`)
	return err
}

type wrkResult struct {
	rps     float64
	latency time.Duration
	non2xx  int
}

var (
	rpsRe     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	latencyRe = regexp.MustCompile(`Latency\s+([0-9.]+)(us|ms|s)`)
	non2xxRe  = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
)

func runWrk(url, token string, conns int, dur time.Duration) (wrkResult, error) {
	threads := min(conns, 2)
	out, err := exec.Command("wrk", "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", fmt.Sprintf("%ds", int(dur.Seconds())),
		"-H", "X-Auth-Token: "+token, url).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	var r wrkResult
	m := rpsRe.FindSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("wrk said: %s", out)
	}
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	if m := latencyRe.FindSubmatch(out); m != nil {
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[string(m[2])]
		r.latency = time.Duration(v * float64(unit))
	}
	if m := non2xxRe.FindSubmatch(out); m != nil {
		r.non2xx, _ = strconv.Atoi(string(m[1]))
	}
	return r, nil
}

var tpsRe = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

func runPgbench(pg *testbed.Postgres, file string, conns int, dur time.Duration) (float64, error) {
	cmd := exec.Command(testbed.PGBin+"/pgbench", "-n", "-M", "prepared", "-f", file, "-c", strconv.Itoa(conns),
		"-j", strconv.Itoa(min(conns, 2)), "-T", strconv.Itoa(int(dur.Seconds())),
		"-h", "127.0.0.1", "-p", strconv.Itoa(pg.Port), "-U", "kamailio", "kamailio")
	cmd.Env = append(os.Environ(), "PGPASSWORD=kamailio")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %v: %s", err, out)
	}
	m := tpsRe.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench said: %s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

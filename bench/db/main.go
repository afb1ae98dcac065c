// Command db measures kamreg's list and count at one million location
// rows, in one run, against the thinnest honest HTTP service over the same
// read (bench/thin, the yardstick with targets) and against the plain
// indexed read and count of the realm's live rows through pgbench (kept
// for comparison). Then it times the list of every realm. A throwaway
// PostgreSQL with Kamailio's schema, 1,000 realms of 1,000 contacts (half
// with Kazoo's channel vars), an account for one realm with 100 devices, a
// super-duper account, kamreg serving them, wrk as the load.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamreg/kamreg/testbed"
)

const (
	accountID = "00000000000000000000000000be0c00"
	realm     = "realm0000.bench.test"
	// superID is a super-duper account, for the list of every realm; its
	// own realm holds no rows.
	superID    = "00000000000000000000000000be0c01"
	superRealm = "super.bench.test"
)

func main() {
	bin := flag.String("kamreg", "bin/kamreg", "the kamreg binary")
	rows := flag.Int("rows", 1000000, "location rows at the end")
	secs := flag.Int("seconds", 10, "seconds per throughput measurement")
	limit := flag.Duration("stream-limit", 120*time.Second, "the most the list of every realm may take")
	flag.Parse()
	if err := run(*bin, *rows, time.Duration(*secs)*time.Second, *limit); err != nil {
		fmt.Fprintln(os.Stderr, "db bench:", err)
		os.Exit(1)
	}
}

func run(bin string, total int, dur, streamLimit time.Duration) error {
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

	superToken, err := kr.AccountWithToken(superID, "Bench super-duper", superRealm, "--superduper")
	if err != nil {
		return err
	}

	served, err := kr.Serve("KAMREG_RATE_LIMIT=0")
	if err != nil {
		return err
	}
	defer served.Close()
	defer os.Remove(served.LogPath)
	kpid := served.Cmd.Process.Pid
	base := served.Base + "/v2/accounts/" + accountID + "/registrations"
	// The yardstick is built and started before the rows are seeded, so
	// that a failure shows at once.
	dir, err := os.MkdirTemp("", "kamreg-bench-db-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	thinBin, err := buildThin(dir)
	if err != nil {
		return err
	}
	thin, err := startThin(thinBin, pg.URL, "")
	if err != nil {
		return err
	}
	defer thin.close()
	defer os.Remove(thin.logPath)

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

	if err := sameEntries(base, token, thin.base, 1000); err != nil {
		return err
	}

	misses, err := throughput(loaded{rows: seeded, pg: pg, kamreg: base, token: token, kamregPID: kpid, thin: thin, dir: dir}, dur)
	if err != nil {
		return err
	}

	fmt.Printf("\nthe list of every realm (GET /v2/registrations, super-duper) at %d rows, bounded at %s:\n", seeded, streamLimit)
	all, err := streamList(served.Base+"/v2/registrations", superToken, kpid, streamLimit)
	if err != nil {
		return err
	}
	all.report(streamLimit)
	misses = append(misses, all.misses()...)

	fmt.Printf("\ntargets missed: %d\n", len(misses))
	for _, m := range misses {
		fmt.Println("  " + m)
	}
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

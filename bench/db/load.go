package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"time"

	"github.com/kamreg/kamreg/testbed"
)

// wrkResult is what wrk reports of one run.
type wrkResult struct {
	rps      float64
	requests int
	latency  time.Duration // mean
	non2xx   int
}

var (
	rpsRe     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	latencyRe = regexp.MustCompile(`Latency\s+([0-9.]+)(us|ms|s)`)
	non2xxRe  = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	totalRe   = regexp.MustCompile(`(\d+) requests in`)
)

// runWrk loads url with wrk for dur over conns connections, sending token
// as X-Auth-Token unless it is empty.
func runWrk(url, token string, conns int, dur time.Duration) (wrkResult, error) {
	threads := min(conns, 2)
	args := []string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", fmt.Sprintf("%ds", int(dur.Seconds()))}
	if token != "" {
		args = append(args, "-H", "X-Auth-Token: "+token)
	}
	out, err := exec.Command("wrk", append(args, url)...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	return parseWrk(out)
}

// parseWrk reads wrk's report.
func parseWrk(out []byte) (wrkResult, error) {
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
	if m := totalRe.FindSubmatch(out); m != nil {
		r.requests, _ = strconv.Atoi(string(m[1]))
	}
	return r, nil
}

var tpsRe = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// runPgbench runs the script in file for dur with conns clients, the
// realm as its variable :realm, and returns the transactions per second.
func runPgbench(pg *testbed.Postgres, file, realm string, conns int, dur time.Duration) (float64, error) {
	cmd := exec.Command(testbed.PGBin+"/pgbench", "-n", "-M", "prepared", "-f", file, "-D", "realm="+realm, "-c", strconv.Itoa(conns),
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

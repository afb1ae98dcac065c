package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseWrk(t *testing.T) {
	for _, c := range []struct {
		name, out string
		want      wrkResult
		fails     bool
	}{
		{name: "a clean run", out: `Running 2s test @ http://127.0.0.1:4000/list
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.21ms    1.02ms  12.40ms   80.00%
    Req/Sec   768.50     50.00   850.00     70.00%
  3074 requests in 2.00s, 3.05GB read
Requests/sec:   1535.42
Transfer/sec:      1.52GB
`, want: wrkResult{rps: 1535.42, requests: 3074, latency: 5210 * time.Microsecond}},
		{name: "non-2xx answers", out: `    Latency   812.00us  100.00us   2.00ms   90.00%
  20000 requests in 10.00s, 5.00MB read
  Non-2xx or 3xx responses: 17
Requests/sec:   2000.00
`, want: wrkResult{rps: 2000, requests: 20000, latency: 812 * time.Microsecond, non2xx: 17}},
		{name: "latency in seconds", out: `    Latency     1.50s   0.10s   2.00s   90.00%
  8 requests in 10.00s, 5.00MB read
Requests/sec:      0.80
`, want: wrkResult{rps: 0.8, requests: 8, latency: 1500 * time.Millisecond}},
		{name: "no report", out: "unable to connect to 127.0.0.1:4000 Connection refused\n", fails: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseWrk([]byte(c.out))
			if (err != nil) != c.fails {
				t.Fatalf("error %v, want failure %v", err, c.fails)
			}
			if diff := cmp.Diff(c.want, got, cmp.AllowUnexported(wrkResult{})); !c.fails && diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestParseMemory(t *testing.T) {
	for _, c := range []struct {
		name, status string
		want         memory
		fails        bool
	}{
		{name: "a running process", status: "Name:\tkamreg\nVmPeak:\t 1300000 kB\nVmHWM:\t   89260 kB\nVmRSS:\t   71012 kB\nThreads:\t9\n",
			want: memory{rssKB: 71012, peakKB: 89260}},
		{name: "a zombie has no memory lines", status: "Name:\tkamreg\nState:\tZ (zombie)\n", fails: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseMemory([]byte(c.status))
			if (err != nil) != c.fails {
				t.Fatalf("error %v, want failure %v", err, c.fails)
			}
			if diff := cmp.Diff(c.want, got, cmp.AllowUnexported(memory{})); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestParseCPU(t *testing.T) {
	for _, c := range []struct {
		name, stat string
		want       time.Duration
		fails      bool
	}{
		// utime 250 and stime 50 ticks: 3 s.
		{name: "plain name", stat: "4242 (kamreg) S 1 4242 4242 0 -1 4194560 9000 0 0 0 250 50 0 0 20 0 9 0 100 1300000000 17000 rest",
			want: 3 * time.Second},
		{name: "a name with spaces and parentheses", stat: "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 1 1",
			want: 30 * time.Millisecond},
		{name: "cut short", stat: "7 (thin) R 1 7", fails: true},
		{name: "no name", stat: "garbage", fails: true},
		{name: "not a number", stat: "7 (thin) R 1 7 7 0 -1 0 0 0 0 0 x 2 0 0", fails: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseCPU(c.stat)
			if (err != nil) != c.fails {
				t.Fatalf("error %v, want failure %v", err, c.fails)
			}
			if got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

// Command watch measures the registrations event stream on loopback: how
// soon a watcher hears of a REGISTER (usrloc db_mode 1, written through at
// once) and of a flush through kamreg, and what 1,000 concurrent watchers
// of a realm of 1,000 contacts cost, half of them filtered: polls per
// interval, and kamreg's resident set above what it was idle.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kamreg/kamreg/testbed"
)

func main() {
	bin := flag.String("kamreg", "bin/kamreg", "the kamreg binary")
	rounds := flag.Int("rounds", 10, "rounds of each latency measurement")
	watchers := flag.Int("watchers", 1000, "concurrent watchers of one realm, every other one filtered")
	phones := flag.Int("phones", 1000, "contacts preloaded in the realm")
	hold := flag.Duration("hold", 10*time.Second, "how long the watchers are held open while polls are counted")
	flag.Parse()
	if err := run(*bin, *rounds, *watchers, *phones, *hold); err != nil {
		fmt.Fprintln(os.Stderr, "watch bench:", err)
		os.Exit(1)
	}
}

const (
	accountID = "00000000000000000000000000a7c400"
	// realmName is the realm testbed.Preload makes with the prefix
	// "watchbench".
	realmName = "watchbench0000.test"
)

func run(bin string, rounds, watchers, phones int, hold time.Duration) error {
	ctx := context.Background()
	tb, err := testbed.StartBench(ctx, bin)
	if err != nil {
		return err
	}
	defer tb.Close()
	pg, kr := tb.PG, tb.Kamreg
	// The realm's contacts, preloaded before the node starts, which loads
	// them: as many as -phones, one per username.
	if err := testbed.Preload(ctx, pg.URL, "watchbench", phones, phones, 0, "UTC"); err != nil {
		return err
	}
	k, err := testbed.StartKamailio(ctx, testbed.KamailioOptions{DBURL: pg.URL, DBMode: 1, TimerInterval: 1})
	if err != nil {
		return err
	}
	defer k.Close()
	token, err := kr.AccountWithToken(accountID, "Watch bench", realmName)
	if err != nil {
		return err
	}
	// One token from one address opens every stream: the caps are off.
	served, err := kr.Serve("KAMREG_LOG_LEVEL=warn", "KAMREG_RATE_LIMIT=0", "KAMREG_KAMAILIO_RPC=main="+k.RPCURL(),
		"KAMREG_STREAMS_PER_TOKEN=0", "KAMREG_STREAMS_PER_ADDRESS=0")
	if err != nil {
		return err
	}
	defer served.Close()
	defer os.Remove(served.LogPath)
	b := bench{base: served.Base, token: token}
	fmt.Printf("Kamailio 5.6 usrloc db_mode 1, %d contacts in the realm, KAMREG_WATCH_INTERVAL=1s\n", phones)

	// Latencies, with one watcher.
	w, err := b.open(ctx, "")
	if err != nil {
		return err
	}
	var reg, flush []time.Duration
	for i := 0; i < rounds; i++ {
		user := fmt.Sprintf("new%02d", i)
		if _, err := testbed.Register(ctx, k, []testbed.Phone{{User: user, Domain: realmName, ContactPort: 5071, Expires: 3600}}); err != nil {
			return err
		}
		landed := time.Now() // sipp has its 200 OK: the contact is in the table
		if err := w.await("registered", user, 10*time.Second); err != nil {
			return err
		}
		reg = append(reg, time.Since(landed))
		sent := time.Now()
		if err := b.flush(user); err != nil {
			return err
		}
		if err := w.await("unregistered", user, 10*time.Second); err != nil {
			return err
		}
		flush = append(flush, time.Since(sent))
	}
	w.close()
	fmt.Printf("\nevent latency, %d rounds (median / max; target):\n", rounds)
	fmt.Printf("  REGISTER 200 OK -> registered event:   %6s / %6s  (<= 2s: %v)\n", ms(median(reg)), ms(maxOf(reg)), maxOf(reg) <= 2*time.Second)
	fmt.Printf("  DELETE sent -> unregistered event:     %6s / %6s  (<= 1s: %v)\n", ms(median(flush)), ms(maxOf(flush)), maxOf(flush) <= time.Second)

	// Many watchers of one realm, from an idle kamreg: the one watcher
	// closed and its realm's poller stopped.
	if err := testbed.Until(10*time.Second, "no realm watched", func() bool {
		n, err := metric(served.Metrics, "kamreg_watch_realms")
		return err == nil && n == 0
	}); err != nil {
		return fmt.Errorf("the realm's poller did not stop: %w", err)
	}
	idle, err := status(served.Cmd.Process.Pid, "VmRSS")
	if err != nil {
		return err
	}
	opened := time.Now()
	ws := make([]*stream, watchers)
	var wg sync.WaitGroup
	var failed atomic.Int32
	sem := make(chan struct{}, 50)
	for i := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			// Every other watcher leaves one phone out of its view: each
			// a filter of its own, each keeping 999 of 1,000 contacts.
			query := ""
			if i%2 == 1 {
				query = fmt.Sprintf("?filter_not_username=u%06d", i%phones)
			}
			s, err := b.open(ctx, query)
			if err != nil {
				failed.Add(1)
				return
			}
			ws[i] = s
		}()
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d of %d watchers could not open", n, watchers)
	}
	defer func() {
		for _, s := range ws {
			s.close()
		}
	}()
	fmt.Printf("\n%d watchers of the realm (%d of them filtered) opened in %s\n", watchers, watchers/2,
		time.Since(opened).Round(time.Millisecond))
	open, err := metric(served.Metrics, "kamreg_watch_watchers")
	if err != nil {
		return err
	}
	polls0, err := metric(served.Metrics, `kamreg_watch_polls_total{outcome="ok"}`)
	if err != nil {
		return err
	}
	t0 := time.Now()
	// One REGISTER while they watch: every watcher must hear of it.
	if _, err := testbed.Register(ctx, k, []testbed.Phone{{User: "crowd", Domain: realmName, ContactPort: 5072, Expires: 3600}}); err != nil {
		return err
	}
	landed := time.Now()
	var slowest time.Duration
	var heard atomic.Int32
	for _, s := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.await("registered", "crowd", 10*time.Second) == nil {
				heard.Add(1)
			}
		}()
	}
	wg.Wait()
	slowest = time.Since(landed)
	if d := time.Until(t0.Add(hold)); d > 0 {
		time.Sleep(d) // a measuring window, not a wait for a condition
	}
	polls1, err := metric(served.Metrics, `kamreg_watch_polls_total{outcome="ok"}`)
	if err != nil {
		return err
	}
	elapsed := time.Since(t0)
	rss, err := status(served.Cmd.Process.Pid, "VmRSS")
	if err != nil {
		return err
	}
	peak, err := status(served.Cmd.Process.Pid, "VmHWM")
	if err != nil {
		return err
	}
	perSecond := (polls1 - polls0) / elapsed.Seconds()
	mb := func(kB int) float64 { return float64(kB) / 1024 }
	above, peakAbove := mb(rss-idle), mb(peak-idle)
	fmt.Printf("  open streams (kamreg_watch_watchers): %.0f\n", open)
	fmt.Printf("  a REGISTER reached %d of %d watchers; the last within %s\n", heard.Load(), watchers, ms(slowest))
	fmt.Printf("  polls: %.0f in %s = %.2f per 1 s interval (target 1)\n", polls1-polls0, elapsed.Round(time.Millisecond), perSecond)
	fmt.Printf("  kamreg RSS: idle %.1f MB; with the streams open %.1f MB, %.1f MB above idle (target <= 100 MB); peak (VmHWM) %.1f MB, %.1f MB above idle\n",
		mb(idle), mb(rss), above, mb(peak), peakAbove)
	if heard.Load() != int32(watchers) || perSecond > 1.2 || peakAbove > 100 {
		return fmt.Errorf("a target was missed")
	}
	return nil
}

// status reads one kB figure of a process's /proc status (VmRSS, VmHWM).
func status(pid int, field string) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(field + `:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
	}
	return strconv.Atoi(string(m[1]))
}

type bench struct{ base, token string }

func (b bench) url() string { return b.base + "/v2/accounts/" + accountID + "/registrations" }

// flush flushes one user through kamreg.
func (b bench) flush(user string) error {
	req, _ := http.NewRequest(http.MethodDelete, b.url()+"/"+user, nil)
	req.Header.Set("X-Auth-Token", b.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("flush %s: %d", user, resp.StatusCode)
	}
	return nil
}

// stream is one open event stream, read in its own goroutine.
type stream struct {
	events chan event
	cancel context.CancelFunc
}

type event struct{ typ, user string }

// client keeps each stream on its own connection.
var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1, DisableKeepAlives: true}}

// open opens a stream with the query (its filters). Its lines are read
// through a small buffer: the snapshot's line (a megabyte) is skipped, not
// kept, so that the bench's thousand streams cost the bench little.
func (b bench) open(ctx context.Context, query string) (*stream, error) {
	ctx, cancel := context.WithCancel(ctx)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.url()+"/events"+query, nil)
	req.Header.Set("X-Auth-Token", b.token)
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("events: %d", resp.StatusCode)
	}
	s := &stream{events: make(chan event, 256), cancel: cancel}
	go func() {
		defer close(s.events)
		defer resp.Body.Close()
		br := bufio.NewReaderSize(resp.Body, 16<<10)
		var typ string
		for {
			line, err := br.ReadSlice('\n')
			if err == bufio.ErrBufferFull {
				// A line longer than the buffer: a snapshot; skip it.
				for err == bufio.ErrBufferFull {
					_, err = br.ReadSlice('\n')
				}
				continue
			}
			if err != nil {
				return
			}
			text := strings.TrimSuffix(string(line), "\n")
			switch {
			case strings.HasPrefix(text, "event: "):
				typ = text[len("event: "):]
			case strings.HasPrefix(text, "data: ") && typ != "snapshot":
				var r struct{ Username string }
				_ = json.Unmarshal([]byte(text[len("data: "):]), &r)
				select {
				case s.events <- event{typ, r.Username}:
				default: // the bench reads only what it awaits
				}
			}
		}
	}()
	return s, nil
}

func (s *stream) await(typ, user string, limit time.Duration) error {
	deadline := time.After(limit)
	for {
		select {
		case e, ok := <-s.events:
			if !ok {
				return fmt.Errorf("the stream ended before %s %s", typ, user)
			}
			if e.typ == typ && e.user == user {
				return nil
			}
		case <-deadline:
			return fmt.Errorf("no %s event for %s within %s", typ, user, limit)
		}
	}
}

func (s *stream) close() {
	if s != nil {
		s.cancel()
	}
}

// metric reads one sample of kamreg's metrics.
func metric(metricsBase, name string) (float64, error) {
	resp, err := http.Get(metricsBase + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name+" ") {
			var v float64
			_, err := fmt.Sscanf(line[len(name)+1:], "%g", &v)
			return v, err
		}
	}
	return 0, fmt.Errorf("no %s in /metrics", name)
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func maxOf(ds []time.Duration) time.Duration {
	m := ds[0]
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

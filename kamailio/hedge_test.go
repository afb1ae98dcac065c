package kamailio

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/metrics"
)

// within bounds every wait of these tests on the fake node.
const within = 5 * time.Second

// step is what the fake node does with one request.
type step func(w http.ResponseWriter, r *http.Request)

// arrival is one request the fake node received.
type arrival struct {
	conn string // the client's address: one per connection
	at   time.Time
}

// gatedNode is a fake Kamailio whose n-th request (from 0) runs script[n],
// gated by the test's channels; a request past the script is answered.
// reached[n] closes when request n arrives, ended[n] when its step is
// over, and cancelled hears of each request whose client went away.
type gatedNode struct {
	srv       *httptest.Server
	script    []step
	mu        sync.Mutex
	arrivals  []arrival
	reached   [4]chan struct{}
	ended     [4]chan struct{}
	cancelled chan int
}

func newGatedNode(t *testing.T) *gatedNode {
	t.Helper()
	g := &gatedNode{cancelled: make(chan int, 8)}
	for i := range g.reached {
		g.reached[i], g.ended[i] = make(chan struct{}), make(chan struct{})
	}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		g.mu.Lock()
		n := len(g.arrivals)
		g.arrivals = append(g.arrivals, arrival{conn: r.RemoteAddr, at: time.Now()})
		g.mu.Unlock()
		if n < len(g.reached) {
			close(g.reached[n])
			defer close(g.ended[n])
		}
		do := g.answer("ul_rm")
		if n < len(g.script) {
			do = g.script[n]
		}
		do(w, r)
		if r.Context().Err() != nil {
			g.cancelled <- n
		}
	}))
	t.Cleanup(func() {
		g.srv.CloseClientConnections()
		g.srv.Close()
	})
	return g
}

// client is a client of the node with a per-call timeout, no retries
// unless asked, and its hedges counted on a registry of its own.
func (g *gatedNode) client(timeout time.Duration, retries int) (*Client, *prometheus.Registry) {
	c := NewClient(Node{Name: "k1", URL: g.srv.URL + "/RPC"}, timeout, 0)
	c.retries = retries
	reg := prometheus.NewRegistry()
	c.ObserveHedges(metrics.NewRPCHedges(reg).Observe)
	return c, reg
}

func (g *gatedNode) got() []arrival {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]arrival(nil), g.arrivals...)
}

// answer replies with a captured reply.
func (g *gatedNode) answer(fixture string) step {
	return func(w http.ResponseWriter, r *http.Request) {
		payload, _ := os.ReadFile("testdata/" + fixture + ".json")
		_, _ = w.Write(payload)
	}
}

// stall never answers: it waits until the client goes away.
func (g *gatedNode) stall(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// answerAfter answers ul.rm once ch is closed (or gives up when the
// client goes away).
func (g *gatedNode) answerAfter(ch <-chan struct{}) step {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-ch:
			g.answer("ul_rm")(w, r)
		case <-r.Context().Done():
		}
	}
}

// drop ends the connection without an answer, as a restarting node does.
func (g *gatedNode) drop(w http.ResponseWriter, r *http.Request) {
	conn, _, _ := w.(http.Hijacker).Hijack()
	conn.Close()
}

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(within):
		t.Fatalf("%s: nothing within %s", what, within)
	}
	var zero T
	return zero
}

// hedgedSeries is the text of kamreg_kamailio_rpc_hedged_total for one
// method and outcome, as Prometheus exposes it.
func hedgedSeries(method, won string) string {
	return `
# HELP kamreg_kamailio_rpc_hedged_total Kamailio JSON-RPC calls with no answer within the node's hedge delay, sent again on another connection, by node, method and the attempt that answered first (first, second, or none).
# TYPE kamreg_kamailio_rpc_hedged_total counter
kamreg_kamailio_rpc_hedged_total{method="` + method + `",node="k1",won="` + won + `"} 1
`
}

// TestHedgeAnswersWhenFirstConnectionStalls is the flush that took 5 s: a
// ul.rm sent on a connection whose Kamailio worker is tied up. The second
// attempt, on another connection, answers; the call returns within the
// hedge delay and a margin, far inside the timeout; the stalled attempt is
// cancelled; the metric counts one hedge won by the second attempt.
func TestHedgeAnswersWhenFirstConnectionStalls(t *testing.T) {
	g := newGatedNode(t)
	g.script = []step{g.stall, g.answer("ul_rm")}
	c, reg := g.client(10*time.Second, defaultRetries)
	start := time.Now()
	err := c.Remove(context.Background(), "location", "alice@a.example.test")
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if took > minHedgeDelay+time.Second {
		t.Errorf("the call took %s, want about %s", took, minHedgeDelay)
	}
	if n := receive(t, g.cancelled, "the stalled attempt cancelled"); n != 0 {
		t.Errorf("request %d cancelled, want the first (0)", n)
	}
	got := g.got()
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	if got[0].conn == got[1].conn {
		t.Errorf("both attempts on connection %s, want two connections", got[0].conn)
	}
	// The fake node stamps each request when it reads it, not when the
	// client sent it: the first may be read a little late (seen: 99.86 ms
	// between the two on a loaded machine), so the floor is checked with
	// that much room; a hedge sent without waiting comes within a
	// millisecond.
	const readJitter = 10 * time.Millisecond
	if gap := got[1].at.Sub(got[0].at); gap < minHedgeDelay-readJitter {
		t.Errorf("the second attempt came %s after the first, before the %s floor", gap, minHedgeDelay)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(hedgedSeries("ul.rm", "second"))); err != nil {
		t.Error(err)
	}
}

// TestHedgeTakesAKeptAliveConnection: the second attempt goes out on an
// idle kept-alive connection, one a worker answered on lately, rather than
// on a new one, which Kamailio may hand to the worker that is tied up (it
// gives a new connection to the worker holding the fewest).
func TestHedgeTakesAKeptAliveConnection(t *testing.T) {
	g := newGatedNode(t)
	g.script = []step{g.answerAfter(g.reached[1]), g.answer("ul_rm"), g.stall, g.answer("ul_rm")}
	c, _ := g.client(10*time.Second, 0)
	// Two calls at once leave two kept-alive connections; a slow past
	// keeps them from being hedged, however busy the machine.
	c.latency.observe(time.Hour)
	var wg sync.WaitGroup
	for _, aor := range []string{"a@b", "c@d"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Remove(context.Background(), "location", aor); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	c.latency = latency{}
	if err := c.Remove(context.Background(), "location", "e@f"); err != nil {
		t.Fatal(err)
	}
	got := g.got()
	if len(got) != 4 {
		t.Fatalf("%d requests, want 4", len(got))
	}
	kept := map[string]bool{got[0].conn: true, got[1].conn: true}
	if len(kept) != 2 || !kept[got[2].conn] {
		t.Errorf("connections %v, want the third call's first attempt on one of the first two", got)
	}
	if !kept[got[3].conn] || got[3].conn == got[2].conn {
		t.Errorf("the second attempt on %s, want the other kept-alive connection (%v)", got[3].conn, got)
	}
}

// TestHedgeOutcomes: which attempt wins, what is returned, and which
// attempt is cancelled, for each way the two attempts can end.
func TestHedgeOutcomes(t *testing.T) {
	tests := []struct {
		name    string
		script  func(g *gatedNode) []step
		retries int
		// noHedge: the node has been slow, so the hedge delay is half the
		// timeout: what happens first is not hedged, however busy the
		// machine running the test.
		noHedge      bool
		wantErr      string // "" for success
		wantRequests int
		wantWon      string // "" for no hedge
		wantCancel   []int
	}{
		{
			name: "the first answers after the hedge went out: the hedge is cancelled",
			script: func(g *gatedNode) []step {
				return []step{g.answerAfter(g.reached[1]), g.stall}
			},
			wantRequests: 2, wantWon: wonFirst, wantCancel: []int{1},
		},
		{
			name: "the hedge is dropped, the first answers",
			script: func(g *gatedNode) []step {
				return []step{g.answerAfter(g.ended[1]), g.drop}
			},
			wantRequests: 2, wantWon: wonFirst,
		},
		{
			name: "neither answers within the timeout: no answer",
			script: func(g *gatedNode) []step {
				return []step{g.stall, g.stall}
			},
			wantErr: "context deadline exceeded", wantRequests: 2, wantWon: wonNone, wantCancel: []int{0, 1},
		},
		{
			name: "the first fails before the delay: no hedge, the retry answers",
			script: func(g *gatedNode) []step {
				return []step{g.drop, g.answer("ul_rm")}
			},
			retries: defaultRetries, noHedge: true, wantRequests: 2,
		},
		{
			name: "Kamailio answers an error: neither hedged nor retried",
			script: func(g *gatedNode) []step {
				return []step{g.answer("unknown_method")}
			},
			retries: defaultRetries, noHedge: true, wantErr: "Method Not Found", wantRequests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGatedNode(t)
			g.script = tt.script(g)
			c, reg := g.client(time.Second, tt.retries)
			if tt.noHedge {
				c.timeout = 20 * time.Second
				c.latency.observe(time.Hour)
			}
			err := c.Remove(context.Background(), "location", "alice@a.example.test")
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v, want success", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
			}
			var cancelled []int
			for range tt.wantCancel {
				cancelled = append(cancelled, receive(t, g.cancelled, "a cancelled attempt"))
			}
			if diff := cmp.Diff(tt.wantCancel, cancelled, sortInts); diff != "" {
				t.Errorf("cancelled attempts (-want +got):\n%s", diff)
			}
			if got := len(g.got()); got != tt.wantRequests {
				t.Errorf("%d requests, want %d", got, tt.wantRequests)
			}
			want := ""
			if tt.wantWon != "" {
				want = hedgedSeries("ul.rm", tt.wantWon)
			}
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
				t.Error(err)
			}
		})
	}
}

var sortInts = cmp.Transformer("sort", func(in []int) []int {
	out := append([]int(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

// TestOnlyIdempotentMethodsAreHedged: on a node whose first connection
// stalls, ul.rm, ul.lookup and core.version are sent a second time;
// ul.dump, which ties up a worker while it builds, never is.
func TestOnlyIdempotentMethodsAreHedged(t *testing.T) {
	tests := []struct {
		method       string
		call         func(c *Client) error
		wantRequests int
	}{
		{"ul.rm", func(c *Client) error { return c.Remove(context.Background(), "location", "a@b") }, 2},
		{"ul.lookup", func(c *Client) error {
			_, err := c.Lookup(context.Background(), "location", "a@b")
			return err
		}, 2},
		{"core.version", func(c *Client) error { return c.Ping(context.Background()) }, 2},
		{"ul.dump", func(c *Client) error {
			_, err := c.Dump(context.Background(), "location")
			return err
		}, 1},
		{"ul.dump brief", func(c *Client) error {
			_, err := c.AoRs(context.Background(), "location")
			return err
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			g := newGatedNode(t)
			g.script = []step{g.stall, g.stall}
			c, _ := g.client(500*time.Millisecond, 0)
			var hedges []string
			c.ObserveHedges(func(node, method, won string) { hedges = append(hedges, method+" "+won) })
			if err := tt.call(c); !isTransport(err) {
				t.Fatalf("error %v, want no answer", err)
			}
			for i := 0; i < tt.wantRequests; i++ {
				receive(t, g.cancelled, "a stalled attempt cancelled")
			}
			if got := len(g.got()); got != tt.wantRequests {
				t.Errorf("%d requests, want %d", got, tt.wantRequests)
			}
			if tt.wantRequests == 1 && len(hedges) != 0 {
				t.Errorf("hedges reported: %v", hedges)
			}
		})
	}
}

// TestMethodNotInTableIsRefusedUnsent: the client sends only the methods
// kamreg uses.
func TestMethodNotInTableIsRefusedUnsent(t *testing.T) {
	g := newGatedNode(t)
	c, _ := g.client(time.Second, defaultRetries)
	for _, method := range []string{"ul.flush", "ul.db_users", "core.kill", "tm.t_uac_wait", "", "UL.RM"} {
		err := c.call(context.Background(), method, []any{"location", "a@b"}, nil)
		if err == nil || kamreg.ErrorCode(err) != kamreg.EINTERNAL || isTransport(err) {
			t.Errorf("%q: %v, want an internal error", method, err)
		}
	}
	if got := g.got(); len(got) != 0 {
		t.Errorf("%d requests sent, want none", len(got))
	}
}

// TestHedgeDelay: the delay follows the node's answers (mean plus four
// deviations, RFC 6298's smoothing), at most half the timeout, and never
// below 100 ms.
func TestHedgeDelay(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name    string
		samples []time.Duration
		ceiling time.Duration
		want    time.Duration
	}{
		{"no answer yet: the floor", nil, 2500 * ms, 100 * ms},
		{"fast node: the floor", []time.Duration{ms, 2 * ms, ms}, 2500 * ms, 100 * ms},
		// srtt 200, rttvar 100: 200 + 4×100.
		{"one answer of 200 ms", []time.Duration{200 * ms}, 2500 * ms, 600 * ms},
		// srtt 200 → 7/8×200 + 1/8×40 = 180; rttvar 100 → (3×100 + 160)/4 = 115: 180 + 460.
		{"then one of 40 ms", []time.Duration{200 * ms, 40 * ms}, 2500 * ms, 640 * ms},
		{"slow node: the ceiling", []time.Duration{2 * time.Second}, 2500 * ms, 2500 * ms},
		{"a ceiling under the floor: the floor", []time.Duration{2 * time.Second}, 50 * ms, 100 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l latency
			for _, d := range tt.samples {
				l.observe(d)
			}
			if got := l.delay(tt.ceiling); got != tt.want {
				t.Errorf("delay %s, want %s", got, tt.want)
			}
		})
	}
	if got := NewClient(Node{URL: "http://127.0.0.1:1/RPC"}, 5*time.Second, 0).hedgeCeiling(); got != 2500*ms {
		t.Errorf("ceiling for a 5 s timeout: %s, want 2.5s", got)
	}
}

// TestHedgesInFlightAreBounded: with maxHedgesInFlight hedged attempts
// stalled on a node, a further call that gets no answer is not hedged.
func TestHedgesInFlightAreBounded(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan string, 2*maxHedgesInFlight+4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		arrived <- string(b)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer srv.CloseClientConnections()
	c := NewClient(Node{Name: "k1", URL: srv.URL + "/RPC"}, 10*time.Second, 0)
	c.retries = 0
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(release)
	for i := 0; i < maxHedgesInFlight; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _ = c.Remove(context.Background(), "location", "held@a") }()
	}
	// Each held call's first attempt and its hedge.
	for i := 0; i < 2*maxHedgesInFlight; i++ {
		receive(t, arrived, "the held calls and their hedges")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := c.Remove(ctx, "location", "late@a"); !isTransport(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want no answer", err)
	}
	if body := receive(t, arrived, "the late call"); !strings.Contains(body, "late@a") {
		t.Fatalf("request %s, want the late call's", body)
	}
	select {
	case body := <-arrived:
		t.Errorf("a request beyond the bound of hedges in flight: %s", body)
	default:
	}
}

// TestHedgeOverDatagram: over jsonrpcs's datagram socket the second
// attempt comes from a socket of its own, answers, and no client socket
// is left behind.
func TestHedgeOverDatagram(t *testing.T) {
	dir := t.TempDir()
	from := make(chan string, 4)
	payload, err := os.ReadFile("testdata/ul_rm.json")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	path := fakeDatagramNode(t, dir, "kamailio_rpc.sock", func(_ []byte, addr *net.UnixAddr) [][]byte {
		from <- addr.Name
		if n.Add(1) == 1 {
			return nil // the first datagram reached a worker that is tied up
		}
		return [][]byte{payload}
	})
	c := dgramClient("dgram", path, dir, 10*time.Second, 0)
	var won []string
	c.ObserveHedges(func(node, method, w string) { won = append(won, method+" "+w) })
	if err := c.Remove(context.Background(), "location", "a@b"); err != nil {
		t.Fatal(err)
	}
	first, second := receive(t, from, "the first datagram"), receive(t, from, "the second datagram")
	if first == second || first == "" {
		t.Errorf("both attempts from %q and %q, want two sockets", first, second)
	}
	if diff := cmp.Diff([]string{"ul.rm second"}, won); diff != "" {
		t.Errorf("hedges (-want +got):\n%s", diff)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("client sockets left behind: %v", entries)
	}
}

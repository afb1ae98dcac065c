package rest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/auth"
	"github.com/kamreg/kamreg/testbed"
	"github.com/kamreg/kamreg/watch"
)

// streamWait bounds every wait of the stream tests.
const streamWait = 5 * time.Second

// liveSource is the realm's live set as a test sets it.
type liveSource struct {
	mu      sync.Mutex
	entries []watch.Entry
	err     error
}

func (l *liveSource) Watched(context.Context, string) ([]watch.Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]watch.Entry(nil), l.entries...), l.err
}

func (l *liveSource) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.err = err
}

func (l *liveSource) set(entries ...watch.Entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = entries
}

func live(ruid string, r kamreg.Registration) watch.Entry {
	return watch.Entry{ID: ruid, Version: "1", Reg: r}
}

// streamServer serves the API with an event hub on src; tick makes the
// realm's poller read.
type streamServer struct {
	*httptest.Server
	hub  *watch.Hub
	tick chan time.Time
}

func newStreamServer(t *testing.T, src watch.Source, tune func(*Config, *http.Server)) *streamServer {
	t.Helper()
	tick := make(chan time.Time)
	hub := &watch.Hub{Source: src, Ticker: func(time.Duration) (<-chan time.Time, func()) { return tick, func() {} }}
	cfg := testConfig(fakeRegistrations{}, nil)
	cfg.Watch = hub
	srv := httptest.NewUnstartedServer(nil)
	if tune != nil {
		tune(&cfg, srv.Config)
	}
	srv.Config.Handler = New(cfg)
	srv.Start()
	t.Cleanup(func() { hub.Close(); srv.Close() })
	return &streamServer{Server: srv, hub: hub, tick: tick}
}

func (s *streamServer) poll(t *testing.T) {
	t.Helper()
	select {
	case s.tick <- time.Time{}:
	case <-time.After(streamWait):
		t.Fatal("no poller took the tick")
	}
}

// sse is one block of a stream: an event, or a comment.
type sse struct {
	Event, ID, Data, Comment string
}

// openStream opens the stream and returns its answer and its blocks; the
// channel closes when the stream ends.
func openStream(t *testing.T, url, token string) (*http.Response, <-chan sse) {
	t.Helper()
	var headers []string
	if token != "" {
		headers = []string{"X-Auth-Token", token}
	}
	st := startStream(t, url, headers...)
	return st.resp, st.blocks
}

// stream is one stream opened by a test.
type stream struct {
	resp *http.Response
	// body is the answer of a request that did not become a stream (not
	// 200); blocks is closed for it.
	body   []byte
	blocks <-chan sse
	// close ends the stream from the client's side.
	close func()
}

// startStream asks for the stream with headers (name, value, …).
func startStream(t *testing.T, url string, headers ...string) stream {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	blocks := make(chan sse, 64)
	st := stream{resp: resp, blocks: blocks, close: cancel}
	if resp.StatusCode != http.StatusOK {
		st.body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		close(blocks)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	go func() {
		defer close(blocks)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		var b sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if b != (sse{}) {
					blocks <- b
				}
				b = sse{}
			case strings.HasPrefix(line, ":"):
				b.Comment = strings.TrimSpace(line[1:])
			case strings.HasPrefix(line, "event: "):
				b.Event = line[len("event: "):]
			case strings.HasPrefix(line, "id: "):
				b.ID = line[len("id: "):]
			case strings.HasPrefix(line, "data: "):
				b.Data = line[len("data: "):]
			}
		}
	}()
	return st
}

func nextBlock(t *testing.T, blocks <-chan sse) sse {
	t.Helper()
	select {
	case b, ok := <-blocks:
		if !ok {
			t.Fatal("the stream ended")
		}
		return b
	case <-time.After(streamWait):
		t.Fatal("nothing on the stream")
	}
	return sse{}
}

func waitEnd(t *testing.T, blocks <-chan sse) {
	t.Helper()
	deadline := time.After(streamWait)
	for {
		select {
		case _, ok := <-blocks:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the stream did not end")
		}
	}
}

// calls returns the call ids of a snapshot, or of one event.
func calls(t *testing.T, b sse) []string {
	t.Helper()
	var regs []map[string]any
	data := b.Data
	if !strings.HasPrefix(data, "[") {
		data = "[" + data + "]"
	}
	if err := json.Unmarshal([]byte(data), &regs); err != nil {
		t.Fatalf("%s data: %v: %s", b.Event, err, b.Data)
	}
	out := []string{}
	for _, r := range regs {
		if len(r) < 24 {
			t.Errorf("%s data has %d keys, want the list's 24 and more: %v", b.Event, len(r), r)
		}
		out = append(out, r["call_id"].(string))
	}
	return out
}

const eventsPath = "/v2/accounts/" + acctID + "/registrations/events"

func TestEventStream(t *testing.T) {
	regs := sampleRegistrations()
	src := &liveSource{}
	src.set(live("r1", regs[0]))
	s := newStreamServer(t, src, nil)
	resp, blocks := openStream(t, s.URL+eventsPath, goodTok)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("answer %d %v", resp.StatusCode, resp.Header)
	}
	snap := nextBlock(t, blocks)
	if snap.Event != watch.Snapshot || snap.ID != "0" {
		t.Errorf("first block %+v, want the snapshot with id 0", snap)
	}
	if d := cmp.Diff([]string{"c1"}, calls(t, snap)); d != "" {
		t.Errorf("snapshot (-want +got):\n%s", d)
	}

	src.set(live("r2", regs[1]))
	s.poll(t)
	var got []string
	for _, want := range []string{watch.Unregistered, watch.Registered} {
		b := nextBlock(t, blocks)
		if b.Event != want {
			t.Fatalf("block %+v, want %s", b, want)
		}
		got = append(got, b.Event+" "+b.ID+" "+strings.Join(calls(t, b), ","))
	}
	if d := cmp.Diff([]string{"unregistered 1 c1", "registered 2 c2"}, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}

func TestEventStreamFiltersAndQueryToken(t *testing.T) {
	regs := sampleRegistrations()
	src := &liveSource{}
	src.set(live("r1", regs[0]), live("r2", regs[1]))
	s := newStreamServer(t, src, nil)
	_, blocks := openStream(t, s.URL+eventsPath+"?auth_token="+goodTok+"&filter_call_id=c2", "")
	if d := cmp.Diff([]string{"c2"}, calls(t, nextBlock(t, blocks))); d != "" {
		t.Errorf("filtered snapshot (-want +got):\n%s", d)
	}
	src.set(live("r2", regs[1]))
	s.poll(t) // c1 goes: not in this stream's view
	src.set()
	s.poll(t)
	b := nextBlock(t, blocks)
	if b.Event != watch.Unregistered || b.ID != "2" || calls(t, b)[0] != "c2" {
		t.Errorf("block %+v, want c2 unregistered as event 2", b)
	}
}

func TestEventStreamErrorsBeforeItStarts(t *testing.T) {
	down := &liveSource{err: kamreg.Errorf(kamreg.EUNAVAILABLE, "PostgreSQL is down")}
	tests := []struct {
		name, path, token string
		src               watch.Source
		status            int
		message           string
	}{
		{"no token", eventsPath, "", &liveSource{}, 401, "invalid_credentials"},
		{"another account's token", eventsPath, otherTok, &liveSource{}, 403, "forbidden"},
		{"malformed account", "/v2/accounts/nothex/registrations/events", goodTok, &liveSource{}, 404, "bad identifier"},
		{"unknown filter key", eventsPath + "?filter_nope=1", goodTok, &liveSource{}, 400, "invalid request"},
		{"the realm cannot be read", eventsPath, goodTok, down, 503, "datastore fatal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStreamServer(t, tt.src, nil)
			resp, blocks := openStream(t, s.URL+tt.path, tt.token)
			waitEnd(t, blocks)
			if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("answer %d %s, want %d in an envelope", resp.StatusCode, resp.Header.Get("Content-Type"), tt.status)
			}
		})
	}
	// The envelope itself, once.
	s := newStreamServer(t, down, nil)
	w := do(s.Config.Handler, http.MethodGet, eventsPath, goodTok)
	var env struct{ Message, Error, Status string }
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.Message != "datastore fatal error" || env.Error != "503" || env.Status != "error" {
		t.Errorf("envelope %s (%v)", w.Body, err)
	}
}

func TestEventStreamHeartbeatOutlivesServerTimeouts(t *testing.T) {
	s := newStreamServer(t, &liveSource{}, func(c *Config, srv *http.Server) {
		c.Heartbeat = 300 * time.Millisecond
		srv.ReadTimeout, srv.WriteTimeout = 100*time.Millisecond, 100*time.Millisecond
	})
	_, blocks := openStream(t, s.URL+eventsPath, goodTok)
	nextBlock(t, blocks) // snapshot
	for i := 0; i < 2; i++ {
		if b := nextBlock(t, blocks); b.Comment != "heartbeat" {
			t.Fatalf("block %+v, want a heartbeat", b)
		}
	}
}

func TestEventStreamClosesWhenTheTokenIsRevoked(t *testing.T) {
	var revoked atomic.Bool
	s := newStreamServer(t, &liveSource{}, func(c *Config, _ *http.Server) {
		c.Recheck = 20 * time.Millisecond
		good := c.Tokens
		c.Tokens = fakeTokens{AuthenticateFn: func(tok string) (string, error) {
			if revoked.Load() {
				return "", kamreg.ErrBadToken
			}
			return good.Authenticate(context.Background(), tok)
		}}
	})
	_, blocks := openStream(t, s.URL+eventsPath, goodTok)
	nextBlock(t, blocks)
	revoked.Store(true)
	waitEnd(t, blocks)
}

func TestEventStreamEndsAtShutdown(t *testing.T) {
	s := newStreamServer(t, &liveSource{}, nil)
	_, blocks := openStream(t, s.URL+eventsPath, goodTok)
	nextBlock(t, blocks)
	s.hub.Close()
	waitEnd(t, blocks)
}

func TestEventStreamLargeSnapshot(t *testing.T) {
	src := &liveSource{}
	var entries []watch.Entry
	var want []string
	for i := 0; i < 60; i++ {
		r := sampleRegistrations()[0]
		r.CallID = "call-" + strings.Repeat("x", 200) + string(rune('A'+i%26)) + string(rune('a'+i/26))
		entries = append(entries, live(r.CallID, r))
		want = append(want, r.CallID)
	}
	src.set(entries...)
	s := newStreamServer(t, src, nil)
	_, blocks := openStream(t, s.URL+eventsPath, goodTok)
	snap := nextBlock(t, blocks)
	if len(snap.Data) <= sseBufMax {
		t.Fatalf("snapshot of %d bytes: want one larger than the stream's buffer", len(snap.Data))
	}
	if d := cmp.Diff(want, calls(t, snap)); d != "" {
		t.Errorf("snapshot (-want +got):\n%s", d)
	}
	// A filtered stream of the same read writes the entries it keeps, in
	// runs larger than its buffer too.
	_, filtered := openStream(t, s.URL+eventsPath+"?filter_not_call_id="+want[30], goodTok)
	kept := append(append([]string(nil), want[:30]...), want[31:]...)
	if d := cmp.Diff(kept, calls(t, nextBlock(t, filtered))); d != "" {
		t.Errorf("filtered snapshot (-want +got):\n%s", d)
	}
	src.set(entries[1:]...)
	s.poll(t)
	if b := nextBlock(t, blocks); b.Event != watch.Unregistered || calls(t, b)[0] != want[0] {
		t.Errorf("after the snapshot: %+v", b)
	}
}

// countingJWTs verifies one JWT, valid until until, counting the
// verifications.
type countingJWTs struct {
	token    string
	until    time.Time
	verified atomic.Int32
}

func (c *countingJWTs) Verify(token string) (auth.Verified, error) {
	c.verified.Add(1)
	if token != c.token || !time.Now().Before(c.until) {
		return auth.Verified{}, kamreg.ErrBadToken
	}
	return auth.Verified{AccountID: acctID, Until: c.until}, nil
}

func TestAJWTStreamIsVerifiedOnceThenFromTheCache(t *testing.T) {
	const jwt = "header.claims.signature"
	tests := []struct {
		name string
		// valid is how long the JWT stays valid from the test's start.
		valid time.Duration
		// ends says whether the stream must end (the JWT expired); else
		// it is watched for 20 rechecks.
		ends bool
	}{
		{"a live JWT: twenty rechecks, one verification", time.Hour, false},
		{"a JWT that expires: the stream ends, still one verification", 300 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &countingJWTs{token: jwt, until: time.Now().Add(tt.valid)}
			var checks atomic.Int32
			s := newStreamServer(t, &liveSource{}, func(c *Config, _ *http.Server) {
				c.Recheck = 5 * time.Millisecond
				chain := auth.Chain{JWT: auth.NewJWTCache(v), Tokens: c.Tokens}
				c.Tokens = fakeTokens{AuthenticateFn: func(tok string) (string, error) {
					checks.Add(1)
					return chain.Authenticate(context.Background(), tok)
				}}
			})
			_, blocks := openStream(t, s.URL+eventsPath, jwt)
			if b := nextBlock(t, blocks); b.Event != watch.Snapshot {
				t.Fatalf("first block %+v, want the snapshot", b)
			}
			if tt.ends {
				waitEnd(t, blocks)
			} else {
				testbed.Eventually(t, streamWait, "twenty rechecks of the stream's token", func() bool { return checks.Load() > 20 })
			}
			if n := v.verified.Load(); n != 1 {
				t.Errorf("the JWT was verified %d times over %d checks, want once", n, checks.Load())
			}
		})
	}
}

//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kamreg/kamreg/testbed"
)

// TestPostgresRestartUnderLoad restarts PostgreSQL while 8 clients keep
// reading: every answer is a 200 or the 503 envelope, none hangs past the
// request deadline, and kamreg recovers without a restart.
func TestPostgresRestartUnderLoad(t *testing.T) {
	a := newAccount(t, "PG Load", "pg-load.kamreg.test", "", false)
	logStart := logSize(t, env.main.LogPath)
	register(t, testbed.Phone{User: "lou", Domain: a.realm, ContactPort: 5070})
	waitCount(t, env.main, a, 1)
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int]int{}
	var slowest time.Duration
	for i := 0; i < 8; i++ {
		// A token each: one token may make 50 requests a second.
		token := strings.TrimSpace(mustCLI(t, "tokens", "create", "--account", a.id))
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			path := []string{"/registrations", "/registrations/count"}[i%2]
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				r := call(t, "GET", env.main.Base+"/v2/accounts/"+a.id+path, token)
				took := time.Since(start)
				var v struct{ Status, Message string }
				_ = json.Unmarshal(r.body, &v)
				mu.Lock()
				seen[r.status]++
				slowest = max(slowest, took)
				mu.Unlock()
				if r.status != 200 && !(r.status == 503 && v.Message == "datastore fatal error") {
					t.Errorf("%s during the restart: %d %s", path, r.status, r.body)
				}
				time.Sleep(30 * time.Millisecond)
			}
		}(i)
	}
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop); wg.Wait() }) }
	defer halt()
	answers := func(status int) int {
		mu.Lock()
		defer mu.Unlock()
		return seen[status]
	}
	// Every client has had its 200 before PostgreSQL goes away, at least
	// one 503 comes while it is away, and every client has had a 200 again
	// after it came back.
	testbed.Eventually(t, 10*time.Second, "the clients get 200s", func() bool { return answers(200) >= 8 })
	if err := env.pg.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	testbed.Eventually(t, 20*time.Second, "a client gets a 503 while PostgreSQL is down", func() bool { return answers(503) > 0 })
	if err := env.pg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	testbed.Eventually(t, 20*time.Second, "a 200 after PostgreSQL came back", func() bool {
		return call(t, "GET", env.main.Base+"/v2/accounts/"+a.id+"/registrations/count", a.token).status == 200
	})
	recovered := answers(200)
	testbed.Eventually(t, 20*time.Second, "the clients get 200s again", func() bool { return answers(200) >= recovered+8 })
	halt()
	if seen[503] == 0 || seen[200] == 0 {
		t.Errorf("answers by status %v: want both 200s and 503s", seen)
	}
	if slowest > 16*time.Second {
		t.Errorf("slowest answer %s, past the 15 s request deadline", slowest)
	}
	t.Logf("answers by status %v, slowest %s", seen, slowest)
	// The log tells the operator what PostgreSQL said, beneath the 503's
	// message.
	logs, err := os.ReadFile(env.main.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	logs = logs[logStart:] // this test's lines only
	if !regexp.MustCompile(`"cause":"[^"]+".*"status":503|"status":503.*"cause":"[^"]+"`).Match(logs) {
		t.Error("no 503 in the log says its cause")
	}
}

// TestHungNode flushes through a node that accepts connections and never
// answers: the flush ends within the RPC timeout and its retries, and
// names the node.
func TestHungNode(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	kr := serveFor(t, "main="+env.kam.RPCURL()+",hung=http://"+ln.Addr().String()+"/RPC", "KAMREG_RPC_TIMEOUT=1s")
	a := newAccount(t, "Hung", "hung.kamreg.test", "", false)
	register(t, testbed.Phone{User: "hal", Domain: a.realm, ContactPort: 5070})
	waitCount(t, kr, a, 1)
	start := time.Now()
	r := call(t, "DELETE", kr.Base+"/v2/accounts/"+a.id+"/registrations/hal", a.token)
	took := time.Since(start)
	body := string(r.body)
	if r.status != 503 || !strings.Contains(body, `"node":"hung"`) || !strings.Contains(body, "deadline exceeded") {
		t.Errorf("%d %s", r.status, body)
	}
	// 1 s per try, 3 tries, short pauses between.
	if took > 5*time.Second {
		t.Errorf("the flush took %s, want about 3 s", took)
	}
	// Each try went out once more on a fresh connection, and neither
	// answered.
	if m := string(call(t, "GET", kr.Metrics+"/metrics", "").body); !strings.Contains(m,
		`kamreg_kamailio_rpc_hedged_total{method="ul.rm",node="hung",won="none"} `) {
		t.Errorf("no hedged ul.rm counted for the hung node in\n%s", grepLines(m, "kamreg_kamailio_rpc_"))
	}
	// The node that answered removed hal, but nothing was recorded as
	// flushed: that needs every node.
	if recs := flushRecords(t, a.realm); len(recs) != 0 {
		t.Errorf("flush records %+v for a flush that did not reach every node", recs)
	}
}

// TestNodeKilledMidFlush kills Kamailio (SIGKILL) during a large realm
// flush: the answer names the node, only what it acknowledged is hidden,
// and the same flush once it is back finishes the job. kamreg reaches the
// real node through a node of the test's own that holds the flush after
// 200 AoRs, so that the kill provably comes mid-flush.
func TestNodeKilledMidFlush(t *testing.T) {
	ctx := context.Background()
	dbURL, err := env.pg.CreateDatabase(ctx, "killed")
	if err != nil {
		t.Fatal(err)
	}
	k := startNode(t, testbed.KamailioOptions{DBURL: dbURL, DBMode: 2, TimerInterval: 1, TZ: kamailioTZ})
	const n, pass = 600, 200
	front := newHeldNode(t, k.RPCURL(), pass)
	kr := serveFor(t, "victim="+front.URL(), "KAMREG_DATABASE_URL="+dbURL, "KAMREG_FLUSH_CONCURRENCY=1", "KAMREG_RPC_TIMEOUT=1s")
	a := newAccountIn(t, dbURL, "Killed", "killed.kamreg.test", "", false)
	var phones []testbed.Phone
	for i := 0; i < n; i++ {
		phones = append(phones, testbed.Phone{User: fmt.Sprintf("k%03d", i), Domain: a.realm, ContactPort: 5070})
	}
	registerAt(t, k, phones...)
	waitCount(t, kr, a, n)

	done := callAsync("DELETE", kr.Base+"/v2/accounts/"+a.id+"/registrations", a.token)
	if err := front.waitHeld(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	k.Kill()
	front.Release()
	r := await(t, done, 60*time.Second, "the flush through a killed node")
	var v struct {
		Message string
		Data    struct {
			Nodes           []struct{ Node, Error string }
			Flushed, Failed int
		}
	}
	_ = json.Unmarshal(r.body, &v)
	acked := len(front.Removed())
	if r.status != 503 || v.Message != "flush incomplete" || len(v.Data.Nodes) != 1 || v.Data.Nodes[0].Node != "victim" ||
		v.Data.Flushed != acked || v.Data.Failed != n-acked || acked < pass-2 {
		t.Fatalf("%d %s; the node acknowledged %d AoRs", r.status, r.body, acked)
	}
	t.Logf("flushed %d, failed %d before the node died", v.Data.Flushed, v.Data.Failed)
	// Only what the node acknowledged is hidden.
	waitCount(t, kr, a, v.Data.Failed)

	// Back up (it reloads every row, flushed or not): the same flush
	// finishes.
	if err := k.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// Kamailio answers RPC before usrloc has loaded every row back: wait
	// for the last AoR, which the first flush never reached.
	last := fmt.Sprintf("k%03d@%s", n-1, a.realm)
	testbed.Eventually(t, 10*time.Second, last+" back after the restart", func() bool { return lookupAt(t, k, last) != 0 })
	r2 := call(t, "DELETE", kr.Base+"/v2/accounts/"+a.id+"/registrations", a.token)
	t.Logf("second flush: %d %.300s", r2.status, r2.body)
	wantOK(t, r2)
	waitCount(t, kr, a, 0)
	for _, u := range []string{"k000", "k299", "k599"} {
		if c := lookupAt(t, k, u+"@"+a.realm); c != 0 {
			t.Errorf("Kamailio still holds %d contacts of %s", c, u)
		}
	}
}

// logSize is how many bytes the log at path holds now.
func logSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

//go:build integration

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kamreg/kamreg/testbed"
)

// startNode starts a Kamailio that the test stops at its end.
func startNode(t *testing.T, o testbed.KamailioOptions) *testbed.Kamailio {
	t.Helper()
	k, err := testbed.StartKamailio(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return k
}

// serveFor starts a kamreg that the test stops at its end.
func serveFor(t *testing.T, nodes string, extra ...string) *kamregServer {
	t.Helper()
	s, err := startKamreg(nodes, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// heldAoRs lists the AoRs of a realm a small test node holds (ul.dump
// brief: the test looks into the node; kamreg itself never dumps to flush).
func heldAoRs(t *testing.T, k *testbed.Kamailio, realm string) []string {
	t.Helper()
	aors, err := k.Client().AoRs(context.Background(), "location")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, aor := range aors {
		if strings.HasSuffix(aor, "@"+realm) {
			out = append(out, aor)
		}
	}
	return out
}

// TestCluster runs two Kamailio nodes sharing one location table (usrloc
// db_mode 1, server_id_filter, distinct server_id), node one reached over
// its unix datagram socket and node two over HTTP.
func TestCluster(t *testing.T) {
	ctx := context.Background()
	dbURL, err := env.pg.CreateDatabase(ctx, "cluster")
	if err != nil {
		t.Fatal(err)
	}
	k1 := startNode(t, testbed.KamailioOptions{DBURL: dbURL, DBMode: 1, ServerID: 11, ServerIDFilter: true, DgramSocket: true, TZ: kamailioTZ})
	k2 := startNode(t, testbed.KamailioOptions{DBURL: dbURL, DBMode: 1, ServerID: 12, ServerIDFilter: true, TZ: kamailioTZ})
	kr := serveFor(t, "one=unix:"+k1.DgramPath()+",two="+k2.RPCURL(), "KAMREG_DATABASE_URL="+dbURL)
	a := newAccountIn(t, dbURL, "Cluster", "cluster.kamreg.test", "", false)
	realm := a.realm
	registerAt(t, k1, testbed.Phone{User: "alice", Domain: realm, ContactPort: 5070}, testbed.Phone{User: "bob", Domain: realm, ContactPort: 5070})
	registerAt(t, k2, testbed.Phone{User: "carol", Domain: realm, ContactPort: 5070}, testbed.Phone{User: "dave", Domain: realm, ContactPort: 5070},
		testbed.Phone{User: "alice", Domain: realm, ContactPort: 5072})
	waitCount(t, kr, a, 5)

	// A user held only by node two.
	wantOK(t, call(t, "DELETE", kr.Base+"/v2/accounts/"+a.id+"/registrations/dave", a.token))
	if n := lookupAt(t, k2, "dave@"+realm); n != 0 {
		t.Errorf("node two still holds %d contacts of dave", n)
	}
	waitCount(t, kr, a, 4)

	// The whole account, on both nodes.
	wantOK(t, call(t, "DELETE", kr.Base+"/v2/accounts/"+a.id+"/registrations", a.token))
	waitCount(t, kr, a, 0)
	for i, k := range []*testbed.Kamailio{k1, k2} {
		if held := heldAoRs(t, k, realm); len(held) != 0 {
			t.Errorf("node %d still holds %v", i+1, held)
		}
	}

	// Node two down: a 503 that names it, while node one does its part.
	// The flush asks for erin and fred (in the table) and for the four
	// users flushed lately (a phone flushed a moment ago may have
	// registered again, in memory only): none is acknowledged everywhere.
	registerAt(t, k1, testbed.Phone{User: "erin", Domain: realm, ContactPort: 5070})
	registerAt(t, k2, testbed.Phone{User: "fred", Domain: realm, ContactPort: 5070})
	waitCount(t, kr, a, 2)
	k2.Stop()
	r := call(t, "DELETE", kr.Base+"/v2/accounts/"+a.id+"/registrations", a.token)
	body := string(r.body)
	if r.status != 503 || !strings.Contains(body, `"message":"flush incomplete"`) || !strings.Contains(body, `"node":"two"`) ||
		strings.Contains(body, `"node":"one"`) || !strings.Contains(body, `"flushed":0,"failed":6`) {
		t.Errorf("flush with node two down: %d %s", r.status, body)
	}
	if held := heldAoRs(t, k1, realm); len(held) != 0 {
		t.Errorf("node one did not do its part: still holds %v", held)
	}
	// Nothing was recorded as flushed: fred, still on node two, is listed.
	waitCount(t, kr, a, 1)
	if got := usernames(t, kr, a); len(got) != 1 || got[0] != "fred" {
		t.Errorf("after the partial flush: %v", got)
	}
	// Node two back: the same flush finishes.
	if err := k2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	wantOK(t, call(t, "DELETE", kr.Base+"/v2/accounts/"+a.id+"/registrations", a.token))
	waitCount(t, kr, a, 0)
}

// TestMemoryOnlyNode reads a usrloc db_mode 0 node through
// KAMREG_SOURCE=rpc: list, count and flush-one come from ul.dump and ul.rm.
func TestMemoryOnlyNode(t *testing.T) {
	ctx := context.Background()
	dbURL, err := env.pg.CreateDatabase(ctx, "memory")
	if err != nil {
		t.Fatal(err)
	}
	k0 := startNode(t, testbed.KamailioOptions{MemoryOnly: true})
	// No reuse of a dump here: the node going down must show at once.
	kr := serveFor(t, "zero="+k0.RPCURL(), "KAMREG_DATABASE_URL="+dbURL, "KAMREG_SOURCE=rpc", "KAMREG_DB_TIMEZONE=UTC",
		"KAMREG_DUMP_TTL=0")
	a := newAccountIn(t, dbURL, "Memory", "Memory.Kamreg.Test", "", false)
	device := newID()
	mustCLIIn(t, dbURL, "devices", "put", "--account", a.id, "--username", "alice", "--device-id", device)
	const realm = "memory.kamreg.test"
	reg := registerAt(t, k0,
		testbed.Phone{User: "alice", Domain: realm, ContactPort: 5070},
		testbed.Phone{User: "alice", Domain: realm, ContactPort: 5072},
		testbed.Phone{User: "bob", Domain: realm, ContactPort: 5070})
	waitCount(t, kr, a, 3)

	r := call(t, "GET", kr.Base+"/v2/accounts/"+a.id+"/registrations", a.token)
	v := r.json(t)
	data, _ := v["data"].([]any)
	if len(data) != 3 {
		t.Fatalf("list: %s", r.body)
	}
	first := data[0].(map[string]any)
	for k, want := range map[string]any{
		"username": "alice", "contact": "sip:alice@127.0.0.77:5070", "contact_ip": "127.0.0.77", "network_ip": "127.0.0.1",
		"authorizing_id": device, "authorizing_type": "device", "account_name": "Memory", "account_realm": "Memory.Kamreg.Test",
		"call_id": reg.CallIDs[0], "realm": realm,
	} {
		if first[k] != want {
			t.Errorf("%s = %v, want %v", k, first[k], want)
		}
	}
	if e, _ := first["expires"].(float64); e < 280 || e > 300 {
		t.Errorf("expires %v", first["expires"])
	}

	wantOK(t, call(t, "DELETE", kr.Base+"/v2/accounts/"+a.id+"/registrations/alice", a.token))
	if got := usernames(t, kr, a); len(got) != 1 || got[0] != "bob" {
		t.Errorf("after flushing alice: %v", got)
	}
	if r := call(t, "DELETE", kr.Base+"/v2/accounts/"+a.id+"/registrations/nobody", a.token); r.status != 404 {
		t.Errorf("unknown user: %d %s", r.status, r.body)
	}

	k0.Stop()
	r = call(t, "GET", kr.Base+"/v2/accounts/"+a.id+"/registrations/count", a.token)
	if r.status != 503 || !strings.Contains(string(r.body), `"message":"Kamailio node zero did not answer: `) {
		t.Errorf("count with the node down: %d %s", r.status, r.body)
	}
}

// TestSharedDumps: fifty concurrent lists through a kamreg of the rpc
// source cost one ul.dump of the node.
func TestSharedDumps(t *testing.T) {
	ctx := context.Background()
	dbURL, err := env.pg.CreateDatabase(ctx, "shareddumps")
	if err != nil {
		t.Fatal(err)
	}
	k0 := startNode(t, testbed.KamailioOptions{MemoryOnly: true})
	const ttl = time.Second
	kr := serveFor(t, "zero="+k0.RPCURL(), "KAMREG_DATABASE_URL="+dbURL, "KAMREG_SOURCE=rpc", "KAMREG_DB_TIMEZONE=UTC",
		"KAMREG_DUMP_TTL="+ttl.String())
	a := newAccountIn(t, dbURL, "Shared", "shared.kamreg.test", "", false)
	registerAt(t, k0, testbed.Phone{User: "alice", Domain: a.realm, ContactPort: 5070})
	dumps := func() string {
		return grepLines(string(call(t, "GET", metricsURL(kr), "").body), `kamreg_ul_dumps_total{node="zero"}`)
	}
	// A first read, then, once its dump is older than the TTL, fifty
	// reads at once: exactly one new dump.
	if r := call(t, "GET", kr.Base+"/v2/accounts/"+a.id+"/registrations/count", a.token); r.status != 200 {
		t.Fatalf("count: %d %s", r.status, r.body)
	}
	read := time.Now()
	start := dumps()
	testbed.Eventually(t, 10*time.Second, "the dump to be older than the TTL", func() bool { return time.Since(read) > ttl+100*time.Millisecond })
	var wg sync.WaitGroup
	statuses := make(chan int, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", kr.Base+"/v2/accounts/"+a.id+"/registrations", nil)
			req.Header.Set("X-Auth-Token", a.token)
			resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	testbed.Wait(t, &wg, time.Minute, "50 concurrent lists")
	close(statuses)
	for s := range statuses {
		if s != 200 {
			t.Errorf("a list answered %d", s)
		}
	}
	end := dumps()
	var n0, n1 float64
	fmt.Sscanf(start[strings.LastIndexByte(start, ' ')+1:], "%g", &n0)
	fmt.Sscanf(end[strings.LastIndexByte(end, ' ')+1:], "%g", &n1)
	if n1-n0 != 1 {
		t.Errorf("50 concurrent lists sent %v dumps to the node, want 1", n1-n0)
	}
}

//go:build integration

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kamreg/kamreg/testbed"
)

// cfgNode starts a Kamailio running the reference kamailio.cfg with SIP
// over UDP and TCP, on a database of its own.
func cfgNode(t *testing.T, db string) (*testbed.Kamailio, string) {
	t.Helper()
	url, err := env.pg.CreateDatabase(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return startNode(t, testbed.KamailioOptions{DBURL: url, DBMode: 2, TimerInterval: 1, SIPTCP: true}), url
}

// postRPC posts a JSON-RPC request to url and returns the status and body.
func postRPC(t *testing.T, url, method string, params ...string) (int, string) {
	t.Helper()
	body := fmt.Sprintf(`{"jsonrpc":"2.0","method":%q,"params":[%s],"id":1}`, method, strings.Join(params, ","))
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s %s: %v", url, method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// Issue 13: JSON-RPC answered on the SIP TCP listener, so anyone reaching
// the published SIP port could list (ul.dump) and remove (ul.rm) phones.
func TestRPCRefusedOnSIPListener(t *testing.T) {
	k, _ := cfgNode(t, "cfg_rpc_listener")
	ctx := context.Background()
	// SIP over TCP works on that listener...
	phone := testbed.Phone{User: "tcpalice", Domain: "rpc.e2e.test", ContactHost: "127.0.0.1", ContactPort: 5070}
	if _, err := testbed.RegisterWith(ctx, testbed.Run{Target: k.SIPAddr(), Transport: "tcp", RPort: true, Refresh: time.Millisecond, Timeout: 20 * time.Second},
		[]testbed.Phone{phone}); err != nil {
		t.Fatal(err)
	}
	aor := `"location","tcpalice@rpc.e2e.test"`
	if code, body := postRPC(t, k.RPCURL(), "ul.lookup", aor); code != 200 || !strings.Contains(body, "tcpalice@rpc.e2e.test") {
		t.Fatalf("ul.lookup on the RPC listener: %d %s", code, body)
	}
	// ...but JSON-RPC does not, whatever the method or path.
	sipURL := fmt.Sprintf("http://127.0.0.1:%d", k.SIPPort)
	for _, c := range []struct{ path, method, params string }{
		{"/RPC", "ul.dump", ""},
		{"/RPC", "ul.rm", aor},
		{"/RPC", "core.version", ""},
		{"/rpc/../RPC", "ul.dump", ""},
		{"/", "ul.dump", ""},
	} {
		code, body := postRPC(t, sipURL+c.path, c.method, c.params)
		if code != http.StatusForbidden || strings.Contains(body, "jsonrpc") || strings.Contains(body, "tcpalice") {
			t.Errorf("%s %s on the SIP TCP listener: %d %q, want 403", c.path, c.method, code, body)
		}
	}
	// The phone is still there: the refused ul.rm did nothing.
	if code, body := postRPC(t, k.RPCURL(), "ul.lookup", aor); code != 200 || !strings.Contains(body, "tcpalice@rpc.e2e.test") {
		t.Fatalf("after the refused ul.rm, ul.lookup: %d %s", code, body)
	}
	if code, body := postRPC(t, k.RPCURL(), "core.version"); code != 200 || !strings.Contains(body, `"result"`) {
		t.Errorf("core.version on the RPC listener: %d %s", code, body)
	}
}

// Issue 13: a phone behind NAT that sends no ;rport put its private address
// in the Via; without force_rport() Kamailio answered there and the phone
// never got its 200, while the binding was saved. The reference cfg also
// records initial_registration, which a refresh leaves unchanged.
func TestNATedRegisterWithoutRPort(t *testing.T) {
	k, url := cfgNode(t, "cfg_nat")
	ctx := context.Background()
	// A port nobody listens on: where a 200 sent to the Via would go.
	private, err := testbed.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Unix()
	phones := []testbed.Phone{
		{User: "natbob", Domain: "nat.e2e.test", ViaHost: "127.0.0.66", ViaPort: private, ContactHost: "127.0.0.66", ContactPort: private},
		{User: "natcarol", Domain: "nat.e2e.test", ViaHost: "127.0.0.66", ViaPort: private, ContactHost: "127.0.0.66", ContactPort: private},
	}
	// Each phone registers, then refreshes (same Call-ID) 1.1 s later;
	// sipp fails unless all four REGISTERs get their 200.
	reg, err := testbed.RegisterWith(ctx, testbed.Run{Target: k.SIPAddr(), Refresh: 1100 * time.Millisecond, Timeout: 20 * time.Second}, phones)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	type row struct {
		user, received, atype, initial string
		cseq                           int
		modified                       int64
	}
	var rows []row
	// db_mode 2 with a 1 s timer: wait until both refreshes are written.
	deadline := time.Now().Add(15 * time.Second)
	for {
		rows = rows[:0]
		r, err := conn.Query(ctx, `
			SELECT l.username, coalesce(l.received, ''), l.cseq, extract(epoch from l.last_modified)::bigint,
			       coalesce(a.atype::text, ''), coalesce(a.avalue, '')
			FROM location l LEFT JOIN location_attrs a ON a.ruid = l.ruid AND a.aname = 'initial_registration'
			WHERE l.domain = 'nat.e2e.test' ORDER BY l.username`)
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var x row
			if err := r.Scan(&x.user, &x.received, &x.cseq, &x.modified, &x.atype, &x.initial); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, x)
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		if len(rows) == 2 && rows[0].cseq == 2 && rows[1].cseq == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("refreshed rows not written within 15 s: %+v", rows)
		}
		time.Sleep(200 * time.Millisecond)
	}
	after := time.Now().Unix()
	for _, x := range rows {
		if want := fmt.Sprintf("sip:127.0.0.1:%d", reg.Port); x.received != want {
			t.Errorf("%s: received %q, want %q", x.user, x.received, want)
		}
		if x.atype != "0" {
			t.Errorf("%s: initial_registration atype %q, want 0 (a string)", x.user, x.atype)
		}
		initial, err := strconv.ParseInt(x.initial, 10, 64)
		if err != nil {
			t.Errorf("%s: initial_registration %q is not Unix seconds", x.user, x.initial)
			continue
		}
		if initial < before || initial > after {
			t.Errorf("%s: initial_registration %d outside the test's [%d, %d]", x.user, initial, before, after)
		}
		// The row was rewritten by the refresh, at least a second later,
		// and kept the first REGISTER's time.
		if x.modified <= initial {
			t.Errorf("%s: last_modified %d not after initial_registration %d: the refresh changed it", x.user, x.modified, initial)
		}
	}
}

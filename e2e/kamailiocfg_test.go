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

	"github.com/google/go-cmp/cmp"
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
	testbed.EventuallyOK(t, 15*time.Second, "the refreshed rows written", func() error {
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
			return nil
		}
		return fmt.Errorf("rows %+v", rows)
	})
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

// Issue 19: the reference cfg was an open registrar: a REGISTER without
// credentials, for any realm, got 200, so anyone could add phones (and
// the User-Agents kamreg shows) to any tenant and fill reginit. Now
// REGISTERs are challenged and checked against Kamailio's subscriber
// table.
func TestAuthenticatingRegistrar(t *testing.T) {
	ctx := context.Background()
	url, err := env.pg.CreateDatabase(ctx, "cfg_auth")
	if err != nil {
		t.Fatal(err)
	}
	k := startNode(t, testbed.KamailioOptions{DBURL: url, DBMode: 2, TimerInterval: 1, TZ: kamailioTZ, Auth: true})
	kr := serveFor(t, "cfg="+k.RPCURL(), "KAMREG_DATABASE_URL="+url)
	a := newAccountIn(t, url, "Auth", "auth.e2e.test", "", false)
	for _, s := range [][3]string{{"alice", a.realm, "alice-secret"}, {"bob", a.realm, "bob-secret"}} {
		if err := testbed.AddSubscriber(ctx, url, s[0], s[1], s[2]); err != nil {
			t.Fatal(err)
		}
	}

	// No credentials: a digest challenge for the To realm, and no binding.
	answers, err := testbed.RegisterRaw(ctx, k.SIPAddr(), "127.0.0.1", "mallory", a.realm, 1, 5*time.Second)
	if err != nil || len(answers) != 1 {
		t.Fatalf("REGISTER without credentials: %v %+v", err, answers)
	}
	if got, want := answers[0].Status, 401; got != want {
		t.Errorf("REGISTER without credentials: %d, want %d", got, want)
	}
	if h := answers[0].Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Digest ") || !strings.Contains(h, `realm="`+a.realm+`"`) {
		t.Errorf("challenge %q: want a Digest challenge for realm %s", h, a.realm)
	}
	// Even for a user that has credentials.
	if answers, err := testbed.RegisterRaw(ctx, k.SIPAddr(), "127.0.0.1", "alice", a.realm, 1, 5*time.Second); err != nil || len(answers) != 1 || answers[0].Status != 401 {
		t.Errorf("alice's REGISTER without credentials: %v %+v, want a 401", err, answers)
	}

	// A wrong password, and good credentials for another user: refused.
	for _, p := range []testbed.Phone{
		{User: "bob", Domain: a.realm, ContactPort: 5070, Password: "not-bob-secret"},
		{User: "mallory", Domain: a.realm, ContactPort: 5070, Password: "alice-secret"},
	} {
		if _, err := testbed.RegisterWith(ctx, testbed.Run{Target: k.SIPAddr(), Timeout: 5 * time.Second}, []testbed.Phone{p}); err == nil {
			t.Errorf("%s with password %q registered", p.User, p.Password)
		}
	}

	// Good credentials: registered, listed by kamreg.
	if _, err := testbed.RegisterWith(ctx, testbed.Run{Target: k.SIPAddr()},
		[]testbed.Phone{{User: "alice", Domain: a.realm, ContactPort: 5070, Password: "alice-secret"}}); err != nil {
		t.Fatal(err)
	}
	waitCount(t, kr, a, 1)
	// usrloc wrote alice at a timer run after every refused REGISTER: had
	// any of them been saved, it would be listed too.
	if diff := cmp.Diff([]string{"alice"}, usernames(t, kr, a)); diff != "" {
		t.Errorf("listed (-want +got):\n%s", diff)
	}
	for _, u := range []string{"mallory", "bob"} {
		if n := lookupAt(t, k, u+"@"+a.realm); n != 0 {
			t.Errorf("Kamailio holds %d contacts of %s", n, u)
		}
	}
}

// Issue 19: nothing limited REGISTERs from one address. Now pike answers
// the first few of a flood and drops the rest, while another address is
// still answered.
func TestRegisterFlood(t *testing.T) {
	ctx := context.Background()
	url, err := env.pg.CreateDatabase(ctx, "cfg_flood")
	if err != nil {
		t.Fatal(err)
	}
	const flood = 10
	k := startNode(t, testbed.KamailioOptions{DBURL: url, DBMode: 2, TimerInterval: 1, Auth: true, FloodLimit: flood})
	const realm, sent = "flood.e2e.test", 4 * flood
	answers, err := testbed.RegisterRaw(ctx, k.SIPAddr(), "127.0.0.9", "flood", realm, sent, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d REGISTERs from one address at once: %d answered", sent, len(answers))
	if len(answers) == 0 || len(answers) > 2*flood {
		t.Errorf("%d REGISTERs from one address at once: %d answered, want 1 to %d", sent, len(answers), 2*flood)
	}
	for _, ans := range answers {
		if ans.Status != 401 {
			t.Errorf("flood REGISTER answered %d, want 401", ans.Status)
			break
		}
	}
	if answers, err := testbed.RegisterRaw(ctx, k.SIPAddr(), "127.0.0.10", "other", realm, 1, 5*time.Second); err != nil || len(answers) != 1 || answers[0].Status != 401 {
		t.Errorf("another address during the flood: %v %+v, want a 401", err, answers)
	}
}

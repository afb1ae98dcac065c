// Command demo runs kamreg's demo on loopback: a throwaway PostgreSQL and
// Kamailio (the reference cfg: usrloc db_mode 2, digest authentication,
// the per-address limit), a few sipp phones with credentials that keep
// registering, a demo account with a device and an API token, and
// `kamreg serve` on 127.0.0.1:8000. It prints curl lines to try; Ctrl-C
// stops everything.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kamreg/kamreg/testbed"
)

// The demo's fixed ids, so that the README's curl lines work as printed.
const (
	resellerID = "decade00000000000000000000000001"
	accountID  = "decade00000000000000000000000002"
	superID    = "decade000000000000000000000000ff"
	realm      = "demo.kamreg.test"
)

func main() {
	bin := flag.String("kamreg", "bin/kamreg", "the kamreg binary")
	listen := flag.String("listen", "127.0.0.1:8000", "where kamreg serves (loopback)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *bin, *listen); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bin, listen string) error {
	if err := testbed.Check(); err != nil {
		return err
	}
	if !strings.HasPrefix(listen, "127.") {
		return fmt.Errorf("--listen %s: the demo serves on loopback only", listen)
	}
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "kamreg-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logf, err := os.Create(filepath.Join(dir, "setup.log"))
	if err != nil {
		return err
	}
	defer logf.Close()

	step("starting PostgreSQL 15 with Kamailio's usrloc schema")
	pg, err := testbed.StartPostgres(ctx, logf)
	if err != nil {
		return err
	}
	defer pg.Close()
	step("starting Kamailio (usrloc db_mode 2, timer 5 s, digest authentication, JSON-RPC over HTTP)")
	kam, err := testbed.StartKamailio(ctx, testbed.KamailioOptions{DBURL: pg.URL, DBMode: 2, TimerInterval: 5, Auth: true, FloodLimit: 16})
	if err != nil {
		return err
	}
	defer kam.Close()

	kr := testbed.Kamreg{Bin: bin, DBURL: pg.URL, LogDir: dir}
	kamreg := kr.Run
	step("creating the demo accounts, a device and API tokens")
	for _, args := range [][]string{
		{"migrate"},
		{"accounts", "put", "--id", superID, "--name", "Demo Admin", "--realm", "admin.kamreg.test", "--superduper"},
		{"accounts", "put", "--id", resellerID, "--name", "Demo Reseller", "--realm", "reseller.kamreg.test"},
		{"accounts", "put", "--id", accountID, "--name", "Demo Account", "--realm", realm, "--parent", resellerID},
		{"devices", "put", "--account", accountID, "--username", "alice", "--device-id", "decade0000000000000000000000d001",
			"--owner-id", "decade0000000000000000000000a001"},
	} {
		if _, err := kamreg(args...); err != nil {
			return err
		}
	}
	token, err := kamreg("tokens", "create", "--account", accountID, "--description", "demo")
	if err != nil {
		return err
	}
	superToken, err := kamreg("tokens", "create", "--account", superID, "--description", "demo admin")
	if err != nil {
		return err
	}

	phones := []testbed.Phone{
		{User: "alice", Domain: realm, ContactPort: 5070, Expires: 300},
		{User: "alice", Domain: realm, ContactPort: 5072, Expires: 300},
		{User: "bob", Domain: realm, ContactPort: 5070, Expires: 300,
			ChannelVars: `{"Account-ID":"` + accountID + `","Authorizing-ID":"decade0000000000000000000000d002","Authorizing-Type":"device","Owner-ID":"decade0000000000000000000000a002"}`},
		{User: "carol", Domain: realm, ContactHost: "[::1]", ContactPort: 5080, Expires: 300},
		{User: "dave", Domain: "reseller.kamreg.test", ContactPort: 5070, Expires: 300},
	}
	step("adding the phones' credentials to Kamailio's subscriber table")
	for i := range phones {
		phones[i].Password = demoPassword(phones[i].User)
		if err := testbed.AddSubscriber(ctx, pg.URL, phones[i].User, phones[i].Domain, phones[i].Password); err != nil {
			return err
		}
	}
	step("registering 5 sipp phones with their credentials (they register again every 4 minutes)")
	if _, err := testbed.Register(ctx, kam, phones); err != nil {
		return err
	}
	go keepRegistering(ctx, kam, phones)

	step("starting kamreg on " + listen)
	served, err := kr.Serve("KAMREG_LISTEN="+listen, "KAMREG_METRICS_LISTEN=127.0.0.1:9108", "KAMREG_KAMAILIO_RPC=demo="+kam.RPCURL())
	if err != nil {
		return err
	}
	defer served.Close()
	base, serveLog := "http://"+listen, served.LogPath
	step("waiting for Kamailio's usrloc timer to write the phones to PostgreSQL")
	if err := waitCount(ctx, base+"/v2/accounts/"+accountID+"/registrations/count?auth_token="+token, 4); err != nil {
		return err
	}
	printTry(base, served.Metrics, token, superToken, kam, pg.URL, serveLog)
	select {
	case <-ctx.Done():
		step("stopping")
		return nil
	case <-served.Done:
		return fmt.Errorf("kamreg serve stopped (see %s)", serveLog)
	}
}

func step(s string) { fmt.Println("==> " + s) }

// demoPassword is the demo phones' SIP password: the user, then "-demo".
func demoPassword(user string) string { return user + "-demo" }

func keepRegistering(ctx context.Context, kam *testbed.Kamailio, phones []testbed.Phone) {
	t := time.NewTicker(4 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := testbed.Register(ctx, kam, phones); err != nil && ctx.Err() == nil {
				fmt.Fprintln(os.Stderr, "demo: registering again:", err)
			}
		}
	}
}

// waitCount polls a count URL until it reports want.
func waitCount(ctx context.Context, url string, want int) error {
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			var v struct{ Data struct{ Count int } }
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = string(body)
			if json.Unmarshal(body, &v) == nil && v.Data.Count == want {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("the demo account never counted %d registrations; last answer %s", want, last)
}

func printTry(base, metrics, token, superToken string, kam *testbed.Kamailio, dbURL, serveLog string) {
	acct := base + "/v2/accounts/" + accountID + "/registrations"
	fmt.Printf(`
kamreg is serving the demo on %[1]s (logs: %[5]s)
Kamailio: SIP udp:%[6]s, JSON-RPC %[7]s
Phones authenticate: alice, bob, carol (%[9]s) and dave (reseller.kamreg.test), password <user>-demo.
Add a phone's credentials (kept as ha1 = md5(user:domain:password)):
  psql '%[10]s' -v user=erin -v domain=%[9]s -v password=erin-secret <<'SQL'
%[11]s
SQL

  export TOKEN=%[2]s

Try:
  curl -s -H "X-Auth-Token: $TOKEN" %[3]s | python3 -m json.tool
  curl -s -H "X-Auth-Token: $TOKEN" %[3]s/count
  curl -s -X DELETE -H "X-Auth-Token: $TOKEN" %[3]s/alice
  curl -s -H "X-Auth-Token: $TOKEN" %[3]s/count
  curl -s -X DELETE -H "X-Auth-Token: $TOKEN" %[3]s
  curl -s "%[3]s/count?auth_token=$TOKEN"

Errors:
  curl -s %[3]s
  curl -s -H "X-Auth-Token: $TOKEN" %[1]s/v2/accounts/not-an-id/registrations
  curl -s -X DELETE -H "X-Auth-Token: $TOKEN" %[3]s/nobody
  curl -si -X DELETE -H "X-Auth-Token: $TOKEN" %[3]s/count

Every realm (super-duper token):
  curl -s -H "X-Auth-Token: %[4]s" %[1]s/v2/registrations/count

Kazoo 4 keys, the live stream and the page:
  curl -s -H "X-Auth-Token: $TOKEN" "%[3]s?filter_proxy_protocol=udp"
  curl -sN -H "X-Auth-Token: $TOKEN" %[3]s/events      # Server-Sent Events; Ctrl-C to stop
  open %[1]s/ui/ in a browser and paste the token

Health and metrics (the metrics listener, never the API port):
  curl -s %[1]s/healthz; curl -s %[1]s/readyz; curl -s %[8]s/metrics | head

The phones register again every 4 minutes. Ctrl-C stops everything.
`, base, token, acct, superToken, serveLog, kam.SIPAddr(), kam.RPCURL(), metrics, realm, dbURL, testbed.SubscriberSQL)
}

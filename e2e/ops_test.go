//go:build integration

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg/kamailio"
	"github.com/kamreg/kamreg/testbed"
)

// TestMetrics checks /metrics after real traffic: requests by route, RPC
// calls by node, the node's up gauge, the pool, and registrations per
// account (refreshed on an interval).
func TestMetrics(t *testing.T) {
	a := newAccount(t, "Metrics", "metrics.kamreg.test", "", false)
	register(t, testbed.Phone{User: "mia", Domain: a.realm, ContactPort: 5070}, testbed.Phone{User: "max", Domain: a.realm, ContactPort: 5070})
	waitCount(t, env.main, a, 2)
	wantOK(t, call(t, "DELETE", env.main.Base+"/v2/accounts/"+a.id+"/registrations/max", a.token))
	gauge := fmt.Sprintf(`kamreg_registrations{account_id="%s",realm="%s"} 1`, a.id, a.realm)
	var body string
	testbed.Eventually(t, 40*time.Second, gauge+" on /metrics", func() bool {
		body = string(call(t, "GET", env.main.Metrics+"/metrics", "").body)
		return strings.Contains(body, gauge)
	})
	for _, want := range []string{
		gauge,
		`kamreg_http_requests_total{code="200",method="DELETE",route="account_registration_user"}`,
		`kamreg_http_request_duration_seconds_bucket{method="GET",route="account_registrations_count",le="+Inf"}`,
		`kamreg_kamailio_rpc_calls_total{method="ul.rm",node="main",outcome="ok"}`,
		`kamreg_kamailio_up{node="main"} 1`,
		`kamreg_flushes_total{outcome="ok",scope="user"}`,
		"kamreg_db_pool_connections ",
		`kamreg_auth_failures_total{reason="invalid"}`,
		"go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The API port, the one operators publish, tells nothing about tenants.
	for _, path := range []string{"/metrics", "/metrics/"} {
		if r := call(t, "GET", env.main.Base+path, ""); r.status != 404 || strings.Contains(string(r.body), a.id) {
			t.Errorf("API port %s: %d %s", path, r.status, r.body)
		}
	}
	if r := call(t, "GET", env.main.Metrics+"/readyz", ""); r.status != 200 {
		t.Errorf("metrics listener /readyz: %d %s", r.status, r.body)
	}
}

// TestLogs reads the main kamreg's log: one JSON line per request with its
// request id and route template, and no token anywhere.
func TestLogs(t *testing.T) {
	a := newAccount(t, "Logs", "logs.kamreg.test", "", false)
	call(t, "GET", env.main.Base+"/v2/accounts/"+a.id+"/registrations", a.token, "X-Request-ID", "log-check-1")
	call(t, "GET", env.main.Base+"/v2/accounts/"+a.id+"/registrations/count?auth_token="+a.token, "", "X-Request-ID", "log-check-2")
	call(t, "GET", env.main.Base+"/v2/accounts/"+a.id+"/registrations", "nope."+a.token[33:], "X-Request-ID", "log-check-3")
	// Each request is logged as it ends: wait for the last line.
	var raw []byte
	testbed.Eventually(t, 3*time.Second, "the log line of log-check-3", func() bool {
		var err error
		if raw, err = os.ReadFile(env.main.LogPath); err != nil {
			t.Fatal(err)
		}
		return strings.Contains(string(raw), `"request_id":"log-check-3"`)
	})
	secret := a.token[33:]
	if strings.Contains(string(raw), secret) {
		t.Error("a token's secret reached the log")
	}
	found := map[string]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not a JSON log line: %s", sc.Text())
		}
		if id, _ := e["request_id"].(string); strings.HasPrefix(id, "log-check-") {
			if found[id] != nil {
				t.Errorf("two lines for %s", id)
			}
			found[id] = e
		}
	}
	for id, want := range map[string]struct {
		route  string
		status float64
	}{"log-check-1": {"account_registrations", 200}, "log-check-2": {"account_registrations_count", 200}, "log-check-3": {"account_registrations", 401}} {
		e := found[id]
		if e == nil {
			t.Errorf("no log line for %s", id)
			continue
		}
		if e["route"] != want.route || e["status"] != want.status || e["account_id"] != a.id || e["method"] != "GET" || e["remote"] == nil {
			t.Errorf("%s: %v", id, e)
		}
	}
}

// TestGracefulShutdown sends SIGTERM while a realm flush is provably in
// flight (its node holds the first ul.rm until the test releases it): the
// flush still reaches every AoR and answers "ok", then kamreg exits 0.
func TestGracefulShutdown(t *testing.T) {
	a := newAccount(t, "Shutdown", "shutdown.kamreg.test", "", false)
	var want []string
	for _, u := range []string{"s1", "s2", "s3"} {
		mustCLI(t, "devices", "put", "--account", a.id, "--username", u, "--device-id", newID())
		want = append(want, u+"@"+a.realm)
	}
	node := newHeldNode(t, "", 0)
	// The RPC timeout outlasts the hold: the held call is answered, not
	// tried again.
	kr, err := startKamregBinary("held="+node.URL(), "KAMREG_FLUSH_CONCURRENCY=1", "KAMREG_RPC_TIMEOUT=10s")
	if err != nil {
		t.Fatal(err)
	}
	defer kr.Close()
	done := callAsync("DELETE", kr.Base+"/v2/accounts/"+a.id+"/registrations", a.token)
	if err := node.waitHeld(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(kr.Cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// kamreg has begun shutting down while the flush waits on its node.
	testbed.Eventually(t, 10*time.Second, "kamreg logs its shutdown", func() bool {
		logs, _ := os.ReadFile(kr.LogPath)
		return strings.Contains(string(logs), `"msg":"shutting down: finishing in-flight requests"`)
	})
	select {
	case r := <-done:
		t.Fatalf("the flush answered while its node held it: %v %d %s", r.err, r.status, r.body)
	case <-kr.Done:
		t.Fatal("kamreg exited while a flush was in flight")
	default:
	}
	node.Release()
	r := await(t, done, 30*time.Second, "the flush during shutdown")
	if r.status != 200 || r.json(t)["data"] != "ok" {
		t.Errorf("flush during shutdown: %d %s", r.status, r.body)
	}
	if diff := cmp.Diff(want, node.Removed()); diff != "" {
		t.Errorf("AoRs removed on the node (-want +got):\n%s", diff)
	}
	select {
	case <-kr.Done:
	case <-time.After(10 * time.Second):
		t.Fatal("kamreg did not exit")
	}
	if code := kr.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d", code)
	}
	logs, _ := os.ReadFile(kr.LogPath)
	if !strings.Contains(string(logs), `"msg":"stopped"`) {
		t.Errorf("log:\n%s", logs)
	}
	if _, err := tryCall("GET", kr.Base+"/healthz", ""); err == nil {
		t.Error("still serving after shutdown")
	}
}

// TestCheckCommand runs `kamreg check` against the real parts, then with a
// node that is down.
func TestCheckCommand(t *testing.T) {
	run := func(nodes string, args ...string) (int, string) {
		cmd := exec.Command(env.bin, append([]string{"check"}, args...)...)
		cmd.Env = append(kamregEnv(), "KAMREG_KAMAILIO_RPC="+nodes)
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	version, err := env.kam.Client().Version(context.Background())
	if err != nil || !kamailio.Verified(version) {
		t.Fatalf("core.version: %q, %v: the suite runs only on verified versions", version, err)
	}
	code, out := run("main=" + env.kam.RPCURL())
	want := "ok   configuration\nok   PostgreSQL answers\nok   kamreg's migrations applied\nok   usrloc table \"location\" present and indexed\n" +
		"ok   every listener socket in the table has an address to report as proxy_ip\n" +
		"ok   Kamailio node main (" + env.kam.RPCURL() + ") answers\n" +
		"     Kamailio node main runs " + version + "\n" +
		"ok   Kamailio node main has usrloc table \"location\"\n"
	if code != 0 || out != want {
		t.Errorf("exit %d:\n%s\nwant:\n%s", code, out, want)
	}
	code, out = run("main=" + env.kam.RPCURL() + ",dead=" + env.deadNode)
	if code != 1 || !strings.Contains(out, "FAIL Kamailio node dead ("+env.deadNode+") answers: ") {
		t.Errorf("with a dead node: exit %d:\n%s", code, out)
	}
	metricsAddr := strings.TrimPrefix(env.main.Metrics, "http://")
	code, out = run("", "--serving", env.main.Base, "--metrics-listen", metricsAddr)
	if code != 0 || !strings.HasPrefix(out, "ok   "+env.main.Base+"/readyz: ") ||
		!strings.HasSuffix(out, "ok   "+env.main.Metrics+"/metrics answers\n") {
		t.Errorf("--serving: exit %d: %s", code, out)
	}
}

//go:build integration

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kamreg/kamreg/testbed"
)

// TestStartupWithoutPostgreSQL: kamreg serve waits for a database that
// does not answer, saying so in its log, and when the wait is over it
// exits 1 with one JSON log line saying why.
func TestStartupWithoutPostgreSQL(t *testing.T) {
	port, err := testbed.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.bin, "serve")
	cmd.Env = append(os.Environ(), fmt.Sprintf("KAMREG_DATABASE_URL=postgres://kamailio:kamailio@127.0.0.1:%d/kamailio", port),
		"KAMREG_DB_WAIT=2s", "KAMREG_LISTEN=127.0.0.1:0", "KAMREG_METRICS_LISTEN=", "KAMREG_LOG_FORMAT=json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v\n%s", err, stderr.String())
	}
	var waits int
	var last map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("a log line is not JSON: %q", line)
		}
		if entry["msg"] == "PostgreSQL does not answer yet; waiting for it" {
			waits++
		}
		last = entry
	}
	if waits < 2 {
		t.Errorf("%d waits logged, want the backoff's tries:\n%s", waits, stderr.String())
	}
	if last["msg"] != "kamreg cannot start" || last["level"] != "error" || !strings.Contains(fmt.Sprint(last["error"]), "database") {
		t.Errorf("last line %v, want the start-up failure", last)
	}
}

// TestNodesProbedAtStart: kamreg_kamailio_up exists for every node as soon
// as kamreg serves, before any flush or /readyz.
func TestNodesProbedAtStart(t *testing.T) {
	kr := serveFor(t, "main="+env.kam.RPCURL()+",dead="+env.deadNode)
	testbed.Eventually(t, 15*time.Second, "both nodes probed", func() bool {
		m := string(call(t, "GET", metricsURL(kr), "").body)
		return strings.Contains(m, `kamreg_kamailio_up{node="main"} 1`) && strings.Contains(m, `kamreg_kamailio_up{node="dead"} 0`)
	})
}

// TestWildcardListener: a row written by a Kamailio listening on 0.0.0.0
// is listed with proxy_ip "undefined" (never the wildcard) and a warning
// logged once; kamreg check flags it until KAMREG_ADVERTISE maps it.
func TestWildcardListener(t *testing.T) {
	ctx := context.Background()
	dbURL, err := env.pg.CreateDatabase(ctx, "wildcard")
	if err != nil {
		t.Fatal(err)
	}
	kr := serveFor(t, "main="+env.kam.RPCURL(), "KAMREG_DATABASE_URL="+dbURL, "KAMREG_DB_TIMEZONE=UTC")
	a := newAccountIn(t, dbURL, "Wildcard", "wildcard.kamreg.test", "", false)
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `
		INSERT INTO location (ruid, username, domain, contact, received, expires, callid, cseq, last_modified,
			user_agent, socket, server_id, connection_id)
		VALUES ('uloc-wild-1', 'alice', 'wildcard.kamreg.test', 'sip:alice@127.0.0.77:5070', 'sip:127.0.0.1:40000',
			(now() AT TIME ZONE 'UTC') + interval '1 hour', 'c1@wild', 1, now() AT TIME ZONE 'UTC',
			'phone', 'udp:0.0.0.0:5060', 1, -1)`); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		r := call(t, "GET", kr.Base+"/v2/accounts/"+a.id+"/registrations", a.token)
		var v struct{ Data []map[string]any }
		if err := json.Unmarshal(r.body, &v); err != nil || len(v.Data) != 1 {
			t.Fatalf("list: %d %s", r.status, r.body)
		}
		if e := v.Data[0]; e["proxy_ip"] != "undefined" || e["proxy_port"] != "5060" || e["proxy_protocol"] != "udp" {
			t.Errorf("proxy of a wildcard socket: %v %v %v", e["proxy_ip"], e["proxy_port"], e["proxy_protocol"])
		}
	}
	logs, _ := os.ReadFile(kr.LogPath)
	if n := strings.Count(string(logs), "Kamailio listens on a wildcard address"); n != 1 {
		t.Errorf("the wildcard warning was logged %d times, want once", n)
	}
	check := func(extra ...string) (int, string) {
		code, out, _ := cliIn(t, dbURL, append([]string{"check"}, extra...)...)
		return code, out
	}
	code, out := check()
	if code != 1 || !strings.Contains(out, "FAIL every listener socket in the table has an address to report as proxy_ip: udp:0.0.0.0:5060 on a wildcard address") {
		t.Errorf("check without a mapping: exit %d\n%s", code, out)
	}
	code, out = check("--advertise", "udp:0.0.0.0:5060=127.0.0.5:5060")
	if !strings.Contains(out, "ok   every listener socket in the table has an address to report as proxy_ip") {
		t.Errorf("check with a mapping: exit %d\n%s", code, out)
	}
}

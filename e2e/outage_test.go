//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kamreg/kamreg/testbed"
)

// TestKamailioOutage stops Kamailio: the list is still served from
// PostgreSQL, a flush is a 503 that names the node and hides nothing, and
// once Kamailio is back the same flush succeeds.
func TestKamailioOutage(t *testing.T) {
	a := newAccount(t, "Kamailio Outage", "kamailio-outage.kamreg.test", "", false)
	register(t, testbed.Phone{User: "gina", Domain: a.realm, ContactPort: 5070})
	waitCount(t, env.main, a, 1)

	env.kam.Stop()
	restarted := false
	defer func() {
		if !restarted {
			_ = env.kam.Start(context.Background())
		}
	}()
	if got := usernames(t, env.main, a); len(got) != 1 || got[0] != "gina" {
		t.Errorf("list with Kamailio down: %v", got)
	}
	r := call(t, "DELETE", env.main.Base+"/v2/accounts/"+a.id+"/registrations", a.token)
	if r.status != 503 || !strings.Contains(string(r.body), `"message":"flush incomplete"`) ||
		!strings.Contains(string(r.body), `"node":"main"`) || !strings.Contains(string(r.body), `"flushed":0,"failed":1`) {
		t.Errorf("realm flush with Kamailio down: %d %s", r.status, r.body)
	}
	if got := usernames(t, env.main, a); len(got) != 1 {
		t.Errorf("a failed flush hid registrations: %v", got)
	}

	if err := env.kam.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	restarted = true
	wantOK(t, call(t, "DELETE", env.main.Base+"/v2/accounts/"+a.id+"/registrations", a.token))
	if got := usernames(t, env.main, a); len(got) != 0 {
		t.Errorf("after the flush: %v", got)
	}
}

// TestPostgresRestart stops PostgreSQL under a running kamreg: every read is
// a 503 envelope (never an empty list), /readyz says why, and kamreg
// recovers by itself once PostgreSQL is back.
func TestPostgresRestart(t *testing.T) {
	a := newAccount(t, "PG Restart", "pg-restart.kamreg.test", "", false)
	register(t, testbed.Phone{User: "hank", Domain: a.realm, ContactPort: 5070})
	waitCount(t, env.main, a, 1)

	ctx := context.Background()
	if err := env.pg.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	started := false
	defer func() {
		if !started {
			_ = env.pg.Start(ctx)
		}
	}()
	for _, path := range []string{"/registrations", "/registrations/count"} {
		start := time.Now()
		r := call(t, "GET", env.main.Base+"/v2/accounts/"+a.id+path, a.token, "X-Request-ID", "rid")
		want := `{"auth_token":"` + a.token + `","data":{"message":"PostgreSQL is unreachable or failing"},"error":"503","message":"datastore fatal error","request_id":"rid","status":"error"}`
		if r.status != 503 || string(r.body) != want {
			t.Errorf("%s with PostgreSQL down: %d %s", path, r.status, r.body)
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("%s took %s", path, took)
		}
	}
	// The API port names the component only; the metrics listener says why.
	if r := call(t, "GET", env.main.Base+"/readyz", ""); r.status != 503 || string(r.body) != `{"status":"unavailable","failing":["postgres"]}` {
		t.Errorf("API port /readyz with PostgreSQL down: %d %s", r.status, r.body)
	}
	r := call(t, "GET", env.main.Metrics+"/readyz", "")
	var ready struct {
		Status  string
		Failing []string
		Reasons map[string]string
	}
	_ = json.Unmarshal(r.body, &ready)
	if r.status != 503 || ready.Status != "unavailable" || len(ready.Failing) != 1 || ready.Reasons["postgres"] == "" {
		t.Errorf("metrics listener /readyz with PostgreSQL down: %d %s", r.status, r.body)
	}
	if r := call(t, "GET", env.main.Base+"/healthz", ""); r.status != 200 {
		t.Errorf("/healthz with PostgreSQL down: %d", r.status)
	}

	if err := env.pg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	started = true
	testbed.EventuallyOK(t, 20*time.Second, "recovery after PostgreSQL came back", func() error {
		if r := call(t, "GET", env.main.Base+"/v2/accounts/"+a.id+"/registrations", a.token); r.status != 200 {
			return fmt.Errorf("%d %s", r.status, r.body)
		}
		return nil
	})
	if got := usernames(t, env.main, a); len(got) != 1 {
		t.Errorf("after recovery: %v", got)
	}
}

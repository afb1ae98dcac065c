//go:build integration

package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamreg/kamreg/testbed"
)

var pg *testbed.Postgres

func TestMain(m *testing.M) { os.Exit(testbed.RunWithPostgres(m, &pg)) }

func TestThin(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// In realm a: bob for an hour, alice permanent, carol expired. In b: dave.
	if _, err := pool.Exec(ctx, `
		INSERT INTO location (ruid, username, domain, contact, received, expires, callid, user_agent, socket, methods)
		VALUES ('r1', 'bob', 'a.test', 'sip:bob@127.0.0.7:5062', NULL, '2999-01-01 10:00:00', 'c1', 'ua "1"', 'udp:127.0.0.1:5060', 8191),
			('r2', 'alice', 'a.test', 'sip:alice@127.0.0.8', 'sip:127.0.0.1:40000', '1970-01-01 00:00:00', 'c2', '<ua>', NULL, NULL),
			('r3', 'carol', 'a.test', 'sip:carol@127.0.0.9', NULL, '2000-01-01 00:00:00', 'c3', '', NULL, NULL),
			('r4', 'dave', 'b.test', 'sip:dave@127.0.0.10', NULL, '2999-01-01 00:00:00', 'c4', '', NULL, NULL)`); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(routes(pool))
	defer srv.Close()
	row := func(id, ruid, user, contact, received, expires, callid, ua, socket, methods string) string {
		return `{"id":` + id + `,"ruid":"` + ruid + `","username":"` + user + `","domain":"a.test","contact":"` + contact +
			`","received":` + received + `,"path":null,"expires":"` + expires + `","q":1,"callid":"` + callid +
			`","cseq":1,"last_modified":"2000-01-01T00:00:01Z","flags":0,"cflags":0,"user_agent":` + ua +
			`,"socket":` + socket + `,"methods":` + methods + `,"instance":null,"reg_id":0,"server_id":0,"connection_id":0,"keepalive":0,"partition":0}`
	}
	for _, c := range []struct {
		name, method, path string
		status             int
		body               string
	}{
		{"the live rows of a realm, by username", "GET", "/list?realm=a.test", 200, `[` +
			row("2", "r2", "alice", "sip:alice@127.0.0.8", `"sip:127.0.0.1:40000"`, "1970-01-01T00:00:00Z", "c2", `"\u003cua\u003e"`, "null", "null") + `,` +
			row("1", "r1", "bob", "sip:bob@127.0.0.7:5062", "null", "2999-01-01T10:00:00Z", "c1", `"ua \"1\""`, `"udp:127.0.0.1:5060"`, "8191") + "]\n"},
		{"the count of the same rows", "GET", "/count?realm=a.test", 200, `{"count":2}` + "\n"},
		{"a realm without rows lists none", "GET", "/list?realm=none.test", 200, "[]\n"},
		{"and counts none", "GET", "/count?realm=none.test", 200, `{"count":0}` + "\n"},
		{"no realm", "GET", "/list", 400, "realm missing\n"},
		{"no realm to count", "GET", "/count?realm=", 400, "realm missing\n"},
		{"another method", "POST", "/list?realm=a.test", 405, "Method Not Allowed\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := send(t, c.method, srv.URL+c.path)
			if diff := cmp.Diff(c.status, status); diff != "" {
				t.Errorf("status (-want +got)\n%s", diff)
			}
			if diff := cmp.Diff(c.body, body); diff != "" {
				t.Errorf("body (-want +got)\n%s", diff)
			}
		})
	}
}

// TestThinDatabaseDown: a read that fails answers 503, never an empty list
// or a zero count.
func TestThinDatabaseDown(t *testing.T) {
	port, err := testbed.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(context.Background(), "postgres://kamailio@127.0.0.1:"+strconv.Itoa(port)+"/kamailio?connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	srv := httptest.NewServer(routes(pool))
	defer srv.Close()
	for _, path := range []string{"/list?realm=a.test", "/count?realm=a.test"} {
		status, body := send(t, http.MethodGet, srv.URL+path)
		if diff := cmp.Diff([]any{503, "database error\n"}, []any{status, body}); diff != "" {
			t.Errorf("%s (-want +got)\n%s", path, diff)
		}
	}
}

func send(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

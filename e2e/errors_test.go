//go:build integration

package e2e

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg/testbed"
)

// TestErrorTable checks each row of the README's error table, byte for
// byte, against the real server.
func TestErrorTable(t *testing.T) {
	a := newAccount(t, "Errors", "errors.kamreg.test", "", false)
	b := newAccount(t, "Stranger", "stranger.kamreg.test", "", false)
	unknown := newID()
	base := env.main.Base + "/v2/accounts/"
	tests := []struct {
		name, method, url, token string
		status                   int
		body                     string
		allow                    string
	}{
		{"no token", "GET", base + a.id + "/registrations", "", 401,
			`{"auth_token":"","data":{"message":"invalid credentials"},"error":"401","message":"invalid_credentials","request_id":"rid","status":"error"}`, ""},
		{"unknown token", "GET", base + a.id + "/registrations/count", "0123456789abcdef0123456789abcdef.00", 401,
			`{"auth_token":"0123456789abcdef0123456789abcdef.00","data":{"message":"invalid credentials"},"error":"401","message":"invalid_credentials","request_id":"rid","status":"error"}`, ""},
		{"wrong secret", "GET", base + a.id + "/registrations", a.token[:33] + "0000000000000000000000000000000000000000000000000000000000000000", 401,
			`{"auth_token":"` + a.token[:33] + `0000000000000000000000000000000000000000000000000000000000000000","data":{"message":"invalid credentials"},"error":"401","message":"invalid_credentials","request_id":"rid","status":"error"}`, ""},
		{"another account", "GET", base + a.id + "/registrations", b.token, 403,
			`{"auth_token":"` + b.token + `","data":{"message":"forbidden"},"error":"403","message":"forbidden","request_id":"rid","status":"error"}`, ""},
		{"child may not act on parent", "DELETE", base + a.id + "/registrations", b.token, 403,
			`{"auth_token":"` + b.token + `","data":{"message":"forbidden"},"error":"403","message":"forbidden","request_id":"rid","status":"error"}`, ""},
		{"malformed account without token", "GET", base + "NOT-AN-ID/registrations", "", 404,
			`{"auth_token":"","data":{"message":"invalid account_id 'NOT-AN-ID'"},"error":"404","message":"bad identifier","request_id":"rid","status":"error"}`, ""},
		{"upper-case account id", "GET", base + "ABCDEF0123456789ABCDEF0123456789/registrations/count", a.token, 404,
			`{"auth_token":"` + a.token + `","data":{"message":"invalid account_id 'ABCDEF0123456789ABCDEF0123456789'"},"error":"404","message":"bad identifier","request_id":"rid","status":"error"}`, ""},
		{"unknown account", "GET", base + unknown + "/registrations", a.token, 404,
			`{"auth_token":"` + a.token + `","data":{"cause":"` + unknown + `","message":"bad identifier"},"error":"404","message":"bad_identifier","request_id":"rid","status":"error"}`, ""},
		{"unknown username", "DELETE", base + a.id + "/registrations/nobody", a.token, 404,
			`{"auth_token":"` + a.token + `","data":["nobody"],"error":"404","message":"bad identifier","request_id":"rid","status":"error"}`, ""},
		{"GET a username", "GET", base + a.id + "/registrations/alice", a.token, 405,
			`{"auth_token":"` + a.token + `","data":{"message":"method not allowed"},"error":"405","message":"invalid_method","request_id":"rid","status":"error"}`, "DELETE"},
		{"DELETE count", "DELETE", base + a.id + "/registrations/count", a.token, 405,
			`{"auth_token":"` + a.token + `","data":{"message":"method not allowed"},"error":"405","message":"invalid_method","request_id":"rid","status":"error"}`, "GET"},
		{"PUT the list", "PUT", base + a.id + "/registrations", a.token, 405,
			`{"auth_token":"` + a.token + `","data":{"message":"method not allowed"},"error":"405","message":"invalid_method","request_id":"rid","status":"error"}`, "DELETE, GET"},
		{"POST all realms", "POST", env.main.Base + "/v2/registrations", "", 405,
			`{"auth_token":"","data":{"message":"method not allowed"},"error":"405","message":"invalid_method","request_id":"rid","status":"error"}`, "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, tt.method, tt.url, tt.token, "X-Request-ID", "rid")
			if r.status != tt.status {
				t.Errorf("status %d, want %d", r.status, tt.status)
			}
			if diff := cmp.Diff(tt.body, string(r.body)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if got := r.header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
			if got := r.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q", got)
			}
		})
	}
}

// TestTokenFromQuery checks ?auth_token= and that a revoked token stops
// working.
func TestTokenFromQuery(t *testing.T) {
	a := newAccount(t, "Query", "query.kamreg.test", "", false)
	url := env.main.Base + "/v2/accounts/" + a.id + "/registrations/count?auth_token=" + a.token
	if r := call(t, "GET", url, ""); r.status != 200 {
		t.Fatalf("?auth_token=: %d %s", r.status, r.body)
	}
	id := a.token[:32]
	if out := mustCLI(t, "tokens", "revoke", id); out != "token "+id+" revoked\n" {
		t.Errorf("revoke said %q", out)
	}
	// Authentications are cached for at most 5 s (auth's cacheTTL).
	testbed.Eventually(t, 7*time.Second, "a 401 for the revoked token, within the cache lifetime", func() bool {
		return call(t, "GET", url, "").status == 401
	})
	if code, _, errOut := cli(t, "tokens", "revoke", id); code == 0 || errOut != "kamreg tokens revoke: no live token with id "+id+"\n" {
		t.Errorf("second revoke: exit %d, stderr %q", code, errOut)
	}
}

// TestHTTPExtras checks CORS, request ids, ETag and the health endpoints.
func TestHTTPExtras(t *testing.T) {
	a := newAccount(t, "Extras", "extras.kamreg.test", "", false)
	url := env.main.Base + "/v2/accounts/" + a.id + "/registrations"

	pre := call(t, "OPTIONS", url, "", "Origin", "http://ui.example", "Access-Control-Request-Method", "DELETE",
		"Access-Control-Request-Headers", "X-Auth-Token")
	if pre.status != 200 || len(pre.body) != 0 {
		t.Errorf("preflight: %d %q", pre.status, pre.body)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":  "*",
		"Access-Control-Allow-Methods": "DELETE, GET, OPTIONS",
		"Access-Control-Allow-Headers": "Content-Type, Depth, User-Agent, X-Http-Method-Override, X-File-Name, " +
			"If-Modified-Since, If-None-Match, X-Requested-With, X-Auth-Token, X-Kazoo-Cluster-ID, Cache-Control, " +
			"If-Match, Authorization, Accept, X-Request-ID, Range",
		"Access-Control-Max-Age":        "86400",
		"Access-Control-Expose-Headers": "X-Request-ID, ETag, Location, Content-Disposition, X-Next-Start-Key",
	} {
		if got := pre.header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}

	r := call(t, "GET", url, a.token)
	rid := r.header.Get("X-Request-ID")
	if len(rid) != 32 || r.json(t)["request_id"] != rid {
		t.Errorf("generated request id %q, body %s", rid, r.body)
	}
	etag := r.header.Get("ETag")
	if nm := call(t, "GET", url, a.token, "If-None-Match", etag); nm.status != 304 || len(nm.body) != 0 {
		t.Errorf("If-None-Match %s: %d %q", etag, nm.status, nm.body)
	}
	if r2 := call(t, "GET", url, a.token); r2.header.Get("ETag") != etag {
		t.Errorf("same data, new ETag: %s then %s", etag, r2.header.Get("ETag"))
	}

	for path, want := range map[string]string{"/healthz": `{"status":"ok"}`, "/readyz": `{"status":"ready"}`} {
		if r := call(t, "GET", env.main.Base+path, ""); r.status != 200 || string(r.body) != want {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}
}

//go:build integration

package e2e

import (
	"bufio"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kamreg/kamreg/testbed"
)

// raw sends a request line and headers as they are, and returns the status
// and body.
func raw(t *testing.T, base, requestLine string, headers ...string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	req := requestLine + "\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + strings.Join(headers, "") + "\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%.80s: %v", requestLine, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, b.String()
}

// TestHostileInput: always a 4xx (an envelope, or the server's own 431),
// never a 5xx, never a hang.
func TestHostileInput(t *testing.T) {
	a := newAccount(t, "Hostile", "hostile.kamreg.test", "", false)
	register(t, testbed.Phone{User: "ivy", Domain: a.realm, ContactPort: 5070})
	waitCount(t, env.main, a, 1)
	tok := "X-Auth-Token: " + a.token + "\r\n"
	acct := "/v2/accounts/" + a.id + "/registrations"
	manyFilters := strings.Repeat("filter_username=x&", 3000)
	tests := []struct {
		name, line string
		headers    []string
		status     int
		envelope   bool
	}{
		{"NUL in the account id", "GET /v2/accounts/%00/registrations HTTP/1.1", []string{tok}, 404, true},
		{"traversal in the account id", "GET /v2/accounts/../registrations HTTP/1.1", []string{tok}, 400, true},
		{"traversal above the API", "GET /v2/accounts/" + a.id + "/../../registrations HTTP/1.1", []string{tok}, 400, true},
		{"encoded slash, never a slash", "GET /v2/accounts/" + a.id + "%2Fregistrations HTTP/1.1", []string{tok}, 404, true},
		{"NUL in a username", "DELETE " + acct + "/iv%00y HTTP/1.1", []string{tok}, 404, true},
		{"traversal in a username", "DELETE " + acct + "/..%2F..%2Fetc%2Fpasswd HTTP/1.1", []string{tok}, 404, true},
		{"SQL in a username", "DELETE " + acct + "/x'%20OR%201=1;--%20DROP%20TABLE%20location HTTP/1.1", []string{tok}, 404, true},
		{"10 KB username", "DELETE " + acct + "/" + strings.Repeat("u", 10240) + " HTTP/1.1", []string{tok}, 404, true},
		{"SQL in a filter", "GET " + acct + "?filter_username=%27%3B%20DELETE%20FROM%20location%3B%20-- HTTP/1.1", []string{tok}, 200, true},
		{"thousands of filters", "GET " + acct + "?" + manyFilters + " HTTP/1.1", []string{tok}, 400, true},
		{"unknown filter key", "GET " + acct + "?filter_password=x HTTP/1.1", []string{tok}, 400, true},
		{"page_size 0", "GET " + acct + "?page_size=0 HTTP/1.1", []string{tok}, 400, true},
		{"negative page_size", "GET " + acct + "?page_size=-5 HTTP/1.1", []string{tok}, 400, true},
		{"huge page_size", "GET " + acct + "?page_size=99999999999999999999999 HTTP/1.1", []string{tok}, 400, true},
		{"garbage start_key", "GET " + acct + "?page_size=5&start_key=%27%22%3C%3E HTTP/1.1", []string{tok}, 400, true},
		{"oversized header", "GET " + acct + " HTTP/1.1", []string{tok, "X-Junk: " + strings.Repeat("j", 200<<10) + "\r\n"}, 431, false},
		{"oversized URL", "GET " + acct + "?x=" + strings.Repeat("q", 200<<10) + " HTTP/1.1", []string{tok}, 431, false},
		{"oversized token", "GET " + acct + " HTTP/1.1", []string{"X-Auth-Token: " + strings.Repeat("t", 60<<10) + "\r\n"}, 401, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := raw(t, env.main.Base, tt.line, tt.headers...)
			if status != tt.status {
				t.Errorf("status %d, want %d: %.300s", status, tt.status, body)
			}
			if tt.envelope {
				var env struct{ Status string }
				if err := json.Unmarshal([]byte(body), &env); err != nil || (env.Status != "error" && env.Status != "success") {
					t.Errorf("not an envelope: %.300s", body)
				}
			}
		})
	}
	// The table is intact.
	if got := usernames(t, env.main, a); len(got) != 1 || got[0] != "ivy" {
		t.Errorf("after the hostile requests: %v", got)
	}

	// Every method on every path: never a 5xx.
	paths := []string{acct, acct + "/count", acct + "/ivy", "/v2/registrations", "/v2/registrations/count", "/healthz", "/readyz", "/metrics", "/v2/accounts/nope/registrations"}
	for _, p := range paths {
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECTX"} {
			if m == "DELETE" && (p == acct || p == acct+"/ivy") {
				continue // a real flush; tested elsewhere
			}
			status, body := raw(t, env.main.Base, m+" "+p+" HTTP/1.1", tok)
			if status >= 500 {
				t.Errorf("%s %s: %d %.200s", m, p, status, body)
			}
		}
	}
}

// TestIsolation checks every pair of a tree of accounts, with API tokens
// and with JWTs: an account acts on itself and its descendants, a
// super-duper account on all, nobody else on anything; and what is listed
// is only the target's.
func TestIsolation(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	path := filepath.Join(t.TempDir(), "kazoo.pem")
	_ = os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644)
	kr := serveFor(t, "main="+env.kam.RPCURL(), "KAMREG_JWT_PUBLIC_KEY="+path)

	type node struct {
		name, parent string
		super        bool
	}
	tree := []node{{"reseller", "", false}, {"child1", "reseller", false}, {"child2", "reseller", false},
		{"grandchild", "child1", false}, {"sibling", "", false}, {"super", "", true}}
	accts := map[string]account{}
	parents := map[string]string{}
	var phones []testbed.Phone
	for _, n := range tree {
		parent := ""
		if n.parent != "" {
			parent = accts[n.parent].id
		}
		accts[n.name] = newAccount(t, "Iso "+n.name, n.name+".iso.kamreg.test", parent, n.super)
		parents[n.name] = n.parent
		phones = append(phones, testbed.Phone{User: "p-" + n.name, Domain: n.name + ".iso.kamreg.test", ContactPort: 5070})
	}
	register(t, phones...)
	for _, n := range tree {
		waitCount(t, kr, accts[n.name], 1)
	}
	allowed := func(caller, target string) bool {
		if caller == "super" {
			return true
		}
		for n := target; n != ""; n = parents[n] {
			if n == caller {
				return true
			}
		}
		return false
	}
	jwtOf := func(a account) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"account_id": a.id, "exp": time.Now().Add(time.Hour).Unix()}).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, caller := range tree {
		for _, target := range tree {
			for kind, token := range map[string]string{"api token": accts[caller.name].token, "jwt": jwtOf(accts[caller.name])} {
				name := fmt.Sprintf("%s on %s with a %s", caller.name, target.name, kind)
				ok := allowed(caller.name, target.name)
				base := kr.Base + "/v2/accounts/" + accts[target.name].id + "/registrations"
				want := map[bool]int{true: 200, false: 403}[ok]
				r := call(t, "GET", base, token)
				if r.status != want {
					t.Errorf("%s: list %d, want %d", name, r.status, want)
				} else if ok {
					var v struct{ Data []struct{ Realm string } }
					_ = json.Unmarshal(r.body, &v)
					if len(v.Data) != 1 || v.Data[0].Realm != target.name+".iso.kamreg.test" {
						t.Errorf("%s: listed %+v", name, v.Data)
					}
				}
				if r := call(t, "GET", base+"/count", token); r.status != want {
					t.Errorf("%s: count %d, want %d", name, r.status, want)
				}
				wantUser := map[bool]int{true: 404, false: 403}[ok] // nobody is unknown
				if r := call(t, "DELETE", base+"/nobody", token); r.status != wantUser {
					t.Errorf("%s: flush of a user %d, want %d", name, r.status, wantUser)
				}
				if !ok {
					if r := call(t, "DELETE", base, token); r.status != 403 {
						t.Errorf("%s: realm flush %d, want 403", name, r.status)
					}
				}
			}
		}
		for _, p := range []string{"/v2/registrations", "/v2/registrations/count"} {
			want := map[bool]int{true: 200, false: 403}[caller.super]
			if r := call(t, "GET", kr.Base+p, accts[caller.name].token); r.status != want {
				t.Errorf("%s on %s: %d, want %d", caller.name, p, r.status, want)
			}
		}
	}
	// Nothing was flushed by the refused realm flushes.
	for _, n := range tree {
		waitCount(t, kr, accts[n.name], 1)
	}
}

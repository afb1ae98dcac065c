//go:build integration

package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg/testbed"
)

// TestKazooJWT serves with Kazoo's public key and checks JWTs minted here.
func TestKazooJWT(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	path := filepath.Join(t.TempDir(), "kazoo-public.pem")
	if err := os.WriteFile(path, pubPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	kr := serveFor(t, "main="+env.kam.RPCURL(), "KAMREG_JWT_PUBLIC_KEY="+path)
	parent := newAccount(t, "JWT Parent", "jwt-parent.kamreg.test", "", false)
	a := newAccount(t, "JWT", "jwt.kamreg.test", parent.id, false)
	other := newAccount(t, "JWT Other", "jwt-other.kamreg.test", "", false)
	mint := func(m jwt.SigningMethod, k any, account string, exp time.Duration) string {
		s, err := jwt.NewWithClaims(m, jwt.MapClaims{"account_id": account, "owner_id": newID(), "exp": time.Now().Add(exp).Unix()}).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"account_id": a.id, "exp": time.Now().Add(time.Hour).Unix()}).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	count := kr.Base + "/v2/accounts/" + a.id + "/registrations/count"
	tests := []struct {
		name   string
		token  string
		status int
	}{
		{"RS256 of the account", mint(jwt.SigningMethodRS256, key, a.id, time.Hour), 200},
		{"RS512 of the parent", mint(jwt.SigningMethodRS512, key, parent.id, time.Hour), 200},
		{"RS384 of another account", mint(jwt.SigningMethodRS384, key, other.id, time.Hour), 403},
		{"expired", mint(jwt.SigningMethodRS256, key, a.id, -time.Hour), 401},
		{"alg none", none, 401},
		{"HS256 keyed with the public key", mint(jwt.SigningMethodHS256, pubPEM, a.id, time.Hour), 401},
		{"the API token still works", a.token, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := call(t, "GET", count, tt.token); r.status != tt.status {
				t.Errorf("X-Auth-Token: %d, want %d: %s", r.status, tt.status, r.body)
			}
			if r := call(t, "GET", count+"?auth_token="+url.QueryEscape(tt.token), ""); r.status != tt.status {
				t.Errorf("?auth_token=: %d, want %d", r.status, tt.status)
			}
		})
	}
}

// listPage fetches one page and returns its entries' ids and next key.
func listPage(t *testing.T, a account, query string) ([]string, string) {
	t.Helper()
	r := call(t, "GET", env.main.Base+"/v2/accounts/"+a.id+"/registrations?"+query, a.token)
	if r.status != 200 {
		t.Fatalf("%s: %d %s", query, r.status, r.body)
	}
	var v struct {
		Data         []struct{ Username, Contact string }
		NextStartKey string `json:"next_start_key"`
		PageSize     int    `json:"page_size"`
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range v.Data {
		ids = append(ids, e.Username+" "+e.Contact)
	}
	if v.PageSize != len(v.Data) {
		t.Errorf("page_size %d for %d entries", v.PageSize, len(v.Data))
	}
	return ids, v.NextStartKey
}

// TestPaging walks the pages while phones register in between: every entry
// present from start to end is visited exactly once.
func TestPaging(t *testing.T) {
	a := newAccount(t, "Paging", "paging.kamreg.test", "", false)
	var phones []testbed.Phone
	for i := 0; i < 25; i++ {
		phones = append(phones, testbed.Phone{User: fmt.Sprintf("u%02d", i*4), Domain: a.realm, ContactPort: 5070})
	}
	register(t, phones...)
	waitCount(t, env.main, a, 25)
	all, next := listPage(t, a, "")
	if len(all) != 25 || next != "" {
		t.Fatalf("whole list: %d entries, next %q", len(all), next)
	}

	seen := map[string]int{}
	query := "page_size=7"
	for pages := 0; ; pages++ {
		ids, next := listPage(t, a, query)
		for _, id := range ids {
			seen[id]++
		}
		if next == "" {
			break
		}
		if pages == 1 {
			// New phones sorting before and after the cursor.
			register(t, testbed.Phone{User: "u01", Domain: a.realm, ContactPort: 5070},
				testbed.Phone{User: "u97", Domain: a.realm, ContactPort: 5070})
			waitCount(t, env.main, a, 27)
		}
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		query = "page_size=7&start_key=" + url.QueryEscape(next)
	}
	for _, id := range all {
		if seen[id] != 1 {
			t.Errorf("%s visited %d times", id, seen[id])
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s visited %d times", id, n)
		}
	}

	r := call(t, "GET", env.main.Base+"/v2/accounts/"+a.id+"/registrations?page_size=7&start_key=AAAA", a.token)
	if r.status != 400 || !strings.Contains(string(r.body), `"parameter":"start_key"`) {
		t.Errorf("mangled start_key: %d %s", r.status, r.body)
	}
}

// TestFiltersAndCSV filters on columns and on computed keys, and exports
// CSV.
func TestFiltersAndCSV(t *testing.T) {
	a := newAccount(t, "Filters", "filters.kamreg.test", "", false)
	mustCLI(t, "devices", "put", "--account", a.id, "--username", "alice", "--device-id", newID())
	register(t,
		testbed.Phone{User: "alice", Domain: a.realm, ContactPort: 5070},
		testbed.Phone{User: "alice", Domain: a.realm, ContactPort: 5072},
		testbed.Phone{User: "bob", Domain: a.realm, ContactPort: 5072},
		testbed.Phone{User: "carol", Domain: a.realm, ContactHost: "[::1]", ContactPort: 5070})
	waitCount(t, env.main, a, 4)
	tests := []struct {
		query string
		want  []string
	}{
		{"filter_username=alice", []string{"alice sip:alice@127.0.0.77:5070", "alice sip:alice@127.0.0.77:5072"}},
		{"filter_not_username=alice", []string{"bob sip:bob@127.0.0.77:5072", "carol sip:carol@[::1]:5070"}},
		{"filter_contact_port=5072", []string{"alice sip:alice@127.0.0.77:5072", "bob sip:bob@127.0.0.77:5072"}},
		{"filter_contact_port=5072&filter_authorizing_type=device", []string{"alice sip:alice@127.0.0.77:5072"}},
		{"filter_contact_ip=" + url.QueryEscape("[::1]"), []string{"carol sip:carol@[::1]:5070"}},
		{"filter_not_authorizing_type=device&page_size=1", []string{"bob sip:bob@127.0.0.77:5072"}},
		{"filter_username=nobody", nil},
	}
	for _, tt := range tests {
		got, _ := listPage(t, a, tt.query)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.query, diff)
		}
		c := call(t, "GET", env.main.Base+"/v2/accounts/"+a.id+"/registrations/count?"+strings.ReplaceAll(tt.query, "&page_size=1", ""), a.token).json(t)
		if n := c["data"].(map[string]any)["count"].(float64); !strings.Contains(tt.query, "page_size") && int(n) != len(tt.want) {
			t.Errorf("count?%s = %v, want %d", tt.query, n, len(tt.want))
		}
	}
	r := call(t, "GET", env.main.Base+"/v2/accounts/"+a.id+"/registrations?filter_colour=red", a.token, "X-Request-ID", "rid")
	want := `{"auth_token":"` + a.token + `","data":{"message":"unknown key \"colour\": filters work on the keys of a registration","parameter":"filter_colour"},"error":"400","message":"invalid request","request_id":"rid","status":"error"}`
	if r.status != 400 || string(r.body) != want {
		t.Errorf("unknown filter key: %d %s", r.status, r.body)
	}

	csvReply := call(t, "GET", env.main.Base+"/v2/accounts/"+a.id+"/registrations?filter_username=alice", a.token, "Accept", "text/csv")
	if ct := csvReply.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	rows, err := csv.NewReader(strings.NewReader(string(csvReply.body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][22] != "user_agent" || rows[1][22] != `kamreg testbed phone, "alice"` || rows[1][23] != "alice" {
		t.Errorf("CSV rows %q", rows)
	}
}

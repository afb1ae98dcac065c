package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/registry"
)

const (
	acctID   = "0123456789abcdef0123456789abcdef"
	otherID  = "fedcba9876543210fedcba9876543210"
	superID  = "5555555555555555555555555555555f"
	goodTok  = "tok-acct"
	otherTok = "tok-other"
	superTok = "tok-super"
)

var accounts = map[string]kamreg.Account{
	acctID:  {ID: acctID, Name: "Acme", Realm: "Acme.Kamreg.Test"},
	otherID: {ID: otherID, Name: "Other", Realm: "other.kamreg.test"},
	superID: {ID: superID, Name: "Super", Realm: "super.kamreg.test", SuperDuper: true},
}

func sampleRegistrations() []kamreg.Registration {
	r := kamreg.Registration{
		AccountName: "Acme", AccountRealm: "Acme.Kamreg.Test", AuthorizingID: "undefined", AuthorizingType: "undefined",
		CallID: "c1", Contact: "sip:alice@127.0.0.77:5070", ContactIP: "127.0.0.77", ContactPort: "5070",
		EventTimestamp: 63962913599, Expires: 299, FromHost: "acme.kamreg.test", FromUser: "alice",
		NetworkIP: "127.0.0.1", NetworkPort: "40001", OriginalContact: "sip:alice@127.0.0.77:5070", OwnerID: "undefined",
		ProxyIP: "127.0.0.1", ProxyPort: "5060", Realm: "acme.kamreg.test", ToHost: "acme.kamreg.test", ToUser: "alice",
		UserAgent: "Phone <1> & co", Username: "alice",
	}
	r2 := r
	r2.Contact, r2.OriginalContact, r2.ContactPort, r2.CallID = "sip:alice@127.0.0.77:5072", "sip:alice@127.0.0.77:5072", "5072", "c2"
	return []kamreg.Registration{r, r2}
}

// newTestServer returns a server on fakes; regs may override the defaults.
func newTestServer(t *testing.T, regs fakeRegistrations, log *bytes.Buffer) *Server {
	t.Helper()
	return New(testConfig(regs, log))
}

// testConfig is the configuration of a server on fakes.
func testConfig(regs fakeRegistrations, log *bytes.Buffer) Config {
	if regs.ListFn == nil {
		regs.ListFn = func(kamreg.ListQuery) (kamreg.Page, error) {
			return kamreg.Page{Entries: sampleRegistrations()}, nil
		}
	}
	if regs.CountFn == nil {
		regs.CountFn = func(kamreg.ListQuery) (int, error) { return 2, nil }
	}
	if regs.FlushRealmFn == nil {
		regs.FlushRealmFn = func(kamreg.Account) (kamreg.FlushReport, error) {
			return kamreg.FlushReport{Flushed: []string{"a@r"}}, nil
		}
	}
	if regs.FlushUserFn == nil {
		regs.FlushUserFn = func(_ kamreg.Account, u string) (kamreg.FlushReport, error) {
			if u == "nobody" {
				return kamreg.FlushReport{}, kamreg.ErrUnknownUser
			}
			return kamreg.FlushReport{Flushed: []string{u + "@r"}}, nil
		}
	}
	logger := logrus.New()
	logger.SetFormatter(&logrus.JSONFormatter{})
	if log != nil {
		logger.SetOutput(log)
	} else {
		logger.SetOutput(&bytes.Buffer{})
	}
	return Config{
		Accounts: fakeAccounts{
			GetFn: func(id string) (kamreg.Account, error) {
				if a, ok := accounts[id]; ok {
					return a, nil
				}
				return kamreg.Account{}, kamreg.ErrNotFound
			},
			MayActFn: func(caller, target string) (bool, error) { return caller == target || caller == superID, nil },
		},
		Tokens: fakeTokens{AuthenticateFn: func(tok string) (string, error) {
			switch tok {
			case goodTok:
				return acctID, nil
			case otherTok:
				return otherID, nil
			case superTok:
				return superID, nil
			}
			return "", kamreg.ErrBadToken
		}},
		Registrations: regs,
		DB:            fakeDB{PingFn: func() error { return nil }},
		Log:           logger,
	}
}

func do(s http.Handler, method, path, token string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("X-Request-ID", "rid")
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := "testdata/" + name + ".json"
	var pretty bytes.Buffer
	if len(got) > 0 {
		if err := json.Indent(&pretty, got, "", "  "); err != nil {
			t.Fatalf("%s: not JSON: %s", name, got)
		}
		pretty.WriteByte('\n')
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), pretty.String()); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

const base = "/v2/accounts/" + acctID + "/registrations"

// goldenCase is one request on fakes whose answer is a golden file.
type goldenCase struct {
	name, method, path, token string
	regs                      fakeRegistrations
	status                    int
}

// goldenCases covers every response shape: success envelopes and every
// row of the error table.
func goldenCases() []goldenCase {
	incomplete := kamreg.FlushReport{Flushed: []string{"a@r"}, Failed: []string{"b@r", "c@r"},
		Nodes: []kamreg.NodeFailure{{Node: "k2", Error: "2 of 3 AoRs not flushed: node k2: connection refused"}}}
	return []goldenCase{
		{"list", "GET", base, goodTok, fakeRegistrations{}, 200},
		{"list_empty", "GET", base, goodTok, fakeRegistrations{ListFn: func(kamreg.ListQuery) (kamreg.Page, error) {
			return kamreg.Page{Entries: []kamreg.Registration{}}, nil
		}}, 200},
		{"list_paged", "GET", base + "?page_size=2&start_key=" + EncodeStartKey(kamreg.Key{Username: "a", Contact: "sip:a@h", Ruid: "r"}), goodTok,
			fakeRegistrations{ListFn: func(kamreg.ListQuery) (kamreg.Page, error) {
				return kamreg.Page{Entries: sampleRegistrations(), Next: &kamreg.Key{Username: "alice", Contact: "sip:alice@127.0.0.77:5072", Ruid: "r2"}}, nil
			}}, 200},
		{"error_page_size", "GET", base + "?page_size=0", goodTok, fakeRegistrations{}, 400},
		{"error_start_key", "GET", base + "?page_size=2&start_key=bm9wZQ", goodTok, fakeRegistrations{}, 400},
		{"error_filter_key", "GET", base + "/count?filter_nope=1", goodTok, fakeRegistrations{}, 400},
		{"count", "GET", base + "/count", goodTok, fakeRegistrations{}, 200},
		{"flush_ok", "DELETE", base, goodTok, fakeRegistrations{}, 200},
		{"flush_user_ok", "DELETE", base + "/alice", goodTok, fakeRegistrations{}, 200},
		{"error_no_token", "GET", base, "", fakeRegistrations{}, 401},
		{"error_bad_token", "GET", base, "nope", fakeRegistrations{}, 401},
		{"error_forbidden", "GET", base, otherTok, fakeRegistrations{}, 403},
		{"error_malformed_account", "GET", "/v2/accounts/xyz/registrations", "", fakeRegistrations{}, 404},
		{"error_unknown_account", "GET", "/v2/accounts/ffffffffffffffffffffffffffffffff/registrations", goodTok, fakeRegistrations{}, 404},
		{"error_unknown_username", "DELETE", base + "/nobody", goodTok, fakeRegistrations{}, 404},
		{"error_method", "GET", base + "/alice", goodTok, fakeRegistrations{}, 405},
		{"error_datastore", "GET", base, goodTok, fakeRegistrations{ListFn: func(kamreg.ListQuery) (kamreg.Page, error) {
			return kamreg.Page{}, kamreg.Wrap(kamreg.EUNAVAILABLE, errors.New("dial tcp 127.0.0.1:5432: connect: connection refused"),
				"PostgreSQL is unreachable or failing")
		}}, 503},
		{"error_datastore_missing_table", "GET", base + "/count", goodTok, fakeRegistrations{CountFn: func(kamreg.ListQuery) (int, error) {
			return 0, kamreg.Errorf(kamreg.EUNAVAILABLE, "a table is missing (relation \"location\" does not exist): load Kamailio's usrloc schema and run kamreg migrate")
		}}, 503},
		{"error_deadline", "GET", base, goodTok, fakeRegistrations{ListFn: func(kamreg.ListQuery) (kamreg.Page, error) {
			return kamreg.Page{}, fmt.Errorf("waiting for a shared lookup: %w", context.DeadlineExceeded)
		}}, 503},
		{"error_invalid", "GET", base + "/count", goodTok, fakeRegistrations{CountFn: func(kamreg.ListQuery) (int, error) {
			return 0, kamreg.Errorf(kamreg.EINVALID, "no realm to watch")
		}}, 400},
		{"error_internal", "GET", base + "/count", goodTok, fakeRegistrations{CountFn: func(kamreg.ListQuery) (int, error) {
			return 0, errors.New("a fault of kamreg's, with details for the log only")
		}}, 500},
		{"error_flush_incomplete", "DELETE", base, goodTok, fakeRegistrations{FlushRealmFn: func(kamreg.Account) (kamreg.FlushReport, error) {
			return incomplete, &kamreg.FlushError{Report: incomplete}
		}}, 503},
		{"error_flush_no_nodes", "DELETE", base + "/alice", goodTok, fakeRegistrations{FlushUserFn: func(kamreg.Account, string) (kamreg.FlushReport, error) {
			report := kamreg.FlushReport{Failed: []string{"alice@r"}}
			return report, &kamreg.FlushError{Report: report, Cause: registry.ErrNoNodes}
		}}, 503},
		{"error_flush_not_recorded", "DELETE", base, goodTok, fakeRegistrations{FlushRealmFn: func(kamreg.Account) (kamreg.FlushReport, error) {
			return kamreg.FlushReport{Flushed: []string{"a@r"}}, kamreg.Errorf(kamreg.EUNAVAILABLE,
				"the flush reached every node but could not be recorded: PostgreSQL is unreachable or failing")
		}}, 503},
		{"error_not_found", "GET", "/v2/nothing", goodTok, fakeRegistrations{}, 404},
		{"error_dot_segment", "DELETE", base + "/.", goodTok, fakeRegistrations{}, 400},
		{"error_kamailio_source", "GET", base, goodTok, fakeRegistrations{ListFn: func(kamreg.ListQuery) (kamreg.Page, error) {
			return kamreg.Page{}, kamreg.Errorf(kamreg.EUNAVAILABLE, "Kamailio node k2 did not answer: ul.dump: reply too large: more than 67108864 bytes")
		}}, 503},
	}
}

func TestGoldenResponses(t *testing.T) {
	for _, tt := range goldenCases() {
		t.Run(tt.name, func(t *testing.T) {
			w := do(newTestServer(t, tt.regs, nil), tt.method, tt.path, tt.token)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			golden(t, tt.name, w.Body.Bytes())
		})
	}
}

func TestScopes(t *testing.T) {
	var seen []kamreg.Scope
	regs := fakeRegistrations{
		ListFn: func(q kamreg.ListQuery) (kamreg.Page, error) {
			seen = append(seen, q.Scope)
			return kamreg.Page{}, nil
		},
		CountFn: func(q kamreg.ListQuery) (int, error) { seen = append(seen, q.Scope); return 0, nil },
	}
	s := newTestServer(t, regs, nil)
	for _, c := range []struct{ path, token string }{
		{base, goodTok}, {base + "/count", superTok}, {"/v2/registrations", superTok}, {"/v2/registrations/count", superTok},
	} {
		if w := do(s, "GET", c.path, c.token); w.Code != 200 {
			t.Errorf("%s: %d %s", c.path, w.Code, w.Body)
		}
	}
	want := []kamreg.Scope{{Realm: "Acme.Kamreg.Test"}, {Realm: "Acme.Kamreg.Test"}, {}, {}}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("scopes (-want +got):\n%s", diff)
	}
	for _, path := range []string{"/v2/registrations", "/v2/registrations/count"} {
		if w := do(s, "GET", path, goodTok); w.Code != 403 {
			t.Errorf("%s as a plain account: %d", path, w.Code)
		}
	}
}

func TestAccountCheckComesBeforeAuthentication(t *testing.T) {
	s := newTestServer(t, fakeRegistrations{}, nil)
	tests := []struct {
		path, token string
		status      int
		message     string
	}{
		{"/v2/accounts/nothex/registrations", "", 404, "bad identifier"},
		{"/v2/accounts/ffffffffffffffffffffffffffffffff/registrations", "", 404, "bad_identifier"},
		{base, "", 401, "invalid_credentials"},
	}
	for _, tt := range tests {
		w := do(s, "GET", tt.path, tt.token)
		var env struct{ Message string }
		_ = json.Unmarshal(w.Body.Bytes(), &env)
		if w.Code != tt.status || env.Message != tt.message {
			t.Errorf("%s: %d %q, want %d %q", tt.path, w.Code, env.Message, tt.status, tt.message)
		}
	}
}

func TestUnknownUsernamesNeverReachTheBackend(t *testing.T) {
	called := false
	s := newTestServer(t, fakeRegistrations{FlushUserFn: func(kamreg.Account, string) (kamreg.FlushReport, error) {
		called = true
		return kamreg.FlushReport{}, nil
	}}, nil)
	// (A space is a username's: Kamailio stores sip:a%20b@realm as "a b".)
	for _, u := range []string{"a%00b", "a%40b", strings.Repeat("x", 65), "%FF"} {
		if w := do(s, "DELETE", base+"/"+u, goodTok); w.Code != 404 {
			t.Errorf("%q: %d %s", u, w.Code, w.Body)
		}
	}
	if called {
		t.Error("an impossible username reached the flush")
	}
}

func TestETagAndPreflight(t *testing.T) {
	s := newTestServer(t, fakeRegistrations{}, nil)
	w := do(s, "GET", base, goodTok)
	etag := w.Header().Get("ETag")
	for _, inm := range []string{etag, strings.Trim(etag, `"`), `W/` + etag, `"x", ` + etag, "*"} {
		if w := do(s, "GET", base, goodTok, "If-None-Match", inm); w.Code != 304 || w.Body.Len() != 0 {
			t.Errorf("If-None-Match %s: %d %q", inm, w.Code, w.Body)
		}
	}
	if w := do(s, "GET", base, goodTok, "If-None-Match", `"other"`); w.Code != 200 {
		t.Errorf("stale If-None-Match: %d", w.Code)
	}
	p := do(s, "OPTIONS", base+"/alice", "")
	if p.Code != 200 || p.Body.Len() != 0 || !strings.Contains(p.Header().Get("Access-Control-Allow-Headers"), "X-Auth-Token") {
		t.Errorf("preflight: %d %q %v", p.Code, p.Body, p.Header())
	}
}

func TestOneLogLinePerRequestWithoutToken(t *testing.T) {
	var log bytes.Buffer
	s := newTestServer(t, fakeRegistrations{}, &log)
	do(s, "GET", base+"?auth_token="+goodTok, "")
	do(s, "GET", base, goodTok)
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2:\n%s", len(lines), log.String())
	}
	if strings.Contains(log.String(), goodTok) {
		t.Errorf("a token reached the log:\n%s", log.String())
	}
	var entry map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &entry); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"request_id": "rid", "method": "GET", "route": "account_registrations",
		"status": 200.0, "account_id": acctID, "msg": "request"} {
		if entry[k] != want {
			t.Errorf("%s = %v, want %v", k, entry[k], want)
		}
	}
}

func TestPanicIsA500Envelope(t *testing.T) {
	s := newTestServer(t, fakeRegistrations{CountFn: func(kamreg.ListQuery) (int, error) { panic("boom") }}, nil)
	w := do(s, "GET", base+"/count", goodTok)
	if w.Code != 500 || !strings.Contains(w.Body.String(), `"message":"internal_error"`) {
		t.Errorf("%d %s", w.Code, w.Body)
	}
}

// errorRow is the API's error table (the README's "Errors" and
// openapi.yaml's error answers) for one golden, written by hand: the goldens are written from
// the code under test, so this is what keeps them from drifting with it.
type errorRow struct {
	status    string // the envelope's "error": the HTTP status as a string
	message   string
	authToken string
	// data is the exact "data", keys in the order the answer must give
	// them.
	data string
}

var errorTable = map[string]errorRow{
	// 401: no token, unknown token, bad signature or expired token.
	"error_no_token":  {"401", "invalid_credentials", "", `{"message":"invalid credentials"}`},
	"error_bad_token": {"401", "invalid_credentials", "nope", `{"message":"invalid credentials"}`},
	// 403: not the account, not an ancestor, not super-duper.
	"error_forbidden": {"403", "forbidden", otherTok, `{"message":"forbidden"}`},
	// 404: the account id is not 32 lowercase hex characters.
	"error_malformed_account": {"404", "bad identifier", "", `{"message":"invalid account_id 'xyz'"}`},
	// 404: a well-formed but unknown account id.
	"error_unknown_account": {"404", "bad_identifier", goodTok,
		`{"cause":"ffffffffffffffffffffffffffffffff","message":"bad identifier"}`},
	// 404: DELETE of an unknown username.
	"error_unknown_username": {"404", "bad identifier", goodTok, `["nobody"]`},
	// 405, with an Allow header.
	"error_method": {"405", "invalid_method", goodTok, `{"message":"method not allowed"}`},
	// 400: a bad page_size, start_key or filter.
	"error_page_size": {"400", "invalid request", goodTok,
		`{"message":"page_size must be one integer from 1 to 10000","parameter":"page_size"}`},
	"error_start_key": {"400", "invalid request", goodTok,
		`{"message":"malformed start_key: pass the next_start_key of the page before, unchanged","parameter":"start_key"}`},
	"error_filter_key": {"400", "invalid request", goodTok,
		`{"message":"unknown key \"nope\": filters work on the keys of a registration","parameter":"filter_nope"}`},
	// 400 too: a path that still holds a "." or ".." segment.
	"error_dot_segment": {"400", "invalid request", goodTok,
		`{"message":"the path holds a dot segment (\".\" or \"..\"): write a dot in a name as %2E","parameter":"path"}`},
	// 503: PostgreSQL unreachable or failing (a Kamailio source that
	// cannot answer is a backend failure too, never an empty list).
	"error_datastore": {"503", "datastore fatal error", goodTok, `{"message":"PostgreSQL is unreachable or failing"}`},
	"error_datastore_missing_table": {"503", "datastore fatal error", goodTok,
		`{"message":"a table is missing (relation \"location\" does not exist): load Kamailio's usrloc schema and run kamreg migrate"}`},
	"error_flush_not_recorded": {"503", "datastore fatal error", goodTok,
		`{"message":"the flush reached every node but could not be recorded: PostgreSQL is unreachable or failing"}`},
	"error_kamailio_source": {"503", "datastore fatal error", goodTok,
		`{"message":"Kamailio node k2 did not answer: ul.dump: reply too large: more than 67108864 bytes"}`},
	// 503: a flush that did not reach every node.
	"error_flush_incomplete": {"503", "flush incomplete", goodTok,
		`{"message":"the flush did not reach every Kamailio node: 2 of 3 AoRs not acknowledged everywhere",` +
			`"nodes":[{"node":"k2","error":"2 of 3 AoRs not flushed: node k2: connection refused"}],"flushed":1,"failed":2}`},
	"error_flush_no_nodes": {"503", "flush incomplete", goodTok,
		`{"message":"no Kamailio JSON-RPC node is configured (KAMREG_KAMAILIO_RPC)","nodes":[],"flushed":0,"failed":1}`},
	// 503 too: a deadline that passed while a backend was asked.
	"error_deadline": {"503", "datastore fatal error", goodTok, `{"message":"the backends did not answer in time"}`},
	// Beyond the table, in the same envelope: bad input refused by the
	// domain, a fault of kamreg's (as a panic answers), an unknown path,
	// and the limit on failed authentications.
	"error_invalid":      {"400", "invalid request", goodTok, `{"message":"no realm to watch"}`},
	"error_internal":     {"500", "internal_error", goodTok, `{"message":"internal error"}`},
	"error_not_found":    {"404", "not_found", goodTok, `{"message":"not found"}`},
	"error_rate_limited": {"429", "too_many_requests", goodTok, `{"message":"too many requests"}`},
	// The device routes: errors as the registrations list's; a sync of a
	// device or username with no live registration names it, as the
	// flush of an unknown username does; a sync some node holding a
	// contact did not accept, in the form of an incomplete flush.
	"error_devices_datastore":    {"503", "datastore fatal error", goodTok, `{"message":"PostgreSQL is unreachable or failing"}`},
	"error_devices_forbidden":    {"403", "forbidden", otherTok, `{"message":"forbidden"}`},
	"error_sync_no_registration": {"404", "bad identifier", goodTok, `["d0000000000000000000000000000001"]`},
	"error_sync_bad_device_id":   {"404", "bad identifier", goodTok, `["nope"]`},
	"error_sync_incomplete": {"503", "sync incomplete", goodTok,
		`{"message":"the check-sync did not reach every Kamailio node holding a contact: 1 of 2 contacts not sent",` +
			`"nodes":[{"node":"k2","error":"Kamailio node k2 did not answer: connection refused"}],"sent":1,"failed":1}`},
	"error_sync_no_nodes":     {"503", "datastore fatal error", goodTok, `{"message":"no Kamailio JSON-RPC node is configured (KAMREG_KAMAILIO_RPC)"}`},
	"error_sync_reboot":       {"400", "invalid request", goodTok, `{"message":"want true or false","parameter":"reboot"}`},
	"error_sync_method":       {"405", "invalid_method", goodTok, `{"message":"method not allowed"}`},
	"error_sync_rate_limited": {"429", "too_many_requests", superTok, `{"message":"too many requests"}`},
	// The account, descendants and device list kamreg serves without
	// Kazoo (standin.go): errors as the registrations list's.
	"error_account_no_token":            {"401", "invalid_credentials", "", `{"message":"invalid credentials"}`},
	"error_descendants_datastore":       {"503", "datastore fatal error", goodTok, `{"message":"PostgreSQL is unreachable or failing"}`},
	"error_descendants_forbidden":       {"403", "forbidden", otherTok, `{"message":"forbidden"}`},
	"error_device_list_datastore":       {"503", "datastore fatal error", goodTok, `{"message":"PostgreSQL is unreachable or failing"}`},
	"error_device_list_status":          {"503", "datastore fatal error", goodTok, `{"message":"PostgreSQL is unreachable or failing"}`},
	"error_device_list_unknown_account": {"404", "bad_identifier", goodTok, `{"cause":"ffffffffffffffffffffffffffffffff","message":"bad identifier"}`},
	"error_device_list_method":          {"405", "invalid_method", goodTok, `{"message":"method not allowed"}`},
}

// TestErrorGoldensMatchTheTable checks every error golden against the
// error table written above: envelope keys in order, status,
// message and data (shape, key order and text).
func TestErrorGoldensMatchTheTable(t *testing.T) {
	files, err := filepath.Glob("testdata/error_*.json")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	var want []string
	for name := range errorTable {
		want = append(want, name)
	}
	sort.Strings(want)
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("error goldens without a hand-written row, or rows without a golden (-rows +goldens):\n%s", diff)
	}
	for _, name := range names {
		row, ok := errorTable[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile("testdata/" + name + ".json")
			if err != nil {
				t.Fatal(err)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, raw); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			wantText := `{"auth_token":` + jsonString(row.authToken) + `,"data":` + row.data + `,"error":"` + row.status +
				`","message":` + jsonString(row.message) + `,"request_id":"rid","status":"error"}`
			if diff := cmp.Diff(wantText, compact.String()); diff != "" {
				t.Errorf("(-table +golden):\n%s", diff)
			}
		})
	}
	// The goldens' statuses are the ones the golden cases expect, and a
	// 405 names what is allowed.
	for _, tt := range goldenCases() {
		row, ok := errorTable[tt.name]
		if ok && row.status != strconv.Itoa(tt.status) {
			t.Errorf("%s: the golden case expects %d, the table %s", tt.name, tt.status, row.status)
		}
		if ok && row.status == "405" {
			w := do(newTestServer(t, tt.regs, nil), tt.method, tt.path, tt.token)
			if allow := w.Header().Get("Allow"); !strings.Contains(allow, "DELETE") {
				t.Errorf("%s: Allow %q, want DELETE in it", tt.name, allow)
			}
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestAUserNamedEvents: the event stream's path still flushes a user named
// "events" on DELETE, as any other username.
func TestAUserNamedEvents(t *testing.T) {
	var flushed []string
	s := newTestServer(t, fakeRegistrations{FlushUserFn: func(_ kamreg.Account, u string) (kamreg.FlushReport, error) {
		flushed = append(flushed, u)
		return kamreg.FlushReport{Flushed: []string{u + "@r"}}, nil
	}}, nil)
	if w := do(s, "DELETE", base+"/events", goodTok); w.Code != 200 {
		t.Fatalf("DELETE …/events: %d %s", w.Code, w.Body)
	}
	if diff := cmp.Diff([]string{"events"}, flushed); diff != "" {
		t.Errorf("flushed (-want +got):\n%s", diff)
	}
}

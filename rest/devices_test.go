package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/registry"
)

const (
	devices = "/v2/accounts/" + acctID + "/devices"
	devID   = "d0000000000000000000000000000001"
)

// fakeDevices answers the device routes; nil functions answer as a realm
// with two registered devices whose syncs all succeed.
type fakeDevices struct {
	StatusFn func(s kamreg.Scope) ([]string, error)
	SyncFn   func(req registry.SyncRequest) (registry.SyncReport, error)
}

func (f fakeDevices) DeviceStatus(_ context.Context, s kamreg.Scope) ([]string, error) {
	if f.StatusFn == nil {
		return []string{devID, "d0000000000000000000000000000002"}, nil
	}
	return f.StatusFn(s)
}

func (f fakeDevices) Sync(_ context.Context, req registry.SyncRequest) (registry.SyncReport, error) {
	if f.SyncFn == nil {
		return registry.SyncReport{Sent: []string{"sip:alice@127.0.0.77:5070"}}, nil
	}
	return f.SyncFn(req)
}

func deviceServer(t *testing.T, d fakeDevices, log *bytes.Buffer, edit ...func(*Config)) *Server {
	t.Helper()
	cfg := testConfig(fakeRegistrations{}, log)
	cfg.Devices = d
	for _, e := range edit {
		e(&cfg)
	}
	return New(cfg)
}

type deviceCase struct {
	name, method, path, token string
	devices                   fakeDevices
	status                    int
}

func deviceCases() []deviceCase {
	incomplete := registry.SyncReport{Sent: []string{"sip:alice@127.0.0.77:5070"}, Failed: []string{"sip:alice@127.0.0.77:5072"},
		Nodes: []kamreg.NodeFailure{{Node: "k2", Error: "Kamailio node k2 did not answer: connection refused"}}}
	return []deviceCase{
		{"devices_status", "GET", devices + "/status", goodTok, fakeDevices{}, 200},
		{"devices_status_empty", "GET", devices + "/status", goodTok, fakeDevices{StatusFn: func(kamreg.Scope) ([]string, error) {
			return []string{}, nil
		}}, 200},
		{"error_devices_datastore", "GET", devices + "/status", goodTok, fakeDevices{StatusFn: func(kamreg.Scope) ([]string, error) {
			return nil, kamreg.Errorf(kamreg.EUNAVAILABLE, "PostgreSQL is unreachable or failing")
		}}, 503},
		{"error_devices_forbidden", "GET", devices + "/status", otherTok, fakeDevices{}, 403},
		{"sync_ok", "POST", devices + "/" + devID + "/sync", goodTok, fakeDevices{}, 200},
		{"sync_user_ok", "POST", base + "/alice/sync?reboot=true", goodTok, fakeDevices{}, 200},
		{"error_sync_no_registration", "POST", devices + "/" + devID + "/sync", goodTok, fakeDevices{SyncFn: func(registry.SyncRequest) (registry.SyncReport, error) {
			return registry.SyncReport{}, registry.ErrNoRegistration
		}}, 404},
		{"error_sync_bad_device_id", "POST", devices + "/nope/sync", goodTok, fakeDevices{}, 404},
		{"error_sync_incomplete", "POST", devices + "/" + devID + "/sync", goodTok, fakeDevices{SyncFn: func(registry.SyncRequest) (registry.SyncReport, error) {
			return incomplete, nil
		}}, 503},
		{"error_sync_no_nodes", "POST", base + "/alice/sync", goodTok, fakeDevices{SyncFn: func(registry.SyncRequest) (registry.SyncReport, error) {
			return registry.SyncReport{}, registry.ErrNoNodes
		}}, 503},
		{"error_sync_reboot", "POST", base + "/alice/sync?reboot=yes", goodTok, fakeDevices{}, 400},
		{"error_sync_method", "GET", devices + "/" + devID + "/sync", goodTok, fakeDevices{}, 405},
	}
}

// TestDeviceGoldens: each answer of the device routes is its hand-written
// golden and matches openapi.yaml.
func TestDeviceGoldens(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range deviceCases() {
		t.Run(tt.name, func(t *testing.T) {
			w := do(deviceServer(t, tt.devices, nil), tt.method, tt.path, tt.token)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			golden(t, tt.name, w.Body.Bytes())
			checkOpenAPI(t, doc, router, tt.method, tt.path, w)
		})
	}
}

// TestDevicesStatusRevalidates: the status carries an ETag and answers 304
// to it while the registered devices do not change, as the list does.
func TestDevicesStatusRevalidates(t *testing.T) {
	ids := []string{devID}
	s := deviceServer(t, fakeDevices{StatusFn: func(kamreg.Scope) ([]string, error) { return ids, nil }}, nil)
	first := do(s, "GET", devices+"/status", goodTok)
	etag := first.Header().Get("ETag")
	if first.Code != 200 || etag == "" {
		t.Fatalf("%d, ETag %q", first.Code, etag)
	}
	if w := do(s, "GET", devices+"/status", goodTok, "If-None-Match", etag); w.Code != http.StatusNotModified {
		t.Errorf("same devices: %d, want 304", w.Code)
	}
	ids = []string{}
	if w := do(s, "GET", devices+"/status", goodTok, "If-None-Match", etag); w.Code != 200 {
		t.Errorf("a device gone: %d, want 200", w.Code)
	}
}

// TestSyncRequests: what each route asks of the registrations: the
// account's realm, the device or the username (the flush's segment rules),
// and reboot.
func TestSyncRequests(t *testing.T) {
	realm := "Acme.Kamreg.Test"
	for _, tt := range []struct {
		path string
		want registry.SyncRequest
	}{
		{devices + "/" + devID + "/sync", registry.SyncRequest{Scope: kamreg.Scope{Realm: realm}, DeviceID: devID}},
		{devices + "/" + devID + "/sync?reboot=true", registry.SyncRequest{Scope: kamreg.Scope{Realm: realm}, DeviceID: devID, Reboot: true}},
		{base + "/alice/sync?reboot=false", registry.SyncRequest{Scope: kamreg.Scope{Realm: realm, Username: "alice"}}},
		{base + "/%2E/sync", registry.SyncRequest{Scope: kamreg.Scope{Realm: realm, Username: "."}}},
		{base + "/a%2Fb@acme.kamreg.test/sync", registry.SyncRequest{Scope: kamreg.Scope{Realm: realm, Username: "a/b"}}},
	} {
		var got []registry.SyncRequest
		s := deviceServer(t, fakeDevices{SyncFn: func(req registry.SyncRequest) (registry.SyncReport, error) {
			got = append(got, req)
			return registry.SyncReport{Sent: []string{"sip:x"}}, nil
		}}, nil)
		if w := do(s, "POST", tt.path, goodTok); w.Code != 200 {
			t.Errorf("%s: %d %s", tt.path, w.Code, w.Body)
		}
		if diff := cmp.Diff([]registry.SyncRequest{tt.want}, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.path, diff)
		}
	}
	// A segment no location row can hold, another realm's AoR, or a dot
	// segment never reaches the registrations.
	s := deviceServer(t, fakeDevices{SyncFn: func(req registry.SyncRequest) (registry.SyncReport, error) {
		t.Errorf("sync of %+v", req)
		return registry.SyncReport{}, nil
	}}, nil)
	for path, status := range map[string]int{base + "/a@other.test/sync": 404, base + "/%00/sync": 404, base + "/./sync": 400} {
		if w := do(s, "POST", path, goodTok); w.Code != status {
			t.Errorf("%s: %d, want %d", path, w.Code, status)
		}
	}
}

// TestSyncRateLimited: past its burst an account gets 429, another account
// does not; the limit is per account, whatever the token.
func TestSyncRateLimited(t *testing.T) {
	calls := 0
	s := deviceServer(t, fakeDevices{SyncFn: func(registry.SyncRequest) (registry.SyncReport, error) {
		calls++
		return registry.SyncReport{Sent: []string{"sip:x"}}, nil
	}}, nil, func(c *Config) { c.SyncRate, c.SyncBurst = 0.001, 2 })
	path := devices + "/" + devID + "/sync"
	for i, want := range []int{200, 200, 429} {
		if w := do(s, "POST", path, goodTok); w.Code != want {
			t.Errorf("sync %d: %d, want %d", i, w.Code, want)
		}
	}
	w := do(s, "POST", path, superTok)
	if w.Code != 429 {
		t.Errorf("the same account with another token: %d, want 429", w.Code)
	}
	golden(t, "error_sync_rate_limited", w.Body.Bytes())
	if w := do(s, "POST", "/v2/accounts/"+otherID+"/devices/"+devID+"/sync", otherTok); w.Code != 200 {
		t.Errorf("another account: %d, want 200", w.Code)
	}
	if calls != 3 {
		t.Errorf("%d syncs reached the registrations, want 3", calls)
	}
}

// TestSyncLogged: each sync is logged with its account, device and
// contacts, what a phone wrote escaped, and at most maxLoggedContacts.
func TestSyncLogged(t *testing.T) {
	var contacts []string
	for i := 0; i < 12; i++ {
		contacts = append(contacts, "sip:a@h\x1b[31m"+strings.Repeat("x", i))
	}
	var log bytes.Buffer
	s := deviceServer(t, fakeDevices{SyncFn: func(registry.SyncRequest) (registry.SyncReport, error) {
		return registry.SyncReport{Sent: contacts}, nil
	}}, &log)
	if w := do(s, "POST", devices+"/"+devID+"/sync", goodTok); w.Code != 200 {
		t.Fatalf("%d", w.Code)
	}
	var line struct {
		Msg      string   `json:"msg"`
		Account  string   `json:"account_id"`
		Device   string   `json:"device"`
		Contacts int      `json:"contacts"`
		Named    []string `json:"contact_list"`
	}
	for _, l := range strings.Split(log.String(), "\n") {
		if strings.Contains(l, `"check-sync"`) {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	if line.Msg != "check-sync" || line.Account != acctID || line.Device != `"`+devID+`"` || line.Contacts != 12 || len(line.Named) != 10 {
		t.Fatalf("log line %+v", line)
	}
	if line.Named[0] != `"sip:a@h\x1b[31m"` {
		t.Errorf("contact logged as %q", line.Named[0])
	}
}

// kazooDevices is a Kazoo stand-in answering the device list with body,
// status and content type, recording each request.
func kazooDevices(t *testing.T, status int, contentType, body string) (*httptest.Server, *[]*http.Request) {
	t.Helper()
	var got []*http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Clone(context.Background()))
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("ETag", `"kazoo-etag"`)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func proxyDevices(t *testing.T, upstream string, d Devices) *httptest.Server {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(fakeRegistrations{}, nil)
	cfg.KazooURL, cfg.Devices = u, d
	srv := httptest.NewServer(New(cfg))
	t.Cleanup(srv.Close)
	return srv
}

const kazooDeviceList = `{"auth_token":"tok-acct","data":[` +
	`{"id":"d0000000000000000000000000000001","name":"Desk <1>","device_type":"sip_device","enabled":true,"n":12345678901234567890},` +
	`{"id":"d0000000000000000000000000000003","name":"Cell","device_type":"cellphone"},` +
	`{"id":"d0000000000000000000000000000004","name":"No type","registered":true},` +
	`{"id":"d0000000000000000000000000000002","name":"Fax","device_type":"fax","registrable":false},` +
	`"not an object"],` +
	`"next_start_key":"g2wAAAAC","page_size":5,"request_id":"kazoo-rid","revision":"kazoo-rev","status":"success"}`

// TestWithStatus: Kazoo's device list, proxied with with_status=true,
// gains each device's status from the live registrations and keeps every
// other key as Kazoo sent it (numbers to the digit).
func TestWithStatus(t *testing.T) {
	kazoo, got := kazooDevices(t, 200, "application/json", kazooDeviceList)
	var scopes []kamreg.Scope
	srv := proxyDevices(t, kazoo.URL, fakeDevices{StatusFn: func(s kamreg.Scope) ([]string, error) {
		scopes = append(scopes, s)
		return []string{"d0000000000000000000000000000001", "d0000000000000000000000000000002"}, nil
	}})
	resp, body := send(t, "GET", srv.URL+devices+"?with_status=true&paginate=false", "",
		"X-Auth-Token", goodTok, "If-None-Match", `"kazoo-etag"`, "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	want := `{"auth_token":"tok-acct","data":[` +
		`{"device_type":"sip_device","enabled":true,"id":"d0000000000000000000000000000001","n":12345678901234567890,"name":"Desk <1>","registered":true,"registrable":true},` +
		`{"device_type":"cellphone","id":"d0000000000000000000000000000003","name":"Cell","registered":false,"registrable":false},` +
		`{"id":"d0000000000000000000000000000004","name":"No type","registered":false,"registrable":true},` +
		`{"device_type":"fax","id":"d0000000000000000000000000000002","name":"Fax","registered":true,"registrable":false},` +
		`"not an object"],` +
		`"next_start_key":"g2wAAAAC","page_size":5,"request_id":"kazoo-rid","revision":"kazoo-rev","status":"success"}`
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	if resp.ContentLength != int64(len(want)) || resp.Header.Get("ETag") != "" {
		t.Errorf("Content-Length %d, ETag %q", resp.ContentLength, resp.Header.Get("ETag"))
	}
	if diff := cmp.Diff([]kamreg.Scope{{Realm: "Acme.Kamreg.Test"}}, scopes); diff != "" {
		t.Errorf("scopes (-want +got):\n%s", diff)
	}
	r := (*got)[0]
	if r.URL.RawQuery != "with_status=true&paginate=false" || r.Header.Get("If-None-Match") != "" || r.Header.Get("Accept-Encoding") != "identity" {
		t.Errorf("Kazoo got %q, If-None-Match %q, Accept-Encoding %q", r.URL.RawQuery, r.Header.Get("If-None-Match"), r.Header.Get("Accept-Encoding"))
	}
}

// TestWithStatusPassedThrough: what is not a 2xx JSON envelope whose data
// is an array, or not asked with_status=true, is Kazoo's answer byte for
// byte, and kamreg reads no status for it.
func TestWithStatusPassedThrough(t *testing.T) {
	for _, tt := range []struct {
		name, path, contentType, body string
		status                        int
	}{
		{"without with_status", devices, "application/json", kazooDeviceList, 200},
		{"with_status=false", devices + "?with_status=false", "application/json", kazooDeviceList, 200},
		{"one device", devices + "/" + devID + "?with_status=true", "application/json", kazooDeviceList, 200},
		{"data not an array", devices + "?with_status=true", "application/json", `{"data":{"id":"x"},"status":"success"}`, 200},
		{"not JSON", devices + "?with_status=true", "application/json", `{"data":[`, 200},
		{"not JSON by its type", devices + "?with_status=true", "text/plain", kazooDeviceList, 200},
		{"Kazoo's error", devices + "?with_status=true", "application/json", `{"data":{"message":"invalid credentials"},"error":"401","status":"error"}`, 401},
		{"Kazoo's 404 with an array", devices + "?with_status=true", "application/json", `{"data":[],"error":"404","status":"error"}`, 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			kazoo, _ := kazooDevices(t, tt.status, tt.contentType, tt.body)
			srv := proxyDevices(t, kazoo.URL, fakeDevices{StatusFn: func(kamreg.Scope) ([]string, error) {
				t.Error("status read")
				return nil, nil
			}})
			resp, body := send(t, "GET", srv.URL+tt.path, "", "X-Auth-Token", goodTok)
			if resp.StatusCode != tt.status || body != tt.body || resp.Header.Get("ETag") != `"kazoo-etag"` {
				t.Errorf("%d %q ETag %q", resp.StatusCode, body, resp.Header.Get("ETag"))
			}
		})
	}
}

// TestWithStatusFailures: Kazoo unreachable is the 502; a status kamreg
// cannot read is the registrations list's error, never a list without it.
func TestWithStatusFailures(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	srv := proxyDevices(t, deadURL, fakeDevices{})
	resp, body := send(t, "GET", srv.URL+devices+"?with_status=true", "", "X-Auth-Token", goodTok)
	if resp.StatusCode != 502 || !strings.Contains(body, `"message":"bad_gateway"`) {
		t.Errorf("Kazoo down: %d %s", resp.StatusCode, body)
	}

	kazoo, _ := kazooDevices(t, 200, "application/json", kazooDeviceList)
	srv = proxyDevices(t, kazoo.URL, fakeDevices{StatusFn: func(kamreg.Scope) ([]string, error) {
		return nil, kamreg.Wrap(kamreg.EUNAVAILABLE, errors.New("connection refused"), "PostgreSQL is unreachable or failing")
	}})
	resp, body = send(t, "GET", srv.URL+devices+"?with_status=true", "", "X-Auth-Token", goodTok)
	if resp.StatusCode != 503 || !strings.Contains(body, `"message":"datastore fatal error"`) || !strings.Contains(body, `"auth_token":"tok-acct"`) {
		t.Errorf("status unreadable: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Request-ID") == "" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", resp.Header)
	}

	// An account Kazoo knows and kamreg does not.
	resp, body = send(t, "GET", srv.URL+"/v2/accounts/ffffffffffffffffffffffffffffffff/devices?with_status=true", "", "X-Auth-Token", goodTok)
	if resp.StatusCode != 404 || !strings.Contains(body, `"bad_identifier"`) {
		t.Errorf("unknown account: %d %s", resp.StatusCode, body)
	}
}

// TestSyncRateOff: a negative rate (KAMREG_SYNC_RATE=0) limits nothing.
func TestSyncRateOff(t *testing.T) {
	s := deviceServer(t, fakeDevices{}, nil, func(c *Config) { c.SyncRate = -1 })
	for i := 0; i < 3*DefaultSyncBurst; i++ {
		if w := do(s, "POST", devices+"/"+devID+"/sync", goodTok); w.Code != 200 {
			t.Fatalf("sync %d: %d", i, w.Code)
		}
	}
}

// TestWithStatusEncodedPassedThrough: a Kazoo that compresses although
// asked for identity is passed on as it sent it, never decoded wrong.
func TestWithStatusEncodedPassedThrough(t *testing.T) {
	const body = "\x1f\x8b not really gzip"
	kazoo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = io.WriteString(w, body)
	}))
	defer kazoo.Close()
	srv := proxyDevices(t, kazoo.URL, fakeDevices{StatusFn: func(kamreg.Scope) ([]string, error) {
		t.Error("status read")
		return nil, nil
	}})
	resp, got := send(t, "GET", srv.URL+devices+"?with_status=true", "", "X-Auth-Token", goodTok, "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 || got != body || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("%d %q %v", resp.StatusCode, got, resp.Header)
	}
}

// TestDevicePreflights: Monster UI on another origin may call the device
// routes: each preflight names the route's methods.
func TestDevicePreflights(t *testing.T) {
	s := deviceServer(t, fakeDevices{}, nil)
	for path, methods := range map[string]string{
		devices + "/status":             "GET, OPTIONS",
		devices + "/" + devID + "/sync": "POST, OPTIONS",
		base + "/alice/sync":            "POST, OPTIONS",
	} {
		w := do(s, "OPTIONS", path, "", "Origin", "https://monster.example", "Access-Control-Request-Method", "POST")
		if w.Code != 200 || w.Header().Get("Access-Control-Allow-Methods") != methods {
			t.Errorf("%s: %d, methods %q, want %q", path, w.Code, w.Header().Get("Access-Control-Allow-Methods"), methods)
		}
	}
}

//go:build integration

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg/testbed"
)

// browserDevicesPage makes, from its own origin, the device calls of
// Monster UI's SDK: device.getStatus, device.list with with_status and
// device.restart (as browserPage does: Content-Type on every verb, _= on
// GETs, a {"data":{}} body otherwise), and posts their answers back.
const browserDevicesPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>kamreg devices from a browser</title></head>
<body><pre id="result">pending</pre>
<script type="application/json" id="cfg">%s</script>
<script type="module">
const cfg = JSON.parse(document.getElementById("cfg").textContent);
const steps = [];
for (const [name, verb, url] of cfg.calls) {
  const headers = {"Content-Type": "application/json", "X-Auth-Token": cfg.token};
  const init = {method: verb, headers, cache: "no-store"};
  let u = url;
  if (verb === "GET") {
    u += (u.includes("?") ? "&" : "?") + "_=" + Date.now();
  } else {
    init.body = JSON.stringify({data: {}});
  }
  try {
    const r = await fetch(u, init);
    steps.push({name, status: r.status, body: JSON.parse(await r.text())});
  } catch (e) {
    steps.push({name, error: String(e)});
  }
}
await fetch("/result", {method: "POST", body: JSON.stringify(steps)});
</script></body></html>
`

// TestMonsterDeviceCallsFromABrowser: Monster UI's device calls work from
// another origin against kamreg as the one API root (Kazoo behind it a
// stand-in): the status from Kamailio, the device list with each device's
// status, and a restart that reaches the phone.
func TestMonsterDeviceCallsFromABrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is missing: run `make deps` (scripts/deps.sh installs Debian's chromium)")
	}
	const realm = "browser.devices.kamreg.test"
	a := newAccount(t, "Browser Devices", realm, "", false)
	desk, idle := newID(), newID()
	mustCLI(t, "devices", "put", "--account", a.id, "--username", "desk", "--device-id", desk, "--owner-id", newID())
	phone := registerPhone(t, "desk", realm)
	waitCount(t, env.main, a, 1)

	// Kazoo's device list, with Kazoo's CORS answers.
	kazoo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type, X-Auth-Token")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":[{"id":"`+desk+`","device_type":"sip_device"},{"id":"`+idle+`","device_type":"softphone"}],"status":"success"}`)
	}))
	defer kazoo.Close()
	s := serveFor(t, "main="+env.kam.RPCURL(), "KAMREG_KAZOO_URL="+kazoo.URL)

	acct := s.Base + "/v2/accounts/" + a.id
	cfg, err := json.Marshal(map[string]any{"token": a.token, "calls": [][]string{
		{"getStatus", "GET", acct + "/devices/status"},
		{"list", "GET", acct + "/devices?with_status=true&paginate=false"},
		{"restart", "POST", acct + "/devices/" + desk + "/sync"},
		{"restart_idle", "POST", acct + "/devices/" + idle + "/sync"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := browserResult(t, chromium, browserDevicesPage, cfg, 1<<20)
	var steps []struct {
		Name   string `json:"name"`
		Error  string `json:"error"`
		Status int    `json:"status"`
		Body   struct {
			Data    any    `json:"data"`
			Message string `json:"message"`
		} `json:"body"`
	}
	if err := json.Unmarshal(raw, &steps); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	type answer struct {
		Status  int
		Message string
		Data    any
	}
	got := map[string]answer{}
	for _, st := range steps {
		if st.Error != "" {
			t.Errorf("%s: the browser refused the call: %s", st.Name, st.Error)
		}
		got[st.Name] = answer{st.Status, st.Body.Message, st.Body.Data}
	}
	want := map[string]answer{
		"getStatus": {200, "", []any{map[string]any{"device_id": desk, "registered": true}}},
		"list": {200, "", []any{
			map[string]any{"id": desk, "device_type": "sip_device", "registered": true, "registrable": true},
			map[string]any{"id": idle, "device_type": "softphone", "registered": false, "registrable": true},
		}},
		"restart":      {200, "", "sync request sent"},
		"restart_idle": {404, "bad identifier", []any{idle}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	if e := testbed.Receive(t, phone.events, 10*time.Second, "the NOTIFY of device.restart"); e != "check-sync" {
		t.Errorf("Event %q", e)
	}
}

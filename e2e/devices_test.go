//go:build integration

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg/testbed"
)

// sipPhone is a phone on its own UDP socket, registered with its socket's
// address as its contact: what Kamailio sends it arrives on that socket.
type sipPhone struct {
	conn *net.UDPConn
	// events gets the Event header of each NOTIFY the phone answers 200.
	events chan string
}

// registerPhone registers user@domain from a fresh UDP socket at Kamailio
// and answers, from then on, every NOTIFY with 200, reporting its Event.
func registerPhone(t *testing.T, user, domain string) *sipPhone {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	to, err := net.ResolveUDPAddr("udp", env.kam.SIPAddr())
	if err != nil {
		t.Fatal(err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER sip:%s SIP/2.0\r\n", domain)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s\r\n", port, randHex())
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=%s\r\n", user, domain, randHex())
	fmt.Fprintf(&b, "To: <sip:%s@%s>\r\n", user, domain)
	fmt.Fprintf(&b, "Call-ID: devices-%s@testbed\r\nCSeq: 1 REGISTER\r\n", randHex())
	fmt.Fprintf(&b, "Contact: <sip:%s@127.0.0.1:%d>\r\n", user, port)
	b.WriteString("Max-Forwards: 70\r\nExpires: 300\r\nUser-Agent: kamreg e2e desk phone\r\nContent-Length: 0\r\n\r\n")
	if status := sendSIP(t, conn, to, []byte(b.String())); status != "200" {
		t.Fatalf("REGISTER of %s: %s", user, status)
	}
	p := &sipPhone{conn: conn, events: make(chan string, 8)}
	_ = conn.SetReadDeadline(time.Time{})
	go p.answer()
	return p
}

// answer replies 200 to each NOTIFY, as a phone does, until the socket
// closes.
func (p *sipPhone) answer() {
	buf := make([]byte, 65535)
	for {
		n, from, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		msg := string(buf[:n])
		if !strings.HasPrefix(msg, "NOTIFY ") {
			continue
		}
		head, _, _ := strings.Cut(msg, "\r\n\r\n")
		var resp strings.Builder
		resp.WriteString("SIP/2.0 200 OK\r\n")
		event := ""
		for _, line := range strings.Split(head, "\r\n")[1:] {
			name, value, _ := strings.Cut(line, ":")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "via", "from", "call-id", "cseq":
				resp.WriteString(line + "\r\n")
			case "to":
				resp.WriteString(line + ";tag=" + randHex() + "\r\n")
			case "event", "o":
				event = strings.TrimSpace(value)
			}
		}
		resp.WriteString("Content-Length: 0\r\n\r\n")
		_, _ = p.conn.WriteToUDP([]byte(resp.String()), from)
		p.events <- event
	}
}

// TestDeviceSync: a phone registered through Kamailio gets the NOTIFY
// check-sync that POST …/devices/{id}/sync and …/registrations/{user}/sync
// ask for, from Kamailio (tm.t_uac_start over JSON-RPC), and answers it;
// reboot=true is in its Event header. A device with no live registration
// is a 404 and nothing is sent; a node that cannot be asked is the 503.
func TestDeviceSync(t *testing.T) {
	const realm = "sync.devices.kamreg.test"
	a := newAccount(t, "Acme Sync", realm, "", false)
	device := newID()
	mustCLI(t, "devices", "put", "--account", a.id, "--username", "desk", "--device-id", device, "--owner-id", newID())
	phone := registerPhone(t, "desk", realm)
	waitCount(t, env.main, a, 1)

	for _, tt := range []struct {
		path, event string
	}{
		{"/devices/" + device + "/sync", "check-sync"},
		{"/devices/" + device + "/sync?reboot=true", "check-sync;reboot=true"},
		{"/registrations/desk/sync", "check-sync"},
	} {
		r := call(t, "POST", env.main.Base+"/v2/accounts/"+a.id+tt.path, a.token)
		if r.status != 200 || r.json(t)["data"] != "sync request sent" {
			t.Fatalf("%s: %d %s", tt.path, r.status, r.body)
		}
		if got := testbed.Receive(t, phone.events, 10*time.Second, "the NOTIFY of "+tt.path); got != tt.event {
			t.Errorf("%s: Event %q, want %q", tt.path, got, tt.event)
		}
	}

	for _, path := range []string{"/devices/" + newID() + "/sync", "/registrations/nobody/sync"} {
		r := call(t, "POST", env.main.Base+"/v2/accounts/"+a.id+path, a.token)
		if r.status != 404 || r.json(t)["message"] != "bad identifier" {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}

	// The replica also has a node that does not answer: it cannot know
	// whether that node holds the phone.
	r := call(t, "POST", env.replica.Base+"/v2/accounts/"+a.id+"/devices/"+device+"/sync", a.token)
	if r.status != 503 || r.json(t)["message"] != "sync incomplete" {
		t.Errorf("with a dead node: %d %s", r.status, r.body)
	}
	// The live node did send it.
	if got := testbed.Receive(t, phone.events, 10*time.Second, "the NOTIFY through the replica"); got != "check-sync" {
		t.Errorf("through the replica: Event %q", got)
	}
	select {
	case e := <-phone.events:
		t.Errorf("a NOTIFY nobody asked for: %q", e)
	default:
	}
}

// TestDevicesStatus: …/devices/status lists the devices of the realm's
// live registrations, from device records and channel vars, and only
// them; with KAMREG_KAZOO_URL set it is still kamreg's, and Kazoo's device
// list gains each device's status.
func TestDevicesStatus(t *testing.T) {
	const realm = "status.devices.kamreg.test"
	a := newAccount(t, "Acme Status", realm, "", false)
	desk, idle := newID(), newID()
	mustCLI(t, "devices", "put", "--account", a.id, "--username", "desk", "--device-id", desk, "--owner-id", newID())
	mustCLI(t, "devices", "put", "--account", a.id, "--username", "idle", "--device-id", idle, "--owner-id", newID())
	ccv := `{"Account-ID":"` + a.id + `","Authorizing-ID":"ccvdevice","Authorizing-Type":"device"}`
	register(t,
		testbed.Phone{User: "desk", Domain: realm, ContactPort: 5070},
		testbed.Phone{User: "desk", Domain: realm, ContactPort: 5072},
		testbed.Phone{User: "soft", Domain: realm, ContactPort: 5074, ChannelVars: ccv},
		testbed.Phone{User: "nodevice", Domain: realm, ContactPort: 5076},
	)
	waitCount(t, env.main, a, 4)

	want := []map[string]any{{"device_id": "ccvdevice", "registered": true}, {"device_id": desk, "registered": true}}
	if desk < "ccvdevice" {
		want[0], want[1] = want[1], want[0]
	}
	kazoo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":[{"id":"`+desk+`","device_type":"sip_device"},{"id":"`+idle+`"}],"revision":"k","status":"success"}`)
	}))
	defer kazoo.Close()
	proxied, err := startKamreg("main="+env.kam.RPCURL(), "KAMREG_KAZOO_URL="+kazoo.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer proxied.Close()

	for _, s := range []*kamregServer{env.main, proxied} {
		r := call(t, "GET", s.Base+"/v2/accounts/"+a.id+"/devices/status", a.token)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var got struct {
			Data []map[string]any `json:"data"`
		}
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got.Data); diff != "" {
			t.Errorf("%s: status (-want +got):\n%s", s.Base, diff)
		}
	}

	r := call(t, "GET", proxied.Base+"/v2/accounts/"+a.id+"/devices?with_status=true&paginate=false", a.token)
	wantList := `{"data":[{"device_type":"sip_device","id":"` + desk + `","registered":true,"registrable":true},` +
		`{"id":"` + idle + `","registered":false,"registrable":true}],"revision":"k","status":"success"}`
	if r.status != 200 || string(r.body) != wantList {
		t.Errorf("with_status: %d %s\nwant %s", r.status, r.body, wantList)
	}
}

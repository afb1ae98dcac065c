//go:build integration

package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kamreg/kamreg/testbed"
)

// tcpPhone is a phone that registered over one TCP connection, with a
// contact nobody listens on: a request reaches it only over that
// connection, as a phone behind NAT.
type tcpPhone struct {
	conn   net.Conn
	r      *textproto.Reader
	events chan string
}

func registerTCP(t *testing.T, addr, user, domain string) *tcpPhone {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	port := conn.LocalAddr().(*net.TCPAddr).Port
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER sip:%s SIP/2.0\r\n", domain)
	fmt.Fprintf(&b, "Via: SIP/2.0/TCP 127.0.0.1:%d;rport;branch=z9hG4bK-%s\r\n", port, randHex())
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=%s\r\nTo: <sip:%s@%s>\r\n", user, domain, randHex(), user, domain)
	fmt.Fprintf(&b, "Call-ID: tcp-%s@testbed\r\nCSeq: 1 REGISTER\r\n", randHex())
	// Port 9 (discard) on another loopback address: nothing answers there.
	fmt.Fprintf(&b, "Contact: <sip:%s@127.0.0.99:9;transport=tcp>\r\n", user)
	b.WriteString("Max-Forwards: 70\r\nExpires: 300\r\nContent-Length: 0\r\n\r\n")
	if _, err := conn.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	p := &tcpPhone{conn: conn, r: textproto.NewReader(bufio.NewReader(conn)), events: make(chan string, 4)}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		start, head := p.read(t)
		if strings.HasPrefix(start, "SIP/2.0 ") && head.Get("CSeq") == "1 REGISTER" && start >= "SIP/2.0 200" {
			if !strings.HasPrefix(start, "SIP/2.0 200") {
				t.Fatalf("REGISTER over TCP: %s", start)
			}
			break
		}
	}
	_ = conn.SetReadDeadline(time.Time{})
	go p.answer()
	return p
}

// read reads one message: its start line and headers (bodies skipped).
func (p *tcpPhone) read(t *testing.T) (string, textproto.MIMEHeader) {
	start, err := p.r.ReadLine()
	if err != nil {
		if t != nil {
			t.Fatalf("reading from Kamailio over TCP: %v", err)
		}
		return "", nil
	}
	head, err := p.r.ReadMIMEHeader()
	if err != nil && t != nil {
		t.Fatalf("reading headers over TCP: %v", err)
	}
	if n, _ := strconv.Atoi(head.Get("Content-Length")); n > 0 {
		buf := make([]byte, n)
		_, _ = p.r.R.Read(buf)
	}
	return start, head
}

// answer replies 200 to each NOTIFY over the connection, reporting its
// Event, until the connection closes.
func (p *tcpPhone) answer() {
	for {
		start, head := p.read(nil)
		if head == nil {
			return
		}
		if !strings.HasPrefix(start, "NOTIFY ") {
			continue
		}
		var b strings.Builder
		b.WriteString("SIP/2.0 200 OK\r\n")
		for _, v := range head.Values("Via") {
			b.WriteString("Via: " + v + "\r\n")
		}
		fmt.Fprintf(&b, "From: %s\r\nTo: %s;tag=%s\r\nCall-ID: %s\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n",
			head.Get("From"), head.Get("To"), randHex(), head.Get("Call-ID"), head.Get("CSeq"))
		_, _ = p.conn.Write([]byte(b.String()))
		p.events <- head.Get("Event")
	}
}

// TestDeviceSyncTCP: a phone that registered over TCP, with a contact that
// cannot be reached, gets its check-sync over its own connection: the
// socket and received kamreg passes make Kamailio use it.
func TestDeviceSyncTCP(t *testing.T) {
	k, _ := cfgNode(t, "devices_sync_tcp")
	const realm = "tcp.devices.kamreg.test"
	a := newAccount(t, "Acme TCP", realm, "", false)
	s := serveFor(t, "tcpnode="+k.RPCURL(), "KAMREG_SOURCE=rpc")
	phone := registerTCP(t, k.SIPAddr(), "desk", realm)
	waitCount(t, s, a, 1)

	r := call(t, "POST", s.Base+"/v2/accounts/"+a.id+"/registrations/desk/sync?reboot=true", a.token)
	if r.status != 200 || r.json(t)["data"] != "sync request sent" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if got := testbed.Receive(t, phone.events, 10*time.Second, "the NOTIFY over the phone's TCP connection"); got != "check-sync;reboot=true" {
		t.Errorf("Event %q", got)
	}
}

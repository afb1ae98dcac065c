package testbed

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"
)

// SIPAnswer is one SIP response, as RegisterRaw reads it.
type SIPAnswer struct {
	Status int
	Header textproto.MIMEHeader
}

// RegisterRaw sends n REGISTERs without credentials for user@domain over
// UDP, back to back from one socket on fromHost (a free port), each with
// a Call-ID of its own. It returns the answers that came, reading until it
// has n of them or quiet has passed since the last datagram: a source
// Kamailio drops is told apart by the answers that never come.
func RegisterRaw(ctx context.Context, target, fromHost, user, domain string, n int, quiet time.Duration) ([]SIPAnswer, error) {
	raddr, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(fromHost)})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	local := conn.LocalAddr().(*net.UDPAddr)
	run := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano())
	for i := 1; i <= n; i++ {
		msg := strings.Join([]string{
			"REGISTER sip:" + domain + " SIP/2.0",
			fmt.Sprintf("Via: SIP/2.0/UDP %s;rport;branch=z9hG4bK-%s-%d", local, run, i),
			fmt.Sprintf("From: <sip:%s@%s>;tag=%s-%d", user, domain, run, i),
			fmt.Sprintf("To: <sip:%s@%s>", user, domain),
			fmt.Sprintf("Call-ID: raw-%s-%d@testbed", run, i),
			"CSeq: 1 REGISTER",
			fmt.Sprintf("Contact: <sip:%s@%s>", user, local),
			"Max-Forwards: 70",
			"Expires: 300",
			"Content-Length: 0",
			"", ""}, "\r\n")
		if _, err := conn.WriteToUDP([]byte(msg), raddr); err != nil {
			return nil, err
		}
	}
	var answers []SIPAnswer
	buf := make([]byte, 65536)
	for len(answers) < n {
		deadline := time.Now().Add(quiet)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		_ = conn.SetReadDeadline(deadline)
		m, _, err := conn.ReadFromUDP(buf)
		var timeout net.Error
		if errors.As(err, &timeout) && timeout.Timeout() {
			return answers, ctx.Err()
		}
		if err != nil {
			return answers, err
		}
		a, err := parseSIPAnswer(buf[:m])
		if err != nil {
			return answers, err
		}
		answers = append(answers, a)
	}
	return answers, nil
}

// parseSIPAnswer reads a response's status line and headers.
func parseSIPAnswer(raw []byte) (SIPAnswer, error) {
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw)))
	line, err := r.ReadLine()
	if err != nil {
		return SIPAnswer{}, err
	}
	proto, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if proto != "SIP/2.0" || err != nil {
		return SIPAnswer{}, fmt.Errorf("not a SIP response: %q", line)
	}
	h, err := r.ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return SIPAnswer{}, fmt.Errorf("SIP response %q: %w", line, err)
	}
	return SIPAnswer{Status: status, Header: h}, nil
}

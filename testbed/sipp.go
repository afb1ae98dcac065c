package testbed

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Phone is one SIP phone that registers one contact.
type Phone struct {
	User   string
	Domain string
	// ContactHost and ContactPort are what the phone advertises in its
	// Contact; the REGISTER really comes from 127.0.0.1, so the two can be
	// told apart. ContactHost defaults to 127.0.0.77.
	ContactHost string
	ContactPort int
	// ViaHost and ViaPort are what the phone's Via names; by default where
	// the REGISTER really comes from (127.0.0.1 and the run's port). Another
	// address stands for a phone behind a NAT.
	ViaHost string
	ViaPort int
	// ChannelVars, when set, is sent as Kazoo's custom_channel_vars (the
	// reference cfg stores it in location_attrs).
	ChannelVars string
	// Expires defaults to 300 seconds.
	Expires int
	// Password, when set, answers Kamailio's digest challenge (see
	// AddSubscriber). Phones of one run either all have one or none has.
	Password string
}

// Run says how a group of phones registers.
type Run struct {
	// Target is the SIP listener, host:port.
	Target string
	// Transport is "udp" (the default) or "tcp".
	Transport string
	// LocalPort is where the REGISTERs come from on 127.0.0.1; 0 means a
	// free port.
	LocalPort int
	// RPort adds ;rport to every Via.
	RPort bool
	// Refresh, when positive, registers each phone again after this pause,
	// with the same Call-ID and CSeq 2.
	Refresh time.Duration
	// Timeout bounds the whole run; 0 means 30 s.
	Timeout time.Duration
}

// Registered tells how phones registered.
type Registered struct {
	// Port is the source port on 127.0.0.1 every REGISTER came from.
	Port int
	// CallIDs are the phones' Call-IDs, in order.
	CallIDs []string
}

var registerRuns atomic.Int64

// Register registers the phones with Kamailio through sipp over UDP, from a
// free port on 127.0.0.1, and fails unless every REGISTER got a 200.
func Register(ctx context.Context, k *Kamailio, phones []Phone) (Registered, error) {
	return RegisterWith(ctx, Run{Target: k.SIPAddr()}, phones)
}

// RegisterWith registers the phones through sipp as r says, and fails
// unless every REGISTER got a 200 (after a 401 challenge, for phones with
// a Password).
func RegisterWith(ctx context.Context, r Run, phones []Phone) (Registered, error) {
	if r.LocalPort == 0 {
		port, err := FreePort()
		if err != nil {
			return Registered{}, err
		}
		r.LocalPort = port
	}
	if r.Timeout == 0 {
		r.Timeout = 30 * time.Second
	}
	run := fmt.Sprintf("%d-%d-%d", os.Getpid(), time.Now().UnixNano(), registerRuns.Add(1))
	reg := Registered{Port: r.LocalPort}
	for i := range phones {
		reg.CallIDs = append(reg.CallIDs, fmt.Sprintf("%s-%d@testbed", run, i+1))
	}
	if len(phones) == 0 {
		return reg, nil
	}
	auth := phones[0].Password != ""
	for _, p := range phones {
		if (p.Password != "") != auth {
			return reg, fmt.Errorf("phone %s@%s: phones of one run either all have a password or none has", p.User, p.Domain)
		}
	}
	if !auth {
		return reg, sipp(ctx, r, nil, phones, run+"-%u@testbed")
	}
	// sipp takes credentials for a whole run (-au, -ap): one run a phone.
	for i, p := range phones {
		if err := sipp(ctx, r, []string{"-au", p.User, "-ap", p.Password}, phones[i:i+1], reg.CallIDs[i]); err != nil {
			return reg, err
		}
	}
	return reg, nil
}

// registerStep is one REGISTER of a sipp scenario, expecting the answer
// given. CSV fields: user, domain, via host, via port, contact host,
// contact port, one extra header line, expires. sipp matches answers by
// Call-ID, so it makes them up.
const registerStep = `  <send retrans="500">
    <![CDATA[
      REGISTER sip:[field1] SIP/2.0
      Via: SIP/2.0/[transport] [field2]:[field3];branch=[branch]%s
      From: <sip:[field0]@[field1]>;tag=[pid]-[call_number]
      To: <sip:[field0]@[field1]>
      Call-ID: [call_id]
      CSeq: %d REGISTER
      Contact: <sip:[field0]@[field4]:[field5]>
      Max-Forwards: 70
      Expires: [field7]
      User-Agent: kamreg testbed phone, "[field0]"
      [field6]%s
      Content-Length: 0

    ]]>
  </send>
  <recv response="%s"%s/>
`

// authHeader answers the last challenge with the run's credentials (-au,
// -ap): sipp cannot take them from the CSV.
const authHeader = "\n      [authentication]"

// scenario is the sipp scenario of r: a REGISTER, and a refresh when asked.
// With auth, each is first sent without credentials, challenged (401), and
// sent again with them, one CSeq up.
func scenario(r Run, auth bool) string {
	via := ""
	if r.RPort {
		via = ";rport"
	}
	cseq := 0
	register := func() string {
		cseq++
		if !auth {
			return fmt.Sprintf(registerStep, via, cseq, "", "200", "")
		}
		s := fmt.Sprintf(registerStep, via, cseq, "", "401", ` auth="true"`)
		cseq++
		return s + fmt.Sprintf(registerStep, via, cseq, authHeader, "200", "")
	}
	s := `<?xml version="1.0" encoding="ISO-8859-1" ?>` + "\n" + `<scenario name="kamreg register">` + "\n" + register()
	if r.Refresh > 0 {
		s += fmt.Sprintf("  <pause milliseconds=\"%d\"/>\n", r.Refresh.Milliseconds()) + register()
	}
	return s + "</scenario>\n"
}

// csvLine is a phone's line of the scenario's CSV.
func csvLine(p Phone, localPort int) (string, error) {
	if p.ContactHost == "" {
		p.ContactHost = "127.0.0.77"
	}
	if p.ViaHost == "" {
		p.ViaHost = "127.0.0.1"
	}
	if p.ViaPort == 0 {
		p.ViaPort = localPort
	}
	if p.Expires == 0 {
		p.Expires = 300
	}
	extra := "X-Testbed: 1"
	if p.ChannelVars != "" {
		extra = "X-Kazoo-CCV: " + p.ChannelVars
	}
	fields := []string{p.User, p.Domain, p.ViaHost, strconv.Itoa(p.ViaPort), p.ContactHost, strconv.Itoa(p.ContactPort),
		extra, strconv.Itoa(p.Expires)}
	for _, f := range fields {
		if strings.ContainsAny(f, ";\n") {
			return "", fmt.Errorf("phone %s@%s: %q cannot hold ';' or a newline", p.User, p.Domain, f)
		}
	}
	return strings.Join(fields, ";") + "\n", nil
}

// sipp runs the scenario of r for the phones; credentials (-au, -ap), when
// given, make it answer challenges.
func sipp(ctx context.Context, r Run, credentials []string, phones []Phone, callIDs string) error {
	dir, err := os.MkdirTemp("", "kamreg-sipp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var csv strings.Builder
	csv.WriteString("SEQUENTIAL\n")
	for _, p := range phones {
		line, err := csvLine(p, r.LocalPort)
		if err != nil {
			return err
		}
		csv.WriteString(line)
	}
	scenarioFile, users := filepath.Join(dir, "register.xml"), filepath.Join(dir, "phones.csv")
	if err := os.WriteFile(scenarioFile, []byte(scenario(r, credentials != nil)), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(users, []byte(csv.String()), 0o644); err != nil {
		return err
	}
	transport := "u1"
	if r.Transport == "tcp" {
		transport = "t1"
	}
	ctx, cancel := context.WithTimeout(ctx, r.Timeout+10*time.Second)
	defer cancel()
	args := append([]string{"-sf", scenarioFile, "-inf", users, "-m", strconv.Itoa(len(phones)),
		"-t", transport, "-r", "500", "-l", "200", "-i", "127.0.0.1", "-p", strconv.Itoa(r.LocalPort), "-nostdin",
		"-timeout", fmt.Sprintf("%ds", int(r.Timeout.Seconds())), "-timeout_error", "-cid_str", callIDs}, credentials...)
	cmd := exec.CommandContext(ctx, "sipp", append(args, r.Target)...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		tail := out.String()
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return fmt.Errorf("sipp over %s to %s: %w\n%s", r.Transport, r.Target, err, tail)
	}
	return nil
}

//go:build integration || compose

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// sippPhone is one phone of a sippRun: it registers user@domain with the
// contact sip:user@ContactHost:ContactPort. The Via names ViaHost:ViaPort
// and carries ;rport only when RPort is set, so a phone can look as if it
// sat behind a NAT (a private address in its Via, no ;rport). The phones of
// one sippRegister call agree on RPort.
type sippPhone struct {
	User, Domain string
	ViaHost      string
	ViaPort      int
	ContactHost  string
	ContactPort  int
	RPort        bool
	Expires      int
}

// sippScenario registers each CSV line's phone and expects 200, then,
// after a pause, registers it again with the same Call-ID (a refresh) and
// expects 200 again. Fields: user, domain, via host, via port, (unused),
// contact host, contact port, expires. VIA_PARAMS and the pause are set
// per run.
const sippScenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="kamreg e2e register and refresh">
  <send retrans="500">
    <![CDATA[
      REGISTER sip:[field1] SIP/2.0
      Via: SIP/2.0/[transport] [field2]:[field3];branch=[branch]VIA_PARAMS
      From: <sip:[field0]@[field1]>;tag=[pid]-[call_number]
      To: <sip:[field0]@[field1]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[field0]@[field5]:[field6]>
      Max-Forwards: 70
      Expires: [field7]
      User-Agent: kamreg e2e phone
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
  <pause variable="refresh_pause"/>
  <send retrans="500">
    <![CDATA[
      REGISTER sip:[field1] SIP/2.0
      Via: SIP/2.0/[transport] [field2]:[field3];branch=[branch]VIA_PARAMS
      From: <sip:[field0]@[field1]>;tag=[pid]-[call_number]
      To: <sip:[field0]@[field1]>
      Call-ID: [call_id]
      CSeq: 2 REGISTER
      Contact: <sip:[field0]@[field5]:[field6]>
      Max-Forwards: 70
      Expires: [field7]
      User-Agent: kamreg e2e phone
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>
`

// sippRegister registers (and refreshes) the phones through sipp at target
// (host:port on loopback) over transport "udp" or "tcp", from 127.0.0.1:
// localPort. It fails unless every REGISTER got its 200 within timeout.
// A Call-ID is made of callIDPrefix and the phone's number (from 1).
func sippRegister(ctx context.Context, target, transport string, localPort int, callIDPrefix string, refreshPause time.Duration, timeout time.Duration, phones []sippPhone) error {
	dir, err := os.MkdirTemp("", "kamreg-e2e-sipp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var csv strings.Builder
	csv.WriteString("SEQUENTIAL\n")
	for _, p := range phones {
		if p.ViaHost == "" {
			p.ViaHost = "127.0.0.1"
		}
		if p.ViaPort == 0 {
			p.ViaPort = localPort
		}
		if p.ContactHost == "" {
			p.ContactHost = p.ViaHost
		}
		if p.ContactPort == 0 {
			p.ContactPort = p.ViaPort
		}
		if p.Expires == 0 {
			p.Expires = 300
		}
		if p.RPort != phones[0].RPort {
			return fmt.Errorf("phones of one sipp run must agree on RPort")
		}
		fields := []string{p.User, p.Domain, p.ViaHost, strconv.Itoa(p.ViaPort), "-",
			p.ContactHost, strconv.Itoa(p.ContactPort), strconv.Itoa(p.Expires)}
		csv.WriteString(strings.Join(fields, ";") + "\n")
	}
	scenario, users := filepath.Join(dir, "register.xml"), filepath.Join(dir, "phones.csv")
	pause := strings.Replace(sippScenario, `<pause variable="refresh_pause"/>`,
		fmt.Sprintf(`<pause milliseconds="%d"/>`, refreshPause.Milliseconds()), 1)
	params := ""
	if len(phones) > 0 && phones[0].RPort {
		params = ";rport"
	}
	pause = strings.ReplaceAll(pause, "VIA_PARAMS", params)
	if err := os.WriteFile(scenario, []byte(pause), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(users, []byte(csv.String()), 0o644); err != nil {
		return err
	}
	t := "u1"
	if transport == "tcp" {
		t = "t1"
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sipp", "-sf", scenario, "-inf", users, "-m", strconv.Itoa(len(phones)),
		"-t", t, "-r", "100", "-l", "50", "-i", "127.0.0.1", "-p", strconv.Itoa(localPort), "-nostdin",
		"-timeout", fmt.Sprintf("%ds", int(timeout.Seconds())), "-timeout_error", "-cid_str", callIDPrefix+"-%u",
		"-recv_timeout", "5000", target)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		tail := out.String()
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return fmt.Errorf("sipp over %s to %s: %w\n%s", transport, target, err, tail)
	}
	return nil
}

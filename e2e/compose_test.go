//go:build compose

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kamreg/kamreg/testbed"
)

// The compose smoke test runs docker-compose.yml as an operator would:
// Docker images built from the repository's Dockerfiles (base images made
// by scripts/images.sh when no registry answers), ports published on
// 127.0.0.1, phones registered through the published SIP port, the API
// through the published HTTP port. `make compose-test` runs it; it needs
// root (for dockerd and debootstrap) unless a Docker engine already runs
// and the base images exist.

// composeNeed fails the test: a missing dependency is a failure, never a
// skip, as in the rest of the integration suite.
func composeNeed(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Fatalf("compose smoke test: "+format, args...)
}

// composeFreePort returns a port on 127.0.0.1 free for both TCP and UDP a
// moment ago.
func composeFreePort(t *testing.T) int {
	t.Helper()
	port, err := testbed.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// composeRun runs a command with a timeout and returns its standard
// output; an error carries the tail of both outputs.
func composeRun(timeout time.Duration, env []string, dir, name string, args ...string) (string, error) {
	return composeRunInput(timeout, env, dir, "", name, args...)
}

// composeRunInput is composeRun with input on the command's standard input.
func composeRunInput(timeout time.Duration, env []string, dir, input, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(input)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s %s: %w\n%s\n%s", name, strings.Join(args, " "), err,
			composeTail(out.String(), 3000), composeTail(errOut.String(), 3000))
	}
	return out.String(), err
}

func composeTail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// composeDocker makes sure a Docker engine answers, starting Debian's
// dockerd when none runs; it is stopped at the end only if started here.
func composeDocker(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"docker", "docker-compose", "sipp"} {
		if _, err := exec.LookPath(tool); err != nil {
			composeNeed(t, "%s is missing (run `make deps` as root: Debian packages docker.io, docker-compose, sip-tester)", tool)
		}
	}
	if _, err := composeRun(20*time.Second, nil, "", "docker", "info"); err == nil {
		return
	}
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		composeNeed(t, "no Docker engine answers and dockerd is missing (Debian package docker.io)")
	}
	if os.Geteuid() != 0 {
		composeNeed(t, "no Docker engine answers, and starting dockerd needs root")
	}
	dir := t.TempDir()
	logf, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(dockerd)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("dockerd: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	t.Logf("started dockerd (pid %d)", cmd.Process.Pid)
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	testbed.EventuallyOK(t, 60*time.Second, "dockerd answers (see "+logf.Name()+")", func() error {
		select {
		case <-done:
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("dockerd exited:\n%s", composeTail(string(b), 3000))
		default:
		}
		_, err := composeRun(10*time.Second, nil, "", "docker", "info")
		return err
	})
}

// composeAPI is the published kamreg API.
type composeAPI struct {
	base, token string
	client      *http.Client
}

func (a composeAPI) do(method, path string) (int, []byte, error) {
	req, err := http.NewRequest(method, a.base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	if a.token != "" {
		req.Header.Set("X-Auth-Token", a.token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// count is the account's registration count, or an error.
func (a composeAPI) count(account string) (int, error) {
	code, b, err := a.do("GET", "/v2/accounts/"+account+"/registrations/count")
	if err != nil {
		return 0, err
	}
	var env struct {
		Data struct {
			Count *int `json:"count"`
		} `json:"data"`
	}
	if code != 200 || json.Unmarshal(b, &env) != nil || env.Data.Count == nil {
		return 0, fmt.Errorf("count: %d %s", code, b)
	}
	return *env.Data.Count, nil
}

func TestComposeSmoke(t *testing.T) {
	start := time.Now()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	composeDocker(t)

	out, err := composeRun(30*time.Minute, nil, root, "bash", "-c", "scripts/images.sh 2>&1")
	t.Logf("base images (%s):\n%s", time.Since(start).Round(time.Second), strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}

	var pw [12]byte
	if _, err := rand.Read(pw[:]); err != nil {
		t.Fatal(err)
	}
	password := hex.EncodeToString(pw[:])
	sipPort, httpPort := composeFreePort(t), composeFreePort(t)
	project := fmt.Sprintf("kamregsmoke%d", os.Getpid())
	env := []string{
		"COMPOSE_PROJECT_NAME=" + project,
		"KAMREG_PUBLIC_IP=127.0.0.1",
		"KAMREG_BIND=127.0.0.1",
		"KAMREG_SIP_PORT=" + strconv.Itoa(sipPort),
		"KAMREG_HTTP_PORT=" + strconv.Itoa(httpPort),
		"KAMREG_DB_PASSWORD=" + password,
		"KAMREG_VERSION=smoke-test",
		// Through Docker's proxy on loopback every phone comes from one
		// address, the bridge's gateway: the test's few dozen requests in a
		// burst would be a flood at the default of 16 in 2 s.
		"KAMREG_SIP_FLOOD_LIMIT=200",
	}
	compose := func(timeout time.Duration, args ...string) (string, error) {
		return composeRun(timeout, env, root, "docker-compose", append([]string{"-p", project}, args...)...)
	}
	mustCompose := func(timeout time.Duration, args ...string) string {
		t.Helper()
		out, err := compose(timeout, args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Cleanup(func() {
		if t.Failed() {
			if logs, _ := compose(time.Minute, "logs", "--no-color", "--tail", "40"); logs != "" {
				t.Logf("compose logs:\n%s", logs)
			}
		}
		if _, err := compose(3*time.Minute, "down", "-v", "--remove-orphans", "--timeout", "10"); err != nil {
			t.Errorf("down: %v", err)
		}
	})

	built := time.Now()
	mustCompose(30*time.Minute, "build")
	t.Logf("docker-compose build: %s", time.Since(built).Round(time.Second))
	mustCompose(5*time.Minute, "up", "-d")

	api := composeAPI{base: fmt.Sprintf("http://127.0.0.1:%d", httpPort), client: &http.Client{Timeout: 15 * time.Second}}
	ready := func() error {
		code, b, err := api.do("GET", "/readyz")
		if err == nil && code != 200 {
			err = fmt.Errorf("readyz %d %s", code, b)
		}
		return err
	}
	testbed.EventuallyOK(t, 3*time.Minute, "kamreg ready", ready)
	t.Logf("stack up and ready: %s", time.Since(start).Round(time.Second))

	// The image hardening of issue 13: Kamailio is not root and its
	// command line does not carry the database password; JSON-RPC and the
	// metrics port are not published.
	if uid := strings.TrimSpace(mustCompose(time.Minute, "exec", "-T", "kamailio", "id", "-u")); uid == "0" || uid == "" {
		t.Errorf("kamailio runs as uid %q", uid)
	}
	cmdline := mustCompose(time.Minute, "exec", "-T", "kamailio", "cat", "/proc/1/cmdline")
	if !strings.Contains(cmdline, "kamailio") || strings.Contains(cmdline, password) {
		t.Errorf("kamailio's pid 1 command line is %q: not Kamailio, or it shows the database password", cmdline)
	}
	if ps, err := composeRun(time.Minute, nil, "", "docker", "top", project+"_kamailio_1", "-o", "pid,user,args"); err != nil || strings.Contains(ps, password) {
		t.Errorf("docker top kamailio: %v\n%s", err, ps)
	}
	for _, p := range []struct{ svc, port string }{{"kamailio", "5071"}, {"kamreg", "9108"}} {
		if out, _ := compose(time.Minute, "port", p.svc, p.port); strings.Contains(out, ":") {
			t.Errorf("%s:%s is published: %s", p.svc, p.port, out)
		}
	}

	// An account and a token, through the kamreg binary in its container.
	account := "5a0ce0000000000000000000000000a1"
	realm := "smoke.example.com"
	mustCompose(time.Minute, "exec", "-T", "kamreg", "kamreg", "accounts", "put", "--id", account, "--name", "Smoke", "--realm", realm)
	api.token = strings.TrimSpace(mustCompose(time.Minute, "exec", "-T", "kamreg", "kamreg", "tokens", "create", "--account", account))
	if api.token == "" || strings.ContainsAny(api.token, " \n") {
		t.Fatalf("tokens create printed %q", api.token)
	}

	// Kamailio authenticates: a REGISTER without credentials on the
	// published port is challenged, and saved nowhere.
	sipAddr := fmt.Sprintf("127.0.0.1:%d", sipPort)
	answers, err := testbed.RegisterRaw(context.Background(), sipAddr, "127.0.0.1", "mallory", realm, 1, 10*time.Second)
	if err != nil || len(answers) != 1 || answers[0].Status != 401 ||
		!strings.Contains(answers[0].Header.Get("WWW-Authenticate"), `realm="`+realm+`"`) {
		t.Fatalf("REGISTER without credentials on the published port: %v %+v, want a 401 digest challenge", err, answers)
	}

	// Each phone's credentials, by the README's command (psql in the
	// postgres service, the password kept only as ha1).
	var secret [6]byte
	if _, err := rand.Read(secret[:]); err != nil {
		t.Fatal(err)
	}
	phonePassword := func(user string) string { return user + "-" + hex.EncodeToString(secret[:]) }
	addPhone := func(user string) {
		t.Helper()
		if _, err := composeRunInput(time.Minute, env, root, testbed.SubscriberSQL, "docker-compose", "-p", project,
			"exec", "-T", "postgres", "psql", "-U", "kamailio", "-d", "kamailio", "-v", "ON_ERROR_STOP=1",
			"-v", "user="+user, "-v", "domain="+realm, "-v", "password="+phonePassword(user)); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		addPhone(u)
	}
	if out := mustCompose(time.Minute, "exec", "-T", "postgres", "psql", "-U", "kamailio", "-d", "kamailio", "-tAc",
		"SELECT count(*) FROM subscriber WHERE password <> '' OR ha1 !~ '^[0-9a-f]{32}$'"); strings.TrimSpace(out) != "0" {
		t.Errorf("subscriber rows holding a password, or no md5 ha1: %s", out)
	}

	// Phones with their credentials through the published SIP port, over
	// UDP and TCP.
	registerPhones := func(transport string, users ...string) {
		t.Helper()
		var phones []testbed.Phone
		for _, u := range users {
			phones = append(phones, testbed.Phone{User: u, Domain: realm, ContactHost: "127.0.0.77", ContactPort: 5070, Password: phonePassword(u)})
		}
		// Each phone registers, then refreshes on the same connection.
		run := testbed.Run{Target: sipAddr, Transport: transport, RPort: true, Refresh: time.Millisecond}
		if _, err := testbed.RegisterWith(context.Background(), run, phones); err != nil {
			t.Fatal(err)
		}
	}
	registerPhones("udp", "alice", "bob")
	registerPhones("tcp", "carol")
	// usrloc db_mode 2 writes within its 5 s timer.
	testbed.EventuallyOK(t, time.Minute, "3 registrations listed", func() error {
		n, err := api.count(account)
		if err == nil && n != 3 {
			err = fmt.Errorf("count %d", n)
		}
		return err
	})
	code, b, err := api.do("GET", "/v2/accounts/"+account+"/registrations")
	if err != nil || code != 200 {
		t.Fatalf("list: %d %s %v", code, b, err)
	}
	var list struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, r := range list.Data {
		users = append(users, fmt.Sprint(r["username"]))
		if r["proxy_ip"] != "127.0.0.1" || r["proxy_port"] != strconv.Itoa(sipPort) {
			t.Errorf("%v: proxy %v:%v, want the advertised 127.0.0.1:%d", r["username"], r["proxy_ip"], r["proxy_port"], sipPort)
		}
		if r["contact"] != fmt.Sprintf("sip:%v@127.0.0.77:5070", r["username"]) || r["realm"] != realm {
			t.Errorf("%v: contact %v realm %v in %v", r["username"], r["contact"], r["realm"], r)
		}
	}
	if got := strings.Join(users, ","); got != "alice,bob,carol" {
		t.Errorf("listed %s, want alice,bob,carol", got)
	}

	// Flushes: "ok", and the count drops at once.
	flush := func(path string, want int) {
		t.Helper()
		code, b, err := api.do("DELETE", "/v2/accounts/"+account+"/registrations"+path)
		if err != nil || code != 200 || !bytes.Contains(b, []byte(`"data":"ok"`)) {
			t.Fatalf("DELETE registrations%s: %d %s %v", path, code, b, err)
		}
		if n, err := api.count(account); err != nil || n != want {
			t.Errorf("count right after DELETE registrations%s: %d %v, want %d", path, n, err, want)
		}
	}
	flush("/alice", 2)
	flush("", 0)

	// JSON-RPC is refused on the published SIP port.
	rpc := `{"jsonrpc":"2.0","method":"ul.dump","id":1}`
	resp, err := api.client.Post(fmt.Sprintf("http://%s/RPC", sipAddr), "application/json", strings.NewReader(rpc))
	if err != nil {
		t.Fatalf("POST /RPC on the SIP port: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || bytes.Contains(body, []byte("jsonrpc")) {
		t.Errorf("POST /RPC on the published SIP port: %d %s, want 403", resp.StatusCode, body)
	}

	// PostgreSQL restarts: kamreg answers again without being restarted.
	restarted := time.Now()
	mustCompose(3*time.Minute, "restart", "postgres")
	testbed.EventuallyOK(t, 2*time.Minute, "kamreg serves after PostgreSQL's restart", func() error {
		if err := ready(); err != nil {
			return err
		}
		_, err := api.count(account)
		return err
	})
	t.Logf("recovered from PostgreSQL's restart in %s", time.Since(restarted).Round(time.Second))

	// Kamailio restarts: phones register again and are listed, and a flush
	// reaches the new Kamailio.
	restarted = time.Now()
	mustCompose(3*time.Minute, "restart", "kamailio")
	testbed.EventuallyOK(t, 2*time.Minute, "Kamailio answers after its restart", func() error {
		out, err := compose(time.Minute, "exec", "-T", "kamailio", "curl", "-sf", "-d",
			`{"jsonrpc":"2.0","method":"core.version","id":1}`, "http://127.0.0.1:5071/RPC")
		if err == nil && !strings.Contains(out, "result") {
			err = fmt.Errorf("core.version: %s", out)
		}
		return err
	})
	registerPhones("udp", "dave")
	testbed.EventuallyOK(t, time.Minute, "dave listed after Kamailio's restart", func() error {
		n, err := api.count(account)
		if err == nil && n != 1 {
			err = fmt.Errorf("count %d", n)
		}
		return err
	})
	flush("/dave", 0)
	t.Logf("recovered from Kamailio's restart in %s", time.Since(restarted).Round(time.Second))

	// Every service keeps running under its restart policy.
	ps := mustCompose(time.Minute, "ps")
	for _, svc := range []string{"postgres", "kamailio", "kamreg"} {
		name := project + "_" + svc + "_1"
		out, err := composeRun(time.Minute, nil, "", "docker", "inspect", "-f", "{{.State.Status}} {{.HostConfig.RestartPolicy.Name}}", name)
		if err != nil || strings.TrimSpace(out) != "running unless-stopped" {
			t.Errorf("%s: %q %v\n%s", name, strings.TrimSpace(out), err, ps)
		}
	}
	t.Logf("compose smoke test: %s in all", time.Since(start).Round(time.Second))
}

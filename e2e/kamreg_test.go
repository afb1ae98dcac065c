//go:build integration

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
	"strings"
	"testing"
	"time"

	"github.com/kamreg/kamreg/app"
	"github.com/kamreg/kamreg/testbed"
)

// kamregServer is a running kamreg server, in this process or not.
type kamregServer = testbed.Served

func kamregEnv() []string {
	return append(os.Environ(), "KAMREG_DATABASE_URL="+env.pg.URL, "KAMREG_DB_TIMEZONE="+kamailioTZ, "KAMREG_LOG_LEVEL=debug")
}

// startKamreg runs kamreg in this process (app.App) on free ports with the
// given nodes; extra KAMREG_* settings override the defaults.
func startKamreg(nodes string, extra ...string) (*kamregServer, error) {
	return startKamregWith(app.Options{}, nodes, extra...)
}

// startKamregWith runs kamreg in this process with options: a clock,
// intervals, fake nodes.
func startKamregWith(o app.Options, nodes string, extra ...string) (*kamregServer, error) {
	return startInProcess(kamregBed(), o, kamregSettings(nodes, extra)...)
}

// startKamregBinary runs the built `kamreg serve`, for what only a process
// shows: signals and the exit status.
func startKamregBinary(nodes string, extra ...string) (*kamregServer, error) {
	return kamregBed().Serve(kamregSettings(nodes, extra)...)
}

func kamregBed() testbed.Kamreg {
	return testbed.Kamreg{Bin: env.bin, DBURL: env.pg.URL, LogDir: env.dir,
		Env: []string{"KAMREG_DB_TIMEZONE=" + kamailioTZ, "KAMREG_LOG_LEVEL=debug"}}
}

// kamregSettings are the settings of every test server. Every test calls
// from 127.0.0.1, standing for many clients: failed authentications get a
// large burst here (security_test.go runs with the default limit).
func kamregSettings(nodes string, extra []string) []string {
	return append([]string{"KAMREG_KAMAILIO_RPC=" + nodes, "KAMREG_RPC_TIMEOUT=2s", "KAMREG_AUTH_FAIL_BURST=100000",
		"KAMREG_USRLOC_TIMER=1s"}, extra...)
}

// cli runs a kamreg command on the shared database and returns its exit
// code, stdout and stderr.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return cliIn(t, env.pg.URL, args...)
}

// cliIn runs a kamreg command on the database at dbURL.
func cliIn(t *testing.T, dbURL string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(env.bin, args...)
	cmd.Env = append(kamregEnv(), "KAMREG_DATABASE_URL="+dbURL)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("kamreg %v: %v", args, err)
	}
	return code, out.String(), errOut.String()
}

// mustCLI runs a kamreg command that must succeed and returns its stdout.
func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	return mustCLIIn(t, env.pg.URL, args...)
}

// mustCLIIn runs, on the database at dbURL, a kamreg command that must
// succeed and returns its stdout.
func mustCLIIn(t *testing.T, dbURL string, args ...string) string {
	t.Helper()
	code, out, errOut := cliIn(t, dbURL, args...)
	if code != 0 {
		t.Fatalf("kamreg %v: exit %d: %s", args, code, errOut)
	}
	return out
}

// newID returns a fresh Kazoo-style id.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// account creates an account and a token for it.
type account struct {
	id, realm, token string
}

func newAccount(t *testing.T, name, realm, parent string, superduper bool) account {
	t.Helper()
	return newAccountIn(t, env.pg.URL, name, realm, parent, superduper)
}

// newAccountIn creates an account and a token in the database at dbURL.
func newAccountIn(t *testing.T, dbURL, name, realm, parent string, superduper bool) account {
	t.Helper()
	a := account{id: newID(), realm: realm}
	args := []string{"accounts", "put", "--id", a.id, "--name", name, "--realm", realm}
	if parent != "" {
		args = append(args, "--parent", parent)
	}
	if superduper {
		args = append(args, "--superduper")
	}
	mustCLIIn(t, dbURL, args...)
	a.token = strings.TrimSpace(mustCLIIn(t, dbURL, "tokens", "create", "--account", a.id, "--description", "e2e "+name))
	return a
}

// reply is one HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// decode unmarshals the body into a generic value.
func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return v
}

// call sends a request with an optional token and extra headers. It is
// safe on any goroutine: a request that gets no answer is a t.Error and a
// reply with status 0 and the error as its body.
func call(t *testing.T, method, url, token string, headers ...string) reply {
	t.Helper()
	r, err := tryCall(method, url, token, headers...)
	if err != nil {
		t.Errorf("%v", err)
		return reply{body: []byte(err.Error())}
	}
	return r
}

// tryCall sends a request with an optional token and extra headers, and
// gives up after 30 s.
func tryCall(method, url, token string, headers ...string) (reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return reply{}, err
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: reading the body: %w", method, url, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// callAsync sends a request on another goroutine; the result comes on the
// channel.
func callAsync(method, url, token string, headers ...string) <-chan callResult {
	done := make(chan callResult, 1)
	go func() {
		r, err := tryCall(method, url, token, headers...)
		done <- callResult{r, err}
	}()
	return done
}

// callResult is what callAsync delivers.
type callResult struct {
	reply
	err error
}

// await waits up to timeout for a callAsync result; it fails the test
// when none comes or the request got no answer. Call it on the test
// goroutine.
func await(t *testing.T, done <-chan callResult, timeout time.Duration, what string) reply {
	t.Helper()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("%s: %v", what, r.err)
		}
		return r.reply
	case <-time.After(timeout):
		t.Fatalf("%s: no answer within %s", what, timeout)
		return reply{}
	}
}

// register registers phones with the shared Kamailio through sipp.
func register(t *testing.T, phones ...testbed.Phone) testbed.Registered {
	t.Helper()
	return registerAt(t, env.kam, phones...)
}

// registerAt registers phones with a given Kamailio.
func registerAt(t *testing.T, k *testbed.Kamailio, phones ...testbed.Phone) testbed.Registered {
	t.Helper()
	reg, err := testbed.Register(context.Background(), k, phones)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// waitCount polls the account's count until it is want (usrloc db_mode 2
// writes rows at its next timer run).
func waitCount(t *testing.T, s *kamregServer, a account, want int) {
	t.Helper()
	testbed.EventuallyOK(t, 15*time.Second, fmt.Sprintf("the count of %s at %d", a.realm, want), func() error {
		r, err := tryCall("GET", s.Base+"/v2/accounts/"+a.id+"/registrations/count", a.token)
		if err != nil {
			return err
		}
		if r.status == 200 {
			var v struct{ Data struct{ Count int } }
			_ = json.Unmarshal(r.body, &v)
			if v.Data.Count == want {
				return nil
			}
		}
		return fmt.Errorf("last answer %d %s", r.status, r.body)
	})
}

// lookup asks the shared Kamailio itself for the AoR's contacts.
func lookup(t *testing.T, aor string) int {
	t.Helper()
	return lookupAt(t, env.kam, aor)
}

// lookupAt asks a given Kamailio for the AoR's contacts.
func lookupAt(t *testing.T, k *testbed.Kamailio, aor string) int {
	t.Helper()
	contacts, err := k.Client().Lookup(context.Background(), "location", aor)
	if err != nil {
		t.Fatalf("ul.lookup %s: %v", aor, err)
	}
	return len(contacts)
}

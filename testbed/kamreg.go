package testbed

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Kamreg runs the kamreg binary against one database.
type Kamreg struct {
	Bin   string
	DBURL string
	// Env is added to the environment of every run (KAMREG_* settings).
	Env []string
	// LogDir holds the logs of served instances; empty means os.TempDir().
	LogDir string
}

func (k Kamreg) env(extra []string) []string {
	env := append(os.Environ(), "KAMREG_DATABASE_URL="+k.DBURL)
	env = append(env, k.Env...)
	return append(env, extra...)
}

// Run runs one kamreg command and returns its stdout, trimmed; a failure
// carries kamreg's stderr.
func (k Kamreg) Run(args ...string) (string, error) {
	cmd := exec.Command(k.Bin, args...)
	cmd.Env = k.env(nil)
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return "", fmt.Errorf("kamreg %s: %s", strings.Join(args, " "), strings.TrimSpace(string(ee.Stderr)))
	}
	return strings.TrimSpace(string(out)), err
}

// AccountWithToken creates (or updates) an account with `kamreg accounts
// put` (flags such as "--superduper" or "--parent ID" may follow) and
// returns a new API token for it.
func (k Kamreg) AccountWithToken(id, name, realm string, flags ...string) (string, error) {
	args := append([]string{"accounts", "put", "--id", id, "--name", name, "--realm", realm}, flags...)
	if _, err := k.Run(args...); err != nil {
		return "", err
	}
	return k.Run("tokens", "create", "--account", id)
}

// Served is a running kamreg server: a `kamreg serve` process (Serve), or
// a server run in this process (then Cmd is nil and Stop ends it).
type Served struct {
	// Base is its URL, http://127.0.0.1:port.
	Base string
	// Metrics is the URL of its metrics listener, http://127.0.0.1:port
	// (/metrics, /healthz, /readyz); empty when it has none.
	Metrics string
	LogPath string
	// Cmd is the process; nil in this process.
	Cmd *exec.Cmd
	// Done is closed when the server has ended.
	Done chan struct{}
	// Stop ends a server run in this process; Done is closed once it has
	// ended.
	Stop context.CancelFunc
}

// Serve starts `kamreg serve` with extra KAMREG_* settings, on free ports
// of 127.0.0.1 for the API and the metrics unless they set KAMREG_LISTEN or
// KAMREG_METRICS_LISTEN, and waits until it answers /healthz. With
// KAMREG_TLS_CERT Base is https://.
func (k Kamreg) Serve(extra ...string) (*Served, error) {
	listen, err := setting(extra, "KAMREG_LISTEN")
	if err != nil {
		return nil, err
	}
	metrics, err := setting(extra, "KAMREG_METRICS_LISTEN")
	if err != nil {
		return nil, err
	}
	log, err := os.CreateTemp(k.LogDir, "kamreg-serve-*.log")
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(k.Bin, "serve")
	cmd.Env = k.env(append([]string{"KAMREG_LISTEN=" + listen, "KAMREG_METRICS_LISTEN=" + metrics}, extra...))
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Served{Base: "http://" + listen, LogPath: log.Name(), Cmd: cmd, Done: make(chan struct{})}
	if cert, _ := lookup(extra, "KAMREG_TLS_CERT"); cert != "" {
		s.Base = "https://" + listen
	}
	// Readiness is asked on plain HTTP: the metrics listener when there is
	// one (the API may serve HTTPS), else the API.
	health := s.Base + "/healthz"
	if metrics != "" {
		s.Metrics = "http://" + metrics
		health = s.Metrics + "/healthz"
	}
	go func() { _ = cmd.Wait(); close(s.Done) }()
	err = waitFor(20*time.Second, "kamreg serve (see "+s.LogPath+")", func() error {
		select {
		case <-s.Done:
			return fmt.Errorf("kamreg serve exited")
		default:
		}
		resp, err := http.Get(health)
		if err == nil {
			resp.Body.Close()
		}
		return err
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// setting returns the value extra gives key (the last one wins), or a free
// port of 127.0.0.1 when it gives none.
func setting(extra []string, key string) (string, error) {
	if v, found := lookup(extra, key); found {
		return v, nil
	}
	port, err := FreePort()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("127.0.0.1:%d", port), nil
}

// lookup returns the value extra gives key; the last one wins.
func lookup(extra []string, key string) (v string, found bool) {
	for _, kv := range extra {
		if val, ok := strings.CutPrefix(kv, key+"="); ok {
			v, found = val, true
		}
	}
	return v, found
}

// Close stops kamreg with SIGTERM, and kills it if it has not ended in 10 s.
// In this process it ends Serve and waits for it for up to 40 s (in-flight
// requests may take 30), and panics past that: a server left running would
// go on serving the next tests.
func (s *Served) Close() {
	if s.Cmd == nil {
		s.Stop()
		select {
		case <-s.Done:
		case <-time.After(40 * time.Second):
			panic("kamreg in this process did not stop within 40 s of Close")
		}
		return
	}
	stopGroup(s.Cmd, s.Done, 10*time.Second)
}

// PeakRSS returns the process's peak resident set in kB (while it runs).
func (s *Served) PeakRSS() (int, error) {
	if s.Cmd == nil {
		return 0, fmt.Errorf("kamreg runs in this process: no peak resident set of its own")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.Cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf("no VmHWM in /proc/%d/status", s.Cmd.Process.Pid)
	}
	return strconv.Atoi(string(m[1]))
}

package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// thinService is the yardstick (bench/thin) running as a process of its
// own, so that its resident set and CPU are its own.
type thinService struct {
	base    string // http://127.0.0.1:port
	cmd     *exec.Cmd
	done    chan struct{}
	logPath string
}

// buildThin builds bench/thin into dir with the go command that runs this
// program, and returns the binary's path.
func buildThin(dir string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(dir, "thin")
	if out, err := exec.Command(goBin, "build", "-o", bin, "github.com/kamreg/kamreg/bench/thin").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build bench/thin: %v: %s", err, out)
	}
	return bin, nil
}

// startThin starts the thin service at bin on a free port of 127.0.0.1
// against dbURL, and waits up to 20 s for it to say where it listens.
func startThin(bin, dbURL, logDir string) (*thinService, error) {
	log, err := os.CreateTemp(logDir, "thin-*.log")
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--database-url", dbURL)
	cmd.Stderr = log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t := &thinService{cmd: cmd, done: make(chan struct{}), logPath: log.Name()}
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
		_ = cmd.Wait()
		close(t.done)
	}()
	select {
	case a := <-addr:
		if a == "" {
			t.close()
			return nil, fmt.Errorf("thin service ended before it listened (see %s)", t.logPath)
		}
		t.base = "http://" + a
		return t, nil
	case <-time.After(20 * time.Second):
		t.close()
		return nil, fmt.Errorf("thin service: no address within 20 s (see %s)", t.logPath)
	}
}

// close stops the thin service with SIGTERM, and kills it after 10 s.
func (t *thinService) close() {
	_ = syscall.Kill(-t.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-t.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-t.cmd.Process.Pid, syscall.SIGKILL)
		<-t.done
	}
}

func (t *thinService) pid() int { return t.cmd.Process.Pid }

package testbed

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Check returns an error naming every missing program and the Debian
// package that brings it: PostgreSQL's server programs (any major from 15
// on), sipp, and Kamailio with its PostgreSQL modules and schema (or, with
// KAMREG_TEST_KAMAILIO_IMAGE, docker and that image).
func Check() error {
	var missing []string
	if PGBin == "" {
		missing = append(missing, fmt.Sprintf("PostgreSQL %d or newer: no /usr/lib/postgresql/<major>/bin holds initdb and pg_ctl (Debian package postgresql)", minPGMajor))
	}
	if _, err := exec.LookPath("sipp"); err != nil {
		missing = append(missing, "sipp (Debian package sip-tester)")
	}
	if kamailioImage != "" {
		missing = append(missing, checkImage()...)
	} else {
		missing = append(missing, checkHostKamailio()...)
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing: %s; run `make deps` as root", strings.Join(missing, "; "))
	}
	return nil
}

// checkHostKamailio returns what is missing of the host's Kamailio.
func checkHostKamailio() []string {
	var missing []string
	if _, err := exec.LookPath("kamailio"); err != nil {
		missing = append(missing, "kamailio (Debian package kamailio)")
	}
	if _, err := os.Stat(kamailioModules + "/db_postgres.so"); err != nil {
		missing = append(missing, "Kamailio's db_postgres module (Debian package kamailio-postgres-modules)")
	}
	if _, err := os.Stat(schemaDir + "/usrloc-create.sql"); err != nil {
		missing = append(missing, "Kamailio's PostgreSQL schema (Debian package kamailio)")
	}
	return missing
}

// kamailioModules is where Debian installs Kamailio's modules.
const kamailioModules = "/usr/lib/x86_64-linux-gnu/kamailio/modules"

// defaultSchemaDir is where Debian installs Kamailio's own SQL for
// PostgreSQL.
const defaultSchemaDir = "/usr/share/kamailio/postgres"

// schemaDir holds the Kamailio SQL the testbed loads: Debian's, or the
// copy taken from kamailioImage.
var schemaDir = defaultSchemaDir

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, and
// also free for UDP.
func FreePort() (int, error) {
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port on 127.0.0.1")
}

// asPostgresUser makes cmd run as the postgres user when we are root:
// PostgreSQL refuses to run as root.
func asPostgresUser(cmd *exec.Cmd) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs a postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	cmd.Env = append(os.Environ(), "HOME="+u.HomeDir)
	return nil
}

// chownPostgres gives dir to the postgres user when we are root.
func chownPostgres(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

// stopGroup sends sig to the process group of cmd and waits up to grace for
// it to end, then kills the group.
func stopGroup(cmd *exec.Cmd, done <-chan struct{}, grace time.Duration) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		killGroup(cmd, done)
	}
}

// killGroup kills the process group of cmd and waits up to 10 s for it to
// end.
func killGroup(cmd *exec.Cmd, done <-chan struct{}) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
}

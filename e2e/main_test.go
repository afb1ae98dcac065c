//go:build integration

// Package e2e drives kamreg over HTTP against a real PostgreSQL 15, a
// real Kamailio 5.6 (usrloc db_mode 2), phones registered by sipp and
// headless Chromium, all on loopback. Most tests run the server in this
// process (app.App, through startInProcess); the command line, the
// signals and the exit status are tested on the built binary. Run it with
// `make test`; a missing dependency fails the run.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kamreg/kamreg/app"
	"github.com/kamreg/kamreg/kamailio"
	"github.com/kamreg/kamreg/testbed"
)

// env is the shared test bed.
var env struct {
	dir  string
	bin  string
	pg   *testbed.Postgres
	kam  *testbed.Kamailio
	main *kamregServer
	// replica shares the database and the Kamailio node, and also names a
	// node nobody listens on.
	replica  *kamregServer
	deadNode string
}

// kamailioTZ is not UTC on purpose: Kamailio writes location timestamps in
// its local time, and kamreg must read them in KAMREG_DB_TIMEZONE.
const kamailioTZ = "Europe/Paris"

func TestMain(m *testing.M) {
	os.Exit(setup(m))
}

func setup(m *testing.M) int {
	if err := testbed.Check(); err != nil {
		fmt.Fprintln(os.Stderr, "integration tests:", err)
		return 1
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "kamreg-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env.dir = dir
	env.bin = filepath.Join(dir, "kamreg")
	build := exec.Command("go", "build", "-o", env.bin, "../cmd/kamreg")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build kamreg:", err)
		return 1
	}
	pgLog, err := os.Create(filepath.Join(dir, "pg_ctl.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer pgLog.Close()
	if env.pg, err = testbed.StartPostgres(ctx, pgLog); err != nil {
		dumpLog(pgLog.Name())
		fmt.Fprintln(os.Stderr, "postgres:", err)
		return 1
	}
	defer env.pg.Close()
	env.kam, err = testbed.StartKamailio(ctx, testbed.KamailioOptions{DBURL: env.pg.URL, DBMode: 2, TimerInterval: 1, TZ: kamailioTZ})
	if err != nil {
		fmt.Fprintln(os.Stderr, "kamailio:", err)
		return 1
	}
	defer env.kam.Close()
	if err := checkKamailioVersion(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "kamailio:", err)
		return 1
	}
	dead, err := testbed.FreePort()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env.deadNode = fmt.Sprintf("http://127.0.0.1:%d/RPC", dead)
	// kamreg_registrations is counted every second, not every 15 s, so
	// that TestMetrics sees a flush in it soon.
	if env.main, err = startKamregWith(app.Options{GaugeInterval: time.Second}, "main="+env.kam.RPCURL()); err != nil {
		fmt.Fprintln(os.Stderr, "kamreg:", err)
		return 1
	}
	defer env.main.Close()
	if env.replica, err = startKamreg("main=" + env.kam.RPCURL() + ",dead=" + env.deadNode); err != nil {
		fmt.Fprintln(os.Stderr, "kamreg replica:", err)
		return 1
	}
	defer env.replica.Close()
	start := time.Now()
	code := m.Run()
	if code == 0 {
		defer os.RemoveAll(dir)
	} else {
		fmt.Fprintf(os.Stderr, "kamreg logs: %s and %s; kamailio log: %s (kept %s)\n",
			env.main.LogPath, env.replica.LogPath, env.kam.LogPath(), time.Since(start).Round(time.Second))
		dumpLog(env.kam.LogPath())
	}
	return code
}

func dumpLog(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	fmt.Fprintf(os.Stderr, "--- tail of %s\n%s\n", path, b)
}

// checkKamailioVersion prints the version of the Kamailio the suite runs
// against and, when KAMREG_TEST_KAMAILIO_MAJOR is set (make
// integration-kamailio sets it), fails unless it is of that major
// version: a run meant for 6.0 never passes on 5.6 by mistake.
func checkKamailioVersion(ctx context.Context) error {
	version, err := env.kam.Client().Version(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "e2e: against %s\n", version)
	if want := os.Getenv("KAMREG_TEST_KAMAILIO_MAJOR"); want != "" && kamailio.Major(version) != want {
		return fmt.Errorf("the node runs %q, KAMREG_TEST_KAMAILIO_MAJOR wants %s", version, want)
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime/debug"

	"github.com/sirupsen/logrus"

	"github.com/kamreg/kamreg/app"
)

func serve(ctx context.Context, args []string, _ io.Writer) error {
	var c app.Config
	if err := parse(c.Flags("serve", true), args); err != nil {
		return err
	}
	// A bad setting is one plain line on stderr, as for every command;
	// what fails after the configuration is read is logged.
	if err := checkConfig(&c, true); err != nil {
		return err
	}
	log := c.Logger(os.Stderr)
	tuneGC()
	a, err := app.Open(ctx, c, app.Options{Log: log, Version: version})
	if err != nil {
		return fatal(log, c.LogFormat, err)
	}
	defer a.Close()
	return a.Serve(ctx)
}

// errLogged is a start-up failure already written to the log.
var errLogged = errors.New("logged")

// fatal writes a start-up failure to the log, as one JSON line when the
// log is JSON, and returns errLogged; in text format the caller prints it.
func fatal(log *logrus.Logger, format string, err error) error {
	if format == "text" {
		return err
	}
	app.ErrorEntry(log, err).Error("kamreg cannot start")
	return errLogged
}

// tuneGC trades memory for CPU: a list of 1,000 registrations allocates
// about 2 MB, so the collector runs less often, within a soft memory limit
// that keeps the process under 96 MB. With eight such lists in flight the
// live heap nears 64 MB: a 64 MB limit made the collector run all the time
// (measured: 3.9 ms of CPU per list against 2.6 ms at 76 MB, peak RSS
// 90 MB). GOGC and GOMEMLIMIT still win when set.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(76 << 20)
	}
}

//go:build integration

package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/kamreg/kamreg/app"
	"github.com/kamreg/kamreg/testbed"
)

// startInProcess runs kamreg's server in this process (app.Open, Serve,
// Close) with the settings `kamreg serve` would read from k and extra,
// never from this process's environment, and with the options o (a clock,
// intervals, fake nodes). The API and the metrics listen on free ports of
// 127.0.0.1 unless extra sets KAMREG_LISTEN or KAMREG_METRICS_LISTEN.
func startInProcess(k testbed.Kamreg, o app.Options, extra ...string) (*kamregServer, error) {
	settings := append([]string{"KAMREG_DATABASE_URL=" + k.DBURL,
		"KAMREG_LISTEN=127.0.0.1:0", "KAMREG_METRICS_LISTEN=127.0.0.1:0"}, k.Env...)
	var c app.Config
	if err := c.Flags("serve", true).Parse(flagsOf(append(settings, extra...))); err != nil {
		return nil, err
	}
	if err := c.Check(true); err != nil {
		return nil, err
	}
	log, err := os.CreateTemp(k.LogDir, "kamreg-serve-*.log")
	if err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = c.Logger(log)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, c, o)
	if err != nil {
		cancel()
		log.Close()
		return nil, fmt.Errorf("kamreg (see %s): %w", log.Name(), err)
	}
	s := &kamregServer{Base: "http://" + a.Addr(), LogPath: log.Name(), Done: make(chan struct{}), Stop: cancel}
	if a.TLS() {
		s.Base = "https://" + a.Addr()
	}
	if m := a.MetricsAddr(); m != "" {
		s.Metrics = "http://" + m
	}
	go func() {
		defer close(s.Done)
		if err := a.Serve(ctx); err != nil {
			o.Log.WithError(err).Error("serve ended")
		}
		a.Close()
		log.Close()
	}()
	return s, nil
}

// flagsOf turns KAMREG_NAME=value settings into --name=value flags, the
// names ff maps them to, in order, so that the last one wins.
func flagsOf(settings []string) []string {
	args := make([]string, 0, len(settings))
	for _, kv := range settings {
		k, v, _ := strings.Cut(kv, "=")
		name := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k, "KAMREG_"), "_", "-"))
		args = append(args, "--"+name+"="+v)
	}
	return args
}

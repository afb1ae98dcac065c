package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sirupsen/logrus"

	"github.com/kamreg/kamreg/auth"
	"github.com/kamreg/kamreg/kamailio"
	"github.com/kamreg/kamreg/metrics"
	"github.com/kamreg/kamreg/rest"
	"github.com/kamreg/kamreg/store"
	"github.com/kamreg/kamreg/watch"
)

// shutdownGrace is how long in-flight requests may finish after SIGTERM.
const shutdownGrace = 30 * time.Second

func serve(ctx context.Context, args []string, _ io.Writer) error {
	var c config
	if err := parse(newFlags("serve", &c, true), args); err != nil {
		return err
	}
	// A bad setting is one plain line on stderr, as for every command;
	// what fails after the configuration is read is logged.
	if err := c.check(true); err != nil {
		return err
	}
	log := c.logger(os.Stderr)
	tuneGC()
	pool, err := prepare(ctx, &c, !c.NoMigrate, c.Source == "db", log)
	if err != nil {
		return fatal(log, c.LogFormat, err)
	}
	defer pool.Close()

	promReg := prometheus.NewRegistry()
	promReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		store.NewPoolCollector(pool))
	m := metrics.New(promReg)
	setBuildInfo(m)
	clients := make([]*kamailio.Client, len(c.nodes))
	checkers := make([]rest.NodeChecker, len(c.nodes))
	for i, n := range c.nodes {
		clients[i] = kamailio.NewClient(n, c.RPCTimeout, kamailio.DefaultMaxReply)
		clients[i].Observe(m.ObserveRPC)
		checkers[i] = clients[i]
	}
	reg, gauge, err := newRegistry(&c, pool, clients, m, log)
	if err != nil {
		return fatal(log, c.LogFormat, err)
	}
	if gauge != nil {
		go gauge(ctx)
	}
	go probeNodes(ctx, clients, probeInterval)
	authMetrics := metrics.NewAuthFailures(promReg)
	// Token ids with no live row are remembered, so that a flood of
	// made-up tokens stays off PostgreSQL; malformed ones never reach it.
	tokens := store.NewNegativeTokens(store.NewCachedTokens(store.Tokens{Pool: pool, OnLookup: authMetrics.Lookup}))
	// The event stream: one poller per watched realm; a flush through
	// kamreg makes the realm's poller read at once; SIGTERM ends streams.
	hub := &watch.Hub{Source: reg, Interval: c.WatchInterval, Metrics: metrics.NewWatch(promReg),
		OnError: func(realm string, err error) { log.WithError(err).WithField("realm", realm).Warn("watch poll failed") }}
	context.AfterFunc(ctx, hub.Close)
	api := rest.New(rest.Config{
		Accounts:      store.NewCachedAccounts(store.Accounts{Pool: pool}),
		Tokens:        auth.Chain{JWT: c.jwt, Tokens: tokens},
		Registrations: hub.Notifying(reg),
		Watch:         hub,
		DB:            pool,
		CORSOrigin:    c.CORSOrigin,
		Log:           log,
		Nodes:         checkers,
		Metrics:       m,
		RateLimit:     c.RateLimit,
		RateBurst:     c.RateBurst,
		KazooURL:      c.kazooURL,
		AuthFailures: rest.AuthFailureLimit{Rate: c.authFailRate, Burst: c.AuthFailBurst,
			TrustedProxies: c.trustedProxies, Metrics: authMetrics, Hold: authFailHold},
	})
	ops := api.OpsHandler(promhttp.HandlerFor(promReg, promhttp.HandlerOpts{}))
	lns, err := listen(&c)
	if err != nil {
		return fatal(log, c.LogFormat, err)
	}
	names := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		names[i] = n.Name + "=" + n.URL
	}
	log.WithFields(logrus.Fields{"listen": lns.api.Addr().String(), "tls": lns.certs != nil, "metrics_listen": c.MetricsListen,
		"kamailio_nodes": names, "source": c.Source, "jwt": c.jwt != nil, "kazoo_url": c.KazooURL}).Info("kamreg serving")
	if len(c.nodes) == 0 {
		log.Warn("no Kamailio JSON-RPC node configured (KAMREG_KAMAILIO_RPC): flushes will answer 503")
	}
	if err := serveUntil(ctx, lns, api, ops, log); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// authFailHold is how long a request refused for too many failed
// authentications waits before its 429.
const authFailHold = time.Second

// errLogged is a start-up failure already written to the log.
var errLogged = errors.New("logged")

// fatal writes a start-up failure to the log, as one JSON line when the
// log is JSON, and returns errLogged; in text format the caller prints it.
func fatal(log *logrus.Logger, format string, err error) error {
	if format == "text" {
		return err
	}
	log.WithError(err).Error("kamreg cannot start")
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

// prepare opens the pool, applies migrations if asked, and, when kamreg
// reads the location table, makes sure its index exists, saying clearly
// when the table is missing.
func prepare(ctx context.Context, c *config, migrate, location bool, log *logrus.Logger) (*pgxpool.Pool, error) {
	// After a host or daemon restart the database may come up after kamreg.
	pool, err := store.OpenWait(ctx, c.DatabaseURL, c.DBWait, func(err error, retry time.Duration) {
		log.WithError(err).WithField("retry_in", retry.String()).Warn("PostgreSQL does not answer yet; waiting for it")
	})
	if err != nil {
		return nil, err
	}
	if migrate {
		n, err := store.Migrate(ctx, pool)
		if err != nil {
			pool.Close()
			return nil, err
		}
		log.WithField("applied", n).Info("migrations up to date")
	}
	if !location {
		return pool, nil
	}
	err = store.EnsureLocationIndex(ctx, pool, c.LocationTable)
	switch {
	case errors.Is(err, store.ErrNoLocationTable):
		log.WithError(err).Error("Kamailio's location table is missing: registration reads will answer 503 until it exists")
	case err != nil:
		pool.Close()
		return nil, fmt.Errorf("location index: %w", err)
	}
	return pool, nil
}

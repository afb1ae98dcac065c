// Package app wires kamreg's parts into one server: Open builds it from a
// Config and Options, Serve answers until its context ends, Close releases
// what Open took. The kamreg command and the e2e suite both run it; the
// Options let a test set the clock, the intervals and the Kamailio nodes.
package app

import (
	"context"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sirupsen/logrus"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/auth"
	"github.com/kamreg/kamreg/kamailio"
	"github.com/kamreg/kamreg/metrics"
	"github.com/kamreg/kamreg/rest"
	"github.com/kamreg/kamreg/store"
	"github.com/kamreg/kamreg/watch"
)

// Node is one Kamailio node as kamreg uses it: flushes, lookups, dumps
// for the rpc source, and probes (kamailio.Client).
type Node interface {
	Node() kamailio.Node
	Name() string
	Ping(ctx context.Context) error
	Remove(ctx context.Context, table, aor string) error
	Lookup(ctx context.Context, table, aor string) ([]kamailio.Contact, error)
	Dump(ctx context.Context, table string) ([]kamailio.Record, error)
}

// Options are what the command or a test sets beyond the Config.
type Options struct {
	// Log receives kamreg's log; nil means the Config's logger on stderr.
	Log *logrus.Logger
	// Version is what kamreg_build_info reports; empty means "dev".
	Version string
	// Now is the clock of reads and flushes; nil means time.Now.
	Now func() time.Time
	// GaugeInterval is how often kamreg_registrations is counted; zero
	// means every 15 s.
	GaugeInterval time.Duration
	// ProbeInterval is how often every node is pinged for
	// kamreg_kamailio_up; zero means every 10 s.
	ProbeInterval time.Duration
	// Nodes, when not nil, stand for the nodes KAMREG_KAMAILIO_RPC names.
	Nodes []Node
}

func (o *Options) gaugeInterval() time.Duration {
	if o.GaugeInterval > 0 {
		return o.GaugeInterval
	}
	return 15 * time.Second
}

func (o *Options) probeInterval() time.Duration {
	if o.ProbeInterval > 0 {
		return o.ProbeInterval
	}
	return 10 * time.Second
}

// App is one kamreg server: its pool, its listeners, its handlers and the
// loops that keep its gauges.
type App struct {
	cfg      Config
	log      *logrus.Logger
	pool     *pgxpool.Pool
	lns      *listeners
	api, ops http.Handler
	hub      *watch.Hub
	names    []string
	// stop ends the background loops; loops counts them.
	stop  context.CancelFunc
	loops sync.WaitGroup
}

// Open builds the server c describes: it waits for PostgreSQL (up to
// KAMREG_DB_WAIT or until ctx ends), applies migrations unless
// KAMREG_NO_MIGRATE, opens the listeners and starts probing the nodes.
// c must have passed Check(true).
func Open(ctx context.Context, c Config, o Options) (*App, error) {
	log := o.Log
	if log == nil {
		log = c.Logger(os.Stderr)
	}
	pool, err := OpenDatabase(ctx, &c, !c.NoMigrate, c.Source == "db", log)
	if err != nil {
		return nil, err
	}
	a := &App{cfg: c, log: log, pool: pool}
	if err := a.build(&o); err != nil {
		a.Close()
		return nil, err
	}
	if a.lns, err = listen(&c); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// build makes the handlers and starts the background loops.
func (a *App) build(o *Options) error {
	c, pool, log := &a.cfg, a.pool, a.log
	promReg := prometheus.NewRegistry()
	promReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		store.NewPoolCollector(pool))
	m := metrics.New(promReg)
	m.BuildInfo.WithLabelValues(BuildInfo(o.Version)).Set(1)
	nodes := o.Nodes
	if nodes == nil {
		hedges := metrics.NewRPCHedges(promReg)
		for _, n := range c.nodes {
			cl := kamailio.NewClient(n, c.RPCTimeout, kamailio.DefaultMaxReply)
			cl.Observe(m.ObserveRPC)
			cl.ObserveHedges(hedges.Observe)
			nodes = append(nodes, cl)
		}
	}
	checkers := make([]rest.NodeChecker, len(nodes))
	for i, n := range nodes {
		checkers[i] = n
		a.names = append(a.names, n.Node().Name+"="+n.Node().URL)
	}
	// The event stream: one poller per watched realm; a flush through any
	// replica makes the realm's poller read at once.
	a.hub = &watch.Hub{Interval: c.WatchInterval, Metrics: metrics.NewWatch(promReg),
		OnError: func(realm string, err error) {
			ErrorEntry(log, err).WithField("realm", realm).Warn("watch poll failed")
		}}
	flushes := &store.Listener{Pool: pool, Self: replicaID()}
	reg, gauge, err := newRegistry(c, o, pool, nodes, m, log, flushes, a.hub.Kick)
	if err != nil {
		return err
	}
	a.hub.Source = reg
	bg, stop := context.WithCancel(context.Background())
	a.stop = stop
	if gauge != nil {
		a.loop(func() { gauge(bg) })
	}
	hearFlushes(flushes, reg, log)
	a.loop(func() { flushes.Run(bg) })
	a.loop(func() { probeNodes(bg, nodes, o.probeInterval()) })
	authMetrics := metrics.NewAuthFailures(promReg)
	// Token ids with no live row are remembered, so that a flood of
	// made-up tokens stays off PostgreSQL; malformed ones never reach it.
	tokens := auth.NewNegativeTokens(auth.NewCachedTokens(store.Tokens{Pool: pool, OnLookup: authMetrics.Lookup}))
	// A Kazoo JWT is verified once, then remembered until it expires: the
	// event streams recheck their token every second.
	var jwts kamreg.Authenticator
	if c.jwt != nil {
		jwts = auth.NewJWTCache(c.jwt)
	}
	api := rest.New(rest.Config{
		Accounts:      auth.NewCachedAccounts(store.Accounts{Pool: pool}),
		Tokens:        auth.Chain{JWT: jwts, Tokens: tokens},
		Registrations: reg,
		Entries:       reg.Entries,
		Devices:       reg,
		Tree:          store.Accounts{Pool: pool},
		DeviceRecords: store.Devices{Pool: pool},
		SyncRate:      syncRate(c.SyncRate),
		SyncBurst:     c.SyncBurst,
		Watch:         a.hub,
		Streams:       rest.StreamLimit{PerToken: c.StreamsPerToken, PerAddress: c.StreamsPerAddress},
		DB:            pool,
		CORSOrigin:    c.CORSOrigin,
		Log:           log,
		Nodes:         checkers,
		Metrics:       m,
		RateLimit:     c.RateLimit,
		RateBurst:     c.RateBurst,
		KazooURL:      c.kazooURL,
		AuthFailures: auth.FailureLimit{Rate: c.authFailRate, Burst: c.AuthFailBurst,
			TrustedProxies: c.trustedProxies, Metrics: authMetrics},
		AuthFailHold: authFailHold,
	})
	a.api = api
	a.ops = api.OpsHandler(promhttp.HandlerFor(promReg, promhttp.HandlerOpts{}))
	return nil
}

// syncRate is the check-sync rate as rest.Config takes it: there 0 is
// the default, and a negative rate no limit.
func syncRate(perSecond float64) float64 {
	if perSecond == 0 {
		return -1
	}
	return perSecond
}

// loop runs fn on its own goroutine until the background context ends.
func (a *App) loop(fn func()) {
	a.loops.Add(1)
	go func() {
		defer a.loops.Done()
		fn()
	}()
}

// authFailHold is how long a request refused for too many failed
// authentications waits before its 429.
const authFailHold = time.Second

// Addr is the API's listen address (host:port).
func (a *App) Addr() string { return a.lns.api.Addr().String() }

// MetricsAddr is the metrics listener's address; empty when there is none.
func (a *App) MetricsAddr() string {
	if a.lns.metrics == nil {
		return ""
	}
	return a.lns.metrics.Addr().String()
}

// TLS says whether the API serves HTTPS.
func (a *App) TLS() bool { return a.lns.certs != nil }

// Serve answers on the listeners until ctx ends, then ends the event
// streams and lets in-flight requests finish for up to 30 s. While it
// serves, SIGHUP reloads the TLS certificate and key.
func (a *App) Serve(ctx context.Context) error {
	c := &a.cfg
	a.log.WithFields(logrus.Fields{"listen": a.Addr(), "tls": a.TLS(), "metrics_listen": c.MetricsListen,
		"kamailio_nodes": a.names, "source": c.Source, "jwt": c.jwt != nil, "kazoo_url": c.KazooURL}).Info("kamreg serving")
	if len(a.names) == 0 {
		a.log.Warn("no Kamailio JSON-RPC node configured (KAMREG_KAMAILIO_RPC): flushes will answer 503")
	}
	stop := context.AfterFunc(ctx, a.hub.Close)
	defer stop()
	if err := serveUntil(ctx, a.lns, a.api, a.ops, a.log); err != nil {
		return err
	}
	a.log.Info("stopped")
	return nil
}

// Close stops the background loops and the event streams, closes the
// listeners if Serve never ran, and closes the pool.
func (a *App) Close() {
	if a.stop != nil {
		a.stop()
		a.loops.Wait()
	}
	if a.hub != nil {
		a.hub.Close()
	}
	if a.lns != nil {
		a.lns.close()
	}
	a.pool.Close()
}

package app

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sirupsen/logrus"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
	"github.com/kamreg/kamreg/kamailio"
	"github.com/kamreg/kamreg/metrics"
	"github.com/kamreg/kamreg/registry"
	"github.com/kamreg/kamreg/store"
)

// newRegistry builds the Registrations service for c: the source of
// bindings (the location table, or the nodes' memory), kamreg's tables,
// the cache of flush records, and the nodes a flush reaches. Every flush,
// through this replica or told by another, drops the rpc source's dumps
// and is told to kick (the watchers of the realm). Flushes are notified
// to the other replicas through listener. The returned gauge, when not nil,
// keeps kamreg_registrations up to date, every interval, until its
// context ends.
func newRegistry(c *Config, o *Options, pool *pgxpool.Pool, clients []Node, m *metrics.Metrics,
	log *logrus.Logger, listener *store.Listener, kick func(realm string)) (*registry.Registry, func(context.Context), error) {
	nodes := make([]registry.Node, len(clients))
	registrars := map[int]kamreg.Registrar{}
	for i, cl := range clients {
		nodes[i] = cl
		if n := cl.Node(); n.ServerID != 0 {
			registrars[n.ServerID] = adapter.RegistrarOf(n.Name, n.URL)
		}
	}
	var once sync.Map
	reg := &registry.Registry{
		Directory:   store.Directory{Pool: pool},
		Devices:     store.Devices{Pool: pool},
		Flushes:     store.Flushes{Pool: pool, Listener: listener},
		Cache:       &registry.FlushCache{Refresh: c.FlushRefresh},
		OnFlushed:   kick,
		Nodes:       nodes,
		Table:       c.LocationTable,
		Advertise:   c.advertise,
		Registrars:  registrars,
		PerNode:     c.FlushConcurrency,
		ChannelVars: adapter.NewChannelVarsCache(100000),
		Entries:     adapter.NewEntryCache(),
		Now:         o.Now,
		OnWildcard: func(socket string) {
			if _, seen := once.LoadOrStore(socket, true); !seen {
				log.WithField("socket", socket).Warn("Kamailio listens on a wildcard address and nothing advertises " +
					"the address phones reach: proxy_ip is \"undefined\" (set KAMREG_ADVERTISE, or advertise in kamailio.cfg)")
			}
		},
	}
	if c.Source == "rpc" {
		dumpers := make([]registry.Dumper, len(clients))
		for i, cl := range clients {
			dumpers[i] = cl
		}
		src := &registry.RPCSource{Nodes: dumpers, Table: c.LocationTable, TTL: c.DumpTTL, Now: o.Now,
			OnDump: func(node string) { m.Dumps.WithLabelValues(node).Inc() }}
		reg.Source = src
		reg.OnFlushed = func(realm string) {
			src.Forget()
			kick(realm)
		}
		return reg, nil, nil
	}
	usrloc, err := kamailio.NewUsrloc(pool, c.LocationTable, c.DBTimezone)
	if err != nil {
		return nil, nil, err
	}
	reg.Source = usrloc
	if d := c.sweepDelay(); d > 0 {
		reg.Sweep = &registry.Sweep{Delay: d, OnSweep: m.ObserveSweep}
	}
	gauge := func(ctx context.Context) {
		refreshRegistrations(ctx, store.Accounts{Pool: pool}, usrloc, m, log, o.gaugeInterval())
	}
	return reg, gauge, nil
}

// probeNodes pings every node now and on every interval until ctx ends;
// each call's outcome sets kamreg_kamailio_up (kamailio.Client.Observe).
func probeNodes(ctx context.Context, clients []Node, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for _, c := range clients {
			pctx, cancel := context.WithTimeout(ctx, max(every, minRoundTimeout))
			_ = c.Ping(pctx)
			cancel()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// minRoundTimeout bounds one probe or one count of the gauge, however
// short the interval: a test's 20 ms interval once failed every count of a
// busy machine.
const minRoundTimeout = 5 * time.Second

// Registrations per account are counted in two queries, for at most
// maxGaugeAccounts accounts.
const maxGaugeAccounts = 10000

// refreshRegistrations keeps kamreg_registrations{account_id,realm} up to
// date until ctx ends.
func refreshRegistrations(ctx context.Context, accounts registry.AccountLister, rows registry.RealmCounter,
	m *metrics.Metrics, log *logrus.Logger, every time.Duration) {
	failing := false
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		qctx, cancel := context.WithTimeout(ctx, max(every, minRoundTimeout))
		counts, err := registry.CountByAccount(qctx, accounts, rows, maxGaugeAccounts)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			if !failing {
				ErrorEntry(log, err).Warn("counting registrations per account failed; kamreg_registrations keeps its last values")
			}
			failing = true
		case err == nil:
			failing = false
			m.Registrations.Reset()
			for _, c := range counts {
				m.Registrations.WithLabelValues(c.Account.ID, c.Account.Realm).Set(float64(c.Count))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

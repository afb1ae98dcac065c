package store

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// PoolCollector exports a pgxpool's statistics at each scrape.
type PoolCollector struct {
	pool                                          *pgxpool.Pool
	total, idle, acquired, max, acquires, waits   *prometheus.Desc
	canceled, newConns, waitSeconds, lifetimeDrop *prometheus.Desc
}

// NewPoolCollector returns a collector for pool.
func NewPoolCollector(pool *pgxpool.Pool) *PoolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("kamreg_db_pool_"+name, help, nil, nil)
	}
	return &PoolCollector{pool: pool,
		total:        d("connections", "Connections open in the PostgreSQL pool."),
		idle:         d("idle_connections", "Idle connections in the pool."),
		acquired:     d("acquired_connections", "Connections in use."),
		max:          d("max_connections", "Most connections the pool opens."),
		acquires:     d("acquires_total", "Connections acquired from the pool."),
		waits:        d("empty_acquires_total", "Acquires that had to wait for a connection."),
		canceled:     d("canceled_acquires_total", "Acquires canceled before they got a connection."),
		newConns:     d("new_connections_total", "Connections opened."),
		waitSeconds:  d("acquire_wait_seconds_total", "Time spent waiting for a connection."),
		lifetimeDrop: d("lifetime_destroys_total", "Connections closed for reaching their maximum lifetime."),
	}
}

// Describe sends the descriptors.
func (c *PoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.total, c.idle, c.acquired, c.max, c.acquires, c.waits, c.canceled, c.newConns, c.waitSeconds, c.lifetimeDrop} {
		ch <- d
	}
}

// Collect reads the pool's statistics.
func (c *PoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	k := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	g(c.total, float64(s.TotalConns()))
	g(c.idle, float64(s.IdleConns()))
	g(c.acquired, float64(s.AcquiredConns()))
	g(c.max, float64(s.MaxConns()))
	k(c.acquires, float64(s.AcquireCount()))
	k(c.waits, float64(s.EmptyAcquireCount()))
	k(c.canceled, float64(s.CanceledAcquireCount()))
	k(c.newConns, float64(s.NewConnsCount()))
	k(c.waitSeconds, s.AcquireDuration().Seconds())
	k(c.lifetimeDrop, float64(s.MaxLifetimeDestroyCount()))
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"

	"github.com/kamreg/kamreg/migrations"
)

// Open connects a pool to the PostgreSQL at url and checks that it answers.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	cfg.HealthCheckPeriod = 10 * time.Second
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns()
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database: %w", err)
	}
	return pool, nil
}

// DefaultMaxConns is the pool's size unless the database URL sets
// pool_max_conns: four connections per usable core, at least eight and at
// most 32, so that replicas on big hosts leave PostgreSQL's connection
// slots (100 by default) to Kamailio. With pgx's
// own default (one per core, at least four) half of eight concurrent lists
// wait for a connection; bench/db gave 365 and 366 lists/s at eight
// connections with eight, against 279 and 341 with four (a noisy, shared
// 2-core machine: see bench/README.md).
func DefaultMaxConns() int32 { return int32(min(max(8, 4*runtime.GOMAXPROCS(0)), 32)) }

// OpenWait opens the pool like Open, trying again while PostgreSQL does
// not answer, with a backoff from 500 ms to 5 s, for at most wait; each
// failed try is told to retrying. A bad URL fails at once.
func OpenWait(ctx context.Context, url string, wait time.Duration, retrying func(err error, retry time.Duration)) (*pgxpool.Pool, error) {
	return openWait(ctx, url, wait, retrying, realClock{})
}

// clock is the time OpenWait waits in.
type clock interface {
	Now() time.Time
	// Sleep waits d, or less when ctx ends first.
	Sleep(ctx context.Context, d time.Duration)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func openWait(ctx context.Context, url string, wait time.Duration, retrying func(err error, retry time.Duration), c clock) (*pgxpool.Pool, error) {
	if _, err := pgxpool.ParseConfig(url); err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	deadline := c.Now().Add(wait)
	delay := 500 * time.Millisecond
	for {
		pool, err := Open(ctx, url)
		if err == nil || c.Now().Add(delay).After(deadline) {
			return pool, err
		}
		retrying(err, delay)
		if c.Sleep(ctx, delay); ctx.Err() != nil {
			return nil, err
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// migrationsTable is where goose records which migrations ran.
const migrationsTable = "kamreg_schema_migrations"

// Migrate applies pending migrations and returns how many ran. Several
// kamreg processes may call it at once: a session lock serialises them.
// The migrations that carry flush records over read Kamailio's table in
// the zone u names: the process that migrates needs the same
// KAMREG_LOCATION_TABLE and KAMREG_DB_TIMEZONE as the ones that serve.
func Migrate(ctx context.Context, pool *pgxpool.Pool, u migrations.Usrloc) (int, error) {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	return migrate(ctx, db, u)
}

// provider returns goose's provider for kamreg's migrations (the embedded
// SQL files and the Go migrations reading what u names), recorded in
// migrationsTable.
func provider(db *sql.DB, u migrations.Usrloc, opts ...goose.ProviderOption) (*goose.Provider, error) {
	st, err := database.NewStore(database.DialectPostgres, migrationsTable)
	if err != nil {
		return nil, err
	}
	opts = append(opts, goose.WithStore(st), goose.WithDisableGlobalRegistry(true), goose.WithGoMigrations(migrations.Go(u)...))
	p, err := goose.NewProvider("", db, migrations.FS, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

func migrate(ctx context.Context, db *sql.DB, u migrations.Usrloc) (int, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return 0, err
	}
	p, err := provider(db, u, goose.WithSessionLocker(locker))
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	return len(res), nil
}

// PendingMigrations tells whether some of kamreg's migrations have not been
// applied.
func PendingMigrations(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := provider(db, migrations.Usrloc{})
	if err != nil {
		return false, err
	}
	return p.HasPending(ctx)
}

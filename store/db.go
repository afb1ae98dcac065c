package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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

// OpenWait opens the pool like Open, trying again while PostgreSQL does
// not answer, with a backoff from 500 ms to 5 s, for at most wait; each
// failed try is told to retrying. A bad URL fails at once.
func OpenWait(ctx context.Context, url string, wait time.Duration, retrying func(err error, retry time.Duration)) (*pgxpool.Pool, error) {
	if _, err := pgxpool.ParseConfig(url); err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	deadline := time.Now().Add(wait)
	delay := 500 * time.Millisecond
	for {
		pool, err := Open(ctx, url)
		if err == nil || time.Now().Add(delay).After(deadline) {
			return pool, err
		}
		retrying(err, delay)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// MigrationsTable is where goose records which migrations ran.
const MigrationsTable = "kamreg_schema_migrations"

// Migrate applies pending migrations and returns how many ran. Several
// kamreg processes may call it at once: a session lock serialises them.
func Migrate(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	return migrate(ctx, db)
}

// provider returns goose's provider for kamreg's embedded migrations,
// recorded in MigrationsTable.
func provider(db *sql.DB, opts ...goose.ProviderOption) (*goose.Provider, error) {
	st, err := database.NewStore(database.DialectPostgres, MigrationsTable)
	if err != nil {
		return nil, err
	}
	opts = append(opts, goose.WithStore(st), goose.WithDisableGlobalRegistry(true))
	p, err := goose.NewProvider("", db, migrations.FS, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

func migrate(ctx context.Context, db *sql.DB) (int, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return 0, err
	}
	p, err := provider(db, goose.WithSessionLocker(locker))
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	return len(res), nil
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// CheckTableName refuses a usrloc table name that is not a plain SQL
// identifier.
func CheckTableName(table string) error {
	if !identifier.MatchString(table) {
		return invalid("location table", fmt.Sprintf("%q is not a plain SQL identifier", table))
	}
	return nil
}

// ErrNoLocationTable says Kamailio's usrloc schema has not been loaded.
var ErrNoLocationTable = errors.New("table missing: load Kamailio's usrloc schema (standard-create.sql, then usrloc-create.sql) into this database")

// EnsureLocationIndex creates the (domain, username) index kamreg's realm
// lookups need on Kamailio's location table, if it is not there yet. It
// returns ErrNoLocationTable (wrapped with the name) when the table is
// missing; it never creates, alters or drops Kamailio's tables.
func EnsureLocationIndex(ctx context.Context, pool *pgxpool.Pool, table string) error {
	if err := CheckTableName(table); err != nil {
		return err
	}
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("usrloc table %q: %w", table, ErrNoLocationTable)
	}
	idx := pgx.Identifier{"kamreg_" + table + "_domain_username_idx"}.Sanitize()
	_, err := pool.Exec(ctx, fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (domain, username)`, idx, pgx.Identifier{table}.Sanitize()))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		// Another kamreg created it at the same moment.
		return nil
	}
	return err
}

// PendingMigrations tells whether some of kamreg's migrations have not been
// applied.
func PendingMigrations(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := provider(db)
	if err != nil {
		return false, err
	}
	return p.HasPending(ctx)
}

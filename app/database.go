package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sirupsen/logrus"

	"github.com/kamreg/kamreg/kamailio"
	"github.com/kamreg/kamreg/migrations"
	"github.com/kamreg/kamreg/store"
)

// OpenDatabase opens the pool, waiting up to KAMREG_DB_WAIT for PostgreSQL
// with a logged backoff, applies migrations if asked, and, when kamreg
// reads the location table, makes sure its index exists, saying clearly
// when the table is missing.
func OpenDatabase(ctx context.Context, c *Config, migrate, location bool, log *logrus.Logger) (*pgxpool.Pool, error) {
	// After a host or daemon restart the database may come up after kamreg.
	pool, err := store.OpenWait(ctx, c.DatabaseURL, c.DBWait, func(err error, retry time.Duration) {
		ErrorEntry(log, err).WithField("retry_in", retry.String()).Warn("PostgreSQL does not answer yet; waiting for it")
	})
	if err != nil {
		return nil, err
	}
	if migrate {
		n, err := store.Migrate(ctx, pool, migrations.Usrloc{Table: c.LocationTable, TimeZone: c.DBTimezone})
		if err != nil {
			pool.Close()
			return nil, err
		}
		log.WithField("applied", n).Info("migrations up to date")
	}
	if !location {
		return pool, nil
	}
	err = kamailio.EnsureLocationIndex(ctx, pool, c.LocationTable)
	switch {
	case errors.Is(err, kamailio.ErrNoLocationTable):
		log.WithError(err).Error("Kamailio's location table is missing: registration reads will answer 503 until it exists")
	case err != nil:
		pool.Close()
		return nil, fmt.Errorf("location index: %w", err)
	}
	return pool, nil
}

// Package dberr turns PostgreSQL failures into kamreg's error kinds, for
// the two packages that speak SQL (store for kamreg's tables, kamailio for
// Kamailio's usrloc tables), so that no other layer knows the driver.
package dberr

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kamreg/kamreg"
)

// Wrap returns nil for nil, kamreg.ErrNotFound for no rows, and otherwise
// an EUNAVAILABLE error saying what failed, with err as its cause. Errors
// that already have a kind are returned as they are.
func Wrap(err error) error {
	var pgErr *pgconn.PgError
	var known *kamreg.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &known):
		return err
	case errors.Is(err, pgx.ErrNoRows):
		return kamreg.ErrNotFound
	case errors.As(err, &pgErr) && pgErr.Code == "42P01":
		return kamreg.Wrap(kamreg.EUNAVAILABLE, err,
			"a table is missing (%s): load Kamailio's usrloc schema and run kamreg migrate", pgErr.Message)
	case errors.Is(err, context.DeadlineExceeded):
		return kamreg.Wrap(kamreg.EUNAVAILABLE, err, "PostgreSQL did not answer in time")
	case errors.Is(err, context.Canceled):
		return kamreg.Wrap(kamreg.EUNAVAILABLE, err, "the request was cancelled")
	}
	return kamreg.Wrap(kamreg.EUNAVAILABLE, err, "PostgreSQL is unreachable or failing")
}

// IsCode tells whether err is a PostgreSQL error with that SQLSTATE.
func IsCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

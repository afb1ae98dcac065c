package kamailio

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/dberr"
)

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// CheckTableName refuses a usrloc table name that is not a plain SQL
// identifier.
func CheckTableName(table string) error {
	if !identifier.MatchString(table) {
		return kamreg.Errorf(kamreg.EINVALID, "invalid location table: %q is not a plain SQL identifier", table)
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
		return dberr.Wrap(err)
	}
	if !exists {
		return fmt.Errorf("usrloc table %q: %w", table, ErrNoLocationTable)
	}
	idx := pgx.Identifier{"kamreg_" + table + "_domain_username_idx"}.Sanitize()
	_, err := pool.Exec(ctx, fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (domain, username)`, idx, pgx.Identifier{table}.Sanitize()))
	if dberr.IsCode(err, "23505") {
		// Another kamreg created it at the same moment.
		return nil
	}
	return dberr.Wrap(err)
}

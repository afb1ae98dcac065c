package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"

	"github.com/kamreg/kamreg/kamailio"
)

// Usrloc names what the Go migrations read of Kamailio's: its usrloc
// table (KAMREG_LOCATION_TABLE) and the zone it writes timestamps in
// (KAMREG_DB_TIMEZONE). An empty field is the setting's default.
type Usrloc struct {
	Table    string
	TimeZone string
}

func (u Usrloc) table() string {
	if u.Table == "" {
		return "location"
	}
	return u.Table
}

func (u Usrloc) zone() string {
	if u.TimeZone == "" {
		return "UTC"
	}
	return u.TimeZone
}

// Go returns kamreg's Go migrations, reading what u names.
func Go(u Usrloc) []*goose.Migration {
	return []*goose.Migration{
		goose.NewGoMigration(3, &goose.GoFunc{RunTx: u.flushRecordsRealm}, nil),
	}
}

// flushRecordsRealm is 00003: it puts back in force the flush records
// written before 00002, which 00002 left without a realm (username and
// domain empty) and whose last_modified, a copy of location.last_modified in
// Kamailio's zone, it turned into an instant as if that zone were UTC.
// Reads fetch a realm's records by domain and compare last_modified as an
// instant, so those records hid nothing.
//
// Each such record takes username and domain from the location row of
// its ruid (ruid is unique there), and its last_modified is read again as
// a wall-clock time in Kamailio's zone: undoing 00002's AT TIME ZONE 'UTC'
// gives back the value copied at the flush, which becomes an instant
// exactly as reads make one of the row's (kamailio.InZone). The record keeps its own
// Call-ID, CSeq and time rather than the row's, so a phone that registered
// again after the flush still shows. A record whose row is gone hides
// nothing and stays until it expires. While such records are live, a
// missing table is an error (a KAMREG_LOCATION_TABLE other than the one
// kamreg serves with, most likely): the migration fails, and kamreg does
// not start, rather than let flushed phones show again.
func (u Usrloc) flushRecordsRealm(ctx context.Context, tx *sql.Tx) error {
	var live bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM kamreg_flushes WHERE domain = '' AND expires_at > now())`).Scan(&live); err != nil {
		return err
	}
	if !live {
		return nil
	}
	table := pgx.Identifier{u.table()}.Sanitize()
	var present bool
	if err := tx.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&present); err != nil {
		return err
	}
	if !present {
		return fmt.Errorf("flush records written before migration 00002 name rows of the usrloc table %q, which is missing: "+
			"migrate with the KAMREG_LOCATION_TABLE kamreg serves with, or once the records expire (15 minutes after the flush)", u.table())
	}
	zone, err := time.LoadLocation(u.zone())
	if err != nil {
		return fmt.Errorf("time zone %q: %w", u.zone(), err)
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT f.ruid, l.username, lower(l.domain), f.last_modified AT TIME ZONE 'UTC'
		FROM kamreg_flushes f JOIN `+table+` l ON l.ruid = f.ruid
		WHERE f.domain = '' AND coalesce(l.domain, '') <> ''`)
	if err != nil {
		return fmt.Errorf("flush records from usrloc table %q: %w", u.table(), err)
	}
	var ruids, users, domains []string
	var modified []time.Time
	for rows.Next() {
		var ruid, user, domain string
		var wall time.Time
		if err := rows.Scan(&ruid, &user, &domain, &wall); err != nil {
			rows.Close()
			return err
		}
		ruids, users, domains = append(ruids, ruid), append(users, user), append(domains, domain)
		modified = append(modified, kamailio.InZone(wall, zone))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("flush records from usrloc table %q: %w", u.table(), err)
	}
	if len(ruids) == 0 {
		return nil
	}
	_, err = tx.ExecContext(ctx, `
		UPDATE kamreg_flushes f SET username = t.u, domain = t.d, last_modified = t.m
		FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS t(r, u, d, m)
		WHERE f.ruid = t.r`, ruids, users, domains, modified)
	return err
}

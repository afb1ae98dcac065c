//go:build integration

package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/kamailio"
	"github.com/kamreg/kamreg/migrations"
	"github.com/kamreg/kamreg/registry"
)

// The oldest schema kamreg still upgrades is migration 00001, which the
// first release wrote. These statements are that release's own writes.
const (
	v1Account = `
		INSERT INTO kamreg_accounts (id, name, realm, parent_id, superduper)
		VALUES ($1, $2, $3, NULLIF($4, ''), $5)`
	v1Device = `
		INSERT INTO kamreg_devices (account_id, username, device_id, owner_id, suppress_unregister_notify)
		VALUES ($1, $2, $3, NULLIF($4, ''), $5)`
	v1Token = `INSERT INTO kamreg_tokens (id, account_id, secret_hash, description) VALUES ($1, $2, $3, $4)`
	// v1Flush is the first release's flush record: the rows of the AoRs
	// ($1, $2) last modified before the flush began ($3, in Kamailio's
	// zone $4), copied from the usrloc table (%s).
	v1Flush = `
		INSERT INTO kamreg_flushes (ruid, callid, cseq, last_modified, expires_at)
		SELECT DISTINCT ON (l.ruid) l.ruid, l.callid, l.cseq, l.last_modified, now() + $5 * interval '1 second'
		FROM %s l
		JOIN unnest($1::text[], $2::text[]) AS t(u, d) ON l.domain = t.d AND l.username = t.u
		WHERE l.last_modified <= ($3::timestamptz AT TIME ZONE $4)
		ON CONFLICT (ruid) DO UPDATE
			SET callid = EXCLUDED.callid, cseq = EXCLUDED.cseq, last_modified = EXCLUDED.last_modified,
				expires_at = EXCLUDED.expires_at`
)

// step is one statement of a set-up.
type step struct {
	sql  string
	args []any
}

const (
	upgradeRealm   = "acme.example.com"
	upgradeTokenID = "7a000000000000000000000000000000"
	upgradeSecret  = "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7"
)

// oldDatabase returns a database at schema version 1 holding what the
// first release wrote: an account of upgradeRealm, a device (dave), a
// token, and phones in Kamailio's usrloc table (created like location when
// it has another name), as usrloc writes them in the wall-clock time of
// zone. alice, bob, carol and erin were then flushed; afterwards bob
// registered again and Kamailio's timer removed erin's row. carol's
// last_modified is ambiguous, the hour a daylight-saving time ends
// happening twice in zone.
func oldDatabase(t *testing.T, table, zone, ambiguous string) *pgxpool.Pool {
	t.Helper()
	ctx := testCtx(t)
	pool := freshDB(t, false)
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := provider(db, migrations.Usrloc{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	loc := pgx.Identifier{table}.Sanitize()
	secret := sha256.Sum256([]byte(upgradeSecret))
	wall := func(ago time.Duration) string {
		z, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		return time.Now().Add(-ago).In(z).Format("2006-01-02 15:04:05")
	}
	row := `
		INSERT INTO ` + loc + ` (ruid, username, domain, contact, received, socket, callid, cseq, user_agent, expires, last_modified)
		VALUES ($1, $2, $3, $4, 'sip:127.0.0.1:5070', 'udp:127.0.0.1:5060', $5, 5, 'upgrade',
			CASE WHEN $6 THEN '1970-01-01 00:00:00' ELSE (now() AT TIME ZONE $7) + interval '1 hour' END, $8::timestamp)`
	phone := func(user, lastModified string, permanent bool) step {
		return step{row, []any{"ruid-" + user, user, upgradeRealm, "sip:" + user + "@127.0.0.77:5070", "call-" + user,
			permanent, zone, lastModified}}
	}
	var steps []step
	if table != "location" {
		steps = append(steps, step{`CREATE TABLE ` + loc + ` (LIKE location INCLUDING ALL)`, nil},
			step{`CREATE TABLE ` + pgx.Identifier{table + "_attrs"}.Sanitize() + ` (LIKE location_attrs INCLUDING ALL)`, nil})
	}
	steps = append(steps,
		step{v1Account, []any{leaf, "Acme", upgradeRealm, "", false}},
		step{v1Device, []any{leaf, "dave", dev1, owner, false}},
		step{v1Token, []any{upgradeTokenID, leaf, secret[:], "before the upgrade"}},
		phone("alice", wall(10*time.Second), false),
		phone("bob", wall(10*time.Second), false),
		phone("carol", ambiguous, true),
		phone("dave", wall(10*time.Second), false),
		phone("erin", wall(10*time.Second), false),
		step{fmt.Sprintf(v1Flush, loc), []any{[]string{"alice", "bob", "carol", "erin"},
			[]string{upgradeRealm, upgradeRealm, upgradeRealm, upgradeRealm}, time.Now(), zone, int(flushTTL.Seconds())}},
		step{`UPDATE ` + loc + ` SET cseq = 6, last_modified = $1::timestamp WHERE ruid = 'ruid-bob'`, []any{wall(0)}},
		step{`DELETE FROM ` + loc + ` WHERE ruid = 'ruid-erin'`, nil},
	)
	for _, s := range steps {
		if _, err := pool.Exec(ctx, s.sql, s.args...); err != nil {
			t.Fatalf("%s: %v", s.sql, err)
		}
	}
	var flushes int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM kamreg_flushes`).Scan(&flushes); err != nil || flushes != 4 {
		t.Fatalf("flush records before the upgrade: %d, %v; want 4", flushes, err)
	}
	return pool
}

// listed is what the current read path shows of upgradeRealm: each
// entry's username and authorizing id, then the count.
func listed(ctx context.Context, t *testing.T, pool *pgxpool.Pool, table, zone string) ([]string, int) {
	t.Helper()
	usrloc, err := kamailio.NewUsrloc(pool, table, zone)
	if err != nil {
		t.Fatal(err)
	}
	reg := &registry.Registry{Source: usrloc, Directory: Directory{Pool: pool}, Devices: Devices{Pool: pool},
		Flushes: Flushes{Pool: pool}, Table: table}
	q := kamreg.ListQuery{Scope: kamreg.Scope{Realm: upgradeRealm}}
	page, err := reg.List(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range page.Entries {
		got = append(got, r.Username+" "+r.AuthorizingID)
	}
	n, err := reg.Count(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	return got, n
}

// TestUpgradeKeepsFlushes upgrades a database of the first release,
// written a moment after a flush, to the current schema: the account, the
// device and the token still work, and the current read path still hides
// every flushed row that is still in the usrloc table, whatever zone
// Kamailio writes in and whatever the table is named. The phone that
// registered again after the flush shows.
func TestUpgradeKeepsFlushes(t *testing.T) {
	for _, tc := range []struct {
		name, table, zone, ambiguous string
	}{
		{"UTC", "location", "UTC", "2026-10-25 02:30:00"},
		{"Paris", "location", "Europe/Paris", "2026-10-25 02:30:00"},
		{"New York, own table", "usrloc_edge", "America/New_York", "2026-11-01 01:30:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			pool := oldDatabase(t, tc.table, tc.zone, tc.ambiguous)
			n, err := Migrate(ctx, pool, migrations.Usrloc{Table: tc.table, TimeZone: tc.zone})
			if err != nil {
				t.Fatal(err)
			}
			if n != 3 {
				t.Errorf("migrations applied: %d, want 3 (00002, 00003, 00004)", n)
			}

			account, err := Tokens{Pool: pool}.Authenticate(ctx, upgradeTokenID+"."+upgradeSecret)
			if err != nil || account != leaf {
				t.Errorf("token: account %q, %v; want %s", account, err, leaf)
			}
			if a, err := (Accounts{Pool: pool}).Get(ctx, leaf); err != nil || a.Realm != upgradeRealm {
				t.Errorf("account: %+v, %v", a, err)
			}
			if ok, err := (Devices{Pool: pool}).Exists(ctx, leaf, "dave"); err != nil || !ok {
				t.Errorf("device: %v, %v", ok, err)
			}

			got, count := listed(ctx, t, pool, tc.table, tc.zone)
			want := []string{"bob undefined", "dave " + dev1}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("listed after the upgrade (-want +got):\n%s", diff)
			}
			if count != len(want) {
				t.Errorf("count after the upgrade: %d, want %d", count, len(want))
			}

			recs, err := Directory{Pool: pool}.FlushRecords(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			realms := map[string]string{}
			for _, r := range recs {
				realms[r.Ruid] = r.Username + "@" + r.Domain
			}
			wantRealms := map[string]string{
				"ruid-alice": "alice@" + upgradeRealm, "ruid-bob": "bob@" + upgradeRealm,
				"ruid-carol": "carol@" + upgradeRealm, "ruid-erin": "@",
			}
			if diff := cmp.Diff(wantRealms, realms); diff != "" {
				t.Errorf("flush records after the upgrade (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUpgradeWithoutLocationTable: while flush records of the first
// release are live, an upgrade that names a usrloc table that is not
// there fails, says which setting to fix, and applies nothing past
// 00002; run again with the right table, it keeps the flushes.
func TestUpgradeWithoutLocationTable(t *testing.T) {
	ctx := testCtx(t)
	const zone = "Europe/Paris"
	pool := oldDatabase(t, "location", zone, "2026-10-25 02:30:00")
	_, err := Migrate(ctx, pool, migrations.Usrloc{Table: "usrloc_other", TimeZone: zone})
	if err == nil || !strings.Contains(err.Error(), `usrloc table "usrloc_other", which is missing`) ||
		!strings.Contains(err.Error(), "KAMREG_LOCATION_TABLE") {
		t.Fatalf("migrate with a missing table: %v", err)
	}
	if pending, err := PendingMigrations(ctx, pool); err != nil || !pending {
		t.Errorf("pending after the failure: %v, %v; want true", pending, err)
	}
	if n, err := Migrate(ctx, pool, migrations.Usrloc{TimeZone: zone}); err != nil || n != 2 {
		t.Fatalf("migrate again: %d, %v; want 2 (00003, 00004)", n, err)
	}
	got, count := listed(ctx, t, pool, "location", zone)
	if diff := cmp.Diff([]string{"bob undefined", "dave " + dev1}, got); diff != "" || count != 2 {
		t.Errorf("listed after the upgrade, count %d (-want +got):\n%s", count, diff)
	}
}

-- Flush records name their AoR, so that a read can fetch the live records
-- of its realm once and apply them in Go, and a realm flush can ask again
-- for AoRs flushed lately. last_modified becomes an instant: kamreg
-- compares it with the row's last_modified read in Kamailio's zone.
-- The records already there keep username and domain '' and a time read
-- as UTC, which hide nothing: 00003 (a Go migration, as it reads the
-- usrloc table and KAMREG_DB_TIMEZONE) puts them back in force.

-- +goose Up
ALTER TABLE kamreg_flushes
    ADD COLUMN username text NOT NULL DEFAULT '',
    ADD COLUMN domain text NOT NULL DEFAULT '',
    ALTER COLUMN last_modified TYPE timestamptz USING last_modified AT TIME ZONE 'UTC';
CREATE INDEX kamreg_flushes_domain_idx ON kamreg_flushes (domain, expires_at);

-- +goose Down
DROP INDEX kamreg_flushes_domain_idx;
ALTER TABLE kamreg_flushes
    DROP COLUMN username,
    DROP COLUMN domain,
    ALTER COLUMN last_modified TYPE timestamp without time zone USING last_modified AT TIME ZONE 'UTC';

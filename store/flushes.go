package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamreg/kamreg/kamailio"
)

// FlushTTL is how long a flush record hides the flushed rows: long enough
// for Kamailio's usrloc timer (60 s by default) to remove them.
const FlushTTL = 15 * time.Minute

// Flushes records flushes every node acknowledged, so that readers of the
// location table stop showing the flushed rows at once (read your writes),
// even in usrloc db_mode 2 where Kamailio removes them later.
type Flushes struct {
	Pool *pgxpool.Pool
	// Table is the usrloc table.
	Table string
	// TimeZone is the zone Kamailio writes location timestamps in.
	TimeZone string
}

// Record notes the rows the AoRs have in the location table, as they are
// now (ruid, Call-ID, CSeq, last_modified), leaving out rows modified after
// the instant at (taken before the first ul.rm was sent): those are phones
// that registered again meanwhile. It also drops records past their
// lifetime.
func (s Flushes) Record(ctx context.Context, aors []kamailio.AoR, at time.Time) error {
	if len(aors) == 0 {
		return nil
	}
	users := make([]string, len(aors))
	domains := make([]string, len(aors))
	for i, a := range aors {
		users[i], domains[i] = a.Username, a.Domain
	}
	record := `
		INSERT INTO kamreg_flushes (ruid, callid, cseq, last_modified, expires_at)
		SELECT DISTINCT ON (l.ruid) l.ruid, l.callid, l.cseq, l.last_modified, now() + $5 * interval '1 second'
		FROM ` + pgx.Identifier{s.Table}.Sanitize() + ` l
		JOIN unnest($1::text[], $2::text[]) AS t(u, d) ON l.domain = t.d AND l.username = t.u
		WHERE l.last_modified <= ($3::timestamptz AT TIME ZONE $4)
		ON CONFLICT (ruid) DO UPDATE
			SET callid = EXCLUDED.callid, cseq = EXCLUDED.cseq, last_modified = EXCLUDED.last_modified,
				expires_at = EXCLUDED.expires_at`
	if _, err := s.Pool.Exec(ctx, record, users, domains, at, s.TimeZone, int(FlushTTL.Seconds())); err != nil {
		return err
	}
	_, err := s.Pool.Exec(ctx, `DELETE FROM kamreg_flushes WHERE expires_at < now()`)
	return err
}

package store

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/dberr"
)

// flushTTL is how long a flush record hides the flushed rows: long enough
// for Kamailio's usrloc timer (60 s by default) to remove them.
const flushTTL = 15 * time.Minute

// Flushes keeps kamreg_flushes: the rows a flush every node acknowledged
// removed, so that readers of the location table stop showing them at
// once (read your writes), even in usrloc db_mode 2 where Kamailio removes
// them later, and from every replica.
type Flushes struct {
	Pool *pgxpool.Pool
	// Listener, when set, is this replica's: its Self names the replica
	// in the notifications, which it numbers.
	Listener *Listener
}

// Record keeps the records for flushTTL, drops records past their
// lifetime and notifies every replica that realm was flushed, in one
// round trip and one transaction: a replica that hears of the flush reads
// records already committed. A realm-wide record (kamreg.RealmFlush) is
// one per realm: a later realm flush moves its instant forward, never
// back.
func (s Flushes) Record(ctx context.Context, realm string, recs []kamreg.FlushRecord) error {
	b := &pgx.Batch{}
	if len(recs) > 0 {
		queueRecords(b, recs)
	}
	sender := ""
	if s.Listener != nil {
		sender = s.Listener.Self
	}
	b.Queue(`SELECT pg_notify($1, $2)`, flushChannel, payload(sender, s.Listener.next(), realm))
	return dberr.Wrap(s.Pool.SendBatch(ctx, b).Close())
}

func queueRecords(b *pgx.Batch, recs []kamreg.FlushRecord) {
	n := len(recs)
	ruids, users, domains, callids := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	cseqs, modified := make([]int32, n), make([]time.Time, n)
	for i, r := range recs {
		ruids[i], users[i], domains[i], callids[i] = r.Ruid, r.Username, strings.ToLower(r.Domain), r.CallID
		cseqs[i], modified[i] = int32(r.CSeq), r.LastModified
	}
	b.Queue(`
		INSERT INTO kamreg_flushes (ruid, username, domain, callid, cseq, last_modified, expires_at)
		SELECT * , now() + $7 * interval '1 second'
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::timestamptz[])
		ON CONFLICT (domain, ruid) DO UPDATE
			SET username = EXCLUDED.username, callid = EXCLUDED.callid, cseq = EXCLUDED.cseq,
				last_modified = CASE WHEN kamreg_flushes.ruid = ''
					THEN greatest(kamreg_flushes.last_modified, EXCLUDED.last_modified)
					ELSE EXCLUDED.last_modified END,
				expires_at = EXCLUDED.expires_at`,
		ruids, users, domains, callids, cseqs, modified, int(flushTTL.Seconds()))
	b.Queue(`DELETE FROM kamreg_flushes WHERE expires_at < now()`)
}

func scanFlushes(rows pgx.Rows) ([]kamreg.FlushRecord, error) {
	defer rows.Close()
	var out []kamreg.FlushRecord
	for rows.Next() {
		var f kamreg.FlushRecord
		if err := rows.Scan(&f.Ruid, &f.Username, &f.Domain, &f.CallID, &f.CSeq, &f.LastModified); err != nil {
			return nil, dberr.Wrap(err)
		}
		out = append(out, f)
	}
	return out, dberr.Wrap(rows.Err())
}

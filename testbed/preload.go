package testbed

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Preload inserts n live location rows of usrloc server_id serverID, as a
// Kamailio node of that size would have written them (in the zone tz):
// realms "<prefix>NNNN.test" of perRealm contacts each, one contact per
// username. A node started afterwards with db_mode 1 or 2 loads them into
// its memory. It returns when the rows are in and analysed.
func Preload(ctx context.Context, dbURL, prefix string, n, perRealm, serverID int, tz string) error {
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	const chunk = 100000
	for lo := 1; lo <= n; lo += chunk {
		hi := min(lo+chunk-1, n)
		if _, err := pool.Exec(ctx, `
			INSERT INTO location (ruid, username, domain, contact, received, expires, q, callid, cseq, last_modified,
				flags, cflags, user_agent, socket, methods, reg_id, server_id, connection_id, keepalive, partition)
			SELECT 'uloc-preload-' || $3::int || '-' || g, 'u' || lpad(((g - 1) % $4)::text, 6, '0'),
				$5 || lpad(((g - 1) / $4)::text, 4, '0') || '.test',
				'sip:u' || ((g - 1) % $4) || '@127.0.' || (g % 250) || '.' || (1 + g % 200) || ':' || (5060 + g % 900),
				'sip:127.1.' || (g % 250) || '.' || (1 + g % 200) || ':' || (20000 + g % 40000),
				(now() AT TIME ZONE $6) + interval '1 day' + (g % 3600) * interval '1 second', -1,
				md5(g::text) || '@127.0.0.1', 1 + g % 50, (now() AT TIME ZONE $6) - (g % 600) * interval '1 second',
				0, 0, 'preloaded phone', 'udp:127.0.0.1:5060', 8191, 0, $3::int, -1, 0, 0
			FROM generate_series($1::int, $2::int) g`, lo, hi, serverID, perRealm, prefix, tz); err != nil {
			return fmt.Errorf("preload rows %d-%d: %w", lo, hi, err)
		}
	}
	_, err = pool.Exec(ctx, `ANALYZE location`)
	return err
}

package kamailio

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/dberr"
)

// Usrloc reads Kamailio's usrloc tables (location and location_attrs) with
// plain indexed reads. It never writes them, and reads nothing else:
// kamreg's own tables belong to store.
type Usrloc struct {
	pool  *pgxpool.Pool
	zone  *time.Location
	tz    string
	attrs *attrCache
	rows  *rowCache

	list, count, aors, states, perRealm, attrsOf, sockets string
}

// permanent is how usrloc writes "never expires".
const permanent = "1970-01-01 00:00:00"

// live is the condition for a live row of l, given the SQL parameter that
// holds Kamailio's time zone.
func live(tzParam string) string {
	return "(l.expires > (now() AT TIME ZONE " + tzParam + ") OR l.expires = '" + permanent + "')"
}

// NewUsrloc returns a reader of table (and table_attrs) whose timestamps
// Kamailio writes in the time zone tz.
func NewUsrloc(pool *pgxpool.Pool, table, tz string) (*Usrloc, error) {
	zone, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", tz, err)
	}
	loc := pgx.Identifier{table}.Sanitize()
	attrs := pgx.Identifier{table + "_attrs"}.Sanitize()
	u := &Usrloc{pool: pool, zone: zone, tz: tz, attrs: newAttrCache(attrCacheSize), rows: newRowCache(rowCacheSize)}
	u.list = `
		SELECT l.ruid, l.username, coalesce(l.domain, ''), l.contact, coalesce(l.received, ''),
			coalesce(l.path, ''), coalesce(l.socket, ''), l.callid, l.cseq, l.user_agent, l.expires, l.last_modified,
			l.server_id
		FROM ` + loc + ` l
		WHERE %s
		ORDER BY l.username, l.contact, l.ruid`
	// The attributes of the bindings not in the cache, on the stock
	// (username, domain, ruid) index of location_attrs.
	u.attrsOf = `
		SELECT x.ruid, x.aname, x.avalue FROM ` + attrs + ` x
		WHERE (x.username, x.domain, x.ruid) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))
			AND x.aname IN ('custom_channel_vars', 'initial_registration')
		ORDER BY x.id`
	u.count = `SELECT count(*) FROM ` + loc + ` l WHERE %s`
	u.aors = `SELECT DISTINCT l.username, coalesce(l.domain, '') FROM ` + loc + ` l WHERE %s ORDER BY 1, 2`
	u.states = `
		SELECT DISTINCT ON (l.ruid) l.ruid, l.username, coalesce(l.domain, ''), l.callid, l.cseq, l.last_modified
		FROM ` + loc + ` l
		JOIN unnest($1::text[], $2::text[]) AS t(u, d) ON l.domain = t.d AND l.username = t.u
		WHERE l.last_modified <= ($3::timestamptz AT TIME ZONE $4)
		ORDER BY l.ruid`
	u.sockets = `SELECT DISTINCT l.socket FROM ` + loc + ` l WHERE coalesce(l.socket, '') <> '' ORDER BY 1 LIMIT 1000`
	u.perRealm = `SELECT l.domain, count(*) FROM ` + loc + ` l WHERE l.domain = ANY($1::text[]) AND ` + live("$2") +
		` GROUP BY l.domain`
	return u, nil
}

// where builds the condition shared by list and count: the scope, live
// rows only, the column filters, the page's start and the ruids.
func (u *Usrloc) where(q Query, liveOnly bool) (string, []any) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	for _, c := range q.Where {
		switch {
		case !c.Column.Known():
			// Never a caller's text in SQL.
			conds = append(conds, "false")
		case c.Not:
			conds = append(conds, "l."+string(c.Column)+" IS DISTINCT FROM "+arg(c.Value))
		default:
			conds = append(conds, "l."+string(c.Column)+" = "+arg(c.Value))
		}
	}
	if q.After != nil {
		// The first condition is implied by the second; it is the one an
		// index on username, with another column between (Kamailio's
		// (username, domain, contact), kamreg's (domain, username)), can
		// start its scan at: each batch of a long list reads from where
		// the last one ended, not from the start.
		user := arg(q.After.Username)
		conds = append(conds, "l.username >= "+user,
			"(l.username, l.contact, l.ruid) > ("+user+", "+arg(q.After.Contact)+", "+arg(q.After.Ruid)+")")
	}
	if q.Scope.Realm != "" {
		// The (domain, username) index serves this.
		conds = append(conds, oneOf("l.domain", variants(q.Scope.Realm), arg))
	}
	if q.Scope.Username != "" {
		conds = append(conds, oneOf("l.username", variants(q.Scope.Username), arg))
	}
	if q.Ruids != nil {
		conds = append(conds, "l.ruid = ANY("+arg(q.Ruids)+"::text[])")
	}
	if !q.ModifiedAfter.IsZero() {
		conds = append(conds, "l.last_modified > ("+arg(q.ModifiedAfter)+"::timestamptz AT TIME ZONE "+arg(u.tz)+")")
	}
	if liveOnly {
		conds = append(conds, live(arg(u.tz)))
	}
	if len(conds) == 0 {
		return "true", args
	}
	return strings.Join(conds, " AND "), args
}

// oneOf is "col = $n" for one value: a plain equality plans better than
// "= ANY(array)", which only the case variants of a name need.
func oneOf(col string, values []string, arg func(any) string) string {
	if len(values) == 1 {
		return col + " = " + arg(values[0])
	}
	return col + " = ANY(" + arg(values) + "::text[])"
}

// ListSQL returns the statement and arguments Live runs for q.
func (u *Usrloc) ListSQL(q Query) (string, []any) {
	where, args := u.where(q, true)
	sql := fmt.Sprintf(u.list, where)
	if q.Limit > 0 {
		sql += " LIMIT " + strconv.Itoa(q.Limit)
	}
	return sql, args
}

// CountSQL returns the statement and arguments Count runs for q.
func (u *Usrloc) CountSQL(q Query) (string, []any) {
	q.Limit = 0
	where, args := u.where(q, true)
	return fmt.Sprintf(u.count, where), args
}

// listBatch is how many rows one read of a long list asks for: a few
// megabytes of bindings, and a realm of a thousand phones in one read.
const listBatch = 2000

// Batch is listBatch: a long list is read in keyset batches, each a plain
// index read that holds no connection while the list is written.
func (u *Usrloc) Batch() int { return listBatch }

// Live returns the live bindings the query selects, ordered by username,
// contact and ruid, with their usrloc attributes.
func (u *Usrloc) Live(ctx context.Context, q Query) ([]kamreg.Binding, error) {
	sql, args := u.ListSQL(q)
	rows, err := u.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, dberr.Wrap(err)
	}
	keep := !q.Uncached
	out, fresh, err := u.scan(rows, q.Limit, true, keep)
	if err != nil {
		return nil, err
	}
	if err := u.fillAttrs(ctx, out, fresh, keep); err != nil {
		return nil, err
	}
	if keep {
		for _, f := range fresh {
			u.rows.put(f.raw, out[f.i])
		}
	}
	return out, nil
}

// Count returns how many entries Live would return, without a limit.
func (u *Usrloc) Count(ctx context.Context, q Query) (int, error) {
	sql, args := u.CountSQL(q)
	var n int
	err := u.pool.QueryRow(ctx, sql, args...).Scan(&n)
	return n, dberr.Wrap(err)
}

// CountHiding returns Count(q) less the bindings of q.Ruids that hides
// says are hidden. Both reads run in one read-only repeatable-read
// transaction, so that a row Kamailio deletes between them is neither
// counted nor subtracted twice.
func (u *Usrloc) CountHiding(ctx context.Context, q Query, hides func(*kamreg.Binding) bool) (int, error) {
	tx, err := u.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, dberr.Wrap(err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // it only read
	all := q
	all.Ruids = nil
	sql, args := u.CountSQL(all)
	var n int
	if err := tx.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		return 0, dberr.Wrap(err)
	}
	q.Limit, q.After = 0, nil
	sql, args = u.ListSQL(q)
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return 0, dberr.Wrap(err)
	}
	bs, _, err := u.scan(rows, len(q.Ruids), false, false)
	if err != nil {
		return 0, err
	}
	for i := range bs {
		if hides(&bs[i]) {
			n--
		}
	}
	return max(n, 0), nil
}

// AoRs returns every AoR of the scope present in the table, live or not.
func (u *Usrloc) AoRs(ctx context.Context, s kamreg.Scope) ([]kamreg.AoR, error) {
	where, args := u.where(Query{Scope: s}, false)
	rows, err := u.pool.Query(ctx, fmt.Sprintf(u.aors, where), args...)
	if err != nil {
		return nil, dberr.Wrap(err)
	}
	defer rows.Close()
	var out []kamreg.AoR
	for rows.Next() {
		var a kamreg.AoR
		if err := rows.Scan(&a.Username, &a.Domain); err != nil {
			return nil, dberr.Wrap(err)
		}
		out = append(out, a)
	}
	return out, dberr.Wrap(rows.Err())
}

// States returns the rows the AoRs have now, leaving out rows modified
// after the instant before: what a flush that started then removed.
func (u *Usrloc) States(ctx context.Context, aors []kamreg.AoR, before time.Time) ([]kamreg.FlushRecord, error) {
	if len(aors) == 0 {
		return nil, nil
	}
	users := make([]string, len(aors))
	domains := make([]string, len(aors))
	for i, a := range aors {
		users[i], domains[i] = a.Username, a.Domain
	}
	rows, err := u.pool.Query(ctx, u.states, users, domains, before, u.tz)
	if err != nil {
		return nil, dberr.Wrap(err)
	}
	defer rows.Close()
	var out []kamreg.FlushRecord
	for rows.Next() {
		var f kamreg.FlushRecord
		var modified time.Time
		if err := rows.Scan(&f.Ruid, &f.Username, &f.Domain, &f.CallID, &f.CSeq, &modified); err != nil {
			return nil, dberr.Wrap(err)
		}
		f.LastModified = u.inZone(modified)
		out = append(out, f)
	}
	return out, dberr.Wrap(rows.Err())
}

// CountByRealm counts the live rows of each realm (as written, lower
// case), in one query. Realms without a row are left out.
func (u *Usrloc) CountByRealm(ctx context.Context, realms []string) (map[string]int, error) {
	rows, err := u.pool.Query(ctx, u.perRealm, realms, u.tz)
	if err != nil {
		return nil, dberr.Wrap(err)
	}
	defer rows.Close()
	out := make(map[string]int, len(realms))
	for rows.Next() {
		var realm string
		var n int
		if err := rows.Scan(&realm, &n); err != nil {
			return nil, dberr.Wrap(err)
		}
		out[realm] = n
	}
	return out, dberr.Wrap(rows.Err())
}

// Sockets returns the listener sockets the table's rows name (at most
// 1,000): what kamreg reports as proxy_ip and proxy_port. It reads the
// whole table; it is for kamreg check, not for requests.
func (u *Usrloc) Sockets(ctx context.Context) ([]string, error) {
	rows, err := u.pool.Query(ctx, u.sockets)
	if err != nil {
		return nil, dberr.Wrap(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, dberr.Wrap(err)
}

// inZone reads a timestamp without time zone as Kamailio's (InZone).
func (u *Usrloc) inZone(t time.Time) time.Time { return InZone(t, u.zone) }

// InZone reads a usrloc timestamp without time zone (which pgx returns as
// UTC wall-clock) as a wall-clock time in zone, the zone Kamailio writes
// in. Every instant kamreg derives from location's times goes through it:
// in the hour a daylight-saving time ends, a wall-clock time is two
// instants, and PostgreSQL's AT TIME ZONE does not always pick Go's.
func InZone(t time.Time, zone *time.Location) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), zone)
}

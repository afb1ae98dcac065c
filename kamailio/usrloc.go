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
	pool *pgxpool.Pool
	zone *time.Location
	tz   string

	list, count, aors, states, perRealm string
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
	u := &Usrloc{pool: pool, zone: zone, tz: tz}
	// The attributes kamreg reads are looked up per row on the stock
	// (username, domain, ruid) index of location_attrs.
	u.list = `
		SELECT l.ruid, l.username, coalesce(l.domain, ''), l.contact, coalesce(l.received, ''),
			coalesce(l.path, ''), coalesce(l.socket, ''), l.callid, l.cseq, l.user_agent, l.expires, l.last_modified,
			l.server_id, coalesce(a.ccv, ''), coalesce(a.initial, '')
		FROM ` + loc + ` l
		LEFT JOIN LATERAL (
			SELECT max(x.avalue) FILTER (WHERE x.aname = 'custom_channel_vars') AS ccv,
				max(x.avalue) FILTER (WHERE x.aname = 'initial_registration') AS initial
			FROM ` + attrs + ` x
			WHERE x.username = l.username AND x.domain = l.domain AND x.ruid = l.ruid) a ON true
		WHERE %s
		ORDER BY l.username, l.contact, l.ruid`
	u.count = `SELECT count(*) FROM ` + loc + ` l WHERE %s`
	u.aors = `SELECT DISTINCT l.username, coalesce(l.domain, '') FROM ` + loc + ` l WHERE %s ORDER BY 1, 2`
	u.states = `
		SELECT DISTINCT ON (l.ruid) l.ruid, l.username, coalesce(l.domain, ''), l.callid, l.cseq, l.last_modified
		FROM ` + loc + ` l
		JOIN unnest($1::text[], $2::text[]) AS t(u, d) ON l.domain = t.d AND l.username = t.u
		WHERE l.last_modified <= ($3::timestamptz AT TIME ZONE $4)
		ORDER BY l.ruid`
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
	for _, f := range q.Where {
		col, ok := columns[f.Key]
		if !ok {
			continue
		}
		if f.Not {
			conds = append(conds, "l."+col+" IS DISTINCT FROM "+arg(f.Value))
		} else {
			conds = append(conds, "l."+col+" = "+arg(f.Value))
		}
	}
	if q.After != nil {
		conds = append(conds, "(l.username, l.contact, l.ruid) > ("+arg(q.After.Username)+", "+arg(q.After.Contact)+", "+arg(q.After.Ruid)+")")
	}
	if q.Scope.Realm != "" {
		// The (domain, username) index serves this.
		conds = append(conds, "l.domain = ANY("+arg(variants(q.Scope.Realm))+"::text[])")
	}
	if q.Scope.Username != "" {
		conds = append(conds, "l.username = ANY("+arg(variants(q.Scope.Username))+"::text[])")
	}
	if q.Ruids != nil {
		conds = append(conds, "l.ruid = ANY("+arg(q.Ruids)+"::text[])")
	}
	if liveOnly {
		conds = append(conds, live(arg(u.tz)))
	}
	if len(conds) == 0 {
		return "true", args
	}
	return strings.Join(conds, " AND "), args
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

// Live returns the live bindings the query selects, ordered by username,
// contact and ruid.
func (u *Usrloc) Live(ctx context.Context, q Query) ([]kamreg.Binding, error) {
	sql, args := u.ListSQL(q)
	rows, err := u.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, dberr.Wrap(err)
	}
	defer rows.Close()
	out := make([]kamreg.Binding, 0, 64)
	var expires, modified time.Time
	var serverID int32
	var initial string
	for rows.Next() {
		var b kamreg.Binding
		if err := rows.Scan(&b.Ruid, &b.Username, &b.Domain, &b.Contact, &b.Received, &b.Path, &b.Socket,
			&b.CallID, &b.CSeq, &b.UserAgent, &expires, &modified, &serverID, &b.ChannelVars, &initial); err != nil {
			return nil, dberr.Wrap(err)
		}
		if expires.Unix() != 0 {
			b.Expires = u.inZone(expires)
		}
		b.LastModified = u.inZone(modified)
		b.ServerID = int(serverID)
		if initial != "" {
			if s, err := strconv.ParseInt(initial, 10, 64); err == nil && s > 0 {
				b.InitialRegistration = time.Unix(s, 0)
			}
		}
		out = append(out, b)
	}
	return out, dberr.Wrap(rows.Err())
}

// Count returns how many entries Live would return, without a limit.
func (u *Usrloc) Count(ctx context.Context, q Query) (int, error) {
	sql, args := u.CountSQL(q)
	var n int
	err := u.pool.QueryRow(ctx, sql, args...).Scan(&n)
	return n, dberr.Wrap(err)
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

// inZone reads a timestamp without time zone (which pgx returns as UTC
// wall-clock) as a wall-clock time in Kamailio's zone.
func (u *Usrloc) inZone(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), u.zone)
}

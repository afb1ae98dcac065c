package kamailio

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Binding is one live row of the location table, with what kamreg's own
// tables and location_attrs say about it.
type Binding struct {
	Ruid      string
	Username  string
	Domain    string
	Contact   string
	Received  string
	Path      string
	Socket    string
	CallID    string
	UserAgent string
	// Expires and LastModified are real instants, read in the zone
	// Kamailio writes them in. Expires is zero for a permanent contact.
	Expires      time.Time
	LastModified time.Time
	// ChannelVars is the custom_channel_vars attribute (a JSON text), if any.
	ChannelVars string

	AccountID                string
	AccountName              string
	AccountRealm             string
	DeviceID                 string
	OwnerID                  string
	SuppressUnregisterNotify bool
}

// AoR is a usrloc address of record as it appears in the location table.
type AoR struct {
	Username string
	Domain   string
}

// String returns "username@domain", the form ul.rm takes.
func (a AoR) String() string { return a.Username + "@" + a.Domain }

// Scope selects rows: one realm (case-insensitively) or all when Realm is
// empty, and optionally one username.
type Scope struct {
	Realm    string
	Username string
}

// Key positions a page: the last entry of the page before. Entries are
// ordered by username, then contact, then ruid.
type Key struct {
	Username string
	Contact  string
	Ruid     string
}

// KeyOf returns the key of a binding.
func KeyOf(b Binding) Key { return Key{Username: b.Username, Contact: b.Contact, Ruid: b.Ruid} }

// Condition is an equality (or, with Not, an inequality) on a location
// column.
type Condition struct {
	Column string
	Value  string
	Not    bool
}

// Columns maps the registration keys that are plain location columns to
// those columns, so that filters on them run in SQL.
var Columns = map[string]string{
	"username": "username", "to_user": "username", "from_user": "username",
	"realm": "domain", "to_host": "domain", "from_host": "domain",
	"contact": "contact", "original_contact": "contact",
	"call_id": "callid", "user_agent": "user_agent",
}

// Query is what to read: a scope, column conditions, and a page.
type Query struct {
	Scope
	Where []Condition
	// After, when set, starts after that entry.
	After *Key
	// Limit is the most entries to return; 0 means all.
	Limit int
}

// Usrloc reads Kamailio's usrloc tables. It never writes them.
type Usrloc struct {
	pool *pgxpool.Pool
	zone *time.Location
	tz   string

	list, count, aors, perAccount string
}

// AccountCount is the number of live registrations of a known account.
type AccountCount struct {
	AccountID string
	Realm     string
	Count     int
}

// permanent is how usrloc writes "never expires".
const permanent = "1970-01-01 00:00:00"

// live is the condition for a live row of l, given the SQL parameter that
// holds Kamailio's time zone.
func live(tzParam string) string {
	return "(l.expires > (now() AT TIME ZONE " + tzParam + ") OR l.expires = '" + permanent + "')"
}

// notFlushed hides a row a flush record names, while it is the same
// binding in the same state.
const notFlushed = `NOT EXISTS (SELECT 1 FROM kamreg_flushes f WHERE f.ruid = l.ruid AND f.callid = l.callid
	AND f.cseq = l.cseq AND f.last_modified = l.last_modified AND f.expires_at > now())`

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
	u.list = `
		SELECT l.ruid, l.username, coalesce(l.domain, ''), l.contact, coalesce(l.received, ''),
			coalesce(l.path, ''), coalesce(l.socket, ''), l.callid, l.user_agent, l.expires, l.last_modified,
			coalesce(ccv.avalue, ''), coalesce(acc.id, ''), coalesce(acc.name, ''), coalesce(acc.realm, ''),
			coalesce(dev.device_id, ''), coalesce(dev.owner_id, ''), coalesce(dev.suppress_unregister_notify, false)
		FROM ` + loc + ` l
		LEFT JOIN kamreg_accounts acc ON lower(acc.realm) = lower(l.domain)
		LEFT JOIN kamreg_devices dev ON dev.account_id = acc.id AND lower(dev.username) = lower(l.username)
		LEFT JOIN LATERAL (
			SELECT a.avalue FROM ` + attrs + ` a
			WHERE a.username = l.username AND a.domain = l.domain AND a.ruid = l.ruid AND a.aname = 'custom_channel_vars'
			ORDER BY a.id DESC LIMIT 1) ccv ON true
		WHERE %s
		ORDER BY l.username, l.contact, l.ruid`
	u.count = `SELECT count(*) FROM ` + loc + ` l WHERE %s`
	u.perAccount = `
		SELECT acc.id, acc.realm, count(l.id)
		FROM kamreg_accounts acc
		LEFT JOIN ` + loc + ` l ON l.domain = lower(acc.realm) AND ` + live("$1") + ` AND ` + notFlushed + `
		GROUP BY acc.id, acc.realm
		ORDER BY acc.id
		LIMIT $2`
	u.aors = `SELECT DISTINCT l.username, coalesce(l.domain, '') FROM ` + loc + ` l WHERE %s ORDER BY 1, 2`
	return u, nil
}

// where builds the filter shared by list and count: the scope, live rows
// only, none hidden by a flush record, the column conditions and the
// page's start.
func (u *Usrloc) where(q Query, liveOnly bool) (string, []any) {
	s := q.Scope
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	for _, c := range q.Where {
		col, ok := columnNames[c.Column]
		if !ok {
			continue
		}
		if c.Not {
			conds = append(conds, "l."+col+" IS DISTINCT FROM "+arg(c.Value))
		} else {
			conds = append(conds, "l."+col+" = "+arg(c.Value))
		}
	}
	if q.After != nil {
		conds = append(conds, "(l.username, l.contact, l.ruid) > ("+arg(q.After.Username)+", "+arg(q.After.Contact)+", "+arg(q.After.Ruid)+")")
	}
	if s.Realm != "" {
		// The (domain, username) index serves this; Kamailio writes domains
		// in lower case unless case_sensitive is set.
		conds = append(conds, "l.domain = ANY("+arg(realmVariants(s.Realm))+"::text[])")
	}
	if s.Username != "" {
		conds = append(conds, "lower(l.username) = lower("+arg(s.Username)+")")
	}
	if liveOnly {
		conds = append(conds, live(arg(u.tz)), notFlushed)
	}
	if len(conds) == 0 {
		return "true", args
	}
	return strings.Join(conds, " AND "), args
}

func realmVariants(realm string) []string {
	if lower := strings.ToLower(realm); lower != realm {
		return []string{realm, lower}
	}
	return []string{realm}
}

// columnNames are the location columns a Condition may name.
var columnNames = map[string]string{"username": "username", "domain": "domain", "contact": "contact",
	"callid": "callid", "user_agent": "user_agent"}

// ListSQL returns the statement and arguments Live runs for q.
func (u *Usrloc) ListSQL(q Query) (string, []any) {
	where, args := u.where(q, true)
	sql := fmt.Sprintf(u.list, where)
	if q.Limit > 0 {
		sql += fmt.Sprintf(" LIMIT %d", q.Limit)
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
func (u *Usrloc) Live(ctx context.Context, q Query) ([]Binding, error) {
	sql, args := u.ListSQL(q)
	rows, err := u.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Binding{}
	for rows.Next() {
		var b Binding
		var expires, modified time.Time
		if err := rows.Scan(&b.Ruid, &b.Username, &b.Domain, &b.Contact, &b.Received, &b.Path, &b.Socket,
			&b.CallID, &b.UserAgent, &expires, &modified, &b.ChannelVars, &b.AccountID, &b.AccountName,
			&b.AccountRealm, &b.DeviceID, &b.OwnerID, &b.SuppressUnregisterNotify); err != nil {
			return nil, err
		}
		if expires.Unix() != 0 {
			b.Expires = u.inZone(expires)
		}
		b.LastModified = u.inZone(modified)
		out = append(out, b)
	}
	return out, rows.Err()
}

// Count returns how many entries Live would return, without a limit.
func (u *Usrloc) Count(ctx context.Context, q Query) (int, error) {
	sql, args := u.CountSQL(q)
	var n int
	err := u.pool.QueryRow(ctx, sql, args...).Scan(&n)
	return n, err
}

// AoRs returns every AoR of the scope present in the table, live or not.
func (u *Usrloc) AoRs(ctx context.Context, s Scope) ([]AoR, error) {
	where, args := u.where(Query{Scope: s}, false)
	rows, err := u.pool.Query(ctx, fmt.Sprintf(u.aors, where), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AoR
	for rows.Next() {
		var a AoR
		if err := rows.Scan(&a.Username, &a.Domain); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CountByAccount counts the live registrations of up to limit known
// accounts, in one query.
func (u *Usrloc) CountByAccount(ctx context.Context, limit int) ([]AccountCount, error) {
	rows, err := u.pool.Query(ctx, u.perAccount, u.tz, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AccountCount
	for rows.Next() {
		var c AccountCount
		if err := rows.Scan(&c.AccountID, &c.Realm, &c.Count); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// inZone reads a timestamp without time zone (which pgx returns as UTC
// wall-clock) as a wall-clock time in Kamailio's zone.
func (u *Usrloc) inZone(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), u.zone)
}

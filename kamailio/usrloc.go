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

// Usrloc reads Kamailio's usrloc tables. It never writes them.
type Usrloc struct {
	pool *pgxpool.Pool
	zone *time.Location
	tz   string

	list, count, aors string
}

// permanent is how usrloc writes "never expires".
const permanent = "1970-01-01 00:00:00"

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
		ORDER BY l.username, l.contact`
	u.count = `SELECT count(*) FROM ` + loc + ` l WHERE %s`
	u.aors = `SELECT DISTINCT l.username, coalesce(l.domain, '') FROM ` + loc + ` l WHERE %s ORDER BY 1, 2`
	return u, nil
}

// where builds the filter shared by list and count: the scope, live rows
// only, and none hidden by a flush record.
func (u *Usrloc) where(s Scope, liveOnly bool) (string, []any) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
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
		conds = append(conds,
			"(l.expires > (now() AT TIME ZONE "+arg(u.tz)+") OR l.expires = '"+permanent+"')",
			`NOT EXISTS (SELECT 1 FROM kamreg_flushes f WHERE f.ruid = l.ruid AND f.callid = l.callid
				AND f.cseq = l.cseq AND f.last_modified = l.last_modified AND f.expires_at > now())`)
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

// Live returns the live bindings of the scope, ordered by username then
// contact.
func (u *Usrloc) Live(ctx context.Context, s Scope) ([]Binding, error) {
	where, args := u.where(s, true)
	rows, err := u.pool.Query(ctx, fmt.Sprintf(u.list, where), args...)
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

// Count returns how many entries Live would return.
func (u *Usrloc) Count(ctx context.Context, s Scope) (int, error) {
	where, args := u.where(s, true)
	var n int
	err := u.pool.QueryRow(ctx, fmt.Sprintf(u.count, where), args...).Scan(&n)
	return n, err
}

// AoRs returns every AoR of the scope present in the table, live or not.
func (u *Usrloc) AoRs(ctx context.Context, s Scope) ([]AoR, error) {
	where, args := u.where(s, false)
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

// inZone reads a timestamp without time zone (which pgx returns as UTC
// wall-clock) as a wall-clock time in Kamailio's zone.
func (u *Usrloc) inZone(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), u.zone)
}

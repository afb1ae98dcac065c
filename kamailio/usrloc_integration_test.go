//go:build integration

package kamailio_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/kamailio"
	"github.com/kamreg/kamreg/testbed"
)

// pg is the PostgreSQL every test of the package shares; each test has a
// database of its own with Kamailio's schema.
var pg *testbed.Postgres

func TestMain(m *testing.M) {
	os.Exit(testbed.RunWithPostgres(m, &pg))
}

// freshDB returns a pool on a database of the test's own.
func freshDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pg.FreshDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

const wall = "2006-01-02 15:04:05"

// row is one location row as Kamailio writes it: times as wall clock in
// its zone.
type row struct {
	ruid, user, domain, contact, received, socket, callid, ua string
	cseq, serverID                                            int
	expires, modified                                         string
}

func insert(t *testing.T, ctx context.Context, pool *pgxpool.Pool, rows ...row) {
	t.Helper()
	for _, r := range rows {
		_, err := pool.Exec(ctx, `INSERT INTO location (ruid, username, domain, contact, received, socket, callid, user_agent,
			cseq, server_id, expires, last_modified) VALUES ($1, $2, $3, $4, NULLIF($5, ''), NULLIF($6, ''), $7, $8, $9, $10, $11, $12)`,
			r.ruid, r.user, r.domain, r.contact, r.received, r.socket, r.callid, r.ua, r.cseq, r.serverID, r.expires, r.modified)
		if err != nil {
			t.Fatal(err)
		}
	}
}

func attr(t *testing.T, ctx context.Context, pool *pgxpool.Pool, r row, name, value string) {
	t.Helper()
	if _, err := pool.Exec(ctx, `INSERT INTO location_attrs (ruid, username, domain, aname, atype, avalue) VALUES ($1, $2, $3, $4, 2, $5)`,
		r.ruid, r.user, r.domain, name, value); err != nil {
		t.Fatal(err)
	}
}

var sameInstant = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

// fixture writes, in a Europe/Paris Kamailio's local time: in a.test two
// live contacts of alice, a permanent one of carol and an expired one of
// dave; one live contact of erin in b.test; and one of fred in c.test.
type fixture struct {
	pool                            *pgxpool.Pool
	paris                           *time.Location
	a1, a2, carol, dave, erin, fred row
	ba1, ba2, bcarol, berin, bfred  kamreg.Binding
	in                              func(string) time.Time
}

// readFixture is the fixture, a reader of it in Kamailio's zone, and a
// context for the test.
func readFixture(t *testing.T) (context.Context, *fixture, *kamailio.Usrloc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	f := newFixture(t, ctx)
	u, err := kamailio.NewUsrloc(f.pool, "location", "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return ctx, f, u
}

func newFixture(t *testing.T, ctx context.Context) *fixture {
	t.Helper()
	f := &fixture{pool: freshDB(t)}
	var err error
	if f.paris, err = time.LoadLocation("Europe/Paris"); err != nil {
		t.Fatal(err)
	}
	f.in = func(s string) time.Time {
		tm, err := time.ParseInLocation(wall, s, f.paris)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	now := time.Now().In(f.paris)
	later := now.Add(time.Hour).Format(wall)
	// Half an hour ago in Paris is still ahead of UTC's wall clock: read in
	// the wrong zone, this row would be live.
	earlier := now.Add(-30 * time.Minute).Format(wall)
	f.a1 = row{"ul-a1", "alice", "a.test", "sip:alice@127.0.0.77:5070", "sip:127.0.0.1:40001", "udp:127.0.0.1:5060", "call-a1", "phone A",
		1, 1, later, "2026-01-01 10:00:00"}
	f.a2 = row{"ul-a2", "alice", "a.test", "sip:alice@127.0.0.77:5072", "", "udp:127.0.0.1:5060", "call-a2", "phone B",
		5, 2, later, "2026-01-01 12:00:00"}
	f.carol = row{"ul-c", "carol", "a.test", "sip:carol@127.0.0.78", "sip:127.0.0.1:40003", "tcp:127.0.0.1:5060", "call-c", "desk",
		2, 1, "1970-01-01 00:00:00", "2026-01-01 09:00:00"}
	f.dave = row{"ul-d", "dave", "a.test", "sip:dave@127.0.0.79", "", "udp:127.0.0.1:5060", "call-d", "old",
		1, 1, earlier, "2026-01-01 08:00:00"}
	f.erin = row{"ul-e", "erin", "b.test", "sip:erin@127.0.0.80", "", "udp:127.0.0.2:5060", "call-e", "",
		1, 1, later, "2026-01-01 08:00:00"}
	f.fred = row{"ul-f", "fred", "c.test", "sip:fred@127.0.0.81", "", "", "call-f", "",
		1, 1, later, "2026-01-01 08:00:00"}
	insert(t, ctx, f.pool, f.a1, f.a2, f.carol, f.dave, f.erin, f.fred)
	attr(t, ctx, f.pool, f.a1, "custom_channel_vars", `{"Account-ID":"acc","Owner-ID":"own"}`)
	attr(t, ctx, f.pool, f.a1, "initial_registration", "1767258000")
	attr(t, ctx, f.pool, f.a1, "token", "dev@acc")
	f.ba1 = kamreg.Binding{Ruid: "ul-a1", Username: "alice", Domain: "a.test", Contact: "sip:alice@127.0.0.77:5070", Received: "sip:127.0.0.1:40001",
		Socket: "udp:127.0.0.1:5060", CallID: "call-a1", CSeq: 1, UserAgent: "phone A", ServerID: 1, Expires: f.in(later),
		LastModified: f.in("2026-01-01 10:00:00"), ChannelVars: `{"Account-ID":"acc","Owner-ID":"own"}`, InitialRegistration: time.Unix(1767258000, 0)}
	f.ba2 = kamreg.Binding{Ruid: "ul-a2", Username: "alice", Domain: "a.test", Contact: "sip:alice@127.0.0.77:5072",
		Socket: "udp:127.0.0.1:5060", CallID: "call-a2", CSeq: 5, UserAgent: "phone B", ServerID: 2, Expires: f.in(later),
		LastModified: f.in("2026-01-01 12:00:00")}
	f.bcarol = kamreg.Binding{Ruid: "ul-c", Username: "carol", Domain: "a.test", Contact: "sip:carol@127.0.0.78", Received: "sip:127.0.0.1:40003",
		Socket: "tcp:127.0.0.1:5060", CallID: "call-c", CSeq: 2, UserAgent: "desk", ServerID: 1, LastModified: f.in("2026-01-01 09:00:00")}
	f.berin = kamreg.Binding{Ruid: "ul-e", Username: "erin", Domain: "b.test", Contact: "sip:erin@127.0.0.80",
		Socket: "udp:127.0.0.2:5060", CallID: "call-e", CSeq: 1, ServerID: 1, Expires: f.in(later), LastModified: f.in("2026-01-01 08:00:00")}
	f.bfred = kamreg.Binding{Ruid: "ul-f", Username: "fred", Domain: "c.test", Contact: "sip:fred@127.0.0.81",
		CallID: "call-f", CSeq: 1, ServerID: 1, Expires: f.in(later), LastModified: f.in("2026-01-01 08:00:00")}
	return f
}

func TestUsrlocLiveAndCount(t *testing.T) {
	ctx, f, u := readFixture(t)
	a1Key := f.ba1.KeyOf()
	for _, tt := range []struct {
		name string
		q    kamailio.Query
		want []kamreg.Binding
	}{
		{"a realm: live and permanent rows, not the expired one", kamailio.Query{Scope: kamreg.Scope{Realm: "a.test"}}, []kamreg.Binding{f.ba1, f.ba2, f.bcarol}},
		{"the account's realm in another case", kamailio.Query{Scope: kamreg.Scope{Realm: "A.Test"}}, []kamreg.Binding{f.ba1, f.ba2, f.bcarol}},
		{"one user", kamailio.Query{Scope: kamreg.Scope{Realm: "a.test", Username: "Alice"}}, []kamreg.Binding{f.ba1, f.ba2}},
		{"every realm", kamailio.Query{}, []kamreg.Binding{f.ba1, f.ba2, f.bcarol, f.berin, f.bfred}},
		{"a filter", kamailio.Query{Scope: kamreg.Scope{Realm: "a.test"}, Where: []kamailio.Cond{{Column: kamailio.ColumnUserAgent, Value: "phone B"}}}, []kamreg.Binding{f.ba2}},
		{"a negated filter", kamailio.Query{Scope: kamreg.Scope{Realm: "a.test"}, Where: []kamailio.Cond{{Column: kamailio.ColumnUsername, Value: "alice", Not: true}}}, []kamreg.Binding{f.bcarol}},
		{"two filters", kamailio.Query{Where: []kamailio.Cond{{Column: kamailio.ColumnDomain, Value: "a.test"}, {Column: kamailio.ColumnContact, Value: "sip:alice@127.0.0.77:5072"}}}, []kamreg.Binding{f.ba2}},
		{"a column kamailio does not know selects nothing", kamailio.Query{Scope: kamreg.Scope{Realm: "b.test"}, Where: []kamailio.Cond{{Column: "owner_id", Value: "x"}}}, []kamreg.Binding{}},
		{"after a key", kamailio.Query{Scope: kamreg.Scope{Realm: "a.test"}, After: &a1Key}, []kamreg.Binding{f.ba2, f.bcarol}},
		{"a limit", kamailio.Query{Scope: kamreg.Scope{Realm: "a.test"}, Limit: 2}, []kamreg.Binding{f.ba1, f.ba2}},
		{"ruids", kamailio.Query{Ruids: []string{"ul-a2", "ul-e", "ul-d"}}, []kamreg.Binding{f.ba2, f.berin}},
		{"an unknown realm", kamailio.Query{Scope: kamreg.Scope{Realm: "nobody.test"}}, []kamreg.Binding{}},
		// A realm flush began then: the rows last modified no later than
		// that instant, read in Kamailio's zone, are left out.
		{"modified after a realm flush began", kamailio.Query{Scope: kamreg.Scope{Realm: "a.test"},
			ModifiedAfter: f.in("2026-01-01 09:30:00")}, []kamreg.Binding{f.ba1, f.ba2}},
		{"modified after, not at, the instant", kamailio.Query{Scope: kamreg.Scope{Realm: "a.test"},
			ModifiedAfter: f.in("2026-01-01 10:00:00").UTC()}, []kamreg.Binding{f.ba2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := u.Live(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, sameInstant); diff != "" {
				t.Errorf("Live (-want +got):\n%s", diff)
			}
			n, err := u.Count(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			want := len(tt.want)
			if tt.q.Limit > 0 {
				want = 3 // Count ignores the page's limit
			}
			if n != want {
				t.Errorf("Count %d, want %d", n, want)
			}
		})
	}

	// Read as UTC, half an hour ago in Paris is still to come: the zone
	// decides which rows are live.
	utc, err := kamailio.NewUsrloc(f.pool, "location", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	n, err := utc.Count(ctx, kamailio.Query{Scope: kamreg.Scope{Realm: "a.test"}})
	if err != nil || n != 4 {
		t.Errorf("count of a.test read as UTC: %d, %v; want 4 (dave's row looks live)", n, err)
	}
	if _, err := kamailio.NewUsrloc(f.pool, "location", "Mars/Olympus"); err == nil {
		t.Error("an unknown time zone was accepted")
	}
}

// TestUsrlocCountHiding: the realm's live rows, less those of the ruids
// offered that the predicate hides; rows not offered are never asked about.
func TestUsrlocCountHiding(t *testing.T) {
	ctx, _, u := readFixture(t)
	realm := kamreg.Scope{Realm: "a.test"}
	for _, tt := range []struct {
		name    string
		ruids   []string
		hidden  map[string]bool
		want    int
		offered []string
	}{
		{"nothing hidden", []string{"ul-a1"}, nil, 3, []string{"ul-a1"}},
		{"one of two offered hidden", []string{"ul-a1", "ul-c"}, map[string]bool{"ul-c": true}, 2, []string{"ul-a1", "ul-c"}},
		{"an expired row and another realm's are not offered", []string{"ul-d", "ul-e", "ul-a2"}, map[string]bool{"ul-d": true, "ul-e": true, "ul-a2": true},
			2, []string{"ul-a2"}},
		{"every row hidden", []string{"ul-a1", "ul-a2", "ul-c"}, map[string]bool{"ul-a1": true, "ul-a2": true, "ul-c": true}, 0,
			[]string{"ul-a1", "ul-a2", "ul-c"}},
	} {
		var offered []string
		n, err := u.CountHiding(ctx, kamailio.Query{Scope: realm, Ruids: tt.ruids}, func(b *kamreg.Binding) bool {
			offered = append(offered, b.Ruid)
			return tt.hidden[b.Ruid]
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != tt.want {
			t.Errorf("%s: count %d, want %d", tt.name, n, tt.want)
		}
		if diff := cmp.Diff(tt.offered, offered); diff != "" {
			t.Errorf("%s: bindings offered (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestUsrlocAttributesCachedByBindingState(t *testing.T) {
	ctx, f, u := readFixture(t)
	q := kamailio.Query{Ruids: []string{"ul-a1"}}
	read := func() string {
		t.Helper()
		got, err := u.Live(ctx, q)
		if err != nil || len(got) != 1 {
			t.Fatalf("Live: %v, %v", got, err)
		}
		return got[0].ChannelVars
	}
	exec := func(sql string) {
		t.Helper()
		if _, err := f.pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	var steps []string
	steps = append(steps, read())
	// The attributes change without the contact: the cache, keyed by the
	// binding's state, still answers.
	exec(`UPDATE location_attrs SET avalue = '{"Account-ID":"new"}' WHERE ruid = 'ul-a1' AND aname = 'custom_channel_vars'`)
	steps = append(steps, read())
	// A re-REGISTER (a higher CSeq) changes the state: read again.
	exec(`UPDATE location SET cseq = 2 WHERE ruid = 'ul-a1'`)
	steps = append(steps, read())
	// So does a new last_modified with the same CSeq.
	exec(`UPDATE location_attrs SET avalue = '{"Account-ID":"newer"}' WHERE ruid = 'ul-a1' AND aname = 'custom_channel_vars'`)
	exec(`UPDATE location SET last_modified = '2026-01-01 10:00:01' WHERE ruid = 'ul-a1'`)
	steps = append(steps, read())
	want := []string{`{"Account-ID":"acc","Owner-ID":"own"}`, `{"Account-ID":"acc","Owner-ID":"own"}`, `{"Account-ID":"new"}`, `{"Account-ID":"newer"}`}
	if diff := cmp.Diff(want, steps); diff != "" {
		t.Errorf("channel vars read at each step (-want +got):\n%s", diff)
	}
}

// TestUsrlocRowsCachedAsRead: a row read again byte for byte is the
// binding of the read before (the same strings); any column that changes
// (one Kamailio writes, or a NULL that becomes a value) makes it decoded
// again; a read of every realm (Uncached) keeps nothing new.
func TestUsrlocRowsCachedAsRead(t *testing.T) {
	ctx, f, u := readFixture(t)
	q := kamailio.Query{Ruids: []string{"ul-a1"}}
	read := func(q kamailio.Query) kamreg.Binding {
		t.Helper()
		got, err := u.Live(ctx, q)
		if err != nil || len(got) != 1 {
			t.Fatalf("Live: %v, %v", got, err)
		}
		return got[0]
	}
	exec := func(sql string) {
		t.Helper()
		if _, err := f.pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	same := func(a, b kamreg.Binding) bool { return unsafe.StringData(a.Contact) == unsafe.StringData(b.Contact) }
	first := read(q)
	for _, tt := range []struct {
		name   string
		change string
		cached bool
		check  func(b kamreg.Binding) bool
	}{
		{"unchanged", "", true, func(b kamreg.Binding) bool { return b.UserAgent == first.UserAgent }},
		{"a new User-Agent", `UPDATE location SET user_agent = 'other' WHERE ruid = 'ul-a1'`, false,
			func(b kamreg.Binding) bool { return b.UserAgent == "other" }},
		{"then unchanged", "", true, func(b kamreg.Binding) bool { return b.UserAgent == "other" }},
		{"a path where there was none", `UPDATE location SET path = '<sip:edge>' WHERE ruid = 'ul-a1'`, false,
			func(b kamreg.Binding) bool { return b.Path == "<sip:edge>" }},
		{"a later expires", `UPDATE location SET expires = expires + interval '1 minute' WHERE ruid = 'ul-a1'`, false,
			func(b kamreg.Binding) bool { return b.Expires.Sub(first.Expires) == time.Minute }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := read(q)
			if tt.change != "" {
				exec(tt.change)
			}
			got := read(q)
			if same(got, before) != tt.cached || !tt.check(got) {
				t.Errorf("served from the row cache %t (want %t), read %+v", same(got, before), tt.cached, got)
			}
		})
	}
	// A row only a read of every realm saw is not kept.
	insert(t, ctx, f.pool, row{ruid: "ul-new", user: "gina", domain: "a.test", contact: "sip:gina@127.0.0.9", callid: "c-new",
		ua: "ua", cseq: 1, expires: "2099-01-01 00:00:00", modified: "2026-01-01 10:00:00"})
	all := kamailio.Query{Ruids: []string{"ul-new"}, Uncached: true}
	if a, b := read(all), read(all); same(a, b) {
		t.Error("a row read Uncached was kept")
	}
}

func TestUsrlocAoRsStatesRealmsSockets(t *testing.T) {
	ctx, f, u := readFixture(t)
	for _, tt := range []struct {
		scope kamreg.Scope
		want  []kamreg.AoR
	}{
		// Live or not: dave's expired row is still in the table.
		{kamreg.Scope{Realm: "a.test"}, []kamreg.AoR{{Username: "alice", Domain: "a.test"}, {Username: "carol", Domain: "a.test"}, {Username: "dave", Domain: "a.test"}}},
		{kamreg.Scope{Realm: "A.TEST", Username: "Dave"}, []kamreg.AoR{{Username: "dave", Domain: "a.test"}}},
		{kamreg.Scope{Realm: "nobody.test"}, nil},
	} {
		got, err := u.AoRs(ctx, tt.scope)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("AoRs %+v (-want +got):\n%s", tt.scope, diff)
		}
	}

	aors := []kamreg.AoR{{Username: "alice", Domain: "a.test"}, {Username: "carol", Domain: "a.test"}, {Username: "erin", Domain: "b.test"}}
	for _, tt := range []struct {
		name   string
		before time.Time
		want   []kamreg.FlushRecord
	}{
		{"rows modified after the flush began are left out", f.in("2026-01-01 11:00:00"), []kamreg.FlushRecord{
			{Ruid: "ul-a1", Username: "alice", Domain: "a.test", CallID: "call-a1", CSeq: 1, LastModified: f.in("2026-01-01 10:00:00")},
			{Ruid: "ul-c", Username: "carol", Domain: "a.test", CallID: "call-c", CSeq: 2, LastModified: f.in("2026-01-01 09:00:00")},
			{Ruid: "ul-e", Username: "erin", Domain: "b.test", CallID: "call-e", CSeq: 1, LastModified: f.in("2026-01-01 08:00:00")},
		}},
		{"the instant itself is included", f.in("2026-01-01 12:00:00"), []kamreg.FlushRecord{
			{Ruid: "ul-a1", Username: "alice", Domain: "a.test", CallID: "call-a1", CSeq: 1, LastModified: f.in("2026-01-01 10:00:00")},
			{Ruid: "ul-a2", Username: "alice", Domain: "a.test", CallID: "call-a2", CSeq: 5, LastModified: f.in("2026-01-01 12:00:00")},
			{Ruid: "ul-c", Username: "carol", Domain: "a.test", CallID: "call-c", CSeq: 2, LastModified: f.in("2026-01-01 09:00:00")},
			{Ruid: "ul-e", Username: "erin", Domain: "b.test", CallID: "call-e", CSeq: 1, LastModified: f.in("2026-01-01 08:00:00")},
		}},
		{"an instant given in UTC is the same instant", f.in("2026-01-01 09:30:00").UTC(), []kamreg.FlushRecord{
			{Ruid: "ul-c", Username: "carol", Domain: "a.test", CallID: "call-c", CSeq: 2, LastModified: f.in("2026-01-01 09:00:00")},
			{Ruid: "ul-e", Username: "erin", Domain: "b.test", CallID: "call-e", CSeq: 1, LastModified: f.in("2026-01-01 08:00:00")},
		}},
	} {
		got, err := u.States(ctx, aors, tt.before)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got, sameInstant); diff != "" {
			t.Errorf("States, %s (-want +got):\n%s", tt.name, diff)
		}
	}
	if got, err := u.States(ctx, nil, time.Now()); err != nil || got != nil {
		t.Errorf("States of no AoR: %v, %v", got, err)
	}

	counts, err := u.CountByRealm(ctx, []string{"a.test", "b.test", "nobody.test"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"a.test": 3, "b.test": 1}, counts); diff != "" {
		t.Errorf("CountByRealm (-want +got):\n%s", diff)
	}

	sockets, err := u.Sockets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"tcp:127.0.0.1:5060", "udp:127.0.0.1:5060", "udp:127.0.0.2:5060"}, sockets); diff != "" {
		t.Errorf("Sockets (-want +got):\n%s", diff)
	}
}

// TestEnsureLocationIndex: the (domain, username) index is created once,
// then left alone; a missing table and a name that is not an identifier
// are refused.
func TestEnsureLocationIndex(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool := freshDB(t)
	// The location index: created once, then left alone.
	for i := 0; i < 2; i++ {
		if err := kamailio.EnsureLocationIndex(ctx, pool, "location"); err != nil {
			t.Fatal(err)
		}
	}
	var def string
	if err := pool.QueryRow(ctx, `SELECT indexdef FROM pg_indexes WHERE indexname = 'kamreg_location_domain_username_idx'`).Scan(&def); err != nil {
		t.Fatal(err)
	}
	if want := "CREATE INDEX kamreg_location_domain_username_idx ON public.location USING btree (domain, username)"; def != want {
		t.Errorf("index %q, want %q", def, want)
	}
	for _, tt := range []struct{ table, want string }{
		{"nowhere", `usrloc table "nowhere": ` + kamailio.ErrNoLocationTable.Error()},
		{"location; drop", `invalid: invalid location table: "location; drop" is not a plain SQL identifier`},
	} {
		err := kamailio.EnsureLocationIndex(ctx, pool, tt.table)
		got := ""
		if err != nil {
			got = err.Error()
			if kamreg.ErrorCode(err) == kamreg.EINVALID {
				got = kamreg.ErrorCode(err) + ": " + kamreg.ErrorMessage(err)
			}
		}
		if got != tt.want {
			t.Errorf("%s: %q, want %q", tt.table, got, tt.want)
		}
		if tt.table == "nowhere" && !errors.Is(err, kamailio.ErrNoLocationTable) {
			t.Errorf("%s: %v is not kamailio.ErrNoLocationTable", tt.table, err)
		}
	}
}

// TestEveryFailureHasAKind: with the database gone, every read of the
// location table fails with kamreg.EUNAVAILABLE (503), never as a fault of
// kamreg's or an empty answer.
func TestEveryFailureHasAKind(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool := freshDB(t)
	u, err := kamailio.NewUsrloc(pool, "location", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	pool.Close()
	scope := kamreg.Scope{Realm: "a.test"}
	calls := map[string]error{}
	_, calls["Live"] = u.Live(ctx, kamailio.Query{Scope: scope})
	_, calls["Count"] = u.Count(ctx, kamailio.Query{Scope: scope})
	_, calls["CountHiding"] = u.CountHiding(ctx, kamailio.Query{Scope: scope, Ruids: []string{"r"}}, func(*kamreg.Binding) bool { return true })
	_, calls["AoRs"] = u.AoRs(ctx, scope)
	_, calls["States"] = u.States(ctx, []kamreg.AoR{{Username: "u", Domain: "a.test"}}, time.Now())
	_, calls["CountByRealm"] = u.CountByRealm(ctx, []string{"a.test"})
	_, calls["Sockets"] = u.Sockets(ctx)
	calls["EnsureLocationIndex"] = kamailio.EnsureLocationIndex(ctx, pool, "location")
	got, want := map[string]string{}, map[string]string{}
	for name, err := range calls {
		got[name], want[name] = kamreg.ErrorCode(err), kamreg.EUNAVAILABLE
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error kinds with the database gone (-want +got):\n%s", diff)
	}
}

//go:build integration

package store

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/migrations"
	"github.com/kamreg/kamreg/testbed"
)

// pg is the PostgreSQL every test of the package shares; each test has a
// database of its own.
var pg *testbed.Postgres

func TestMain(m *testing.M) {
	os.Exit(testbed.RunWithPostgres(m, &pg))
}

// freshDB returns a pool on a database of the test's own, with kamreg's
// migrations applied when migrated.
func freshDB(t *testing.T, migrated bool) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := Open(ctx, pg.FreshDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if migrated {
		if _, err := Migrate(ctx, pool, migrations.Usrloc{}); err != nil {
			t.Fatal(err)
		}
	}
	return pool
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// errText is an error's kind and message, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return kamreg.ErrorCode(err) + ": " + kamreg.ErrorMessage(err)
}

const (
	root  = "10000000000000000000000000000000"
	mid   = "20000000000000000000000000000000"
	leaf  = "30000000000000000000000000000000"
	other = "40000000000000000000000000000000"
	super = "50000000000000000000000000000000"
	dev1  = "d1000000000000000000000000000000"
	dev2  = "d2000000000000000000000000000000"
	owner = "0a000000000000000000000000000000"
)

func TestMigrations(t *testing.T) {
	ctx := testCtx(t)
	pool := freshDB(t, false)
	pending, err := PendingMigrations(ctx, pool)
	if err != nil || !pending {
		t.Fatalf("before: pending %v, %v", pending, err)
	}
	var ran []int
	for i := 0; i < 2; i++ {
		n, err := Migrate(ctx, pool, migrations.Usrloc{})
		if err != nil {
			t.Fatal(err)
		}
		ran = append(ran, n)
	}
	if diff := cmp.Diff([]int{4, 0}, ran); diff != "" {
		t.Errorf("migrations run by two Migrate calls (-want +got):\n%s", diff)
	}
	if pending, err := PendingMigrations(ctx, pool); err != nil || pending {
		t.Errorf("after: pending %v, %v", pending, err)
	}
	var tables []string
	rows, _ := pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE tablename LIKE 'kamreg%' ORDER BY 1`)
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		tables = append(tables, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"kamreg_accounts", "kamreg_devices", "kamreg_flushes", "kamreg_schema_migrations", "kamreg_tokens"}
	if diff := cmp.Diff(want, tables); diff != "" {
		t.Errorf("tables (-want +got):\n%s", diff)
	}
}

func TestAccounts(t *testing.T) {
	ctx := testCtx(t)
	s := Accounts{Pool: freshDB(t, true)}
	puts := []struct {
		name string
		a    kamreg.Account
		err  string
	}{
		{"root", kamreg.Account{ID: root, Name: " Root ", Realm: " root.test "}, ""},
		{"mid", kamreg.Account{ID: mid, Name: "Mid", Realm: "mid.test", ParentID: root}, ""},
		{"leaf", kamreg.Account{ID: leaf, Name: "Leaf", Realm: "Leaf.Test", ParentID: mid}, ""},
		{"other", kamreg.Account{ID: other, Name: "Other", Realm: "other.test"}, ""},
		{"super", kamreg.Account{ID: super, Name: "Super", Realm: "super.test", SuperDuper: true}, ""},
		{"rename", kamreg.Account{ID: other, Name: "Other Renamed", Realm: "other.test"}, ""},
		{"bad id", kamreg.Account{ID: "XYZ", Name: "x", Realm: "x.test"}, `invalid: invalid account id: "XYZ" is not 32 lowercase hex characters`},
		{"bad realm", kamreg.Account{ID: other, Name: "x", Realm: "a b"}, `invalid: invalid realm: "a b" is not a SIP domain`},
		{"empty realm", kamreg.Account{ID: other, Name: "x", Realm: " "}, `invalid: invalid realm: "" is not a SIP domain`},
		{"empty name", kamreg.Account{ID: other, Name: " ", Realm: "x.test"}, `invalid: invalid name: must not be empty`},
		{"own parent", kamreg.Account{ID: other, Name: "x", Realm: "other.test", ParentID: other}, `invalid: invalid parent id: an account cannot be its own parent`},
		{"unknown parent", kamreg.Account{ID: other, Name: "x", Realm: "other.test", ParentID: "60000000000000000000000000000000"},
			`invalid: invalid parent id: account 60000000000000000000000000000000 does not exist`},
		{"cycle through two", kamreg.Account{ID: root, Name: "Root", Realm: "root.test", ParentID: leaf},
			`invalid: invalid parent id: account ` + leaf + ` is below ` + root + `: that would make a cycle`},
		{"cycle through one", kamreg.Account{ID: mid, Name: "Mid", Realm: "mid.test", ParentID: leaf},
			`invalid: invalid parent id: account ` + leaf + ` is below ` + mid + `: that would make a cycle`},
		{"realm taken, other case", kamreg.Account{ID: "70000000000000000000000000000000", Name: "Dup", Realm: "ROOT.test"},
			`invalid: invalid realm: "ROOT.test" already belongs to another account`},
	}
	for _, tt := range puts {
		if got := errText(s.Put(ctx, tt.a)); got != tt.err {
			t.Errorf("Put %s: %q, want %q", tt.name, got, tt.err)
		}
	}
	want := []kamreg.Account{
		{ID: root, Name: "Root", Realm: "root.test"},
		{ID: mid, Name: "Mid", Realm: "mid.test", ParentID: root},
		{ID: leaf, Name: "Leaf", Realm: "Leaf.Test", ParentID: mid},
		{ID: other, Name: "Other Renamed", Realm: "other.test"},
		{ID: super, Name: "Super", Realm: "super.test", SuperDuper: true},
	}
	got, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	for _, a := range want {
		got, err := s.Get(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(a, got); diff != "" {
			t.Errorf("Get %s (-want +got):\n%s", a.ID, diff)
		}
	}
	if _, err := s.Get(ctx, "60000000000000000000000000000000"); !errors.Is(err, kamreg.ErrNotFound) {
		t.Errorf("Get of an unknown account: %v, want kamreg.ErrNotFound", err)
	}

	for _, tt := range []struct {
		caller, target string
		want           bool
	}{
		{leaf, leaf, true},
		{mid, leaf, true},
		{root, leaf, true}, // two levels up
		{root, mid, true},
		{leaf, mid, false}, // a child does not act on its parent
		{leaf, root, false},
		{other, leaf, false},
		{super, leaf, true}, // super-duper acts on anything
		{super, other, true},
		{other, "60000000000000000000000000000000", false},
		{"60000000000000000000000000000000", leaf, false},
	} {
		got, err := s.MayAct(ctx, tt.caller, tt.target)
		if err != nil || got != tt.want {
			t.Errorf("MayAct(%s, %s) = %v, %v; want %v", tt.caller[:1], tt.target[:1], got, err, tt.want)
		}
	}
}

func TestDevices(t *testing.T) {
	ctx := testCtx(t)
	pool := freshDB(t, true)
	if err := (Accounts{Pool: pool}).Put(ctx, kamreg.Account{ID: root, Name: "Root", Realm: "root.test"}); err != nil {
		t.Fatal(err)
	}
	if err := (Accounts{Pool: pool}).Put(ctx, kamreg.Account{ID: other, Name: "Other", Realm: "other.test"}); err != nil {
		t.Fatal(err)
	}
	s := Devices{Pool: pool}
	for _, tt := range []struct {
		name string
		d    kamreg.Device
		err  string
	}{
		{"alice", kamreg.Device{AccountID: root, Username: "Alice", DeviceID: dev1}, ""},
		{"bob", kamreg.Device{AccountID: root, Username: " bob ", DeviceID: dev2, OwnerID: owner, SuppressUnregisterNotify: true}, ""},
		// The same username in another case is the same device: updated.
		{"alice again", kamreg.Device{AccountID: root, Username: "alice", DeviceID: dev2, OwnerID: owner}, ""},
		{"carol elsewhere", kamreg.Device{AccountID: other, Username: "carol", DeviceID: dev1}, ""},
		{"bad account", kamreg.Device{AccountID: "nope", Username: "x", DeviceID: dev1}, `invalid: invalid account id: "nope" is not 32 lowercase hex characters`},
		{"bad device", kamreg.Device{AccountID: root, Username: "x", DeviceID: "D1"}, `invalid: invalid device id: "D1" is not 32 lowercase hex characters`},
		{"bad owner", kamreg.Device{AccountID: root, Username: "x", DeviceID: dev1, OwnerID: "o"}, `invalid: invalid owner id: "o" is not 32 lowercase hex characters`},
		{"at in username", kamreg.Device{AccountID: root, Username: "x@y", DeviceID: dev1}, `invalid: invalid username: must be a SIP username without @ or spaces`},
		{"empty username", kamreg.Device{AccountID: root, Username: " ", DeviceID: dev1}, `invalid: invalid username: must be a SIP username without @ or spaces`},
		{"unknown account", kamreg.Device{AccountID: "60000000000000000000000000000000", Username: "x", DeviceID: dev1},
			`invalid: invalid account id: account 60000000000000000000000000000000 does not exist`},
	} {
		if got := errText(s.Put(ctx, tt.d)); got != tt.err {
			t.Errorf("Put %s: %q, want %q", tt.name, got, tt.err)
		}
	}
	type row struct {
		Account, Username, Device, Owner string
		Suppress                         bool
	}
	var rows []row
	r, err := pool.Query(ctx, `SELECT account_id, username, device_id, coalesce(owner_id, ''), suppress_unregister_notify FROM kamreg_devices ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var x row
		if err := r.Scan(&x.Account, &x.Username, &x.Device, &x.Owner, &x.Suppress); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, x)
	}
	wantRows := []row{
		{root, "alice", dev2, owner, false},
		{root, "bob", dev2, owner, true},
		{other, "carol", dev1, "", false},
	}
	if diff := cmp.Diff(wantRows, rows); diff != "" {
		t.Errorf("kamreg_devices (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		account string
		want    []string
	}{
		{root, []string{"alice", "bob"}},
		{other, []string{"carol"}},
		{super, nil},
	} {
		got, err := s.Usernames(ctx, tt.account)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Usernames %s (-want +got):\n%s", tt.account[:1], diff)
		}
	}
	for _, tt := range []struct {
		account, username string
		want              bool
	}{
		{root, "alice", true},
		{root, "ALICE", true},
		{root, "Bob", true},
		{root, "carol", false},
		{other, "carol", true},
		{other, "alice", false},
	} {
		if got, err := s.Exists(ctx, tt.account, tt.username); err != nil || got != tt.want {
			t.Errorf("Exists(%s, %s) = %v, %v; want %v", tt.account[:1], tt.username, got, err, tt.want)
		}
	}
}

func TestTokens(t *testing.T) {
	ctx := testCtx(t)
	pool := freshDB(t, true)
	if err := (Accounts{Pool: pool}).Put(ctx, kamreg.Account{ID: root, Name: "Root", Realm: "root.test"}); err != nil {
		t.Fatal(err)
	}
	var lookups int
	s := Tokens{Pool: pool, OnLookup: func() { lookups++ }}
	tok, err := s.Create(ctx, root, "test")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}\.[0-9a-f]{64}$`).MatchString(tok) {
		t.Fatalf("token %q is not <32 hex>.<64 hex>", tok)
	}
	var stored []byte
	var description string
	if err := pool.QueryRow(ctx, `SELECT secret_hash, description FROM kamreg_tokens WHERE id = $1`, tok[:32]).Scan(&stored, &description); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored), tok[33:]) || len(stored) != 32 || description != "test" {
		t.Errorf("stored hash %x (%d bytes), description %q", stored, len(stored), description)
	}
	if _, err := s.Create(ctx, "60000000000000000000000000000000", ""); errText(err) != "invalid: invalid account id: account 60000000000000000000000000000000 does not exist" {
		t.Errorf("Create for an unknown account: %v", err)
	}
	wrong := tok[:33] + strings.Repeat("0", 64)
	unknown := strings.Repeat("e", 32) + tok[32:]
	for _, tt := range []struct {
		name, token, account string
		err                  error
	}{
		{"live", tok, root, nil},
		{"wrong secret", wrong, "", kamreg.ErrBadToken},
		{"unknown id", unknown, "", kamreg.ErrUnknownToken},
		{"malformed", "nope", "", kamreg.ErrMalformedToken},
		{"short secret", tok[:40], "", kamreg.ErrMalformedToken},
	} {
		got, err := s.Authenticate(ctx, tt.token)
		if got != tt.account || err != tt.err {
			t.Errorf("Authenticate %s: %q, %v; want %q, %v", tt.name, got, err, tt.account, tt.err)
		}
	}
	if lookups != 3 {
		t.Errorf("%d look-ups sent to PostgreSQL, want 3 (malformed tokens never reach it)", lookups)
	}
	if err := s.Revoke(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok); err != kamreg.ErrUnknownToken {
		t.Errorf("a revoked token: %v, want kamreg.ErrUnknownToken", err)
	}
	if err := s.Revoke(ctx, tok[:32]); !errors.Is(err, kamreg.ErrNotFound) {
		t.Errorf("second revoke: %v, want kamreg.ErrNotFound", err)
	}
	if err := s.Revoke(ctx, "nope"); errText(err) != `invalid: invalid token id: "nope" is not 32 lowercase hex characters` {
		t.Errorf("revoke of a malformed id: %v", err)
	}
}

// flushRecord builds a record; last_modified is an instant.
func flushRecord(ruid, user, domain string, cseq int, modified time.Time) kamreg.FlushRecord {
	return kamreg.FlushRecord{Ruid: ruid, Username: user, Domain: domain, CallID: "call-" + ruid, CSeq: cseq, LastModified: modified}
}

var sameInstant = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

func TestFlushesAndDirectory(t *testing.T) {
	ctx := testCtx(t)
	pool := freshDB(t, true)
	accounts, devices, flushes := Accounts{Pool: pool}, Devices{Pool: pool}, Flushes{Pool: pool}
	for _, a := range []kamreg.Account{
		{ID: root, Name: "Root", Realm: "Root.Test"},
		{ID: other, Name: "Other", Realm: "other.test", ParentID: root},
	} {
		if err := accounts.Put(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []kamreg.Device{
		{AccountID: root, Username: "Alice", DeviceID: dev1, OwnerID: owner},
		{AccountID: root, Username: "bob", DeviceID: dev2, SuppressUnregisterNotify: true},
	} {
		if err := devices.Put(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 29, 2, 30, 0, 0, time.UTC) // the night Paris goes to summer time
	alice := flushRecord("r1", "alice", "Root.Test", 1, at.In(paris))
	bob := flushRecord("r2", "bob", "root.test", 7, at.Add(time.Second))
	carol := flushRecord("r3", "carol", "other.test", 2, at)
	if err := flushes.Record(ctx, "root.test", nil); err != nil {
		t.Fatal(err)
	}
	if err := flushes.Record(ctx, "root.test", []kamreg.FlushRecord{alice, bob, carol}); err != nil {
		t.Fatal(err)
	}
	// The same binding flushed again: one record, the later state.
	bob.CSeq, bob.CallID = 8, "call-r2-again"
	if err := flushes.Record(ctx, "root.test", []kamreg.FlushRecord{bob}); err != nil {
		t.Fatal(err)
	}
	alice.Domain = "root.test" // stored lower case
	byRuid := cmpopts.SortSlices(func(a, b kamreg.FlushRecord) bool { return a.Ruid < b.Ruid })
	for _, tt := range []struct {
		realm string
		want  []kamreg.FlushRecord
	}{
		{"root.test", []kamreg.FlushRecord{alice, bob}},
		{"ROOT.test", []kamreg.FlushRecord{alice, bob}},
		{"other.test", []kamreg.FlushRecord{carol}},
		{"nobody.test", nil},
		{"", []kamreg.FlushRecord{alice, bob, carol}},
	} {
		got, err := Directory{Pool: pool}.FlushRecords(ctx, tt.realm)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got, byRuid, sameInstant); diff != "" {
			t.Errorf("Live(%q) (-want +got):\n%s", tt.realm, diff)
		}
	}
	var ttl float64
	if err := pool.QueryRow(ctx, `SELECT extract(epoch FROM expires_at - now()) FROM kamreg_flushes WHERE ruid = 'r1'`).Scan(&ttl); err != nil {
		t.Fatal(err)
	}
	if ttl < flushTTL.Seconds()-60 || ttl > flushTTL.Seconds() {
		t.Errorf("a record lives %.0f s, want about %s", ttl, flushTTL)
	}

	wantDir := kamreg.NewDirectory()
	rootAccount := kamreg.Account{ID: root, Name: "Root", Realm: "Root.Test"}
	wantDir.AddAccount(rootAccount)
	wantDir.AddDevice("Root.Test", kamreg.Device{AccountID: root, Username: "Alice", DeviceID: dev1, OwnerID: owner})
	wantDir.AddDevice("Root.Test", kamreg.Device{AccountID: root, Username: "bob", DeviceID: dev2, SuppressUnregisterNotify: true})
	allDir := kamreg.NewDirectory()
	allDir.AddAccount(rootAccount)
	allDir.AddDevice("Root.Test", kamreg.Device{AccountID: root, Username: "Alice", DeviceID: dev1, OwnerID: owner})
	allDir.AddDevice("Root.Test", kamreg.Device{AccountID: root, Username: "bob", DeviceID: dev2, SuppressUnregisterNotify: true})
	allDir.AddAccount(kamreg.Account{ID: other, Name: "Other", Realm: "other.test", ParentID: root})
	dirs := Directory{Pool: pool}
	for _, tt := range []struct {
		name, realm   string
		withDirectory bool
		dir           *kamreg.Directory
		hidden        []kamreg.FlushRecord
	}{
		{"a realm", "root.test", true, wantDir, []kamreg.FlushRecord{alice, bob}},
		{"a realm in another case", "ROOT.TEST", true, wantDir, []kamreg.FlushRecord{alice, bob}},
		{"flush records only", "root.test", false, nil, []kamreg.FlushRecord{alice, bob}},
		{"every realm", "", true, allDir, []kamreg.FlushRecord{alice, bob, carol}},
		{"an unknown realm", "nobody.test", true, kamreg.NewDirectory(), nil},
	} {
		var dir *kamreg.Directory
		var hidden []kamreg.FlushRecord
		var err error
		if tt.withDirectory {
			dir, hidden, err = dirs.Read(ctx, tt.realm)
		} else {
			hidden, err = dirs.FlushRecords(ctx, tt.realm)
		}
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.dir, dir, cmp.AllowUnexported(kamreg.Directory{})); diff != "" {
			t.Errorf("Read %s: directory (-want +got):\n%s", tt.name, diff)
		}
		if diff := cmp.Diff(tt.hidden, hidden, byRuid, sameInstant); diff != "" {
			t.Errorf("Read %s: flush records (-want +got):\n%s", tt.name, diff)
		}
	}

	// Past its lifetime a record hides nothing, and the next Record drops
	// it.
	if _, err := pool.Exec(ctx, `UPDATE kamreg_flushes SET expires_at = now() - interval '1 second' WHERE ruid = 'r2'`); err != nil {
		t.Fatal(err)
	}
	got, err := Directory{Pool: pool}.FlushRecords(ctx, "root.test")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]kamreg.FlushRecord{alice}, got, sameInstant); diff != "" {
		t.Errorf("Live after r2 expired (-want +got):\n%s", diff)
	}
	if err := flushes.Record(ctx, "other.test", []kamreg.FlushRecord{carol}); err != nil {
		t.Fatal(err)
	}
	var ruids []string
	r, err := pool.Query(ctx, `SELECT ruid FROM kamreg_flushes ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var s string
		_ = r.Scan(&s)
		ruids = append(ruids, s)
	}
	if diff := cmp.Diff([]string{"r1", "r3"}, ruids); diff != "" {
		t.Errorf("records kept after the next Record (-want +got):\n%s", diff)
	}
}

// TestEveryFailureHasAKind: with the database gone, every statement fails
// with kamreg.EUNAVAILABLE, which the API answers 503, never as a fault
// of kamreg's (500) or an empty answer.
func TestEveryFailureHasAKind(t *testing.T) {
	ctx := testCtx(t)
	pool := freshDB(t, true)
	pool.Close()
	const id = "0123456789abcdef0123456789abcdef"
	token := id + "." + strings.Repeat("a", 64)
	calls := map[string]error{}
	_, calls["Tokens.Authenticate"] = Tokens{Pool: pool}.Authenticate(ctx, token)
	_, calls["Tokens.Create"] = Tokens{Pool: pool}.Create(ctx, id, "")
	calls["Tokens.Revoke"] = Tokens{Pool: pool}.Revoke(ctx, id)
	_, calls["Accounts.Get"] = Accounts{Pool: pool}.Get(ctx, id)
	_, calls["Accounts.List"] = Accounts{Pool: pool}.List(ctx)
	_, calls["Accounts.MayAct"] = Accounts{Pool: pool}.MayAct(ctx, id, id)
	calls["Accounts.Put"] = Accounts{Pool: pool}.Put(ctx, kamreg.Account{ID: id, Name: "A", Realm: "a.test"})
	calls["Devices.Put"] = Devices{Pool: pool}.Put(ctx, kamreg.Device{AccountID: id, Username: "u", DeviceID: id})
	_, calls["Devices.Exists"] = Devices{Pool: pool}.Exists(ctx, id, "u")
	_, calls["Devices.Usernames"] = Devices{Pool: pool}.Usernames(ctx, id)
	_, _, calls["Directory.Read"] = Directory{Pool: pool}.Read(ctx, "a.test")
	_, calls["Directory.Accounts"] = Directory{Pool: pool}.Accounts(ctx, "a.test")
	_, calls["Directory.FlushRecords"] = Directory{Pool: pool}.FlushRecords(ctx, "a.test")
	calls["Flushes.Record"] = Flushes{Pool: pool}.Record(ctx, "a.test", []kamreg.FlushRecord{{Ruid: "r", Username: "u", Domain: "a.test"}})
	got := map[string]string{}
	want := map[string]string{}
	for name, err := range calls {
		got[name] = kamreg.ErrorCode(err)
		want[name] = kamreg.EUNAVAILABLE
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error kinds with the database gone (-want +got):\n%s", diff)
	}
}

// TestPoolSize: the pool has DefaultMaxConns connections at most, unless
// the URL sets pool_max_conns.
func TestPoolSize(t *testing.T) {
	ctx := testCtx(t)
	for _, tt := range []struct {
		url  string
		want int32
	}{
		{pg.URL, DefaultMaxConns()},
		{pg.URL + "&pool_max_conns=3", 3},
	} {
		pool, err := Open(ctx, tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := pool.Config().MaxConns; got != tt.want {
			t.Errorf("%s: %d connections at most, want %d", tt.url, got, tt.want)
		}
		pool.Close()
	}
}

// TestRealmFlushRecords: a realm flush's realm-wide record lives beside
// the per-ruid records of its realm, one per realm, and a later realm
// flush moves its instant forward, never back.
func TestRealmFlushRecords(t *testing.T) {
	ctx := testCtx(t)
	pool := freshDB(t, true)
	flushes := Flushes{Pool: pool}
	at := time.Date(2026, 5, 1, 10, 0, 0, 250_000_000, time.UTC)
	alice := flushRecord("r1", "alice", "root.test", 1, at)
	steps := []struct {
		name   string
		record []kamreg.FlushRecord
		want   []kamreg.FlushRecord
	}{
		{"a realm flush", []kamreg.FlushRecord{alice, kamreg.RealmFlush("Root.Test", at)},
			[]kamreg.FlushRecord{kamreg.RealmFlush("root.test", at), alice}},
		{"a later realm flush", []kamreg.FlushRecord{kamreg.RealmFlush("root.test", at.Add(time.Minute))},
			[]kamreg.FlushRecord{kamreg.RealmFlush("root.test", at.Add(time.Minute)), alice}},
		{"an earlier instant arriving late", []kamreg.FlushRecord{kamreg.RealmFlush("root.test", at)},
			[]kamreg.FlushRecord{kamreg.RealmFlush("root.test", at.Add(time.Minute)), alice}},
	}
	byRuid := cmpopts.SortSlices(func(a, b kamreg.FlushRecord) bool { return a.Ruid < b.Ruid })
	for _, s := range steps {
		if err := flushes.Record(ctx, "root.test", s.record); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got, err := Directory{Pool: pool}.FlushRecords(ctx, "root.test")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(s.want, got, byRuid, sameInstant); diff != "" {
			t.Errorf("%s: records (-want +got):\n%s", s.name, diff)
		}
		if other, err := (Directory{Pool: pool}).FlushRecords(ctx, "other.test"); err != nil || len(other) != 0 {
			t.Errorf("%s: other realm's records %v %v, want none", s.name, other, err)
		}
	}
}

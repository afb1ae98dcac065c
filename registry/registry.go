// Package registry holds the Registrations API's use cases: list and
// count (bindings from a Source, joined in Go with what kamreg's tables
// know, mapped by adapter), and flushes (the fan-out of ul.rm across every
// Kamailio node, its bounds and its report, and the flush records that
// make the next read not show what was flushed).
package registry

import (
	"context"
	"strings"
	"time"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
	"github.com/kamreg/kamreg/kamailio"
)

// Source reads bindings: Kamailio's location table (kamailio.Usrloc), or
// the nodes' memory for usrloc db_mode 0 (RPCSource).
type Source interface {
	// Live returns the live bindings q selects, ordered by username,
	// contact and ruid.
	Live(ctx context.Context, q kamailio.Query) ([]kamreg.Binding, error)
	// Count returns how many bindings Live would return without a limit.
	Count(ctx context.Context, q kamailio.Query) (int, error)
	// AoRs returns the AoRs of the scope the source knows of, without
	// scanning any node's memory.
	AoRs(ctx context.Context, s kamreg.Scope) ([]kamreg.AoR, error)
	// States returns the bindings the AoRs have now, leaving out those
	// modified after before: read just before a flush, what it removes.
	States(ctx context.Context, aors []kamreg.AoR, before time.Time) ([]kamreg.FlushRecord, error)
}

// Directory reads what kamreg's tables know of a realm ("" for all): its
// accounts and devices (when asked) and the flush records that still hide
// rows (store.Directory).
type Directory interface {
	Read(ctx context.Context, realm string, withDirectory bool) (*kamreg.Directory, []kamreg.FlushRecord, error)
}

// Devices answers what an account's device records say (store.Devices).
type Devices interface {
	Exists(ctx context.Context, accountID, username string) (bool, error)
	Usernames(ctx context.Context, accountID string) ([]string, error)
}

// Recorder keeps flush records (store.Flushes).
type Recorder interface {
	Record(ctx context.Context, recs []kamreg.FlushRecord) error
}

// Node is one Kamailio node as a flush uses it (kamailio.Client).
type Node interface {
	Node() kamailio.Node
	Remove(ctx context.Context, table, aor string) error
	Lookup(ctx context.Context, table, aor string) ([]kamailio.Contact, error)
}

// Registry is the Registrations service (kamreg.RegistrationService).
type Registry struct {
	Source    Source
	Directory Directory
	Devices   Devices
	Flushes   Recorder
	Nodes     []Node
	Table     string
	// Advertise, Registrars and OnWildcard go to every mapping (see
	// adapter.Context).
	Advertise  adapter.Advertise
	Registrars map[int]kamreg.Registrar
	OnWildcard func(socket string)
	// ChannelVars, when set, keeps parsed channel vars across reads.
	ChannelVars *adapter.ChannelVarsCache
	// PerNode bounds the ul.rm calls in flight on one node.
	PerNode int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var _ kamreg.RegistrationService = (*Registry)(nil)

// ErrNoNodes is the cause of a flush with no Kamailio node configured.
var ErrNoNodes = kamreg.Errorf(kamreg.EUNAVAILABLE, "no Kamailio JSON-RPC node is configured (KAMREG_KAMAILIO_RPC)")

func (r *Registry) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// split sends the filters on plain location columns to the source and
// keeps the rest to apply after mapping.
func split(filters []kamreg.Filter) (where, rest []kamreg.Filter) {
	for _, f := range filters {
		if kamailio.IsColumn(f.Key) {
			where = append(where, f)
		} else {
			rest = append(rest, f)
		}
	}
	return where, rest
}

// hidden indexes flush records by ruid.
type hidden map[string]kamreg.FlushRecord

func hiddenBy(recs []kamreg.FlushRecord) hidden {
	h := make(hidden, len(recs))
	for _, f := range recs {
		h[f.Ruid] = f
	}
	return h
}

func (h hidden) hides(b *kamreg.Binding) bool {
	f, ok := h[b.Ruid]
	return ok && f.Hides(*b)
}

// List returns the live registrations the query selects, ordered by
// username then contact. The location read is a plain index scan; the
// realm's accounts, devices and flush records are read once (one round
// trip) and joined here.
func (r *Registry) List(ctx context.Context, q kamreg.ListQuery) (kamreg.Page, error) {
	dir, recs, err := r.Directory.Read(ctx, q.Scope.Realm, true)
	if err != nil {
		return kamreg.Page{}, err
	}
	where, rest := split(q.Filters)
	kq := kamailio.Query{Scope: q.Scope, Where: where, After: q.After}
	if len(rest) == 0 && q.Limit > 0 {
		// One more tells whether a next page exists; the flush records
		// bound how many rows may be hidden.
		kq.Limit = q.Limit + 1 + len(recs)
	}
	bs, err := r.Source.Live(ctx, kq)
	if err != nil {
		return kamreg.Page{}, err
	}
	h := hiddenBy(recs)
	mc := r.mapping(dir)
	size := len(bs)
	if q.Limit > 0 {
		size = min(size, q.Limit)
	}
	page := kamreg.Page{Entries: make([]kamreg.Registration, 0, size)}
	var last kamreg.Key
	for i := range bs {
		b := &bs[i]
		if h.hides(b) {
			continue
		}
		reg := adapter.FromBinding(b, mc)
		if !adapter.Match(&reg, rest) {
			continue
		}
		if q.Limit > 0 && len(page.Entries) == q.Limit {
			next := last
			page.Next = &next
			break
		}
		page.Entries = append(page.Entries, reg)
		last = b.KeyOf()
	}
	return page, nil
}

func (r *Registry) mapping(dir *kamreg.Directory) *adapter.Context {
	return &adapter.Context{Directory: dir, Advertise: r.Advertise, Registrars: r.Registrars,
		OnWildcard: r.OnWildcard, ChannelVars: r.ChannelVars, Now: r.now()}
}

// Count returns how many entries List would return without a page: the
// plain count of live rows, less the rows flush records still hide.
func (r *Registry) Count(ctx context.Context, q kamreg.ListQuery) (int, error) {
	where, rest := split(q.Filters)
	if len(rest) > 0 {
		page, err := r.List(ctx, kamreg.ListQuery{Scope: q.Scope, Filters: q.Filters})
		return len(page.Entries), err
	}
	// The flush records and the count do not depend on each other: both
	// round trips are in flight at once.
	var recs []kamreg.FlushRecord
	var recErr error
	read := make(chan struct{})
	go func() {
		defer close(read)
		_, recs, recErr = r.Directory.Read(ctx, q.Scope.Realm, false)
	}()
	kq := kamailio.Query{Scope: q.Scope, Where: where}
	n, err := r.Source.Count(ctx, kq)
	<-read
	if recErr != nil {
		return 0, recErr
	}
	if err != nil || len(recs) == 0 {
		return n, err
	}
	kq.Ruids = make([]string, len(recs))
	for i, f := range recs {
		kq.Ruids[i] = f.Ruid
	}
	bs, err := r.Source.Live(ctx, kq)
	if err != nil {
		return 0, err
	}
	h := hiddenBy(recs)
	for i := range bs {
		if h.hides(&bs[i]) {
			n--
		}
	}
	return max(n, 0), nil
}

// FlushRealm flushes, on every node, every AoR of the account's realm that
// can be known without scanning a node: those in the source (the location
// table, live or not), the account's device usernames, and the AoRs
// flushed lately (a phone that registered again since may be only in
// memory). No node is asked to dump its memory.
func (r *Registry) FlushRealm(ctx context.Context, a kamreg.Account) (kamreg.FlushReport, error) {
	set := newAoRSet()
	rows, err := r.Source.AoRs(ctx, kamreg.Scope{Realm: a.Realm})
	if err != nil {
		return kamreg.FlushReport{}, err
	}
	for _, x := range rows {
		set.add(x)
	}
	users, err := r.Devices.Usernames(ctx, a.ID)
	if err != nil {
		return kamreg.FlushReport{}, err
	}
	_, recent, err := r.Directory.Read(ctx, a.Realm, false)
	if err != nil {
		return kamreg.FlushReport{}, err
	}
	for _, f := range recent {
		users = append(users, f.Username)
	}
	for _, u := range users {
		set.addUser(u, a.Realm)
	}
	return r.flush(ctx, set.list())
}

// FlushUser flushes every contact of username in the account's realm on
// every node. It returns kamreg.ErrUnknownUser when the account has
// neither a device record nor a registration for the username: a live row
// no flush record hides, or contacts a node holds (ul.lookup).
func (r *Registry) FlushUser(ctx context.Context, a kamreg.Account, username string) (kamreg.FlushReport, error) {
	scope := kamreg.Scope{Realm: a.Realm, Username: username}
	known, err := r.Devices.Exists(ctx, a.ID, username)
	if err != nil {
		return kamreg.FlushReport{}, err
	}
	set := newAoRSet()
	set.addUser(username, a.Realm)
	rows, err := r.Source.AoRs(ctx, scope)
	if err != nil {
		return kamreg.FlushReport{}, err
	}
	for _, x := range rows {
		set.add(x)
	}
	if !known && len(rows) > 0 {
		// A row counts while it is live and no flush record hides it.
		n, err := r.Count(ctx, kamreg.ListQuery{Scope: scope})
		if err != nil {
			return kamreg.FlushReport{}, err
		}
		known = n > 0
	}
	if !known && !r.heldInMemory(ctx, set.list()) {
		return kamreg.FlushReport{}, kamreg.ErrUnknownUser
	}
	return r.flush(ctx, set.list())
}

// heldInMemory tells whether some node holds one of the AoRs (a phone
// registered so recently that usrloc db_mode 2 has not written it yet). A
// node that cannot answer counts as "maybe": the flush then says so.
func (r *Registry) heldInMemory(ctx context.Context, aors []kamreg.AoR) bool {
	for _, n := range r.Nodes {
		for _, a := range aors {
			contacts, err := n.Lookup(ctx, r.Table, a.String())
			if err != nil || len(contacts) > 0 {
				return true
			}
		}
	}
	return false
}

// flush removes the AoRs on every node and records the rows of those every
// node acknowledged, as they were just before the removal: a phone that
// registers again afterwards (a new Call-ID, CSeq or last_modified) is not
// hidden, even within the same second. Anything short of every node
// acknowledging every AoR is a *kamreg.FlushError.
func (r *Registry) flush(ctx context.Context, aors []kamreg.AoR) (kamreg.FlushReport, error) {
	names := make([]string, len(aors))
	byName := make(map[string]kamreg.AoR, len(aors))
	for i, a := range aors {
		names[i] = a.String()
		byName[names[i]] = a
	}
	if len(r.Nodes) == 0 {
		report := kamreg.FlushReport{Failed: names}
		return report, &kamreg.FlushError{Report: report, Cause: ErrNoNodes}
	}
	states, err := r.Source.States(ctx, aors, r.now())
	if err != nil {
		return kamreg.FlushReport{}, err
	}
	removers := make([]Remover, len(r.Nodes))
	for i, n := range r.Nodes {
		removers[i] = remover{node: n, table: r.Table}
	}
	report := Fanout(ctx, removers, names, r.PerNode)
	if f, ok := r.Source.(forgetter); ok {
		f.Forget()
	}
	acknowledged := make(map[kamreg.AoR]bool, len(report.Flushed))
	for _, name := range report.Flushed {
		acknowledged[byName[name]] = true
	}
	done := states[:0]
	for _, f := range states {
		if acknowledged[kamreg.AoR{Username: f.Username, Domain: f.Domain}] {
			done = append(done, f)
		}
	}
	recErr := r.Flushes.Record(ctx, done)
	switch {
	case !report.Complete():
		return report, &kamreg.FlushError{Report: report, Cause: recErr}
	case recErr != nil:
		return report, kamreg.Wrap(kamreg.EUNAVAILABLE, recErr,
			"the flush reached every node but could not be recorded: %s", kamreg.ErrorMessage(recErr))
	}
	return report, nil
}

// forgetter is a source that keeps what it read (RPCSource): after a flush
// its next read must ask the nodes again.
type forgetter interface{ Forget() }

type remover struct {
	node  Node
	table string
}

func (r remover) Name() string { return r.node.Node().Name }

func (r remover) Remove(ctx context.Context, aor string) error {
	return r.node.Remove(ctx, r.table, aor)
}

// aorSet keeps AoRs once each, in the order first added.
type aorSet struct {
	seen  map[kamreg.AoR]bool
	order []kamreg.AoR
}

func newAoRSet() *aorSet { return &aorSet{seen: map[kamreg.AoR]bool{}} }

func (s *aorSet) add(a kamreg.AoR) {
	if !s.seen[a] {
		s.seen[a] = true
		s.order = append(s.order, a)
	}
}

// addUser adds username@realm as usrloc may spell it: the realm in lower
// case (Kamailio lower-cases AoRs unless case_sensitive is set), the
// username as given and in lower case.
func (s *aorSet) addUser(username, realm string) {
	d := strings.ToLower(realm)
	s.add(kamreg.AoR{Username: username, Domain: d})
	s.add(kamreg.AoR{Username: strings.ToLower(username), Domain: d})
}

func (s *aorSet) list() []kamreg.AoR { return s.order }

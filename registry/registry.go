// Package registry answers the Registrations API: it reads bindings from
// Kamailio's usrloc tables, maps them with adapter, and flushes AoRs on
// every Kamailio node, recording what was flushed so the next read does
// not show it.
package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kamreg/kamreg/adapter"
	"github.com/kamreg/kamreg/kamailio"
)

// Node is one Kamailio node as the registry uses it.
type Node interface {
	Node() kamailio.Node
	Remove(ctx context.Context, table, aor string) error
	Lookup(ctx context.Context, table, aor string) ([]kamailio.Contact, error)
	AoRs(ctx context.Context, table string) ([]string, error)
	Dump(ctx context.Context, table string) ([]kamailio.Record, error)
}

// Bindings reads live bindings.
type Bindings interface {
	Live(ctx context.Context, q kamailio.Query) ([]kamailio.Binding, error)
	Count(ctx context.Context, q kamailio.Query) (int, error)
	AoRs(ctx context.Context, s kamailio.Scope) ([]kamailio.AoR, error)
}

// Recorder keeps flush records.
type Recorder interface {
	Record(ctx context.Context, aors []kamailio.AoR, at time.Time) error
}

// DeviceChecker tells whether an account has a device for a username.
type DeviceChecker interface {
	Exists(ctx context.Context, accountID, username string) (bool, error)
}

// Registry is the Registrations service.
type Registry struct {
	Bindings  Bindings
	Devices   DeviceChecker
	Flushes   Recorder
	Nodes     []Node
	Table     string
	Advertise adapter.Advertise
	// PerNode bounds the ul.rm calls in flight on one node.
	PerNode int
	// ScanMemory adds, to a realm flush, the AoRs each node holds in memory
	// (ul.dump brief) besides those Bindings knows: phones registered so
	// recently that usrloc db_mode 2 has not written them yet.
	ScanMemory bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// ErrUnknownUser is a flush of a username with neither a device record nor
// a live registration in the account.
var ErrUnknownUser = errors.New("unknown username")

// ErrNoNodes is a flush with no Kamailio node configured.
var ErrNoNodes = errors.New("no Kamailio JSON-RPC node is configured (KAMREG_KAMAILIO_RPC)")

// RecordError is a flush every node acknowledged that could not be
// recorded, so a read may still show the flushed contacts for a while.
type RecordError struct{ Err error }

func (e *RecordError) Error() string {
	return fmt.Sprintf("the flush reached every node but could not be recorded: %v", e.Err)
}

// Unwrap returns the database error.
func (e *RecordError) Unwrap() error { return e.Err }

func (r *Registry) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// ListQuery selects registrations: a scope, filters on any key, and a page.
type ListQuery struct {
	Scope   kamailio.Scope
	Filters []adapter.Filter
	// After, when set, starts after that entry.
	After *kamailio.Key
	// Limit is the page size; 0 means the whole list.
	Limit int
}

// Page is one page of registrations. Next is set while more remain.
type Page struct {
	Entries []adapter.Registration
	Next    *kamailio.Key
}

// split sends the filters on plain location columns to the reader and
// keeps the rest to apply after mapping.
func split(filters []adapter.Filter) ([]kamailio.Condition, []adapter.Filter) {
	var where []kamailio.Condition
	var rest []adapter.Filter
	for _, f := range filters {
		if col, ok := kamailio.Columns[f.Key]; ok {
			where = append(where, kamailio.Condition{Column: col, Value: f.Value, Not: f.Not})
		} else {
			rest = append(rest, f)
		}
	}
	return where, rest
}

// List returns the live registrations the query selects, ordered by
// username then contact.
func (r *Registry) List(ctx context.Context, q ListQuery) (Page, error) {
	where, rest := split(q.Filters)
	kq := kamailio.Query{Scope: q.Scope, Where: where, After: q.After}
	if len(rest) == 0 && q.Limit > 0 {
		kq.Limit = q.Limit + 1 // one more tells whether a next page exists
	}
	bs, err := r.Bindings.Live(ctx, kq)
	if err != nil {
		return Page{}, err
	}
	now := r.now()
	page := Page{Entries: make([]adapter.Registration, 0, min(len(bs), max(q.Limit, 16)))}
	var last kamailio.Binding
	for _, b := range bs {
		reg := adapter.FromBinding(b, r.Advertise, now)
		if !reg.Match(rest) {
			continue
		}
		if q.Limit > 0 && len(page.Entries) == q.Limit {
			next := kamailio.KeyOf(last)
			page.Next = &next
			break
		}
		page.Entries = append(page.Entries, reg)
		last = b
	}
	return page, nil
}

// Count returns how many entries List would return without a page.
func (r *Registry) Count(ctx context.Context, q ListQuery) (int, error) {
	where, rest := split(q.Filters)
	if len(rest) == 0 {
		return r.Bindings.Count(ctx, kamailio.Query{Scope: q.Scope, Where: where})
	}
	page, err := r.List(ctx, ListQuery{Scope: q.Scope, Filters: q.Filters})
	return len(page.Entries), err
}

// FlushRealm flushes every AoR of the realm on every node: those in the
// location table and those each node holds in memory (ul.dump brief).
func (r *Registry) FlushRealm(ctx context.Context, realm string) (adapter.FlushReport, error) {
	rows, err := r.Bindings.AoRs(ctx, kamailio.Scope{Realm: realm})
	if err != nil {
		return adapter.FlushReport{}, err
	}
	set := newAoRSet()
	for _, a := range rows {
		set.add(a)
	}
	var dumpFailures []adapter.NodeFailure
	for _, n := range r.Nodes {
		if !r.ScanMemory {
			break
		}
		held, err := n.AoRs(ctx, r.Table)
		if err != nil {
			dumpFailures = append(dumpFailures, adapter.NodeFailure{Node: n.Node().Name, Error: "listing its AoRs (ul.dump): " + err.Error()})
			continue
		}
		for _, s := range held {
			if a, ok := kamailio.SplitAoR(s); ok && strings.EqualFold(a.Domain, realm) {
				set.add(a)
			}
		}
	}
	report, err := r.flush(ctx, set.list())
	report.Nodes = append(dumpFailures, report.Nodes...)
	return report, err
}

// FlushUser flushes every contact of username@realm on every node. It
// returns ErrUnknownUser when the account has neither a device record nor a
// live registration for the username.
func (r *Registry) FlushUser(ctx context.Context, accountID, realm, username string) (adapter.FlushReport, error) {
	scope := kamailio.Scope{Realm: realm, Username: username}
	known, err := r.Devices.Exists(ctx, accountID, username)
	if err != nil {
		return adapter.FlushReport{}, err
	}
	if !known {
		n, err := r.Bindings.Count(ctx, kamailio.Query{Scope: scope})
		if err != nil {
			return adapter.FlushReport{}, err
		}
		known = n > 0
	}
	set := newAoRSet()
	set.add(kamailio.AoR{Username: username, Domain: strings.ToLower(realm)})
	set.add(kamailio.AoR{Username: strings.ToLower(username), Domain: strings.ToLower(realm)})
	if !known && !r.heldInMemory(ctx, set.list()) {
		return adapter.FlushReport{}, ErrUnknownUser
	}
	rows, err := r.Bindings.AoRs(ctx, scope)
	if err != nil {
		return adapter.FlushReport{}, err
	}
	for _, a := range rows {
		set.add(a)
	}
	return r.flush(ctx, set.list())
}

// heldInMemory tells whether some node holds one of the AoRs (a phone
// registered so recently that usrloc db_mode 2 has not written it yet). A
// node that cannot answer counts as "maybe": the flush then says so.
func (r *Registry) heldInMemory(ctx context.Context, aors []kamailio.AoR) bool {
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

// flush removes the AoRs on every node and records those every node
// acknowledged.
func (r *Registry) flush(ctx context.Context, aors []kamailio.AoR) (adapter.FlushReport, error) {
	names := make([]string, len(aors))
	byName := make(map[string]kamailio.AoR, len(aors))
	for i, a := range aors {
		names[i] = a.String()
		byName[names[i]] = a
	}
	if len(r.Nodes) == 0 {
		return adapter.FlushReport{Failed: names}, ErrNoNodes
	}
	removers := make([]adapter.Remover, len(r.Nodes))
	for i, n := range r.Nodes {
		removers[i] = remover{node: n, table: r.Table}
	}
	at := r.now()
	report := adapter.Flush(ctx, removers, names, r.PerNode)
	done := make([]kamailio.AoR, 0, len(report.Flushed))
	for _, name := range report.Flushed {
		done = append(done, byName[name])
	}
	if err := r.Flushes.Record(ctx, done, at); err != nil {
		return report, &RecordError{Err: err}
	}
	return report, nil
}

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
	seen  map[kamailio.AoR]bool
	order []kamailio.AoR
}

func newAoRSet() *aorSet { return &aorSet{seen: map[kamailio.AoR]bool{}} }

func (s *aorSet) add(a kamailio.AoR) {
	if !s.seen[a] {
		s.seen[a] = true
		s.order = append(s.order, a)
	}
}

func (s *aorSet) list() []kamailio.AoR { return s.order }

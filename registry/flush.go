package registry

import (
	"context"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/kamreg/kamreg"
)

// FlushRealm flushes, on every node, every AoR of the account's realm the
// source knows (the location table, live or not, without scanning a node;
// in the rpc source a fresh dump of every node), the account's device
// usernames, and the AoRs
// flushed lately (a phone that registered again since may be only in
// memory). With Sweep set (usrloc db_mode 2), a complete first pass is
// followed by the sweep, and the answer waits for it: "ok" then covers the
// phones only a node's memory held when the flush began.
func (r *Registry) FlushRealm(ctx context.Context, a kamreg.Account) (kamreg.FlushReport, error) {
	began := r.now()
	// What the flush removes comes from three reads that do not depend on
	// each other: all three are in flight at once.
	var rows []kamreg.AoR
	var users []string
	var recent []kamreg.FlushRecord
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { rows, err = r.Source.AoRs(gctx, kamreg.Scope{Realm: a.Realm}); return err })
	g.Go(func() (err error) { users, err = r.Devices.Usernames(gctx, a.ID); return err })
	g.Go(func() (err error) { recent, err = r.flushRecords(gctx, a.Realm); return err })
	if err := g.Wait(); err != nil {
		return kamreg.FlushReport{}, err
	}
	set := newAoRSet()
	for _, x := range rows {
		set.add(x)
	}
	for _, f := range recent {
		if !f.RealmWide() { // a realm flush's record names no AoR
			users = append(users, f.Username)
		}
	}
	for _, u := range users {
		set.addUser(u, a.Realm)
	}
	report, err := r.flush(ctx, a.Realm, set.list())
	if err != nil || r.Sweep == nil {
		return report, err
	}
	return r.sweep(ctx, a.Realm, began, set, report)
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
	return r.flush(ctx, a.Realm, set.list())
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
// acknowledging every AoR is a *kamreg.FlushError. Once recorded, a flush
// that removed something is told to OnFlushed (and, through the record,
// to the other replicas).
func (r *Registry) flush(ctx context.Context, realm string, aors []kamreg.AoR) (kamreg.FlushReport, error) {
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
	report := fanout(ctx, r.Nodes, r.Table, names, r.PerNode)
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
	recErr := r.Flushes.Record(ctx, realm, done)
	if len(report.Flushed) > 0 {
		r.flushed(realm)
	}
	switch {
	case !report.Complete():
		return report, &kamreg.FlushError{Report: report, Cause: recErr}
	case recErr != nil:
		return report, kamreg.Wrap(kamreg.EUNAVAILABLE, recErr,
			"the flush reached every node but could not be recorded: %s", kamreg.ErrorMessage(recErr))
	}
	return report, nil
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

// flushed tells this replica that realm's flush records changed: its
// cached records go, and OnFlushed hears of it (the other replicas hear
// of it through the record's notification).
func (r *Registry) flushed(realm string) {
	r.Cache.Invalidate(realm)
	if r.OnFlushed != nil {
		r.OnFlushed(realm)
	}
}

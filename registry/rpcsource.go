package registry

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/kamailio"
)

// Dumper is a node that can list its memory (ul.dump) and look an AoR up
// in it (ul.lookup): kamailio.Client.
type Dumper interface {
	Node() kamailio.Node
	Dump(ctx context.Context, table string) ([]kamailio.Record, error)
	Lookup(ctx context.Context, table, aor string) ([]kamailio.Contact, error)
}

// RPCSource reads live bindings from ul.dump on every node, for usrloc
// db_mode 0 where the location table stays empty. Contacts are merged and
// de-duplicated by ruid. A node that fails makes the read fail: a shorter
// list would be a lie.
//
// ul.dump is costly for a node, so at most one dump is in flight per node:
// concurrent readers share it, and a finished dump serves reads for TTL
// (0: no reuse). A flush through any replica drops the reuse at once
// (Forget, through the registry's OnFlushed).
type RPCSource struct {
	Nodes []Dumper
	Table string
	TTL   time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnDump, when set, is told of each dump sent to a node.
	OnDump func(node string)

	group singleflight.Group
	mu    sync.Mutex
	dumps map[string]dump
	// gen counts the flushes: a dump started before a flush is neither
	// kept nor shared with readers that came after it.
	gen uint64
}

// dump is one node's memory as of at.
type dump struct {
	at      time.Time
	records []kamailio.Record
}

func (r *RPCSource) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// nodeDump returns a dump of one node no older than TTL, sharing a dump in
// flight. The dump runs on its own context, bounded by the node's call
// timeout, so that one reader giving up does not fail the others.
func (r *RPCSource) nodeDump(ctx context.Context, n Dumper, reuse bool) (dump, error) {
	name := n.Node().Name
	if reuse {
		if d, ok := r.cached(name); ok {
			return d, nil
		}
	}
	r.mu.Lock()
	gen := r.gen
	r.mu.Unlock()
	ch := r.group.DoChan(name+"\x00"+strconv.FormatUint(gen, 10), func() (any, error) {
		// A reader that found no fresh dump may get here just after
		// another flight stored one: use it.
		if d, ok := r.cached(name); ok && reuse {
			return d, nil
		}
		start := r.now()
		if r.OnDump != nil {
			r.OnDump(name)
		}
		recs, err := n.Dump(context.WithoutCancel(ctx), r.Table)
		if err != nil {
			return dump{}, err
		}
		d := dump{at: start, records: recs}
		r.mu.Lock()
		if r.gen == gen { // no flush since the dump started
			if r.dumps == nil {
				r.dumps = map[string]dump{}
			}
			r.dumps[name] = d
		}
		r.mu.Unlock()
		return d, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return dump{}, res.Err
		}
		return res.Val.(dump), nil
	case <-ctx.Done():
		return dump{}, kamreg.Wrap(kamreg.EUNAVAILABLE, ctx.Err(), "Kamailio node %s did not answer ul.dump in time", name)
	}
}

func (r *RPCSource) cached(name string) (dump, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, ok := r.dumps[name]
	return d, ok && r.TTL > 0 && r.now().Sub(d.at) < r.TTL
}

// Forget drops the dumps kept for reuse (after a flush), and any dump in
// flight: readers after a flush get a dump started after it.
func (r *RPCSource) Forget() {
	r.mu.Lock()
	r.dumps = nil
	r.gen++
	r.mu.Unlock()
}

// bindings reads every node at once and returns the merged live bindings,
// ordered by username, contact and ruid.
func (r *RPCSource) bindings(ctx context.Context, reuse bool) ([]kamreg.Binding, error) {
	dumps := make([]dump, len(r.Nodes))
	g, gctx := errgroup.WithContext(ctx)
	for i, n := range r.Nodes {
		g.Go(func() (err error) { dumps[i], err = r.nodeDump(gctx, n, reuse); return err })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	now := r.now()
	seen := map[string]bool{}
	out := []kamreg.Binding{}
	for _, d := range dumps {
		for _, rec := range d.records {
			for _, c := range rec.Contacts {
				b, ok := c.Binding(rec.AoR, d.at)
				if !ok || seen[b.Ruid] || (!b.Expires.IsZero() && !b.Expires.After(now)) {
					continue
				}
				seen[b.Ruid] = true
				out = append(out, b)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].KeyOf().Less(out[j].KeyOf()) })
	return out, nil
}

// Live returns the live bindings the query selects.
func (r *RPCSource) Live(ctx context.Context, q kamailio.Query) ([]kamreg.Binding, error) {
	bs, err := r.bindings(ctx, true)
	if err != nil {
		return nil, err
	}
	out := bs[:0]
	for i := range bs {
		if !q.Selects(&bs[i]) {
			continue
		}
		out = append(out, bs[i])
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

// Batch is 0: the dumps are in memory, so one Live serves a list of any
// size.
func (r *RPCSource) Batch() int { return 0 }

// Count returns how many bindings Live would return without a limit.
func (r *RPCSource) Count(ctx context.Context, q kamailio.Query) (int, error) {
	q.Limit = 0
	bs, err := r.Live(ctx, q)
	return len(bs), err
}

// CountHiding counts from one read of the dumps, as Count does, less the
// bindings of q.Ruids that hides says are hidden.
func (r *RPCSource) CountHiding(ctx context.Context, q kamailio.Query, hides func(*kamreg.Binding) bool) (int, error) {
	ruids := q.Ruids
	q.Ruids, q.Limit = nil, 0
	bs, err := r.Live(ctx, q)
	return countVisible(bs, ruids, hides), err
}

// countVisible counts the bindings less those of ruids that hides hides.
func countVisible(bs []kamreg.Binding, ruids []string, hides func(*kamreg.Binding) bool) int {
	offered := make(map[string]bool, len(ruids))
	for _, r := range ruids {
		offered[r] = true
	}
	n := 0
	for i := range bs {
		if !offered[bs[i].Ruid] || !hides(&bs[i]) {
			n++
		}
	}
	return n
}

// AoRs returns the AoRs of the scope. For a realm (no username: a realm
// flush) it asks every node for its memory, one ul.dump per node shared
// with the dumps in flight, as reads are: the dumps this replica happens
// to hold may be old, or none, and a realm flush that knew only some AoRs
// would answer "ok" while phones stayed. A node that cannot be dumped
// makes it a *kamreg.FlushError saying which node could not be known, and
// nothing is flushed. For a username it reads the dumps already held
// (however old): the user's flush names the AoR itself.
func (r *RPCSource) AoRs(ctx context.Context, s kamreg.Scope) ([]kamreg.AoR, error) {
	if s.Username == "" {
		return r.dumpedAoRs(ctx, s)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	set := newAoRSet()
	for _, d := range r.dumps {
		addAoRs(set, d.records, s)
	}
	return set.list(), nil
}

// dumpedAoRs returns the AoRs of the realm every node holds now.
func (r *RPCSource) dumpedAoRs(ctx context.Context, s kamreg.Scope) ([]kamreg.AoR, error) {
	dumps := make([]dump, len(r.Nodes))
	errs := make([]error, len(r.Nodes))
	var wg sync.WaitGroup
	for i, n := range r.Nodes {
		wg.Add(1)
		go func(i int, n Dumper) {
			defer wg.Done()
			dumps[i], errs[i] = r.nodeDump(ctx, n, false)
		}(i, n)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			name := r.Nodes[i].Node().Name
			return nil, &kamreg.FlushError{Cause: kamreg.Wrap(kamreg.EUNAVAILABLE, err,
				"nothing was flushed: the AoRs Kamailio node %s holds could not be known (ul.dump: %s)",
				name, kamreg.ErrorMessage(err))}
		}
	}
	set := newAoRSet()
	for _, d := range dumps {
		addAoRs(set, d.records, s)
	}
	return set.list(), nil
}

// addAoRs adds the AoRs of records in scope s.
func addAoRs(set *aorSet, records []kamailio.Record, s kamreg.Scope) {
	for _, rec := range records {
		a, ok := kamailio.SplitAoR(rec.AoR)
		if ok && (s.Realm == "" || strings.EqualFold(a.Domain, s.Realm)) &&
			(s.Username == "" || strings.EqualFold(a.Username, s.Username)) {
			set.add(a)
		}
	}
}

// States returns the bindings the AoRs have now, as flush records, so that
// a flush in rpc mode is recorded as in db mode: a replica whose reader
// got a dump begun before the flush does not show the flushed contacts.
// The AoRs in the dumps held are taken from them; the others are looked up
// on every node (a node that does not answer adds nothing: its ul.rm will
// say so).
func (r *RPCSource) States(ctx context.Context, aors []kamreg.AoR, before time.Time) ([]kamreg.FlushRecord, error) {
	want := make(map[string]bool, len(aors))
	for _, a := range aors {
		want[strings.ToLower(a.String())] = true
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	var out []kamreg.FlushRecord
	add := func(aor string, cs []kamailio.Contact, at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range cs {
			b, ok := c.Binding(aor, at)
			if ok && !seen[b.Ruid] && !b.LastModified.After(before) {
				seen[b.Ruid] = true
				out = append(out, kamreg.FlushRecord{Ruid: b.Ruid, Username: b.Username, Domain: b.Domain,
					CallID: b.CallID, CSeq: b.CSeq, LastModified: b.LastModified})
			}
		}
	}
	found := map[string]bool{}
	r.mu.Lock()
	for _, d := range r.dumps {
		for _, rec := range d.records {
			if k := strings.ToLower(rec.AoR); want[k] {
				found[k] = true
				add(rec.AoR, rec.Contacts, d.at)
			}
		}
	}
	r.mu.Unlock()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(statesInFlight)
	for _, a := range aors {
		name := a.String()
		if found[strings.ToLower(name)] {
			continue
		}
		for _, n := range r.Nodes {
			g.Go(func() error {
				if cs, err := n.Lookup(gctx, r.Table, name); err == nil {
					add(name, cs, r.now())
				}
				return nil
			})
		}
	}
	_ = g.Wait()
	return out, nil
}

// statesInFlight bounds the ul.lookup calls of States.
const statesInFlight = 16

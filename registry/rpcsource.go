package registry

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kamreg/kamreg/kamailio"
)

// Enricher fills what kamreg's tables know about bindings: the account of
// each realm and the device of each username.
type Enricher interface {
	Enrich(ctx context.Context, bs []kamailio.Binding) error
}

// RPCBindings reads live bindings from ul.dump on every node, for usrloc
// db_mode 0 where the location table stays empty. Contacts are merged and
// de-duplicated by ruid. A node that fails makes the read fail: a shorter
// list would be a lie.
type RPCBindings struct {
	Nodes    []Node
	Table    string
	Enricher Enricher
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// dump reads every node at once and returns the merged live bindings of
// the scope, ordered by username then contact.
func (r RPCBindings) dump(ctx context.Context, s kamailio.Scope) ([]kamailio.Binding, error) {
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	records := make([][]kamailio.Record, len(r.Nodes))
	errs := make([]error, len(r.Nodes))
	var wg sync.WaitGroup
	for i, n := range r.Nodes {
		wg.Add(1)
		go func(i int, n Node) {
			defer wg.Done()
			records[i], errs[i] = n.Dump(ctx, r.Table)
		}(i, n)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	out := []kamailio.Binding{}
	for _, recs := range records {
		for _, rec := range recs {
			for _, c := range rec.Contacts {
				b, ok := c.Binding(rec.AoR, now)
				if !ok || !inScope(b, s) || seen[b.Ruid] {
					continue
				}
				seen[b.Ruid] = true
				out = append(out, b)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return after(kamailio.KeyOf(out[j]), kamailio.KeyOf(out[i])) })
	return out, nil
}

func inScope(b kamailio.Binding, s kamailio.Scope) bool {
	return (s.Realm == "" || strings.EqualFold(b.Domain, s.Realm)) &&
		(s.Username == "" || strings.EqualFold(b.Username, s.Username))
}

// Live returns the live bindings the query selects, with what kamreg's
// tables know about them.
func (r RPCBindings) Live(ctx context.Context, q kamailio.Query) ([]kamailio.Binding, error) {
	bs, err := r.selected(ctx, q)
	if err != nil {
		return nil, err
	}
	return bs, r.Enricher.Enrich(ctx, bs)
}

// Count returns how many entries Live would return, without a limit.
func (r RPCBindings) Count(ctx context.Context, q kamailio.Query) (int, error) {
	q.Limit = 0
	bs, err := r.selected(ctx, q)
	return len(bs), err
}

// selected applies the query's conditions and page to the merged dump.
func (r RPCBindings) selected(ctx context.Context, q kamailio.Query) ([]kamailio.Binding, error) {
	bs, err := r.dump(ctx, q.Scope)
	if err != nil {
		return nil, err
	}
	out := bs[:0]
	for _, b := range bs {
		if !matches(b, q.Where) || (q.After != nil && !after(kamailio.KeyOf(b), *q.After)) {
			continue
		}
		out = append(out, b)
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

func matches(b kamailio.Binding, where []kamailio.Condition) bool {
	for _, c := range where {
		var v string
		switch c.Column {
		case "username":
			v = b.Username
		case "domain":
			v = b.Domain
		case "contact":
			v = b.Contact
		case "callid":
			v = b.CallID
		case "user_agent":
			v = b.UserAgent
		}
		if (v == c.Value) == c.Not {
			return false
		}
	}
	return true
}

// after tells whether k sorts after start.
func after(k, start kamailio.Key) bool {
	if k.Username != start.Username {
		return k.Username > start.Username
	}
	if k.Contact != start.Contact {
		return k.Contact > start.Contact
	}
	return k.Ruid > start.Ruid
}

// AoRs returns the AoRs of the scope that some node holds.
func (r RPCBindings) AoRs(ctx context.Context, s kamailio.Scope) ([]kamailio.AoR, error) {
	bs, err := r.dump(ctx, s)
	if err != nil {
		return nil, err
	}
	set := newAoRSet()
	for _, b := range bs {
		set.add(kamailio.AoR{Username: b.Username, Domain: b.Domain})
	}
	return set.list(), nil
}

// NoRecords is the flush recorder for the rpc source: Kamailio's memory is
// the only truth there, and ul.rm changes it at once.
type NoRecords struct{}

// Record does nothing.
func (NoRecords) Record(context.Context, []kamailio.AoR, time.Time) error { return nil }

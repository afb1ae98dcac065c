package registry

import (
	"context"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
	"github.com/kamreg/kamreg/kamailio"
)

// split sends the filters on keys that are location columns to the
// source, as conditions on those columns, and keeps the rest to apply
// after mapping.
func split(filters []kamreg.Filter) (where []kamailio.Cond, rest []kamreg.Filter) {
	for _, f := range filters {
		if col, ok := adapter.Column(f.Key); ok {
			where = append(where, kamailio.Cond{Column: kamailio.Column(col), Value: f.Value, Not: f.Not})
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
	// Rows go while they are counted (Kamailio's timer deletes flushed
	// rows): the count and the rows the records may hide are read again,
	// at one moment.
	kq.Ruids = make([]string, len(recs))
	for i, f := range recs {
		kq.Ruids[i] = f.Ruid
	}
	return r.Source.CountHiding(ctx, kq, hiddenBy(recs).hides)
}

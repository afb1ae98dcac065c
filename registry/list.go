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

// Stream hands emit each live registration the query selects, ordered
// by username then contact, as it is read (see each: in batches, in
// bounded memory), and stops at emit's first error, which it returns.
// With q.Limit, next is the key the following page starts after, or nil
// on the last page. The realm's accounts, devices and flush records are
// read once (one round trip, or the records from the cache) and joined
// here.
func (r *Registry) Stream(ctx context.Context, q kamreg.ListQuery, emit func(*kamreg.Registration) error) (next *kamreg.Key, err error) {
	where, rest := split(q.Filters)
	n := 0
	var last kamreg.Key
	var emitErr error
	err = r.each(ctx, readQuery{Query: kamailio.Query{Scope: q.Scope, Where: where, After: q.After}, Rest: rest, Page: q.Limit},
		func(b *kamreg.Binding, reg *kamreg.Registration) bool {
			if q.Limit > 0 && n == q.Limit {
				k := last
				next = &k
				return false
			}
			if emitErr = emit(reg); emitErr != nil {
				return false
			}
			n++
			last = b.KeyOf()
			return true
		})
	if err == nil {
		err = emitErr
	}
	if err != nil {
		return nil, err
	}
	return next, nil
}

// List is Stream collected into one page.
func (r *Registry) List(ctx context.Context, q kamreg.ListQuery) (kamreg.Page, error) {
	page := kamreg.Page{Entries: []kamreg.Registration{}}
	next, err := r.Stream(ctx, q, func(reg *kamreg.Registration) error {
		page.Entries = append(page.Entries, *reg)
		return nil
	})
	if err != nil {
		return kamreg.Page{}, err
	}
	page.Next = next
	return page, nil
}

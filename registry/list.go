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

// List returns the live registrations the query selects, ordered by
// username then contact. The location read is a plain index scan; the
// realm's accounts, devices and flush records are read once (one round
// trip, or the records from the cache) and joined here.
func (r *Registry) List(ctx context.Context, q kamreg.ListQuery) (kamreg.Page, error) {
	where, rest := split(q.Filters)
	page := kamreg.Page{Entries: []kamreg.Registration{}}
	var last kamreg.Key
	err := r.each(ctx, readQuery{Query: kamailio.Query{Scope: q.Scope, Where: where, After: q.After}, Rest: rest, Page: q.Limit},
		func(b *kamreg.Binding, reg *kamreg.Registration) bool {
			if q.Limit > 0 && len(page.Entries) == q.Limit {
				next := last
				page.Next = &next
				return false
			}
			page.Entries = append(page.Entries, *reg)
			last = b.KeyOf()
			return true
		})
	if err != nil {
		return kamreg.Page{}, err
	}
	return page, nil
}

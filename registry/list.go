package registry

import (
	"context"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/kamailio"
)

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

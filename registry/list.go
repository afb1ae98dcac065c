package registry

import (
	"context"
	"strings"
	"time"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
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

// hidden indexes flush records by ruid, and keeps the realm-wide records
// of realm flushes (kamreg.RealmFlush) apart.
type hidden struct {
	byRuid map[string]kamreg.FlushRecord
	realms []kamreg.FlushRecord
}

func hiddenBy(recs []kamreg.FlushRecord) hidden {
	h := hidden{byRuid: make(map[string]kamreg.FlushRecord, len(recs))}
	for _, f := range recs {
		if f.RealmWide() {
			h.realms = append(h.realms, f)
		} else {
			h.byRuid[f.Ruid] = f
		}
	}
	return h
}

func (h hidden) hides(b *kamreg.Binding) bool {
	for _, f := range h.realms {
		if f.Hides(*b) {
			return true
		}
	}
	f, ok := h.byRuid[b.Ruid]
	return ok && f.Hides(*b)
}

// realmFlushed returns the instant the latest realm-wide record of realm
// began, or the zero time: rows of realm last modified no later than it
// are hidden, and a read of the realm leaves them out at the source.
func (h hidden) realmFlushed(realm string) time.Time {
	var t time.Time
	for _, f := range h.realms {
		if realm != "" && strings.EqualFold(f.Domain, realm) && f.LastModified.After(t) {
			t = f.LastModified
		}
	}
	return t
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
	h := hiddenBy(recs)
	kq := kamailio.Query{Scope: q.Scope, Where: where, After: q.After, ModifiedAfter: h.realmFlushed(q.Scope.Realm)}
	if len(rest) == 0 && q.Limit > 0 {
		// One more tells whether a next page exists; the flush records
		// bound how many rows may be hidden.
		kq.Limit = q.Limit + 1 + len(recs)
	}
	bs, err := r.Source.Live(ctx, kq)
	if err != nil {
		return kamreg.Page{}, err
	}
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
	h := hiddenBy(recs)
	// A realm flush's record hides every row of the realm last modified
	// before it began: the source leaves them out.
	kq.ModifiedAfter = h.realmFlushed(q.Scope.Realm)
	if q.Scope.Realm == "" && len(h.realms) > 0 {
		// Across realms, each realm flush has its own instant.
		page, err := r.List(ctx, kamreg.ListQuery{Scope: q.Scope, Filters: q.Filters})
		return len(page.Entries), err
	}
	if len(h.byRuid) == 0 {
		return r.Source.Count(ctx, kq)
	}
	// Rows go while they are counted (Kamailio's timer deletes flushed
	// rows): the count and the rows the records may hide are read again,
	// at one moment.
	kq.Ruids = make([]string, 0, len(h.byRuid))
	for _, f := range recs {
		if !f.RealmWide() {
			kq.Ruids = append(kq.Ruids, f.Ruid)
		}
	}
	return r.Source.CountHiding(ctx, kq, h.hides)
}

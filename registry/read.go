package registry

import (
	"cmp"
	"context"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
	"github.com/kamreg/kamreg/kamailio"
)

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

// readQuery is what the one read path reads: the source's query and the
// filters kept for after mapping. Page, when above 0, bounds the read to
// what a page of that size and the next page's key need.
type readQuery struct {
	kamailio.Query
	Rest []kamreg.Filter
	Page int
}

// defaultReadTimeout bounds each read of the source when Registry's
// ReadTimeout is zero.
const defaultReadTimeout = 15 * time.Second

// each is the one read path of list, count, watch and device status: it
// reads the realm's directory and flush records, then the bindings q
// selects in the source's batches (Source.Batch), each read bounded by
// ReadTimeout; it leaves out what the records hide, maps the rest and
// hands each match, in the list's order, to visit until visit returns
// false. Only one batch is held at a time, so a list of any size is read
// in bounded memory, and no database connection is held while visit
// writes to a slow client.
func (r *Registry) each(ctx context.Context, q readQuery, visit func(b *kamreg.Binding, reg *kamreg.Registration) bool) error {
	dir, recs, confirm, err := r.directory(ctx, q.Scope.Realm)
	if err != nil {
		return err
	}
	p := r.plan(q, dir, recs)
	for read := 0; ; {
		p.kq.Limit = batchLimit(r.Source.Batch(), p.need, read)
		bs, err := r.live(ctx, p.kq)
		if err != nil {
			return err
		}
		if confirm != nil {
			// Cached directory and records serve once the listener says
			// no flush was missed; else they are read, and so is the
			// first batch, before anything is handed on.
			ok := confirm()
			confirm = nil
			if !ok {
				if dir, recs, err = r.readDirectory(ctx, q.Scope.Realm); err != nil {
					return err
				}
				p = r.plan(q, dir, recs)
				continue
			}
		}
		if read == 0 {
			// Expires count from the clock after the first read: the rpc
			// source's count from its dump's instant.
			p.mc.Now = r.now()
		}
		if !p.hand(bs, q.Rest, visit) {
			return nil
		}
		read += len(bs)
		if p.kq.Limit == 0 || len(bs) < p.kq.Limit || read == p.need {
			return nil
		}
		last := bs[len(bs)-1].KeyOf()
		p.kq.After = &last
	}
}

// readPlan is how one read goes, given the realm's directory and flush
// records.
type readPlan struct {
	h       hidden
	kq      kamailio.Query
	need    int // rows the read needs at most; 0 is all
	mc      *adapter.Context
	entries *adapter.EntryCache
}

func (r *Registry) plan(q readQuery, dir *kamreg.Directory, recs []kamreg.FlushRecord) readPlan {
	p := readPlan{h: hiddenBy(recs), kq: q.Query, mc: r.mapping(dir), entries: r.Entries.For(q.Scope)}
	// A realm flush's record hides every row of the realm last modified
	// before it began: the source leaves them out.
	p.kq.ModifiedAfter = p.h.realmFlushed(q.Scope.Realm)
	if len(q.Rest) == 0 && q.Page > 0 && (q.Scope.Realm != "" || len(p.h.realms) == 0) {
		// One more tells whether a next page exists; the flush records
		// bound how many rows may be hidden. Not across realms once a
		// realm was flushed: that record hides any number of rows, and
		// the read goes on until the page is full.
		p.need = q.Page + 1 + len(recs)
	}
	if q.Scope.Realm == "" {
		// A read of every realm goes once over rows that would push out
		// those the caches keep for the realms read often.
		p.kq.Uncached, p.mc.ChannelVars = true, nil
	}
	return p
}

// hand leaves out of bs what the records hide, maps the rest, keeps what
// passes the filters and hands it to visit; false once visit says stop.
func (p *readPlan) hand(bs []kamreg.Binding, filters []kamreg.Filter, visit func(*kamreg.Binding, *kamreg.Registration) bool) bool {
	for i := range bs {
		b := &bs[i]
		if p.h.hides(b) {
			continue
		}
		reg := p.entries.Map(b, p.mc)
		if !adapter.Match(&reg, filters) {
			continue
		}
		if !visit(b, &reg) {
			return false
		}
	}
	return true
}

// batchLimit is the limit of the next read of a source that reads batch
// rows at a time (0: all at once), when need rows are needed in all (0:
// all) and read were read.
func batchLimit(batch, need, read int) int {
	switch {
	case need == 0:
		return batch
	case batch == 0:
		return need - read
	default:
		return min(batch, need-read)
	}
}

// live is one read of the source, bounded by ReadTimeout.
func (r *Registry) live(ctx context.Context, q kamailio.Query) ([]kamreg.Binding, error) {
	ctx, cancel := r.bounded(ctx)
	defer cancel()
	return r.Source.Live(ctx, q)
}

// bounded is ctx bounded by ReadTimeout, for one read.
func (r *Registry) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, cmp.Or(r.ReadTimeout, defaultReadTimeout))
}

// directory returns the realm's directory and flush records. From the
// cache, confirm runs the listener's sync beside what the caller reads
// next and tells whether they may serve (if not, the caller reads them
// with readDirectory); otherwise they are read now and confirm is nil.
func (r *Registry) directory(ctx context.Context, realm string) (*kamreg.Directory, []kamreg.FlushRecord, func() bool, error) {
	if dir, recs, ok, t := r.Cache.getDirectory(realm); ok {
		wait := r.Cache.begin(realm, t)
		return dir, recs, func() bool { return wait(ctx) }, nil
	}
	dir, recs, err := r.readDirectory(ctx, realm)
	return dir, recs, nil, err
}

// readDirectory reads the realm's directory and flush records in one
// round trip (the records cost nothing more there, and are never older
// than the read), and keeps both in the cache (the records alone for
// every realm, "").
func (r *Registry) readDirectory(ctx context.Context, realm string) (*kamreg.Directory, []kamreg.FlushRecord, error) {
	_, _, t := r.Cache.get(realm)
	ctx, cancel := r.bounded(ctx)
	defer cancel()
	dir, recs, err := r.Directory.Read(ctx, realm)
	switch {
	case err != nil:
	case realm == "":
		// Every account and device: not held, as a read of every realm
		// holds nothing in the other caches either.
		r.Cache.put(realm, recs, t)
	default:
		r.Cache.putDirectory(realm, dir, recs, t)
	}
	return dir, recs, err
}

// flushRecords returns the realm's flush records, from the cache when it
// holds them.
func (r *Registry) flushRecords(ctx context.Context, realm string) ([]kamreg.FlushRecord, error) {
	recs, ok, t := r.Cache.fresh(ctx, realm)
	if ok {
		return recs, nil
	}
	recs, err := r.Directory.FlushRecords(ctx, realm)
	if err == nil {
		r.Cache.put(realm, recs, t)
	}
	return recs, err
}

func (r *Registry) mapping(dir *kamreg.Directory) *adapter.Context {
	return &adapter.Context{Directory: dir, Advertise: r.Advertise, Registrars: r.Registrars,
		OnWildcard: r.OnWildcard, ChannelVars: r.ChannelVars, Now: r.now()}
}

// Count returns how many entries List would return without a page: the
// plain count of live rows, less the rows flush records still hide. With
// the realm's records cached it is one round trip to the source: the
// listener's sync (FlushCache.Sync), which says whether the records may
// serve, runs at the same time, and only when it says no are the records
// read and the count made again.
func (r *Registry) Count(ctx context.Context, q kamreg.ListQuery) (int, error) {
	where, rest := split(q.Filters)
	if len(rest) > 0 {
		n := 0
		err := r.each(ctx, readQuery{Query: kamailio.Query{Scope: q.Scope, Where: where}, Rest: rest},
			func(*kamreg.Binding, *kamreg.Registration) bool { n++; return true })
		return n, err
	}
	kq := kamailio.Query{Scope: q.Scope, Where: where}
	if recs, ok, t := r.Cache.get(q.Scope.Realm); ok {
		wait := r.Cache.begin(q.Scope.Realm, t)
		n, err := r.countHiding(ctx, kq, recs)
		if err != nil || wait(ctx) {
			return n, err
		}
	}
	// The flush records and the count do not depend on each other: both
	// round trips are in flight at once.
	var n int
	var recs []kamreg.FlushRecord
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { recs, err = r.flushRecords(gctx, q.Scope.Realm); return err })
	g.Go(func() (err error) { n, err = r.Source.Count(gctx, kq); return err })
	if err := g.Wait(); err != nil || len(recs) == 0 {
		return n, err
	}
	return r.countHiding(ctx, kq, recs)
}

// countHiding counts what kq selects less what recs hide.
func (r *Registry) countHiding(ctx context.Context, kq kamailio.Query, recs []kamreg.FlushRecord) (int, error) {
	if len(recs) == 0 {
		return r.Source.Count(ctx, kq)
	}
	h := hiddenBy(recs)
	// A realm flush's record hides every row of the realm last modified
	// before it began: the source leaves them out.
	kq.ModifiedAfter = h.realmFlushed(kq.Scope.Realm)
	if kq.Scope.Realm == "" && len(h.realms) > 0 {
		// Across realms, each realm flush has its own instant.
		n := 0
		err := r.each(ctx, readQuery{Query: kamailio.Query{Scope: kq.Scope, Where: kq.Where}},
			func(*kamreg.Binding, *kamreg.Registration) bool { n++; return true })
		return n, err
	}
	if len(h.byRuid) == 0 {
		return r.Source.Count(ctx, kq)
	}
	// Rows go while they are counted (Kamailio's timer deletes flushed
	// rows): the count and the rows the records may hide are read at one
	// moment.
	kq.Ruids = make([]string, 0, len(h.byRuid))
	for ruid := range h.byRuid {
		kq.Ruids = append(kq.Ruids, ruid)
	}
	return r.Source.CountHiding(ctx, kq, h.hides)
}

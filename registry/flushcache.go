package registry

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/kamreg/kamreg"
)

// FlushCache keeps the live flush records of each realm read, and the
// realm's directory (accounts and devices) once a list read it, so that a
// count or a list needs no read of them. A change of accounts or devices
// is notified as a flush is (store), and invalidates the realm alike. A
// realm's records are read again after a flush of the realm (Invalidate, on this replica or told by another),
// and after Refresh in any case, in case a notification was missed. The
// cache serves only while notifications are heard (SetListening): before
// the first LISTEN and from the loss of the connection until it is back,
// every read goes to the database, and nothing read before is served
// again.
type FlushCache struct {
	// Refresh is how long a realm's records serve without a notification.
	Refresh time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sync, when set, starts the listener's sync (store.Listener.Begin):
	// its channel says true once every flush notified before it was
	// called has been told to Invalidate, false if it cannot say. Records
	// are served only after it, so that no flush answered by another
	// replica is missed by the next read here.
	Sync func() <-chan bool

	mu        sync.Mutex
	listening bool
	realms    map[string]cachedRecords
	// gen counts invalidations: records read before one are not kept.
	gen uint64
}

// cachedRecords are a realm's flush records and, when a list read them
// too, its directory (accounts and devices), each with when its read
// began.
type cachedRecords struct {
	recs  []kamreg.FlushRecord
	at    time.Time
	dir   *kamreg.Directory
	dirAt time.Time
}

func (c *FlushCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// ticket is taken before a read of the records and given back with them:
// records read across an invalidation are not kept, and records are as
// old as the moment their read began.
type ticket struct {
	gen uint64
	at  time.Time
}

// get returns the realm's records if fresh, and the ticket to put a new
// read with.
func (c *FlushCache) get(realm string) ([]kamreg.FlushRecord, bool, ticket) {
	e, ok, t := c.lookup(realm)
	return e.recs, ok, t
}

// getDirectory returns the realm's directory and records if both are
// fresh, and the ticket to put a new read with.
func (c *FlushCache) getDirectory(realm string) (*kamreg.Directory, []kamreg.FlushRecord, bool, ticket) {
	e, ok, t := c.lookup(realm)
	if !ok || e.dir == nil || t.at.Sub(e.dirAt) >= c.Refresh {
		return nil, nil, false, t
	}
	return e.dir, e.recs, true, t
}

// lookup returns the realm's entry if its records are fresh, and the
// ticket to put a new read with, in one hold of the lock.
func (c *FlushCache) lookup(realm string) (cachedRecords, bool, ticket) {
	if c == nil {
		return cachedRecords{}, false, ticket{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	e, ok := c.realms[strings.ToLower(realm)]
	if !ok || !c.listening || now.Sub(e.at) >= c.Refresh {
		return cachedRecords{}, false, ticket{gen: c.gen, at: now}
	}
	return e, true, ticket{gen: c.gen, at: now}
}

// fresh returns the realm's records if fresh once Sync has told every
// notification sent before, and the ticket to put a new read with.
func (c *FlushCache) fresh(ctx context.Context, realm string) ([]kamreg.FlushRecord, bool, ticket) {
	recs, ok, t := c.get(realm)
	if !ok || !c.confirm(ctx, realm, t) {
		return nil, false, t
	}
	return recs, true, t
}

// confirm tells whether records got with ticket t may serve: Sync has
// told every notification sent before it was called, and none of them
// (nor anything else) invalidated the cache since t.
func (c *FlushCache) confirm(ctx context.Context, realm string, t ticket) bool {
	return c.begin(realm, t)(ctx)
}

// begin starts confirm and returns at once: wait gives its answer, so
// that the caller reads meanwhile.
func (c *FlushCache) begin(realm string, t ticket) (wait func(context.Context) bool) {
	var synced <-chan bool
	if c.Sync != nil {
		synced = c.Sync()
	}
	return func(ctx context.Context) bool {
		if synced != nil {
			select {
			case ok := <-synced:
				if !ok {
					return false
				}
			case <-ctx.Done():
				return false
			}
		}
		_, ok, now := c.get(realm)
		return ok && now.gen == t.gen
	}
}

// put keeps records read with ticket t, unless something was invalidated
// since; a directory already kept stays.
func (c *FlushCache) put(realm string, recs []kamreg.FlushRecord, t ticket) {
	c.keep(realm, nil, recs, t)
}

// putDirectory keeps a realm's directory and records, both read with
// ticket t, unless something was invalidated since.
func (c *FlushCache) putDirectory(realm string, dir *kamreg.Directory, recs []kamreg.FlushRecord, t ticket) {
	c.keep(realm, dir, recs, t)
}

func (c *FlushCache) keep(realm string, dir *kamreg.Directory, recs []kamreg.FlushRecord, t ticket) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.listening || c.gen != t.gen || c.Refresh <= 0 {
		return
	}
	if c.realms == nil {
		c.realms = map[string]cachedRecords{}
	}
	key := strings.ToLower(realm)
	e := cachedRecords{recs: recs, at: t.at, dir: dir, dirAt: t.at}
	if dir == nil {
		e.dir, e.dirAt = c.realms[key].dir, c.realms[key].dirAt
	}
	c.realms[key] = e
}

// Invalidate makes the next read of realm (and of every realm, "") read
// the records again; "" invalidates every realm.
func (c *FlushCache) Invalidate(realm string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if realm == "" {
		c.realms = nil
		return
	}
	delete(c.realms, strings.ToLower(realm))
	delete(c.realms, "")
}

// SetListening says whether notifications are heard. Either way every
// cached realm is stale: notifications may have been missed.
func (c *FlushCache) SetListening(on bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.realms = nil
	c.listening = on
}

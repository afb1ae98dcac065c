package auth

import (
	"context"
	"time"

	"golang.org/x/sync/singleflight"
)

// cacheTTL is how long an authentication or account lookup is reused: a
// revoked token or a changed account takes effect within this time.
const cacheTTL = 5 * time.Second

// cacheMax bounds a cache's entries; the least recently used go first.
const cacheMax = 10000

// lookupCache reuses successful lookups for a TTL. Concurrent misses of
// one key share one lookup; failures are never kept.
type lookupCache[V any] struct {
	lru   *expiring[string, V]
	group singleflight.Group
}

func newLookupCache[V any](ttl time.Duration, now func() time.Time) *lookupCache[V] {
	return &lookupCache[V]{lru: newExpiring[string, V](cacheMax, ttl, now)}
}

// lookupTimeout bounds a shared lookup: it runs on its own context, so
// that one caller going away does not fail the others waiting on it.
const lookupTimeout = 10 * time.Second

func (c *lookupCache[V]) get(ctx context.Context, key string, lookup func(context.Context) (V, error)) (V, error) {
	if v, ok := c.lru.Get(key); ok {
		return v, nil
	}
	ch := c.group.DoChan(key, func() (any, error) {
		// A caller that missed may get here just after another flight
		// stored the value: use it.
		if v, ok := c.lru.Get(key); ok {
			return v, nil
		}
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupTimeout)
		defer cancel()
		v, err := lookup(lctx)
		if err == nil {
			c.lru.Add(key, v)
		}
		return v, err
	})
	select {
	case res := <-ch:
		return res.Val.(V), res.Err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

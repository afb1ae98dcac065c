package store

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// ttlLRU is a bounded LRU whose entries expire ttl after they were added:
// golang-lru's cache, with each entry's expiry checked when it is read.
// golang-lru's expirable.LRU starts a goroutine per cache that nothing can
// stop, so every App opened and closed (the e2e suite opens dozens) would
// leave some behind.
type ttlLRU[V any] struct {
	lru *lru.Cache[string, ttlEntry[V]]
	ttl time.Duration
	now func() time.Time
}

type ttlEntry[V any] struct {
	v     V
	until time.Time
}

func newTTLLRU[V any](size int, ttl time.Duration) *ttlLRU[V] {
	c, err := lru.New[string, ttlEntry[V]](size)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &ttlLRU[V]{lru: c, ttl: ttl, now: time.Now}
}

// Get returns the value of k while it has not expired.
func (c *ttlLRU[V]) Get(k string) (V, bool) {
	e, ok := c.lru.Get(k)
	if ok && c.now().Before(e.until) {
		return e.v, true
	}
	if ok {
		c.lru.Remove(k)
	}
	var zero V
	return zero, false
}

// Add keeps v under k for the cache's TTL; the least recently used entry
// goes when the cache is full.
func (c *ttlLRU[V]) Add(k string, v V) {
	c.lru.Add(k, ttlEntry[V]{v: v, until: c.now().Add(c.ttl)})
}

// Contains tells whether k has a value that has not expired, without
// making it recently used.
func (c *ttlLRU[V]) Contains(k string) bool {
	e, ok := c.lru.Peek(k)
	return ok && c.now().Before(e.until)
}

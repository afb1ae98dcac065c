package auth

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// expiring is a bounded LRU whose entries expire ttl after they were
// added: golang-lru's cache, with each entry's expiry checked when it is
// read. golang-lru's expirable.LRU starts a goroutine per cache that
// nothing can stop, so every App opened and closed (the e2e suite opens
// dozens) would leave some behind. It is safe for concurrent use.
type expiring[K comparable, V any] struct {
	lru *lru.Cache[K, expiringEntry[V]]
	ttl time.Duration
	now func() time.Time
}

type expiringEntry[V any] struct {
	v     V
	until time.Time
}

func newExpiring[K comparable, V any](size int, ttl time.Duration, now func() time.Time) *expiring[K, V] {
	return &expiring[K, V]{lru: newLRU[K, expiringEntry[V]](size), ttl: ttl, now: now}
}

// newLRU is golang-lru's cache of size entries, the least recently used
// going first.
func newLRU[K comparable, V any](size int) *lru.Cache[K, V] {
	c, err := lru.New[K, V](size)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return c
}

// Get returns the value of k while it has not expired.
func (c *expiring[K, V]) Get(k K) (V, bool) {
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
func (c *expiring[K, V]) Add(k K, v V) {
	c.lru.Add(k, expiringEntry[V]{v: v, until: c.now().Add(c.ttl)})
}

// Contains tells whether k has a value that has not expired, without
// making it recently used.
func (c *expiring[K, V]) Contains(k K) bool {
	e, ok := c.lru.Peek(k)
	return ok && c.now().Before(e.until)
}

// Remove forgets k.
func (c *expiring[K, V]) Remove(k K) { c.lru.Remove(k) }

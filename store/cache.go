package store

import (
	"context"
	"sync"
	"time"
)

// CacheTTL is how long an authentication or account lookup is reused: a
// revoked token or a changed account takes effect within this time.
const CacheTTL = 5 * time.Second

// cacheMax bounds a cache's entries; a full cache is emptied.
const cacheMax = 10000

// ttlCache is a small map whose entries expire.
type ttlCache[K comparable, V any] struct {
	mu  sync.Mutex
	m   map[K]cached[V]
	ttl time.Duration
	now func() time.Time
}

type cached[V any] struct {
	v       V
	expires time.Time
}

func newCache[K comparable, V any](ttl time.Duration) *ttlCache[K, V] {
	return &ttlCache[K, V]{m: map[K]cached[V]{}, ttl: ttl, now: time.Now}
}

func (c *ttlCache[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || c.now().After(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *ttlCache[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= cacheMax {
		c.m = map[K]cached[V]{}
	}
	c.m[k] = cached[V]{v: v, expires: c.now().Add(c.ttl)}
}

// CachedAccounts reuses account lookups and authorization answers for
// CacheTTL. Only found accounts are kept; each answer is keyed by the exact
// account ids it is about, so nothing is shared across accounts.
type CachedAccounts struct {
	Accounts interface {
		Get(ctx context.Context, id string) (Account, error)
		MayAct(ctx context.Context, caller, target string) (bool, error)
	}
	accounts *ttlCache[string, Account]
	mayAct   *ttlCache[[2]string, bool]
}

// NewCachedAccounts wraps a.
func NewCachedAccounts(a Accounts) *CachedAccounts {
	return &CachedAccounts{Accounts: a, accounts: newCache[string, Account](CacheTTL), mayAct: newCache[[2]string, bool](CacheTTL)}
}

// Get returns one account, or ErrNotFound.
func (c *CachedAccounts) Get(ctx context.Context, id string) (Account, error) {
	if a, ok := c.accounts.get(id); ok {
		return a, nil
	}
	a, err := c.Accounts.Get(ctx, id)
	if err == nil {
		c.accounts.put(id, a)
	}
	return a, err
}

// MayAct tells whether caller may act on target.
func (c *CachedAccounts) MayAct(ctx context.Context, caller, target string) (bool, error) {
	key := [2]string{caller, target}
	if ok, found := c.mayAct.get(key); found {
		return ok, nil
	}
	ok, err := c.Accounts.MayAct(ctx, caller, target)
	if err == nil {
		c.mayAct.put(key, ok)
	}
	return ok, err
}

// CachedTokens reuses successful authentications for CacheTTL; failures
// are never kept.
type CachedTokens struct {
	Tokens interface {
		Authenticate(ctx context.Context, token string) (string, error)
	}
	ok *ttlCache[string, string]
}

// NewCachedTokens wraps t.
func NewCachedTokens(t Tokens) *CachedTokens {
	return &CachedTokens{Tokens: t, ok: newCache[string, string](CacheTTL)}
}

// Authenticate returns the account a token is bound to, or ErrBadToken.
func (c *CachedTokens) Authenticate(ctx context.Context, token string) (string, error) {
	if id, ok := c.ok.get(token); ok {
		return id, nil
	}
	id, err := c.Tokens.Authenticate(ctx, token)
	if err == nil {
		c.ok.put(token, id)
	}
	return id, err
}

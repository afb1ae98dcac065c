package store

import (
	"context"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/kamreg/kamreg"
)

// CacheTTL is how long an authentication or account lookup is reused: a
// revoked token or a changed account takes effect within this time.
const CacheTTL = 5 * time.Second

// cacheMax bounds a cache's entries; the least recently used go first.
const cacheMax = 10000

// lookupCache reuses successful lookups for CacheTTL. Concurrent misses of
// one key share one lookup; failures are never kept.
type lookupCache[V any] struct {
	lru   *ttlLRU[V]
	group singleflight.Group
}

func newLookupCache[V any](ttl time.Duration) *lookupCache[V] {
	return &lookupCache[V]{lru: newTTLLRU[V](cacheMax, ttl)}
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

// CachedAccounts reuses account lookups and authorization answers for
// CacheTTL. Only found accounts are kept; each answer is keyed by the exact
// account ids it is about, so nothing is shared across accounts.
type CachedAccounts struct {
	Accounts CachedAccountsSource
	accounts *lookupCache[kamreg.Account]
	mayAct   *lookupCache[bool]
}

// CachedAccountsSource is what CachedAccounts wraps (Accounts).
type CachedAccountsSource interface {
	Get(ctx context.Context, id string) (kamreg.Account, error)
	MayAct(ctx context.Context, caller, target string) (bool, error)
}

// NewCachedAccounts wraps a.
func NewCachedAccounts(a Accounts) *CachedAccounts {
	return newCachedAccounts(a, CacheTTL)
}

func newCachedAccounts(a CachedAccountsSource, ttl time.Duration) *CachedAccounts {
	return &CachedAccounts{Accounts: a, accounts: newLookupCache[kamreg.Account](ttl), mayAct: newLookupCache[bool](ttl)}
}

// Get returns one account, or kamreg.ErrNotFound.
func (c *CachedAccounts) Get(ctx context.Context, id string) (kamreg.Account, error) {
	return c.accounts.get(ctx, id, func(ctx context.Context) (kamreg.Account, error) { return c.Accounts.Get(ctx, id) })
}

// MayAct tells whether caller may act on target.
func (c *CachedAccounts) MayAct(ctx context.Context, caller, target string) (bool, error) {
	return c.mayAct.get(ctx, caller+"/"+target, func(ctx context.Context) (bool, error) {
		return c.Accounts.MayAct(ctx, caller, target)
	})
}

// CachedTokens reuses successful authentications for CacheTTL; failures
// are never kept here.
type CachedTokens struct {
	Tokens Authenticator
	ok     *lookupCache[string]
}

// Authenticator is what CachedTokens wraps (Tokens).
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (string, error)
}

// NewCachedTokens wraps t.
func NewCachedTokens(t Tokens) *CachedTokens { return newCachedTokens(t, CacheTTL) }

func newCachedTokens(t Authenticator, ttl time.Duration) *CachedTokens {
	return &CachedTokens{Tokens: t, ok: newLookupCache[string](ttl)}
}

// Authenticate returns the account a token is bound to, or
// kamreg.ErrBadToken.
func (c *CachedTokens) Authenticate(ctx context.Context, token string) (string, error) {
	return c.ok.get(ctx, token, func(ctx context.Context) (string, error) { return c.Tokens.Authenticate(ctx, token) })
}

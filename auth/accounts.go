package auth

import (
	"context"
	"time"

	"github.com/kamreg/kamreg"
)

// CachedAccounts reuses account lookups and authorization answers for
// cacheTTL. Only found accounts are kept; each answer is keyed by the exact
// account ids it is about, so nothing is shared across accounts.
type CachedAccounts struct {
	source   kamreg.AccountService
	accounts *lookupCache[kamreg.Account]
	mayAct   *lookupCache[bool]
}

// NewCachedAccounts wraps a.
func NewCachedAccounts(a kamreg.AccountService) *CachedAccounts {
	return newCachedAccounts(a, cacheTTL, time.Now)
}

func newCachedAccounts(a kamreg.AccountService, ttl time.Duration, now func() time.Time) *CachedAccounts {
	return &CachedAccounts{source: a, accounts: newLookupCache[kamreg.Account](ttl, now), mayAct: newLookupCache[bool](ttl, now)}
}

// Get returns one account, or kamreg.ErrNotFound.
func (c *CachedAccounts) Get(ctx context.Context, id string) (kamreg.Account, error) {
	return c.accounts.get(ctx, id, func(ctx context.Context) (kamreg.Account, error) { return c.source.Get(ctx, id) })
}

// MayAct tells whether caller may act on target.
func (c *CachedAccounts) MayAct(ctx context.Context, caller, target string) (bool, error) {
	return c.mayAct.get(ctx, caller+"/"+target, func(ctx context.Context) (bool, error) {
		return c.source.MayAct(ctx, caller, target)
	})
}

package auth

import (
	"context"
	"time"

	"github.com/kamreg/kamreg"
)

// CachedTokens reuses successful authentications for cacheTTL; failures
// are never kept here.
type CachedTokens struct {
	source kamreg.Authenticator
	ok     *lookupCache[string]
}

// NewCachedTokens wraps t.
func NewCachedTokens(t kamreg.Authenticator) *CachedTokens {
	return newCachedTokens(t, cacheTTL, time.Now)
}

func newCachedTokens(t kamreg.Authenticator, ttl time.Duration, now func() time.Time) *CachedTokens {
	return &CachedTokens{source: t, ok: newLookupCache[string](ttl, now)}
}

// Authenticate returns the account a token is bound to, or
// kamreg.ErrBadToken.
func (c *CachedTokens) Authenticate(ctx context.Context, token string) (string, error) {
	return c.ok.get(ctx, token, func(ctx context.Context) (string, error) { return c.source.Authenticate(ctx, token) })
}

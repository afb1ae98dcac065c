package store

import (
	"context"
	"errors"
	"time"

	"github.com/kamreg/kamreg"
)

// NegativeTTL is how long a token id with no live row is answered without
// asking the database. Ids are 128 random bits, so a new token never
// collides with a remembered one, and a revoked id stays revoked.
const NegativeTTL = time.Minute

// negativeMax bounds the ids remembered; the oldest go first.
const negativeMax = 65536

// NegativeTokens answers kamreg.ErrUnknownToken for token ids that
// recently had no live row, and kamreg.ErrMalformedToken for tokens that
// cannot be one, without calling Tokens.
type NegativeTokens struct {
	Tokens interface {
		Authenticate(ctx context.Context, token string) (string, error)
	}
	// ids are the unknown ids, each for NegativeTTL, the least recently
	// used going first.
	ids *ttlLRU[struct{}]
}

// NewNegativeTokens wraps t.
func NewNegativeTokens(t interface {
	Authenticate(ctx context.Context, token string) (string, error)
}) *NegativeTokens {
	return newNegativeTokens(t, negativeMax, NegativeTTL)
}

func newNegativeTokens(t interface {
	Authenticate(ctx context.Context, token string) (string, error)
}, size int, ttl time.Duration) *NegativeTokens {
	return &NegativeTokens{Tokens: t, ids: newTTLLRU[struct{}](size, ttl)}
}

// Authenticate returns the account a token is bound to, or
// kamreg.ErrBadToken.
func (n *NegativeTokens) Authenticate(ctx context.Context, token string) (string, error) {
	id, _, ok := kamreg.SplitToken(token)
	if !ok {
		return "", kamreg.ErrMalformedToken
	}
	if _, ok := n.ids.Get(id); ok {
		return "", kamreg.ErrUnknownToken
	}
	acct, err := n.Tokens.Authenticate(ctx, token)
	if errors.Is(err, kamreg.ErrUnknownToken) {
		n.ids.Add(id, struct{}{})
	}
	return acct, err
}

package auth

import (
	"context"
	"errors"
	"time"

	"github.com/kamreg/kamreg"
)

// negativeTTL is how long a token id with no live row is answered without
// asking the database. Ids are 128 random bits, so a new token never
// collides with a remembered one, and a revoked id stays revoked.
const negativeTTL = time.Minute

// negativeMax bounds the ids remembered; the least recently used go first.
const negativeMax = 65536

// NegativeTokens answers kamreg.ErrUnknownToken for token ids that
// recently had no live row, and kamreg.ErrMalformedToken for tokens that
// cannot be one, without calling the tokens it wraps.
type NegativeTokens struct {
	source kamreg.Authenticator
	// ids are the unknown ids, each for negativeTTL, the least recently
	// used going first.
	ids *expiring[string, struct{}]
}

// NewNegativeTokens wraps t.
func NewNegativeTokens(t kamreg.Authenticator) *NegativeTokens {
	return newNegativeTokens(t, negativeMax, negativeTTL, time.Now)
}

func newNegativeTokens(t kamreg.Authenticator, size int, ttl time.Duration, now func() time.Time) *NegativeTokens {
	return &NegativeTokens{source: t, ids: newExpiring[string, struct{}](size, ttl, now)}
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
	acct, err := n.source.Authenticate(ctx, token)
	if errors.Is(err, kamreg.ErrUnknownToken) {
		n.ids.Add(id, struct{}{})
	}
	return acct, err
}

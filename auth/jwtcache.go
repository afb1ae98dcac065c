package auth

import (
	"context"
	"crypto/sha256"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/kamreg/kamreg"
)

// Verified is what a JWT's verification tells: the caller's account, and
// the instant from which the token is refused (its exp plus leeway).
type Verified struct {
	AccountID string
	Until     time.Time
}

// Verifier checks a JWT's signature and claims (*JWT).
type Verifier interface {
	Verify(token string) (Verified, error)
}

// jwtCacheSize bounds the tokens a JWTCache remembers; the least recently
// used go first.
const jwtCacheSize = 10000

// JWTCache verifies each JWT once and remembers it until it expires, so
// that neither a page's requests nor an event stream's recheck of its
// token every second cost an RSA verification each. A JWT cannot be
// revoked and verifies the same way until its exp, so the remembered
// answer is the one a new verification would give; from Until on the
// token is refused, as a verification would refuse it. Failures are not
// kept. The cache keys are SHA-256s of the tokens, not the tokens.
type JWTCache struct {
	verifier Verifier
	lru      *lru.Cache[[32]byte, Verified]
	now      func() time.Time
}

// NewJWTCache remembers what v verifies, jwtCacheSize tokens at most.
func NewJWTCache(v Verifier) *JWTCache { return newJWTCache(v, jwtCacheSize, time.Now) }

func newJWTCache(v Verifier, size int, now func() time.Time) *JWTCache {
	return &JWTCache{verifier: v, lru: newLRU[[32]byte, Verified](size), now: now}
}

// Authenticate returns the account_id of a token that verified and has
// not expired, verifying it only when it is not remembered; anything else
// is kamreg.ErrBadToken.
func (c *JWTCache) Authenticate(_ context.Context, token string) (string, error) {
	k := sha256.Sum256([]byte(token))
	if v, ok := c.lru.Get(k); ok {
		if c.now().Before(v.Until) {
			return v.AccountID, nil
		}
		// Expired, and refused without a verification until it leaves
		// the cache.
		return "", kamreg.ErrBadToken
	}
	v, err := c.verifier.Verify(token)
	if err != nil {
		return "", kamreg.ErrBadToken
	}
	if c.now().Before(v.Until) {
		c.lru.Add(k, v)
	}
	return v.AccountID, nil
}

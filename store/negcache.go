package store

import (
	"context"
	"errors"
	"sync"
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
	ids *expiringSet
}

// NewNegativeTokens wraps t.
func NewNegativeTokens(t interface {
	Authenticate(ctx context.Context, token string) (string, error)
}) *NegativeTokens {
	return &NegativeTokens{Tokens: t, ids: newExpiringSet(negativeMax, NegativeTTL, time.Now)}
}

// Authenticate returns the account a token is bound to, or kamreg.ErrBadToken.
func (n *NegativeTokens) Authenticate(ctx context.Context, token string) (string, error) {
	id, _, ok := SplitToken(token)
	if !ok {
		return "", kamreg.ErrMalformedToken
	}
	if n.ids.has(id) {
		return "", kamreg.ErrUnknownToken
	}
	acct, err := n.Tokens.Authenticate(ctx, token)
	if errors.Is(err, kamreg.ErrUnknownToken) {
		n.ids.add(id)
	}
	return acct, err
}

// expiringSet is a bounded set whose members expire; when full, the
// oldest member goes.
type expiringSet struct {
	mu    sync.Mutex
	until map[string]time.Time
	ring  []string
	next  int
	ttl   time.Duration
	now   func() time.Time
}

func newExpiringSet(size int, ttl time.Duration, now func() time.Time) *expiringSet {
	return &expiringSet{until: make(map[string]time.Time, size), ring: make([]string, size), ttl: ttl, now: now}
}

func (s *expiringSet) has(k string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.until[k]
	return ok && s.now().Before(t)
}

func (s *expiringSet) add(k string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.until[k]; !ok {
		if old := s.ring[s.next]; old != "" {
			delete(s.until, old)
		}
		s.ring[s.next] = k
		s.next = (s.next + 1) % len(s.ring)
	}
	s.until[k] = s.now().Add(s.ttl)
}

package auth

import (
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// budgets keeps one token bucket (x/time/rate) per key, size keys at
// most; the least recently used key goes first, and comes back with a
// full bucket.
type budgets struct {
	mu    sync.Mutex // makes a key's get-or-add one step
	lru   *lru.Cache[string, *rate.Limiter]
	limit rate.Limit
	burst int
	now   func() time.Time
}

func newBudgets(perSecond float64, burst, size int, now func() time.Time) *budgets {
	return &budgets{lru: newLRU[string, *rate.Limiter](size), limit: rate.Limit(perSecond), burst: burst, now: now}
}

// of returns key's bucket, a full one for a key not held.
func (b *budgets) of(key string) *rate.Limiter {
	b.mu.Lock()
	defer b.mu.Unlock()
	lim, ok := b.lru.Get(key)
	if !ok {
		lim = rate.NewLimiter(b.limit, b.burst)
		b.lru.Add(key, lim)
	}
	return lim
}

// allow takes one from key's bucket; false when it is empty.
func (b *budgets) allow(key string) bool { return b.of(key).AllowN(b.now(), 1) }

// take takes one from key's bucket, to be given back by the Charge's
// Refund; false (and nothing taken) when the bucket is empty.
func (b *budgets) take(key string) (Charge, bool) {
	now := b.now()
	r := b.of(key).ReserveN(now, 1)
	if !r.OK() {
		return Charge{}, false
	}
	if r.DelayFrom(now) > 0 {
		r.CancelAt(now)
		return Charge{}, false
	}
	return Charge{r: r, at: now}, true
}

// Charge is one lookup taken from a budget. The zero Charge took nothing.
type Charge struct {
	r  *rate.Reservation
	at time.Time
}

// Refund gives the lookup back, for a lookup that succeeded: x/time/rate's
// cancellation of the reservation as of the instant it was taken. A charge
// of the same key taken a whole refill period (1/rate) or more after this
// one leaves nothing to give back, as x/time/rate reckons it.
func (c Charge) Refund() {
	if c.r != nil {
		c.r.CancelAt(c.at)
	}
}

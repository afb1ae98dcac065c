package rest

import (
	"sync"

	"golang.org/x/time/rate"
)

// limiters keeps one token bucket per API token or JWT, so that one
// script cannot starve the UI.
type limiters struct {
	mu    sync.Mutex
	m     map[string]*rate.Limiter
	limit rate.Limit
	burst int
}

// maxLimiters bounds the buckets kept; when full they all start afresh.
const maxLimiters = 10000

func newLimiters(perSecond float64, burst int) *limiters {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = max(1, int(2*perSecond))
	}
	return &limiters{m: map[string]*rate.Limiter{}, limit: rate.Limit(perSecond), burst: burst}
}

// allow takes one request from the token's bucket. A nil *limiters allows
// everything.
func (l *limiters) allow(token string) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	lim, ok := l.m[token]
	if !ok {
		if len(l.m) >= maxLimiters {
			l.m = map[string]*rate.Limiter{}
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.m[token] = lim
	}
	l.mu.Unlock()
	return lim.Allow()
}

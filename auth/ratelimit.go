package auth

import "time"

// RequestLimit keeps one token bucket of requests per API token or JWT,
// so that one script cannot starve the UI. A nil *RequestLimit allows
// everything.
type RequestLimit struct {
	budgets *budgets
}

// requestLimitMax bounds the tokens whose buckets are kept; the least
// recently used go first.
const requestLimitMax = 10000

// NewRequestLimit allows perSecond requests per token in bursts of burst
// (below 1: twice the rate); a rate of 0 or less is no limit (nil).
func NewRequestLimit(perSecond float64, burst int) *RequestLimit {
	return newRequestLimit(perSecond, burst, time.Now)
}

func newRequestLimit(perSecond float64, burst int, now func() time.Time) *RequestLimit {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = max(1, int(2*perSecond))
	}
	return &RequestLimit{budgets: newBudgets(perSecond, burst, requestLimitMax, now)}
}

// Allow takes one request from the token's bucket.
func (l *RequestLimit) Allow(token string) bool {
	if l == nil {
		return true
	}
	return l.budgets.allow(token)
}

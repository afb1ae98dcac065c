package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/metrics"
)

// FailureLimit limits failed authentications per client address, so that
// a flood of made-up tokens costs neither the database nor valid callers
// anything.
type FailureLimit struct {
	// Rate is the lookups of tokens (and accounts) not known good that
	// one address may cause per second (0: no limit), in bursts of Burst
	// (below 1: four times the rate). A lookup that succeeds is given
	// back, so the budget is spent by failures; beyond it the address is
	// refused before any lookup until its bucket refills.
	Rate  float64
	Burst int
	// TrustedProxies are the peers whose X-Forwarded-For is believed: the
	// client is then the right-most hop not in them.
	TrustedProxies Proxies
	// Metrics counts the failures by reason; nil counts nothing.
	Metrics *metrics.AuthFailures
}

// Guard applies a FailureLimit. It is safe for concurrent use.
type Guard struct {
	limit FailureLimit
	// budgets holds one bucket per client address, and one per token that
	// authenticated lately for its account lookups; nil when off.
	budgets *budgets
	// good remembers tokens that authenticated (SHA-256s, not the tokens),
	// so that they keep working from an address over its limit.
	good *expiring[[32]byte, struct{}]
}

const (
	// budgetsMax bounds the addresses and tokens whose budgets are kept.
	budgetsMax = 100000
	// goodTokensMax and goodTokenTTL bound the tokens remembered good.
	goodTokensMax = 10000
	goodTokenTTL  = 10 * time.Minute
)

// NewGuard applies l.
func NewGuard(l FailureLimit) *Guard { return newGuard(l, time.Now) }

func newGuard(l FailureLimit, now func() time.Time) *Guard {
	g := &Guard{limit: l, good: newExpiring[[32]byte, struct{}](goodTokensMax, goodTokenTTL, now)}
	if l.Rate > 0 {
		burst := l.Burst
		if burst < 1 {
			burst = max(1, int(4*l.Rate))
		}
		g.budgets = newBudgets(l.Rate, burst, budgetsMax, now)
	}
	return g
}

// Client returns the key of the caller's address (Proxies.Client with the
// limit's TrustedProxies).
func (g *Guard) Client(remoteAddr string, forwardedFor []string) string {
	return g.limit.TrustedProxies.Client(remoteAddr, forwardedFor)
}

// Trusts tells whether the peer is one of the trusted proxies.
func (g *Guard) Trusts(remoteAddr string) bool { return g.limit.TrustedProxies.Trusts(remoteAddr) }

// Admit tells whether a request may go on to look its token (or, for a
// Kazoo login, its credentials) up, and charges the client's budget for
// that lookup unless the token authenticated lately. Charging before the
// lookup, not after it fails, bounds the lookups however many requests
// are in flight at once; the Charge's Refund gives it back when the
// lookup succeeds. A refusal is counted.
func (g *Guard) Admit(client, token string) (Charge, bool) {
	if g.budgets == nil || (token != "" && g.isGood(token)) {
		return Charge{}, true
	}
	return g.take(client)
}

// AdmitAccount is Admit for the lookup of a URL's account. Every such
// lookup is charged, a good token's too: it is the token's own budget that
// pays, not the address's, so that the token keeps working from an
// address over its limit while a storm of made-up accounts behind a good
// token is limited all the same.
func (g *Guard) AdmitAccount(client, token string) (Charge, bool) {
	if g.budgets == nil {
		return Charge{}, true
	}
	key := client
	if token != "" && g.isGood(token) {
		key = tokenBudget(token)
	}
	return g.take(key)
}

func (g *Guard) take(key string) (Charge, bool) {
	c, ok := g.budgets.take(key)
	if !ok {
		g.limit.Metrics.Inc("rate_limited")
	}
	return c, ok
}

// tokenBudget is the budget key of a token that authenticated lately: a
// hash, so that the raw token is not kept, never equal to an address.
func tokenBudget(token string) string {
	k := sha256.Sum256([]byte(token))
	return "token:" + hex.EncodeToString(k[:16])
}

// UnknownAccount counts the lookup of an account that does not exist; its
// charge stays taken. The token is not forgotten: a mistyped account id
// says nothing of the token.
func (g *Guard) UnknownAccount() { g.limit.Metrics.Inc("unknown_account") }

// Failed counts a failed authentication (reason: see FailureReason, or
// "kazoo_login") and forgets the token as good; its charge stays taken.
func (g *Guard) Failed(token, reason string) {
	g.limit.Metrics.Inc(reason)
	if token != "" {
		g.good.Remove(sha256.Sum256([]byte(token)))
	}
}

// Succeeded remembers a token that authenticated.
func (g *Guard) Succeeded(token string) { g.good.Add(sha256.Sum256([]byte(token)), struct{}{}) }

func (g *Guard) isGood(token string) bool {
	_, ok := g.good.Get(sha256.Sum256([]byte(token)))
	return ok
}

// FailureReason names why a token did not authenticate.
func FailureReason(token string, err error) string {
	switch {
	case token == "":
		return "missing"
	case errors.Is(err, kamreg.ErrMalformedToken):
		return "malformed"
	case errors.Is(err, kamreg.ErrUnknownToken):
		return "unknown_token"
	}
	return "invalid"
}

package rest

import (
	"crypto/sha256"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/kamreg/kamreg/metrics"
	"github.com/kamreg/kamreg/store"
)

// AuthFailureLimit limits failed authentications per client address, so
// that a flood of made-up tokens costs neither the database nor valid
// callers anything.
type AuthFailureLimit struct {
	// Rate is the failed authentications per second one address may make
	// (0: no limit), in bursts of Burst; beyond it the address gets 429
	// before any lookup until its bucket refills.
	Rate  float64
	Burst int
	// TrustedProxies are the peers whose X-Forwarded-For is believed: the
	// client is then the right-most hop not in them.
	TrustedProxies []netip.Prefix
	// Metrics counts the failures by reason; nil counts nothing.
	Metrics *metrics.AuthFailures
}

// authGuard applies an AuthFailureLimit.
type authGuard struct {
	cfg     AuthFailureLimit
	buckets *addrBuckets
	// good remembers tokens that authenticated, so that they keep working
	// from an address whose failures are over the limit.
	good *goodTokens
}

func newAuthGuard(cfg AuthFailureLimit) *authGuard {
	g := &authGuard{cfg: cfg, good: newGoodTokens(goodTokensMax, goodTokenTTL)}
	if cfg.Rate > 0 {
		burst := cfg.Burst
		if burst < 1 {
			burst = max(1, int(4*cfg.Rate))
		}
		g.buckets = &addrBuckets{m: map[string]*rate.Limiter{}, limit: rate.Limit(cfg.Rate), burst: burst}
	}
	return g
}

// admit tells whether a request may go on to look its token (and account)
// up: always for a token that recently authenticated, otherwise only while
// the address's failures are within the limit. A refusal is counted.
func (g *authGuard) admit(client, token string) bool {
	if g.buckets == nil || (token != "" && g.good.has(token)) || g.buckets.left(client) {
		return true
	}
	g.cfg.Metrics.Inc("rate_limited")
	return false
}

// failed counts a failed authentication of the client and returns what to
// answer: err, or a 429 once the client is over its limit.
func (g *authGuard) failed(client, token, reason string, err error) error {
	g.cfg.Metrics.Inc(reason)
	if token != "" {
		g.good.forget(token)
	}
	if g.buckets != nil && !g.buckets.take(client) {
		return errTooManyRequests
	}
	return err
}

// succeeded remembers a token that authenticated.
func (g *authGuard) succeeded(token string) { g.good.add(token) }

// failureReason names why a token did not authenticate.
func failureReason(token string, err error) string {
	switch {
	case token == "":
		return "missing"
	case errors.Is(err, store.ErrMalformedToken):
		return "malformed"
	case errors.Is(err, store.ErrUnknownToken):
		return "unknown_token"
	}
	return "invalid"
}

// client returns the key of the caller's address: the peer, or when the
// peer is a trusted proxy, the right-most X-Forwarded-For hop that is not
// one (hops left of it could be written by the caller). IPv6 addresses
// count per /64, which one host can hold whole.
func (g *authGuard) client(r *http.Request) string {
	addr := peerAddr(r.RemoteAddr)
	if addr.IsValid() && g.trusted(addr) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a mangled hop: keep the last address known good
			}
			addr = hop.Unmap()
			if !g.trusted(addr) {
				break
			}
		}
	}
	if !addr.IsValid() {
		return r.RemoteAddr
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

func (g *authGuard) trusted(a netip.Addr) bool {
	for _, p := range g.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// addrBuckets keeps one token bucket of failures per client address.
type addrBuckets struct {
	mu    sync.Mutex
	m     map[string]*rate.Limiter
	limit rate.Limit
	burst int
}

// maxAddrBuckets bounds the addresses kept; when full, the buckets that
// are full again (idle addresses) are dropped, or failing that, all.
const maxAddrBuckets = 100000

func (b *addrBuckets) get(client string) *rate.Limiter {
	b.mu.Lock()
	defer b.mu.Unlock()
	lim, ok := b.m[client]
	if !ok {
		if len(b.m) >= maxAddrBuckets {
			b.prune()
		}
		lim = rate.NewLimiter(b.limit, b.burst)
		b.m[client] = lim
	}
	return lim
}

// prune drops the buckets that have refilled; b.mu is held.
func (b *addrBuckets) prune() {
	now := time.Now()
	for k, lim := range b.m {
		if lim.TokensAt(now) >= float64(b.burst) {
			delete(b.m, k)
		}
	}
	if len(b.m) >= maxAddrBuckets {
		b.m = map[string]*rate.Limiter{}
	}
}

// left tells whether the client may fail once more.
func (b *addrBuckets) left(client string) bool { return b.get(client).Tokens() >= 1 }

// take counts one failure; false when the client was already over.
func (b *addrBuckets) take(client string) bool { return b.get(client).Allow() }

// goodTokens is a bounded set of SHA-256s of tokens that authenticated
// lately; the raw tokens are not kept.
type goodTokens struct {
	mu    sync.Mutex
	until map[[32]byte]time.Time
	max   int
	ttl   time.Duration
}

const (
	goodTokensMax = 10000
	goodTokenTTL  = 10 * time.Minute
)

func newGoodTokens(max int, ttl time.Duration) *goodTokens {
	return &goodTokens{until: map[[32]byte]time.Time{}, max: max, ttl: ttl}
}

func (g *goodTokens) has(token string) bool {
	k := sha256.Sum256([]byte(token))
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.until[k]
	return ok && time.Now().Before(t)
}

func (g *goodTokens) add(token string) {
	k := sha256.Sum256([]byte(token))
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.until[k]; !ok && len(g.until) >= g.max {
		g.until = map[[32]byte]time.Time{}
	}
	g.until[k] = time.Now().Add(g.ttl)
}

func (g *goodTokens) forget(token string) {
	k := sha256.Sum256([]byte(token))
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.until, k)
}

package rest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/metrics"
)

// AuthFailureLimit limits failed authentications per client address, so
// that a flood of made-up tokens costs neither the database nor valid
// callers anything.
type AuthFailureLimit struct {
	// Rate is the lookups of tokens (and accounts) not known good that
	// one address may cause per second (0: no limit), in bursts of Burst.
	// A lookup that succeeds is given back, so the budget is spent by
	// failures; beyond it the address gets 429 before any lookup until its
	// bucket refills.
	Rate  float64
	Burst int
	// TrustedProxies are the peers whose X-Forwarded-For is believed: the
	// client is then the right-most hop not in them.
	TrustedProxies []netip.Prefix
	// Metrics counts the failures by reason; nil counts nothing.
	Metrics *metrics.AuthFailures
	// Hold is how long a refusal over the limit is held back before it is
	// answered (0: not at all): a flooding client that waits for each
	// answer then sends a few requests a second instead of thousands, and
	// the refusals cost the CPU nothing that valid callers on the same
	// cores need. At most heldMax refusals are held at once.
	Hold time.Duration
}

// authGuard applies an AuthFailureLimit.
type authGuard struct {
	cfg     AuthFailureLimit
	buckets *addrBuckets
	// good remembers tokens that authenticated, so that they keep working
	// from an address whose failures are over the limit.
	good *goodTokens
	// held bounds the refusals being held back at once (see hold).
	held chan struct{}
}

// heldMax bounds the refusals held back at once; beyond, a refusal is
// answered at once.
const heldMax = 4096

// hold waits cfg.Hold before a refusal is answered, unless the request
// ends first or heldMax refusals are already waiting.
func (g *authGuard) hold(r *http.Request) {
	if g.cfg.Hold <= 0 {
		return
	}
	select {
	case g.held <- struct{}{}:
	default:
		return
	}
	defer func() { <-g.held }()
	t := time.NewTimer(g.cfg.Hold)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

func newAuthGuard(cfg AuthFailureLimit) *authGuard {
	g := &authGuard{cfg: cfg, good: newGoodTokens(goodTokensMax, goodTokenTTL), held: make(chan struct{}, heldMax)}
	if cfg.Rate > 0 {
		burst := cfg.Burst
		if burst < 1 {
			burst = max(1, int(4*cfg.Rate))
		}
		g.buckets = &addrBuckets{m: map[string]*bucket{}, rate: cfg.Rate, burst: float64(burst), now: time.Now}
	}
	return g
}

// admit tells whether a request may go on to look its token (or account)
// up, and charges the client's bucket for that lookup unless the token
// authenticated lately. Charging before the lookup, not after it fails,
// bounds the lookups however many requests are in flight at once; settle
// gives the charge back when the lookup succeeds. A refusal is counted.
func (g *authGuard) admit(client, token string) (charged, ok bool) {
	if g.buckets == nil || (token != "" && g.good.has(token)) {
		return false, true
	}
	if g.buckets.take(client) {
		return true, true
	}
	g.cfg.Metrics.Inc("rate_limited")
	return false, false
}

// admitAccount is admit for the lookup of a URL's account. Every such
// lookup is charged, a good token's too: it is the token's own bucket that
// pays, not the address's, so that the token keeps working from an
// address over its limit while a storm of made-up accounts behind a good
// token is limited all the same. key is the bucket charged, for refund.
func (g *authGuard) admitAccount(client, token string) (key string, charged, ok bool) {
	if g.buckets == nil {
		return "", false, true
	}
	key = client
	if token != "" && g.good.has(token) {
		key = tokenBucket(token)
	}
	if g.buckets.take(key) {
		return key, true, true
	}
	g.cfg.Metrics.Inc("rate_limited")
	return key, false, false
}

// tokenBucket is the bucket key of a token that authenticated lately: a
// hash, so that the raw token is not kept, never equal to an address.
func tokenBucket(token string) string {
	k := sha256.Sum256([]byte(token))
	return "token:" + hex.EncodeToString(k[:16])
}

// unknownAccount counts the lookup of an account that does not exist; its
// charge stays taken. The token is not forgotten: a mistyped account id
// says nothing of the token.
func (g *authGuard) unknownAccount() { g.cfg.Metrics.Inc("unknown_account") }

// refund gives back a charge whose lookup succeeded; key is the bucket
// admit or admitAccount charged.
func (g *authGuard) refund(key string, charged bool) {
	if charged {
		g.buckets.refund(key)
	}
}

// failed counts a failed authentication; its charge stays taken.
func (g *authGuard) failed(token, reason string) {
	g.cfg.Metrics.Inc(reason)
	if token != "" {
		g.good.forget(token)
	}
}

// succeeded remembers a token that authenticated.
func (g *authGuard) succeeded(token string) { g.good.add(token) }

// failureReason names why a token did not authenticate.
func failureReason(token string, err error) string {
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

// addrBuckets keeps one token bucket of lookups per client address.
type addrBuckets struct {
	mu    sync.Mutex
	m     map[string]*bucket
	rate  float64
	burst float64
	now   func() time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxAddrBuckets bounds the addresses kept; when full, the buckets that
// are full again (idle addresses) are dropped, or failing that, all.
const maxAddrBuckets = 100000

// get returns the client's bucket, refilled up to now; b.mu is held.
func (b *addrBuckets) get(client string) *bucket {
	now := b.now()
	bk, ok := b.m[client]
	if !ok {
		if len(b.m) >= maxAddrBuckets {
			b.prune(now)
		}
		bk = &bucket{tokens: b.burst, last: now}
		b.m[client] = bk
	}
	if now.After(bk.last) {
		bk.tokens = min(b.burst, bk.tokens+now.Sub(bk.last).Seconds()*b.rate)
		bk.last = now
	}
	return bk
}

// prune drops the buckets that have refilled; b.mu is held.
func (b *addrBuckets) prune(now time.Time) {
	for k, bk := range b.m {
		if bk.tokens+now.Sub(bk.last).Seconds()*b.rate >= b.burst {
			delete(b.m, k)
		}
	}
	if len(b.m) >= maxAddrBuckets {
		b.m = map[string]*bucket{}
	}
}

// take takes one lookup from the client's bucket; false when it is empty.
func (b *addrBuckets) take(client string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.get(client)
	if bk.tokens < 1 {
		return false
	}
	bk.tokens--
	return true
}

// refund gives one lookup back.
func (b *addrBuckets) refund(client string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.get(client)
	bk.tokens = min(b.burst, bk.tokens+1)
}

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

package rest

import (
	"crypto/sha256"
	"fmt"
	"sync"
)

// Defaults of StreamLimit, as kamreg serve sets them.
const (
	// DefaultStreamsPerToken: a Monster UI login is one token in every
	// tab of its browser, each tab one stream, and a stream whose client
	// vanished without closing holds its slot until a write to it fails;
	// 50 leaves room for both. A dashboard watching many sub-accounts on
	// one reseller token needs more.
	DefaultStreamsPerToken = 50
	// DefaultStreamsPerAddress: an office behind one NAT address, each
	// person with a tab or two open, or every client of a reverse proxy
	// not listed in KAMREG_TRUSTED_PROXIES.
	DefaultStreamsPerAddress = 200
)

// StreamLimit caps the event streams open at once. Past a cap a new
// stream is refused with 429 too_many_requests, before it reads anything;
// a stream's slots are given back when it ends.
type StreamLimit struct {
	// PerToken is the most streams one token may hold open (0: no cap).
	PerToken int
	// PerAddress is the most streams one client address may hold open,
	// whatever their tokens (0: no cap). The address is the one the
	// failed-authentication limit counts (auth.FailureLimit.TrustedProxies).
	PerAddress int
}

// errTooManyStreams is a stream past one of the caps.
var errTooManyStreams = fmt.Errorf("too many event streams: %w", errTooManyRequests)

// streamSlots counts the open streams of each token (by its SHA-256: no
// token is kept in memory) and each client address; a key is kept only
// while it holds a stream.
type streamSlots struct {
	limit   StreamLimit
	mu      sync.Mutex
	tokens  map[[sha256.Size]byte]int
	clients map[string]int
}

func newStreamSlots(l StreamLimit) *streamSlots {
	return &streamSlots{limit: l, tokens: map[[sha256.Size]byte]int{}, clients: map[string]int{}}
}

// take holds one slot of the token's and one of the client's, or neither
// (false) when either is full.
func (s *streamSlots) take(token, client string) bool {
	t := sha256.Sum256([]byte(token))
	s.mu.Lock()
	defer s.mu.Unlock()
	if full(s.tokens[t], s.limit.PerToken) || full(s.clients[client], s.limit.PerAddress) {
		return false
	}
	s.tokens[t]++
	s.clients[client]++
	return true
}

// give gives back the slots take held.
func (s *streamSlots) give(token, client string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	release(s.tokens, sha256.Sum256([]byte(token)))
	release(s.clients, client)
}

// open returns how many streams the token and the client hold.
func (s *streamSlots) open(token, client string) (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[sha256.Sum256([]byte(token))], s.clients[client]
}

func full(n, limit int) bool { return limit > 0 && n >= limit }

func release[K comparable](m map[K]int, k K) {
	if m[k] <= 1 {
		delete(m, k)
		return
	}
	m[k]--
}

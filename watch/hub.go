package watch

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/metrics"
)

// Defaults of the Hub's settings.
const (
	defaultInterval = time.Second
	defaultBuffer   = 64
	defaultTimeout  = 15 * time.Second
)

// ErrClosed is a subscription to a hub that is shutting down.
var ErrClosed = kamreg.Errorf(kamreg.EUNAVAILABLE, "kamreg is shutting down")

// ErrSlow is why a watcher that did not keep up was dropped.
var ErrSlow = kamreg.Errorf(kamreg.EUNAVAILABLE, "the watcher did not keep up with the events")

// Hub runs one poller per watched realm. Set its fields, then use it from
// any goroutine; Close it at shutdown.
type Hub struct {
	Source Source
	// Interval is how often a watched realm is read (defaultInterval).
	Interval time.Duration
	// Buffer is how many polls' worth of events a watcher may lag behind
	// before it is dropped (defaultBuffer).
	Buffer int
	// Timeout bounds one read of a realm (defaultTimeout).
	Timeout time.Duration
	// Metrics counts watchers, polls and events; nil counts nothing.
	Metrics *metrics.Watch
	// OnError, when set, hears of each failed read after the first one
	// (the first one fails the subscriptions waiting for it).
	OnError func(realm string, err error)
	// Ticker makes a poller's ticker; nil means time.NewTicker. Tests
	// give a channel they tick themselves.
	Ticker func(d time.Duration) (<-chan time.Time, func())

	mu      sync.Mutex
	pollers map[string]*poller
	closed  bool
}

// Subscribe starts watching a realm, starting its poller if nobody
// watched it yet and waiting for its first read. The watch's snapshot
// and events are those the filters keep. Close the watch when done.
func (h *Hub) Subscribe(ctx context.Context, realm string, filters []kamreg.Filter) (*Watch, error) {
	if realm == "" {
		return nil, kamreg.Errorf(kamreg.EINVALID, "no realm to watch")
	}
	p, err := h.acquire(realm)
	if err != nil {
		return nil, err
	}
	select {
	case <-p.ready:
	case <-ctx.Done():
		h.release(p)
		return nil, kamreg.Wrap(kamreg.EUNAVAILABLE, ctx.Err(), "the realm could not be read in time")
	}
	if p.err != nil {
		h.release(p)
		return nil, p.err
	}
	w := &Watch{hub: h, p: p, filters: filters, c: make(chan []Event, h.buffer())}
	if !p.join(w) {
		h.release(p)
		return nil, ErrClosed
	}
	h.Metrics.Watchers(1)
	h.Metrics.Events(Snapshot, 1)
	return w, nil
}

// Kick makes the realm's poller, if any, read the realm now rather than
// at its next tick; "" kicks every poller. The registry calls it after
// every flush, its own or another replica's (registry.Registry.OnFlushed).
func (h *Hub) Kick(realm string) {
	h.mu.Lock()
	var ps []*poller
	if realm == "" {
		for _, p := range h.pollers {
			ps = append(ps, p)
		}
	} else if p := h.pollers[strings.ToLower(realm)]; p != nil {
		ps = append(ps, p)
	}
	h.mu.Unlock()
	for _, p := range ps {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
}

// Close ends every watch (their channels close, Err says ErrClosed) and
// stops every poller; later subscriptions get ErrClosed.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	ps := make([]*poller, 0, len(h.pollers))
	for _, p := range h.pollers {
		ps = append(ps, p)
	}
	h.mu.Unlock()
	for _, p := range ps {
		p.shutdown()
	}
}

// acquire returns the realm's poller, started if need be, holding one
// reference to it.
func (h *Hub) acquire(realm string) (*poller, error) {
	key := strings.ToLower(realm)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	if h.pollers == nil {
		h.pollers = map[string]*poller{}
	}
	p := h.pollers[key]
	if p == nil {
		p = newPoller(h, key, realm)
		h.pollers[key] = p
		h.Metrics.Realms(1)
		go p.run()
	}
	p.refs++
	return p, nil
}

// release gives a reference back; the last one stops the poller.
func (h *Hub) release(p *poller) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p.refs--
	if p.refs > 0 {
		return
	}
	h.forget(p)
	p.stopOnce.Do(func() { close(p.stop) })
}

// forget removes the poller from the hub, if it is still the realm's;
// h.mu is held.
func (h *Hub) forget(p *poller) {
	if h.pollers[p.key] == p {
		delete(h.pollers, p.key)
		h.Metrics.Realms(-1)
	}
}

func (h *Hub) interval() time.Duration {
	if h.Interval > 0 {
		return h.Interval
	}
	return defaultInterval
}

func (h *Hub) buffer() int {
	if h.Buffer > 0 {
		return h.Buffer
	}
	return defaultBuffer
}

func (h *Hub) timeout() time.Duration {
	if h.Timeout > 0 {
		return h.Timeout
	}
	return defaultTimeout
}

func (h *Hub) ticker() (<-chan time.Time, func()) {
	if h.Ticker != nil {
		return h.Ticker(h.interval())
	}
	t := time.NewTicker(h.interval())
	return t.C, t.Stop
}

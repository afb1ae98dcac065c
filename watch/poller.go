package watch

import (
	"context"
	"sync"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
)

// poller reads one realm on the hub's interval and fans the changes out
// to the realm's watchers.
type poller struct {
	hub        *Hub
	key, realm string
	kick       chan struct{}
	stop       chan struct{}
	stopOnce   sync.Once
	// ready closes after the first read; err is that read's failure.
	ready chan struct{}
	err   error
	// refs counts subscriptions, waiting or joined; guarded by hub.mu.
	refs int

	mu sync.Mutex
	// entries is the last read; a read replaces it, never changes it.
	entries  []Entry
	seq      uint64
	watchers map[*Watch]struct{}
	closed   bool
	// snap is the last read encoded for the watchers joining after it;
	// nil until the first of them joins.
	snap *snapshot
}

func newPoller(h *Hub, key, realm string) *poller {
	return &poller{hub: h, key: key, realm: realm, kick: make(chan struct{}, 1), stop: make(chan struct{}),
		ready: make(chan struct{}), watchers: map[*Watch]struct{}{}}
}

// run reads the realm at once, then on every tick or kick, until stopped.
func (p *poller) run() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	tick, stopTick := p.hub.ticker()
	defer stopTick()
	if err := p.poll(ctx, true); err != nil {
		p.err = err
		p.hub.mu.Lock()
		p.hub.forget(p)
		p.hub.mu.Unlock()
		close(p.ready)
		return
	}
	close(p.ready)
	for {
		select {
		case <-p.stop:
			return
		case <-tick:
		case <-p.kick:
		}
		if err := p.poll(ctx, false); err != nil && ctx.Err() == nil && p.hub.OnError != nil {
			p.hub.OnError(p.realm, err)
		}
	}
}

// poll reads the realm, numbers the changes since the last read and hands
// them to every watcher. The first read only sets the state.
func (p *poller) poll(ctx context.Context, first bool) error {
	rctx, cancel := context.WithTimeout(ctx, p.hub.timeout())
	entries, err := p.hub.Source.Watched(rctx, p.realm)
	cancel()
	if err != nil {
		p.hub.Metrics.Poll("error")
		return err
	}
	p.hub.Metrics.Poll("ok")
	var changes []change
	if !first {
		changes = diff(p.entries, entries)
	}
	for i := range changes {
		changes[i].data = adapter.AppendJSON(make([]byte, 0, adapter.JSONSizeHint), changes[i].reg)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.entries = entries
	p.snap = nil
	for i := range changes {
		p.seq++
		changes[i].id = p.seq
	}
	if len(changes) > 0 {
		p.fanOut(changes)
	}
	return nil
}

// fanOut queues the changes to every watcher as it sees them, dropping
// the watchers whose queue is full; p.mu is held.
func (p *poller) fanOut(changes []change) {
	var all []Event
	for w := range p.watchers {
		var batch []Event
		if len(w.filters) == 0 {
			if all == nil {
				all = events(changes, nil)
			}
			batch = all
		} else if batch = events(changes, w.filters); len(batch) == 0 {
			continue
		}
		select {
		case w.c <- batch:
			p.count(batch)
		default:
			p.drop(w, ErrSlow)
			p.hub.Metrics.Dropped("slow")
		}
	}
}

// count counts the events handed to a watcher, by type.
func (p *poller) count(batch []Event) {
	var reg, ref, unreg int
	for _, e := range batch {
		switch e.Type {
		case Registered:
			reg++
		case Refreshed:
			ref++
		case Unregistered:
			unreg++
		}
	}
	p.hub.Metrics.Events(Registered, reg)
	p.hub.Metrics.Events(Refreshed, ref)
	p.hub.Metrics.Events(Unregistered, unreg)
}

// events returns the changes as a watcher with filters sees them.
func events(changes []change, filters []kamreg.Filter) []Event {
	out := make([]Event, 0, len(changes))
	for i := range changes {
		c := &changes[i]
		if typ, ok := c.view(filters); ok {
			out = append(out, Event{Type: typ, ID: c.id, Data: c.data})
		}
	}
	return out
}

// join adds a watcher and gives it its snapshot: the last read, as of the
// last event number, shared with every watcher joining before the next
// read whatever their filters. False when the poller is shutting down.
func (p *poller) join(w *Watch) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	if p.snap == nil {
		// Encoded once per read: a thousand watchers joining at once
		// cost one encoding, not a thousand copies.
		p.snap = newSnapshot(p.entries)
	}
	w.snap, w.snapshotID = p.snap, p.seq
	p.watchers[w] = struct{}{}
	return true
}

// leave removes a watcher that is done.
func (p *poller) leave(w *Watch) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.watchers, w)
}

// drop ends a watcher's events with err; p.mu is held.
func (p *poller) drop(w *Watch, err error) {
	delete(p.watchers, w)
	w.err = err
	close(w.c)
}

// shutdown ends every watcher with ErrClosed and stops the poller.
func (p *poller) shutdown() {
	p.mu.Lock()
	p.closed = true
	for w := range p.watchers {
		p.drop(w, ErrClosed)
		p.hub.Metrics.Dropped("shutdown")
	}
	p.mu.Unlock()
	p.stopOnce.Do(func() { close(p.stop) })
}

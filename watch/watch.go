package watch

import "github.com/kamreg/kamreg"

// Watch is one watcher of a realm: its snapshot, then its events.
type Watch struct {
	hub     *Hub
	p       *poller
	filters []kamreg.Filter
	c       chan []Event
	// err is set, under p.mu, before c closes.
	err        error
	snapshot   []byte
	snapshotID uint64
	closed     bool
}

// Snapshot returns the realm's live list when the watch began (the list's
// JSON array, the filters applied) and the number of the last event it
// includes.
func (w *Watch) Snapshot() (id uint64, data []byte) { return w.snapshotID, w.snapshot }

// Events delivers the changes after the snapshot, one poll's worth at a
// time. It closes when the watcher is dropped (it did not keep up) or the
// hub closes; Err then says which.
func (w *Watch) Events() <-chan []Event { return w.c }

// Err returns why Events closed: ErrSlow or ErrClosed; nil while open.
func (w *Watch) Err() error {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.err
}

// Close ends the watch; the realm's poller stops with its last watcher.
// Call it once, from the watcher's goroutine.
func (w *Watch) Close() {
	if w.closed {
		return
	}
	w.closed = true
	w.p.leave(w)
	w.hub.release(w.p)
	w.hub.Metrics.Watchers(-1)
}

package watch

import "github.com/kamreg/kamreg"

// errSnapshotWritten is a second WriteSnapshot of one watch.
var errSnapshotWritten = kamreg.Errorf(kamreg.EINTERNAL, "the watch's snapshot was already written")

// Watch is one watcher of a realm: its snapshot, then its events.
type Watch struct {
	hub     *Hub
	p       *poller
	filters []kamreg.Filter
	c       chan []Event
	// err is set, under p.mu, before c closes.
	err error
	// snap is the realm's read when the watch began, until written.
	snap       *snapshot
	snapshotID uint64
	closed     bool
}

// SnapshotID returns the number of the last event the snapshot includes.
func (w *Watch) SnapshotID() uint64 { return w.snapshotID }

// WriteSnapshot hands the snapshot to write: the realm's live list when
// the watch began, as the list's JSON array with the watch's filters
// applied, in pieces that write must not keep or change. The pieces are
// slices of one encoding shared by every watcher of that read; the watch
// lets go of it once written, so an open watch holds no snapshot. Call it
// once, before reading Events.
func (w *Watch) WriteSnapshot(write func([]byte) error) error {
	s := w.snap
	w.snap = nil
	if s == nil {
		return errSnapshotWritten
	}
	return s.write(w.filters, write)
}

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

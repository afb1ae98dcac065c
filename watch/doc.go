// Package watch follows the live registrations of the realms someone
// watches, for the event stream (GET …/registrations/events).
//
// One poller per watched realm reads the realm's live set on an interval
// (at once after a flush through any replica, see Hub.Kick), diffs it with
// the previous read by binding identity (usrloc's ruid) and hands the
// changes to every watcher of the realm: the cost grows with the realms
// watched, not with the watchers. A read is encoded once, as the snapshot
// of every watcher that joins before the next read, whatever its filters;
// a watch lets go of it once written. Each watcher has a bounded queue; one
// that does not keep up is dropped, never buffered without bound. The
// poller stops when its last watcher leaves.
package watch

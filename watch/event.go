package watch

import (
	"context"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
)

// Event types, as the stream names them.
const (
	// Snapshot is the realm's live list, sent first.
	Snapshot = "snapshot"
	// Registered is a new contact.
	Registered = "registered"
	// Refreshed is a contact registered again: a new expiry, CSeq or
	// Call-ID.
	Refreshed = "refreshed"
	// Unregistered is a contact gone: expired, removed or flushed.
	Unregistered = "unregistered"
)

// Entry is one live binding as a poll reads it.
type Entry struct {
	// ID is the binding's identity across polls: usrloc's ruid.
	ID string
	// Version changes when the phone refreshes the binding.
	Version string
	// Reg is the binding as the list shows it.
	Reg kamreg.Registration
}

// Source reads the live entries of one realm, in the list's order
// (registry.Registry.Watched).
type Source interface {
	Watched(ctx context.Context, realm string) ([]Entry, error)
}

// Event is one change of a realm's live set as one watcher sees it.
type Event struct {
	Type string
	// ID is the event's number in its realm's stream; it grows by one
	// with each change.
	ID uint64
	// Data is the registration's JSON, as one entry of the list. An
	// unregistered contact is shown as last seen, with expires 0.
	Data []byte
}

// change is one difference between two reads, before any filter.
type change struct {
	typ string
	// reg is the registration now (as last seen, for unregistered); old
	// is the one before a refresh.
	reg, old *kamreg.Registration
	id       uint64
	data     []byte
}

// diff compares two reads: first the contacts gone (in prev's order),
// then the new and refreshed ones (in next's order).
func diff(prev, next []Entry) []change {
	before := make(map[string]*Entry, len(prev))
	for i := range prev {
		before[prev[i].ID] = &prev[i]
	}
	now := make(map[string]bool, len(next))
	for i := range next {
		now[next[i].ID] = true
	}
	var out []change
	for i := range prev {
		if !now[prev[i].ID] {
			gone := prev[i].Reg
			gone.Expires = 0
			out = append(out, change{typ: Unregistered, reg: &gone})
		}
	}
	for i := range next {
		e := &next[i]
		p, ok := before[e.ID]
		switch {
		case !ok:
			out = append(out, change{typ: Registered, reg: &e.Reg})
		case p.Version != e.Version:
			out = append(out, change{typ: Refreshed, reg: &e.Reg, old: &p.Reg})
		}
	}
	return out
}

// view is how a watcher with filters sees a change: a refresh that moves
// a contact into (or out of) the filters' view is a registration (or an
// unregistration) for that watcher.
func (c *change) view(filters []kamreg.Filter) (string, bool) {
	if len(filters) == 0 {
		return c.typ, true
	}
	now := adapter.Match(c.reg, filters)
	if c.typ != Refreshed {
		return c.typ, now
	}
	was := adapter.Match(c.old, filters)
	switch {
	case was && now:
		return Refreshed, true
	case now:
		return Registered, true
	case was:
		return Unregistered, true
	}
	return "", false
}

package kamailio

import (
	"strings"
	"time"

	"github.com/kamreg/kamreg"
)

// Column is a column of usrloc's location table that a filter may
// compare: one of the constants below.
type Column string

// The location columns a filter may compare.
const (
	ColumnUsername  Column = "username"
	ColumnDomain    Column = "domain"
	ColumnContact   Column = "contact"
	ColumnCallID    Column = "callid"
	ColumnUserAgent Column = "user_agent"
)

// Known tells whether c is one of the columns a filter may compare.
func (c Column) Known() bool {
	_, ok := c.value(&kamreg.Binding{})
	return ok
}

// value returns b's value of the column, and whether c is known.
func (c Column) value(b *kamreg.Binding) (string, bool) {
	switch c {
	case ColumnUsername:
		return b.Username, true
	case ColumnDomain:
		return b.Domain, true
	case ColumnContact:
		return b.Contact, true
	case ColumnCallID:
		return b.CallID, true
	case ColumnUserAgent:
		return b.UserAgent, true
	}
	return "", false
}

// Cond keeps (or, with Not, drops) the rows whose Column equals Value. A
// Cond on a column that is not Known selects nothing.
type Cond struct {
	Column Column
	Value  string
	Not    bool
}

// Query is what to read from usrloc: a scope, conditions on location
// columns, and a page.
type Query struct {
	Scope kamreg.Scope
	Where []Cond
	// After, when set, starts after that entry.
	After *kamreg.Key
	// Limit is the most entries to return; 0 means all.
	Limit int
	// Ruids, when set, reads only those bindings.
	Ruids []string
	// ModifiedAfter, when set, reads only bindings last modified after
	// it (a realm flush began then: the rows before it are hidden).
	ModifiedAfter time.Time
	// Uncached reads through the caches without adding to them: a read
	// of every realm passes once over rows that would push out the ones
	// read often, and hold memory the list does not need.
	Uncached bool
}

// Selects tells whether b is in q's scope and passes its filters and start.
// The page's limit is not applied.
func (q Query) Selects(b *kamreg.Binding) bool {
	s := q.Scope
	if (s.Realm != "" && !strings.EqualFold(b.Domain, s.Realm)) || (s.Username != "" && !strings.EqualFold(b.Username, s.Username)) {
		return false
	}
	for _, c := range q.Where {
		v, ok := c.Column.value(b)
		if !ok || (v == c.Value) == c.Not {
			return false
		}
	}
	if q.After != nil && !q.After.Less(b.KeyOf()) {
		return false
	}
	if !q.ModifiedAfter.IsZero() && !b.LastModified.After(q.ModifiedAfter) {
		return false
	}
	if q.Ruids != nil {
		for _, r := range q.Ruids {
			if r == b.Ruid {
				return true
			}
		}
		return false
	}
	return true
}

// variants are the spellings of a realm or username usrloc may hold: as
// given, and in lower case (Kamailio lower-cases AoRs unless
// case_sensitive is set).
func variants(s string) []string {
	if lower := strings.ToLower(s); lower != s {
		return []string{s, lower}
	}
	return []string{s}
}

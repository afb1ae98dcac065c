package kamailio

import (
	"strings"
	"time"

	"github.com/kamreg/kamreg"
)

// columns maps the registration keys that are plain location columns to
// those columns, so that filters on them run in SQL (or, for the rpc
// source, on the binding). This is the one list of such keys.
var columns = map[string]string{
	"username": "username", "to_user": "username", "from_user": "username",
	"realm": "domain", "to_host": "domain", "from_host": "domain",
	"contact": "contact", "original_contact": "contact",
	"call_id": "callid", "user_agent": "user_agent",
}

// IsColumn tells whether a registration key is a plain location column.
func IsColumn(key string) bool {
	_, ok := columns[key]
	return ok
}

// columnValue returns b's value of a location column.
func columnValue(b *kamreg.Binding, column string) string {
	switch column {
	case "username":
		return b.Username
	case "domain":
		return b.Domain
	case "contact":
		return b.Contact
	case "callid":
		return b.CallID
	case "user_agent":
		return b.UserAgent
	}
	return ""
}

// Query is what to read from usrloc: a scope, filters on location columns
// (keys for which IsColumn holds), and a page.
type Query struct {
	Scope kamreg.Scope
	Where []kamreg.Filter
	// After, when set, starts after that entry.
	After *kamreg.Key
	// Limit is the most entries to return; 0 means all.
	Limit int
	// Ruids, when set, reads only those bindings.
	Ruids []string
	// ModifiedAfter, when set, reads only bindings last modified after
	// it (a realm flush began then: the rows before it are hidden).
	ModifiedAfter time.Time
}

// Selects tells whether b is in q's scope and passes its filters and start.
// The page's limit is not applied.
func (q Query) Selects(b *kamreg.Binding) bool {
	s := q.Scope
	if (s.Realm != "" && !strings.EqualFold(b.Domain, s.Realm)) || (s.Username != "" && !strings.EqualFold(b.Username, s.Username)) {
		return false
	}
	for _, f := range q.Where {
		col, ok := columns[f.Key]
		if ok && (columnValue(b, col) == f.Value) == f.Not {
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

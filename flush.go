package kamreg

import (
	"strings"
	"time"
)

// NodeFailure says why a node did not acknowledge some AoRs.
type NodeFailure struct {
	Node  string `json:"node"`
	Error string `json:"error"`
}

// FlushReport is the outcome of a flush across nodes.
type FlushReport struct {
	// Flushed are the AoRs every node acknowledged, in order.
	Flushed []string
	// Failed are the AoRs at least one node did not acknowledge, in order.
	Failed []string
	// Nodes lists each node that failed, once, by name.
	Nodes []NodeFailure
}

// Complete tells whether every node acknowledged every AoR.
func (r FlushReport) Complete() bool { return len(r.Failed) == 0 && len(r.Nodes) == 0 }

// FlushRecord is a location row as it was when a flush removed its AoR
// on every node. The row is hidden from reads while it is that same
// binding in that same state (usrloc db_mode 2 deletes it late); a phone
// that registers again changes its Call-ID, CSeq or last_modified and
// shows again at once.
//
// A realm-wide record (RealmFlush) has no Ruid and no Username: it hides
// every binding of its Domain last modified no later than its
// LastModified, the instant a realm flush began (a row usrloc db_mode 2
// writes after the flush, of a phone that registered before it).
type FlushRecord struct {
	Ruid         string
	Username     string
	Domain       string
	CallID       string
	CSeq         int
	LastModified time.Time
}

// RealmFlush returns the realm-wide record of a flush of realm that began
// at began.
func RealmFlush(realm string, began time.Time) FlushRecord {
	return FlushRecord{Domain: strings.ToLower(realm), LastModified: began}
}

// RealmWide tells whether the record is a realm flush's (RealmFlush).
func (f FlushRecord) RealmWide() bool { return f.Ruid == "" && f.Username == "" }

// Hides tells whether the record hides b.
func (f FlushRecord) Hides(b Binding) bool {
	if f.RealmWide() {
		return f.Domain != "" && strings.EqualFold(f.Domain, b.Domain) && !b.LastModified.After(f.LastModified)
	}
	return f.Ruid == b.Ruid && f.CallID == b.CallID && f.CSeq == b.CSeq && f.LastModified.Equal(b.LastModified)
}

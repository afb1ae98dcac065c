package kamreg

import "time"

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
type FlushRecord struct {
	Ruid         string
	Username     string
	Domain       string
	CallID       string
	CSeq         int
	LastModified time.Time
}

// Hides tells whether the record hides b.
func (f FlushRecord) Hides(b Binding) bool {
	return f.Ruid == b.Ruid && f.CallID == b.CallID && f.CSeq == b.CSeq && f.LastModified.Equal(b.LastModified)
}

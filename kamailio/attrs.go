package kamailio

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/kamreg/kamreg"
)

// attrCacheSize bounds the bindings whose attributes are kept.
const attrCacheSize = 100000

// attrs are the usrloc attributes (location_attrs) kamreg reads.
type attrs struct {
	channelVars string
	initial     time.Time
}

// attrCache keeps each binding's attributes with the state of the binding
// they were read in (Call-ID, CSeq and last_modified). usrloc rewrites a
// contact's attributes only when it saves the contact, which changes them, so an
// entry is exact while they match; the attributes of a list then cost
// nothing in the common case, where few phones registered since the last
// read.
type attrCache struct{ lru *lru.Cache[string, attrEntry] }

type attrEntry struct {
	callID   string
	cseq     int
	modified time.Time
	attrs
}

func newAttrCache(size int) *attrCache {
	c, err := lru.New[string, attrEntry](size)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &attrCache{lru: c}
}

// fill sets b's attributes and tells whether the cache had them for b's
// current state.
func (c *attrCache) fill(b *kamreg.Binding) bool {
	e, ok := c.lru.Get(b.Ruid)
	if !ok || e.callID != b.CallID || e.cseq != b.CSeq || !e.modified.Equal(b.LastModified) {
		return false
	}
	b.ChannelVars, b.InitialRegistration = e.channelVars, e.initial
	return true
}

// put sets b's attributes and, when keep, keeps them for b's current
// state.
func (c *attrCache) put(b *kamreg.Binding, a attrs, keep bool) {
	b.ChannelVars, b.InitialRegistration = a.channelVars, a.initial
	if keep {
		c.lru.Add(b.Ruid, attrEntry{callID: b.CallID, cseq: b.CSeq, modified: b.LastModified, attrs: a})
	}
}

package kamailio

import (
	"context"
	"strconv"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/dberr"
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

// fillAttrs sets each binding's attributes: from the cache while the
// binding is in the state they were read in, otherwise from
// location_attrs, in one query for every binding missing.
func (u *Usrloc) fillAttrs(ctx context.Context, bs []kamreg.Binding, fresh []freshRow, keep bool) error {
	var missing []int
	for _, f := range fresh {
		if !u.attrs.fill(&bs[f.i]) {
			missing = append(missing, f.i)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	users, domains, ruids := make([]string, len(missing)), make([]string, len(missing)), make([]string, len(missing))
	for j, i := range missing {
		users[j], domains[j], ruids[j] = bs[i].Username, bs[i].Domain, bs[i].Ruid
	}
	rows, err := u.pool.Query(ctx, u.attrsOf, users, domains, ruids)
	if err != nil {
		return dberr.Wrap(err)
	}
	defer rows.Close()
	found := make(map[string]attrs, len(missing))
	var ruid, name, value string
	for rows.Next() {
		if err := rows.Scan(&ruid, &name, &value); err != nil {
			return dberr.Wrap(err)
		}
		a := found[ruid]
		switch name {
		case "custom_channel_vars":
			a.channelVars = value
		case "initial_registration":
			if s, err := strconv.ParseInt(value, 10, 64); err == nil && s > 0 {
				a.initial = time.Unix(s, 0)
			}
		}
		found[ruid] = a
	}
	if err := rows.Err(); err != nil {
		return dberr.Wrap(err)
	}
	for _, i := range missing {
		u.attrs.put(&bs[i], found[bs[i].Ruid], keep)
	}
	return nil
}

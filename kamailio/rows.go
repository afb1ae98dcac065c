package kamailio

import (
	"bytes"
	"unsafe"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/kamreg/kamreg"
)

// rowCacheSize bounds the rows kept as they were read: about 1.2 KB each.
const rowCacheSize = 10000

// rowCache keeps each location row of the list statement as PostgreSQL
// sent it (its raw column values), with the binding made of it and its
// attributes. A row that comes again byte for byte is that binding: it
// is not decoded, allocates nothing, and shares its strings with the
// binding of the read before, which the caches after it (adapter's
// EntryCache) then compare at the cost of a pointer.
type rowCache struct {
	lru *lru.Cache[string, *cachedRow]
}

type cachedRow struct {
	cols [][]byte // the raw values, in one backing array
	b    kamreg.Binding
}

func newRowCache(size int) *rowCache {
	c, err := lru.New[string, *cachedRow](size)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &rowCache{lru: c}
}

// get returns the binding of a row whose raw values are raw (the ruid
// first), if the cache holds that row unchanged.
func (c *rowCache) get(raw [][]byte) (kamreg.Binding, bool) {
	if len(raw) == 0 || len(raw[0]) == 0 {
		return kamreg.Binding{}, false
	}
	// The key lives only for the look-up: no copy of the ruid.
	e, ok := c.lru.Get(unsafe.String(&raw[0][0], len(raw[0])))
	if !ok || len(e.cols) != len(raw) {
		return kamreg.Binding{}, false
	}
	for i := range raw {
		if !bytes.Equal(e.cols[i], raw[i]) || (e.cols[i] == nil) != (raw[i] == nil) {
			return kamreg.Binding{}, false
		}
	}
	return e.b, true
}

// put keeps b as the binding of the row raw was copied from (see copyRaw).
func (c *rowCache) put(cols [][]byte, b kamreg.Binding) {
	c.lru.Add(b.Ruid, &cachedRow{cols: cols, b: b})
}

// copyRaw copies a row's raw values, which pgx reuses at the next row,
// into one allocation; a NULL stays nil.
func copyRaw(raw [][]byte) [][]byte {
	n := 0
	for _, v := range raw {
		n += len(v)
	}
	buf := make([]byte, 0, n)
	cols := make([][]byte, len(raw))
	for i, v := range raw {
		if v == nil {
			continue
		}
		start := len(buf)
		buf = append(buf, v...)
		cols[i] = buf[start:len(buf):len(buf)]
	}
	return cols
}

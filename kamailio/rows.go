package kamailio

import (
	"bytes"
	"cmp"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/dberr"
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

// freshRow is a binding scan decoded: its index, and its raw values when
// the row cache was asked.
type freshRow struct {
	i   int
	raw [][]byte
}

// scan reads the rows of the list statement; limit sizes the result. With
// cached, a row the row cache holds unchanged is its binding, attributes
// included; the others are decoded, without attributes, and returned as
// fresh too, with their raw values when keep (for the row cache).
func (u *Usrloc) scan(rows pgx.Rows, limit int, cached, keep bool) ([]kamreg.Binding, []freshRow, error) {
	defer rows.Close()
	// A realm of a thousand phones is the common size.
	out := make([]kamreg.Binding, 0, cmp.Or(min(limit, 1024), 1024))
	var fresh []freshRow
	var expires, modified time.Time
	var serverID int32
	for rows.Next() {
		if cached {
			raw := rows.RawValues()
			if b, ok := u.rows.get(raw); ok {
				out = append(out, b)
				continue
			}
			f := freshRow{i: len(out)}
			if keep {
				f.raw = copyRaw(raw)
			}
			fresh = append(fresh, f)
		} else {
			fresh = append(fresh, freshRow{i: len(out)})
		}
		var b kamreg.Binding
		if err := rows.Scan(&b.Ruid, &b.Username, &b.Domain, &b.Contact, &b.Received, &b.Path, &b.Socket,
			&b.CallID, &b.CSeq, &b.UserAgent, &expires, &modified, &serverID); err != nil {
			return nil, nil, dberr.Wrap(err)
		}
		if expires.Unix() != 0 {
			b.Expires = u.inZone(expires)
		}
		b.LastModified = u.inZone(modified)
		b.ServerID = int(serverID)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, dberr.Wrap(err)
	}
	return out, fresh, nil
}

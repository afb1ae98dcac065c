package kamailio

import (
	"testing"

	"github.com/kamreg/kamreg"
)

// TestRowCache: a row is its cached binding only when every raw value is
// the same, a NULL and an empty value being different, and so is the
// number of columns.
func TestRowCache(t *testing.T) {
	kept := [][]byte{[]byte("uloc-1"), []byte("alice"), {}, nil}
	for _, tt := range []struct {
		name string
		raw  [][]byte
		hit  bool
	}{
		{"the same values", [][]byte{[]byte("uloc-1"), []byte("alice"), {}, nil}, true},
		{"one value changed", [][]byte{[]byte("uloc-1"), []byte("alicf"), {}, nil}, false},
		{"an empty value now NULL", [][]byte{[]byte("uloc-1"), []byte("alice"), nil, nil}, false},
		{"a NULL now empty", [][]byte{[]byte("uloc-1"), []byte("alice"), {}, {}}, false},
		{"a column fewer", [][]byte{[]byte("uloc-1"), []byte("alice"), {}}, false},
		{"another ruid", [][]byte{[]byte("uloc-2"), []byte("alice"), {}, nil}, false},
		{"no ruid", [][]byte{{}, []byte("alice"), {}, nil}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newRowCache(4)
			c.put(copyRaw(kept), kamreg.Binding{Ruid: "uloc-1", Username: "alice"})
			b, ok := c.get(tt.raw)
			if ok != tt.hit || (ok && b.Username != "alice") {
				t.Errorf("get: %+v, %t; want a hit %t", b, ok, tt.hit)
			}
		})
	}
}

// TestCopyRaw: the copy keeps each value and each NULL, and no longer
// shares the row's buffer.
func TestCopyRaw(t *testing.T) {
	raw := [][]byte{[]byte("a"), nil, {}, []byte("bc")}
	cols := copyRaw(raw)
	raw[0][0] = 'x'
	if string(cols[0]) != "a" || cols[1] != nil || cols[2] == nil || len(cols[2]) != 0 || string(cols[3]) != "bc" {
		t.Errorf("copy %q", cols)
	}
}

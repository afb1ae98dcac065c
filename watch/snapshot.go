package watch

import (
	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
)

// snapshot is one read of a realm as the list's JSON array, encoded once
// and shared by every watcher that joins before the next read, whatever
// its filters: a filtered watcher writes the slices of that one encoding
// its filters keep. No watcher holds a copy of its own.
type snapshot struct {
	entries []Entry
	// array is every entry's JSON in a JSON array; ends[i] is where entry
	// i's JSON ends in it (a comma or the closing bracket follows).
	array []byte
	ends  []int
}

func newSnapshot(entries []Entry) *snapshot {
	s := &snapshot{entries: entries, ends: make([]int, len(entries))}
	b := make([]byte, 0, len(entries)*adapter.JSONSizeHint+2)
	b = append(b, '[')
	for i := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = adapter.AppendJSON(b, &entries[i].Reg)
		s.ends[i] = len(b)
	}
	s.array = append(b, ']')
	return s
}

var (
	openArray  = []byte("[")
	closeArray = []byte("]")
)

// write hands the JSON array of the entries the filters keep to fn, in
// pieces that fn must not keep or change: the whole encoding when there
// is no filter, else each run of kept entries as one slice of it.
func (s *snapshot) write(filters []kamreg.Filter, fn func([]byte) error) error {
	if len(filters) == 0 {
		return fn(s.array)
	}
	if err := fn(openArray); err != nil {
		return err
	}
	kept := false
	run := -1 // where the current run of kept entries starts in array
	for i := range s.entries {
		keep := adapter.Match(&s.entries[i].Reg, filters)
		switch {
		case keep && run < 0:
			// Entry i starts after the comma that ends entry i-1; a run
			// after an earlier one takes that comma as its separator.
			run = 1
			if i > 0 {
				run = s.ends[i-1] + 1
			}
			if kept {
				run--
			}
		case !keep && run >= 0:
			if err := fn(s.array[run:s.ends[i-1]]); err != nil {
				return err
			}
			run = -1
		}
		kept = kept || keep
	}
	if run >= 0 {
		if err := fn(s.array[run:s.ends[len(s.ends)-1]]); err != nil {
			return err
		}
	}
	return fn(closeArray)
}

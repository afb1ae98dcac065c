package adapter

import (
	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/jsontext"
)

// encoded is a value already written and where its encoding lies in the
// buffer, for a later key with the same value to copy.
type encoded struct {
	v          string
	start, end int
	set        bool
}

// AppendJSON appends r as Kazoo's JSON object, its keys as Fields lists
// them (optional keys only when known), byte for byte what encoding/json
// writes (with HTML escaping off), without reflection.
func AppendJSON(b []byte, r *kamreg.Registration) []byte {
	var slots [maxSlots]encoded
	open := len(b)
	for i := range Fields {
		f := &Fields[i]
		switch f.Kind {
		case Integer:
			n := f.num(r)
			if n == 0 && f.Optional {
				continue
			}
			b = jsontext.Int(append(b, f.prefix...), n)
		case Boolean:
			v := f.text(r)
			if v == "" && f.Optional {
				continue
			}
			b = jsontext.Bool(append(b, f.prefix...), v == "true")
		default:
			v := f.text(r)
			if v == "" && f.Optional {
				continue
			}
			b = append(b, f.prefix...)
			if f.sameIdx >= 0 {
				if s := &slots[f.sameIdx]; s.set && s.v == v {
					start := len(b)
					b = append(b, b[s.start:s.end]...)
					f.keep(&slots, v, start, len(b))
					continue
				}
			}
			start := len(b)
			b = jsontext.String(b, v)
			f.keep(&slots, v, start, len(b))
		}
	}
	if len(b) == open {
		return append(b, '{', '}')
	}
	b[open] = '{' // the first key's comma
	return append(b, '}')
}

// keep records where the encoding of v lies, when a later key may copy it.
func (f *Field) keep(slots *[maxSlots]encoded, v string, start, end int) {
	if f.slot >= 0 {
		slots[f.slot] = encoded{v: v, start: start, end: end, set: true}
	}
}

// AppendJSONList appends the registrations as a JSON array.
func AppendJSONList(b []byte, regs []kamreg.Registration) []byte {
	b = append(b, '[')
	for i := range regs {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSON(b, &regs[i])
	}
	return append(b, ']')
}

// JSONSizeHint is about how many bytes one registration takes as JSON.
const JSONSizeHint = 850

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
	steps := plan
	for i := range steps {
		f := &steps[i]
		if f.kind != Text {
			b = f.appendOther(b, r)
			continue
		}
		v := f.text(r)
		if v == "" && f.optional {
			continue
		}
		b = append(b, f.prefix...)
		start := len(b)
		if s := f.same; s >= 0 && slots[s].set && slots[s].v == v {
			b = append(b, b[slots[s].start:slots[s].end]...)
		} else {
			b = jsontext.String(b, v)
		}
		if f.slot >= 0 {
			slots[f.slot] = encoded{v: v, start: start, end: len(b), set: true}
		}
	}
	if len(b) == open {
		return append(b, '{', '}')
	}
	b[open] = '{' // the first key's comma
	return append(b, '}')
}

// appendOther appends an Integer or Boolean key and its value, unless it
// is optional and unknown.
func (f *step) appendOther(b []byte, r *kamreg.Registration) []byte {
	if f.kind == Integer {
		n := f.num(r)
		if n == 0 && f.optional {
			return b
		}
		return jsontext.Int(append(b, f.prefix...), n)
	}
	v := f.text(r)
	if v == "" && f.optional {
		return b
	}
	return jsontext.Bool(append(b, f.prefix...), v == "true")
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

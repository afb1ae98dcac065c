package adapter

import (
	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/jsontext"
)

// op is what the JSON writer does for one key.
type op uint8

const (
	opText         op = iota // a string, always written
	opTextKept               // the same, and kept for a later key to copy
	opTextSame               // a string that copies a kept one when equal
	opTextOptional           // a string, left out when ""
	opInt                    // a number, always written
	opIntOptional            // a number, left out when 0
	opBool                   // "true" or "false" as a boolean
	opBoolOptional           // the same, left out when ""
)

// step is a row of Fields as the JSON writer runs it: compact, so that
// the whole plan stays in cache.
type step struct {
	prefix string // `,"name":`
	text   func(*kamreg.Registration) string
	num    func(*kamreg.Registration) int64
	op     op
	slot   int8 // for opTextKept and opTextSame: where the kept value is
}

// plan is Fields as steps, in order.
var plan []step

// maxSlots bounds the keys whose encoding the JSON writer keeps for a
// later key (see Field.same).
const maxSlots = 4

// newPlan turns the table into steps. A key's same must name an earlier
// text key of the 24 that has no same of its own, and the key must be one
// of the 24 and text too.
func newPlan(fields []Field) []step {
	steps := make([]step, len(fields))
	index := make(map[string]int, len(fields))
	slots := int8(0)
	for i, f := range fields {
		st := step{prefix: `,"` + f.Name + `":`, text: f.text, num: f.num}
		switch {
		case f.same != "":
			j, ok := index[f.same]
			if !ok || f.Kind != Text || f.Optional || steps[j].op != opText && steps[j].op != opTextKept {
				panic("adapter: key " + f.Name + ": same must name an earlier plain text key of the 24")
			}
			if steps[j].op == opText {
				steps[j].op, steps[j].slot = opTextKept, slots
				slots++
			}
			st.op, st.slot = opTextSame, steps[j].slot
		default:
			st.op = opOf(f.Kind, f.Optional)
		}
		steps[i] = st
		index[f.Name] = i
	}
	if slots > maxSlots {
		panic("adapter: too many keys kept for a later one")
	}
	return steps
}

// opOf is the op of a key that copies no other.
func opOf(k Kind, optional bool) op {
	base := map[Kind]op{Text: opText, Integer: opInt, Boolean: opBool}[k]
	if !optional {
		return base
	}
	return map[op]op{opText: opTextOptional, opInt: opIntOptional, opBool: opBoolOptional}[base]
}

// kept is a value already written and where its encoding lies in the
// buffer, for a later key with the same value to copy.
type kept struct {
	v          string
	start, end int
}

// AppendJSON appends r as Kazoo's JSON object, its keys as Fields lists
// them (optional keys only when known), byte for byte what encoding/json
// writes (with HTML escaping off), without reflection.
func AppendJSON(b []byte, r *kamreg.Registration) []byte {
	var slots [maxSlots]kept
	open := len(b)
	steps := plan
	for i := range steps {
		f := &steps[i]
		switch f.op {
		case opText:
			b = jsontext.String(append(b, f.prefix...), f.text(r))
		case opTextKept:
			v := f.text(r)
			b = append(b, f.prefix...)
			start := len(b)
			b = jsontext.String(b, v)
			slots[f.slot] = kept{v: v, start: start, end: len(b)}
		case opTextSame:
			v := f.text(r)
			b = append(b, f.prefix...)
			if s := &slots[f.slot]; s.v == v && s.end > s.start {
				b = append(b, b[s.start:s.end]...)
			} else {
				b = jsontext.String(b, v)
			}
		case opTextOptional:
			if v := f.text(r); v != "" {
				b = jsontext.String(append(b, f.prefix...), v)
			}
		case opInt:
			b = jsontext.Int(append(b, f.prefix...), f.num(r))
		case opIntOptional:
			if n := f.num(r); n != 0 {
				b = jsontext.Int(append(b, f.prefix...), n)
			}
		case opBool:
			b = jsontext.Bool(append(b, f.prefix...), f.text(r) == "true")
		case opBoolOptional:
			if v := f.text(r); v != "" {
				b = jsontext.Bool(append(b, f.prefix...), v == "true")
			}
		}
	}
	if len(b) == open {
		return append(b, '{', '}')
	}
	b[open] = '{' // the first key's comma
	return append(b, '}')
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

package adapter

import (
	"bytes"
	"encoding/json"
	"testing"
)

func stdJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	odd := FromBinding(binding(), nil, now)
	odd.UserAgent, odd.CallID, odd.SuppressUnregisterNotify, odd.Expires = "<ua> & \"q\"\n\xff", "\u2028", true, 12
	regs := []Registration{FromBinding(binding(), nil, now), odd}
	if got, want := string(AppendJSONList(nil, regs)), stdJSON(regs); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got, want := string(AppendJSONList(nil, []Registration{})), "[]"; got != want {
		t.Errorf("empty list %s", got)
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("alice", "sip:alice@127.0.0.1:5060", `Yealink "T46"`, int64(63962913599), true)
	f.Fuzz(func(t *testing.T, user, contact, ua string, ts int64, suppress bool) {
		r := Registration{Username: user, Contact: contact, UserAgent: ua, EventTimestamp: ts, SuppressUnregisterNotify: suppress}
		if got, want := string(r.AppendJSON(nil)), stdJSON(r); got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
}

// regs1000 is a list of 1,000 registrations as the API returns them.
func regs1000() []Registration {
	b := binding()
	out := make([]Registration, 1000)
	for i := range out {
		out[i] = FromBinding(b, nil, now)
	}
	return out
}

func BenchmarkFromBinding(b *testing.B) {
	bd := binding()
	for b.Loop() {
		_ = FromBinding(bd, nil, now)
	}
}

func BenchmarkParseURI(b *testing.B) {
	for b.Loop() {
		_, _ = ParseURI("sip:alice@[2001:db8::1]:5062;transport=tcp;ob")
	}
}

func BenchmarkJSON1000Registrations(b *testing.B) {
	regs := regs1000()
	buf := make([]byte, 0, len(regs)*JSONSizeHint)
	b.Run("AppendJSONList", func(b *testing.B) {
		for b.Loop() {
			buf = AppendJSONList(buf[:0], regs)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(regs)
		}
	})
}

package adapter

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
)

// decoded is what a JSON client reads back from AppendJSON.
func decoded(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, raw)
	}
	return m
}

// TestAppendJSONEscapes checks that hostile text survives a round trip
// and that unknown extra keys are left out.
func TestAppendJSONEscapes(t *testing.T) {
	r := kamreg.Registration{UserAgent: "<ua> & \"q\"\n\u2028", CallID: "\u2028", SuppressUnregisterNotify: true, Expires: 12}
	m := decoded(t, AppendJSON(nil, &r))
	if len(m) != len(Keys) {
		t.Errorf("%d keys, want the %d documented ones only: %v", len(m), len(Keys), m)
	}
	if m["user_agent"] != r.UserAgent || m["call_id"] != r.CallID || m["suppress_unregister_notify"] != true || m["expires"] != 12.0 {
		t.Errorf("round trip: %v", m)
	}
	if got := string(AppendJSONList(nil, []kamreg.Registration{})); got != "[]" {
		t.Errorf("empty list %s", got)
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("alice", "sip:alice@127.0.0.1:5060", `Yealink "T46"`, int64(63962913599), true)
	f.Fuzz(func(t *testing.T, user, contact, ua string, ts int64, suppress bool) {
		r := kamreg.Registration{Username: user, Contact: contact, UserAgent: ua, EventTimestamp: ts,
			SuppressUnregisterNotify: suppress, PresenceID: user, FromUser: ua, OriginalContact: contact, Realm: ua}
		raw := AppendJSON(nil, &r)
		if want := encodingJSON(t, &r); string(raw) != want {
			t.Fatalf("AppendJSON\n%s\nencoding/json\n%s", raw, want)
		}
		var m map[string]any
		d := json.NewDecoder(bytesReader(raw))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		for _, k := range []string{"username", "contact", "user_agent"} {
			if want := Value(&r, k); !validUTF8Same(want, m[k].(string)) {
				t.Errorf("%s: %q, want %q", k, m[k], want)
			}
		}
		if got := m["event_timestamp"].(json.Number).String(); got != strconv.FormatInt(ts, 10) {
			t.Errorf("event_timestamp %s, want %d", got, ts)
		}
	})
}

// TestKeysMatchJSON keeps the table and the JSON writer in step: every key written is known, in order, with the value
// Value gives.
func TestKeysMatchJSON(t *testing.T) {
	b := binding()
	r := FromBinding(&b, mapCtx(acme()))
	raw := AppendJSON(nil, &r)
	m := decoded(t, raw)
	if len(m) != len(AllKeys) || len(Fields) != len(AllKeys) {
		t.Fatalf("%d JSON keys, %d keys, %d fields", len(m), len(AllKeys), len(Fields))
	}
	var order []string
	d := json.NewDecoder(bytesReader(raw))
	_, _ = d.Token()
	for d.More() {
		k, _ := d.Token()
		order = append(order, k.(string))
		var skip any
		_ = d.Decode(&skip)
	}
	if diff := cmp.Diff(AllKeys, order); diff != "" {
		t.Errorf("key order (-want +got):\n%s", diff)
	}
	for _, k := range AllKeys {
		got := Value(&r, k)
		switch v := m[k].(type) {
		case string:
			if got != v {
				t.Errorf("%s: %q, JSON has %q", k, got, v)
			}
		default:
			want, _ := json.Marshal(v)
			if got != string(want) {
				t.Errorf("%s: %q, JSON has %s", k, got, want)
			}
		}
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// validUTF8Same compares a string with what a JSON decoder gives back for
// it: each byte of invalid UTF-8 comes back as U+FFFD, as encoding/json
// writes it.
func validUTF8Same(sent, got string) bool {
	var want strings.Builder
	for i := 0; i < len(sent); {
		r, size := utf8.DecodeRuneInString(sent[i:])
		want.WriteRune(r) // RuneError for an invalid byte, with size 1
		i += size
	}
	return want.String() == got
}

// regs1000 is a list of 1,000 registrations as the API returns them.
func regs1000() []kamreg.Registration {
	b := binding()
	c := mapCtx(acme())
	out := make([]kamreg.Registration, 1000)
	for i := range out {
		out[i] = FromBinding(&b, c)
	}
	return out
}

func BenchmarkFromBinding(b *testing.B) {
	bd := binding()
	for _, cache := range []*ChannelVarsCache{nil, NewChannelVarsCache(16)} {
		c := mapCtx(acme())
		c.ChannelVars = cache
		b.Run(map[bool]string{true: "parsed", false: "cached"}[cache == nil], func(b *testing.B) {
			for b.Loop() {
				_ = FromBinding(&bd, c)
			}
		})
	}
}

func BenchmarkParseURI(b *testing.B) {
	for b.Loop() {
		_, _ = parseURI("sip:alice@[2001:db8::1]:5062;transport=tcp;ob")
	}
}

func BenchmarkJSON1000Registrations(b *testing.B) {
	regs := regs1000()
	buf := make([]byte, 0, len(regs)*JSONSizeHint)
	for b.Loop() {
		buf = AppendJSONList(buf[:0], regs)
	}
}

// encodingJSON is what encoding/json writes (HTML escaping off) for each
// key of the table in turn, optional keys only when known.
func encodingJSON(t *testing.T, r *kamreg.Registration) string {
	t.Helper()
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	enc := func(v any) {
		if err := e.Encode(v); err != nil {
			t.Fatal(err)
		}
		buf.Truncate(buf.Len() - 1) // the encoder's newline
	}
	buf.WriteByte('{')
	for _, f := range Fields {
		v := f.Value(r)
		if f.Optional && v == "" {
			continue
		}
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
		enc(f.Name)
		buf.WriteByte(':')
		switch f.Kind {
		case Integer:
			enc(f.num(r))
		case Boolean:
			enc(v == "true")
		default:
			enc(v)
		}
	}
	buf.WriteByte('}')
	return buf.String()
}

// TestAppendJSONIsEncodingJSON compares the writer with encoding/json,
// byte for byte, where repeated values are the same and where they
// differ (the writer copies the encoding of a value it has written).
func TestAppendJSONIsEncodingJSON(t *testing.T) {
	b := binding()
	mapped := FromBinding(&b, mapCtx(acme()))
	differ := mapped
	differ.OriginalContact, differ.Realm, differ.ToHost = "<sip:x>\u2028", "other.test", "Acme.Test"
	differ.ToUser, differ.Username, differ.FromUser = "bob\"", "\x00carol", "alice&"
	unknownSame := kamreg.Registration{Contact: "", OriginalContact: "", FromHost: "h", Realm: "h", ToHost: "", RegisterOverwriteNotify: "false"}
	for name, r := range map[string]*kamreg.Registration{
		"mapped": &mapped, "differ": &differ, "bare": {}, "unknown and same": &unknownSame,
		"hostile": {UserAgent: "<ua> & \"q\"\n\u2028\xff", Contact: "\t", OriginalContact: "\t", SourcePort: "x", LastRegistration: -1},
	} {
		t.Run(name, func(t *testing.T) {
			got := string(AppendJSON([]byte("prefix"), r))
			if diff := cmp.Diff("prefix"+encodingJSON(t, r), got); diff != "" {
				t.Errorf("(-encoding/json +AppendJSON):\n%s", diff)
			}
		})
	}
}

// TestNewPlanRefusesBadSame: a key may copy only an earlier plain text
// key of the 24, and only when it is one of the 24 and text itself.
func TestNewPlanRefusesBadSame(t *testing.T) {
	get := func(r *kamreg.Registration) string { return r.Contact }
	num := func(r *kamreg.Registration) int64 { return r.Expires }
	tests := []struct {
		name   string
		fields []Field
	}{
		{"unknown key", []Field{{Name: "a", text: get}, {Name: "b", same: "nope", text: get}}},
		{"a later key", []Field{{Name: "a", same: "b", text: get}, {Name: "b", text: get}}},
		{"an optional source", []Field{{Name: "a", Optional: true, text: get}, {Name: "b", same: "a", text: get}}},
		{"an optional copy", []Field{{Name: "a", text: get}, {Name: "b", Optional: true, same: "a", text: get}}},
		{"an integer source", []Field{{Name: "a", Kind: Integer, num: num}, {Name: "b", same: "a", text: get}}},
		{"a boolean copy", []Field{{Name: "a", text: get}, {Name: "b", Kind: Boolean, same: "a", text: get}}},
		{"a chain", []Field{{Name: "a", text: get}, {Name: "b", same: "a", text: get}, {Name: "c", same: "b", text: get}}},
		{"too many kept", []Field{{Name: "a", text: get}, {Name: "b", text: get}, {Name: "c", text: get}, {Name: "d", text: get},
			{Name: "e", text: get}, {Name: "a2", same: "a", text: get}, {Name: "b2", same: "b", text: get},
			{Name: "c2", same: "c", text: get}, {Name: "d2", same: "d", text: get}, {Name: "e2", same: "e", text: get}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			newPlan(tt.fields)
		})
	}
}

func TestNewPlan(t *testing.T) {
	type row struct {
		Op   op
		Slot int8
	}
	var got []row
	for _, st := range plan {
		got = append(got, row{st.op, st.slot})
	}
	want := make([]row, len(Fields))
	for i, f := range Fields {
		switch f.Name {
		case "contact":
			want[i] = row{opTextKept, 0}
		case "from_host":
			want[i] = row{opTextKept, 1}
		case "from_user":
			want[i] = row{opTextKept, 2}
		case "original_contact":
			want[i] = row{opTextSame, 0}
		case "realm", "to_host":
			want[i] = row{opTextSame, 1}
		case "to_user", "username":
			want[i] = row{opTextSame, 2}
		case "event_timestamp", "expires":
			want[i] = row{opInt, 0}
		case "initial_registration", "last_registration":
			want[i] = row{opIntOptional, 0}
		case "suppress_unregister_notify":
			want[i] = row{opBool, 0}
		case "register_overwrite_notify":
			want[i] = row{opBoolOptional, 0}
		default:
			want[i] = row{map[bool]op{false: opText, true: opTextOptional}[f.Optional], 0}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

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
		_, _ = ParseURI("sip:alice@[2001:db8::1]:5062;transport=tcp;ob")
	}
}

func BenchmarkJSON1000Registrations(b *testing.B) {
	regs := regs1000()
	buf := make([]byte, 0, len(regs)*JSONSizeHint)
	for b.Loop() {
		buf = AppendJSONList(buf[:0], regs)
	}
}

// kazooJSON is a registration as encoding/json writes it, written out by
// hand: the 24 keys always, Kazoo 4's keys when known.
type kazooJSON struct {
	AccountName              string `json:"account_name"`
	AccountRealm             string `json:"account_realm"`
	AuthorizingID            string `json:"authorizing_id"`
	AuthorizingType          string `json:"authorizing_type"`
	CallID                   string `json:"call_id"`
	Contact                  string `json:"contact"`
	ContactIP                string `json:"contact_ip"`
	ContactPort              string `json:"contact_port"`
	EventTimestamp           int64  `json:"event_timestamp"`
	Expires                  int64  `json:"expires"`
	FromHost                 string `json:"from_host"`
	FromUser                 string `json:"from_user"`
	NetworkIP                string `json:"network_ip"`
	NetworkPort              string `json:"network_port"`
	OriginalContact          string `json:"original_contact"`
	OwnerID                  string `json:"owner_id"`
	ProxyIP                  string `json:"proxy_ip"`
	ProxyPort                string `json:"proxy_port"`
	Realm                    string `json:"realm"`
	SuppressUnregisterNotify bool   `json:"suppress_unregister_notify"`
	ToHost                   string `json:"to_host"`
	ToUser                   string `json:"to_user"`
	UserAgent                string `json:"user_agent"`
	Username                 string `json:"username"`
	InitialRegistration      int64  `json:"initial_registration,omitempty"`
	LastRegistration         int64  `json:"last_registration,omitempty"`
	PresenceID               string `json:"presence_id,omitempty"`
	ProxyProtocol            string `json:"proxy_protocol,omitempty"`
	RegisterOverwriteNotify  *bool  `json:"register_overwrite_notify,omitempty"`
	RegistrarHostname        string `json:"registrar_hostname,omitempty"`
	RegistrarNode            string `json:"registrar_node,omitempty"`
	SourceIP                 string `json:"source_ip,omitempty"`
	SourcePort               string `json:"source_port,omitempty"`
}

func encodingJSON(t *testing.T, r *kamreg.Registration) string {
	t.Helper()
	k := kazooJSON{r.AccountName, r.AccountRealm, r.AuthorizingID, r.AuthorizingType, r.CallID, r.Contact,
		r.ContactIP, r.ContactPort, r.EventTimestamp, r.Expires, r.FromHost, r.FromUser, r.NetworkIP, r.NetworkPort,
		r.OriginalContact, r.OwnerID, r.ProxyIP, r.ProxyPort, r.Realm, r.SuppressUnregisterNotify, r.ToHost, r.ToUser,
		r.UserAgent, r.Username, r.InitialRegistration, r.LastRegistration, r.PresenceID, r.ProxyProtocol, nil,
		r.RegistrarHostname, r.RegistrarNode, r.SourceIP, r.SourcePort}
	if r.RegisterOverwriteNotify != "" {
		v := r.RegisterOverwriteNotify == "true"
		k.RegisterOverwriteNotify = &v
	}
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(k); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
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

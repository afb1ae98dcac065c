package adapter

import (
	"strconv"

	"github.com/kamreg/kamreg"
)

// Kind is how a key's value is written in JSON.
type Kind uint8

const (
	// Text is a JSON string.
	Text Kind = iota
	// Integer is a JSON number; unknown (left out) is 0 for an optional key.
	Integer
	// Boolean is true or false; its text is "true" or "false", or "" when
	// unknown (left out) for an optional key.
	Boolean
)

// Field is one registration key: a row of Fields.
type Field struct {
	// Name is the key as Kazoo spells it.
	Name string
	// Kind is how JSON writes the value.
	Kind Kind
	// Optional keys are Kazoo 4's, left out when unknown; the others are
	// Kazoo's 24 documented keys, always present ("undefined" when unknown).
	Optional bool
	// Column is the usrloc location column the value equals, "" when
	// none: a filter on such a key runs on the column.
	Column string

	// same names an earlier text key whose value this one often equals:
	// the JSON writer then copies that key's encoding.
	same string
	// text is the value of a Text or Boolean key; num of an Integer key.
	text func(*kamreg.Registration) string
	num  func(*kamreg.Registration) int64
}

// reg is the registration type, short for the table.
type reg = kamreg.Registration

// Fields is the one table of registration keys, in the order they are
// written: Kazoo's 24 documented keys, then Kazoo 4's optional keys. It
// drives the JSON writer, the CSV, the filters and their columns.
// Adding a key is one row here (and its field in kamreg.Registration).
var Fields = []Field{
	{Name: "account_name", text: func(r *reg) string { return r.AccountName }},
	{Name: "account_realm", text: func(r *reg) string { return r.AccountRealm }},
	{Name: "authorizing_id", text: func(r *reg) string { return r.AuthorizingID }},
	{Name: "authorizing_type", text: func(r *reg) string { return r.AuthorizingType }},
	{Name: "call_id", Column: "callid", text: func(r *reg) string { return r.CallID }},
	{Name: "contact", Column: "contact", text: func(r *reg) string { return r.Contact }},
	{Name: "contact_ip", text: func(r *reg) string { return r.ContactIP }},
	{Name: "contact_port", text: func(r *reg) string { return r.ContactPort }},
	{Name: "event_timestamp", Kind: Integer, num: func(r *reg) int64 { return r.EventTimestamp }},
	{Name: "expires", Kind: Integer, num: func(r *reg) int64 { return r.Expires }},
	{Name: "from_host", Column: "domain", text: func(r *reg) string { return r.FromHost }},
	{Name: "from_user", Column: "username", text: func(r *reg) string { return r.FromUser }},
	{Name: "network_ip", text: func(r *reg) string { return r.NetworkIP }},
	{Name: "network_port", text: func(r *reg) string { return r.NetworkPort }},
	{Name: "original_contact", Column: "contact", same: "contact", text: func(r *reg) string { return r.OriginalContact }},
	{Name: "owner_id", text: func(r *reg) string { return r.OwnerID }},
	{Name: "proxy_ip", text: func(r *reg) string { return r.ProxyIP }},
	{Name: "proxy_port", text: func(r *reg) string { return r.ProxyPort }},
	{Name: "realm", Column: "domain", same: "from_host", text: func(r *reg) string { return r.Realm }},
	{Name: "suppress_unregister_notify", Kind: Boolean, text: func(r *reg) string { return strconv.FormatBool(r.SuppressUnregisterNotify) }},
	{Name: "to_host", Column: "domain", same: "from_host", text: func(r *reg) string { return r.ToHost }},
	{Name: "to_user", Column: "username", same: "from_user", text: func(r *reg) string { return r.ToUser }},
	{Name: "user_agent", Column: "user_agent", text: func(r *reg) string { return r.UserAgent }},
	{Name: "username", Column: "username", same: "from_user", text: func(r *reg) string { return r.Username }},

	{Name: "initial_registration", Kind: Integer, Optional: true, num: func(r *reg) int64 { return r.InitialRegistration }},
	{Name: "last_registration", Kind: Integer, Optional: true, num: func(r *reg) int64 { return r.LastRegistration }},
	{Name: "presence_id", Optional: true, text: func(r *reg) string { return r.PresenceID }},
	{Name: "proxy_protocol", Optional: true, text: func(r *reg) string { return r.ProxyProtocol }},
	{Name: "register_overwrite_notify", Kind: Boolean, Optional: true, text: func(r *reg) string { return r.RegisterOverwriteNotify }},
	{Name: "registrar_hostname", Optional: true, text: func(r *reg) string { return r.RegistrarHostname }},
	{Name: "registrar_node", Optional: true, text: func(r *reg) string { return r.RegistrarNode }},
	{Name: "source_ip", Optional: true, text: func(r *reg) string { return r.SourceIP }},
	{Name: "source_port", Optional: true, text: func(r *reg) string { return r.SourcePort }},
}

// Keys are Kazoo's 24 documented registration keys, always present, in the
// order they are written.
var Keys []string

// AllKeys are every key of Fields in order, Keys first: the columns of
// the CSV.
var AllKeys []string

// byName indexes Fields by key.
var byName map[string]*Field

func init() {
	byName = make(map[string]*Field, len(Fields))
	for i := range Fields {
		f := &Fields[i]
		if !f.Optional {
			Keys = append(Keys, f.Name)
		}
		AllKeys = append(AllKeys, f.Name)
		byName[f.Name] = f
	}
	if len(Keys) != 24 || len(byName) != len(Fields) {
		panic("adapter: the table of keys must hold 24 documented keys, each key once")
	}
	plan = newPlan(Fields)
}

// IsKey tells whether key is one of the registration's keys.
func IsKey(key string) bool {
	_, ok := byName[key]
	return ok
}

// Column returns the location column a key's value equals, and whether
// there is one.
func Column(key string) (string, bool) {
	f, ok := byName[key]
	if !ok || f.Column == "" {
		return "", false
	}
	return f.Column, true
}

// Value returns the value of key as text: strings as they are, numbers in
// decimal, booleans as true or false. It is "" for an unknown key or an
// unknown value of an optional key.
func Value(r *kamreg.Registration, key string) string {
	if f, ok := byName[key]; ok {
		return f.Value(r)
	}
	return ""
}

// Value returns r's value of the key as text, as Value does.
func (f *Field) Value(r *kamreg.Registration) string {
	if f.Kind == Integer {
		n := f.num(r)
		if n == 0 && f.Optional {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	return f.text(r)
}

// Match tells whether r passes every filter.
func Match(r *kamreg.Registration, filters []kamreg.Filter) bool {
	for _, f := range filters {
		if (Value(r, f.Key) == f.Value) == f.Not {
			return false
		}
	}
	return true
}

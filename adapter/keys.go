package adapter

import "strconv"

// Keys are the registration's keys in the order they are written.
var Keys = []string{
	"account_name", "account_realm", "authorizing_id", "authorizing_type", "call_id", "contact",
	"contact_ip", "contact_port", "event_timestamp", "expires", "from_host", "from_user",
	"network_ip", "network_port", "original_contact", "owner_id", "proxy_ip", "proxy_port",
	"realm", "suppress_unregister_notify", "to_host", "to_user", "user_agent", "username",
}

var accessors = map[string]func(*Registration) string{
	"account_name":               func(r *Registration) string { return r.AccountName },
	"account_realm":              func(r *Registration) string { return r.AccountRealm },
	"authorizing_id":             func(r *Registration) string { return r.AuthorizingID },
	"authorizing_type":           func(r *Registration) string { return r.AuthorizingType },
	"call_id":                    func(r *Registration) string { return r.CallID },
	"contact":                    func(r *Registration) string { return r.Contact },
	"contact_ip":                 func(r *Registration) string { return r.ContactIP },
	"contact_port":               func(r *Registration) string { return r.ContactPort },
	"event_timestamp":            func(r *Registration) string { return strconv.FormatInt(r.EventTimestamp, 10) },
	"expires":                    func(r *Registration) string { return strconv.FormatInt(r.Expires, 10) },
	"from_host":                  func(r *Registration) string { return r.FromHost },
	"from_user":                  func(r *Registration) string { return r.FromUser },
	"network_ip":                 func(r *Registration) string { return r.NetworkIP },
	"network_port":               func(r *Registration) string { return r.NetworkPort },
	"original_contact":           func(r *Registration) string { return r.OriginalContact },
	"owner_id":                   func(r *Registration) string { return r.OwnerID },
	"proxy_ip":                   func(r *Registration) string { return r.ProxyIP },
	"proxy_port":                 func(r *Registration) string { return r.ProxyPort },
	"realm":                      func(r *Registration) string { return r.Realm },
	"suppress_unregister_notify": func(r *Registration) string { return strconv.FormatBool(r.SuppressUnregisterNotify) },
	"to_host":                    func(r *Registration) string { return r.ToHost },
	"to_user":                    func(r *Registration) string { return r.ToUser },
	"user_agent":                 func(r *Registration) string { return r.UserAgent },
	"username":                   func(r *Registration) string { return r.Username },
}

// IsKey tells whether key is one of the registration's keys.
func IsKey(key string) bool {
	_, ok := accessors[key]
	return ok
}

// Value returns the value of key as text: strings as they are, numbers in
// decimal, booleans as true or false. It is "" for an unknown key.
func (r *Registration) Value(key string) string {
	if f, ok := accessors[key]; ok {
		return f(r)
	}
	return ""
}

// Filter keeps (or, with Not, drops) entries whose Key equals Value.
type Filter struct {
	Key   string
	Value string
	Not   bool
}

// Match tells whether r passes every filter.
func (r *Registration) Match(filters []Filter) bool {
	for _, f := range filters {
		if (r.Value(f.Key) == f.Value) == f.Not {
			return false
		}
	}
	return true
}

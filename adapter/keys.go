package adapter

import (
	"strconv"

	"github.com/kamreg/kamreg"
)

// Keys are Kazoo's 24 documented registration keys, always present, in the
// order they are written.
var Keys = []string{
	"account_name", "account_realm", "authorizing_id", "authorizing_type", "call_id", "contact",
	"contact_ip", "contact_port", "event_timestamp", "expires", "from_host", "from_user",
	"network_ip", "network_port", "original_contact", "owner_id", "proxy_ip", "proxy_port",
	"realm", "suppress_unregister_notify", "to_host", "to_user", "user_agent", "username",
}

// ExtraKeys are Kazoo 4's keys kamreg adds after the 24, in the order they
// are written; each is left out when unknown.
var ExtraKeys = []string{
	"initial_registration", "last_registration", "presence_id", "proxy_protocol",
	"register_overwrite_notify", "registrar_hostname", "registrar_node", "source_ip", "source_port",
}

// AllKeys are Keys then ExtraKeys: the columns of the CSV.
var AllKeys = append(append([]string{}, Keys...), ExtraKeys...)

// gregorianOrEmpty is a Gregorian time as text, "" when unknown (0).
func gregorianOrEmpty(s int64) string {
	if s == 0 {
		return ""
	}
	return strconv.FormatInt(s, 10)
}

var accessors = map[string]func(*kamreg.Registration) string{
	"account_name":               func(r *kamreg.Registration) string { return r.AccountName },
	"account_realm":              func(r *kamreg.Registration) string { return r.AccountRealm },
	"authorizing_id":             func(r *kamreg.Registration) string { return r.AuthorizingID },
	"authorizing_type":           func(r *kamreg.Registration) string { return r.AuthorizingType },
	"call_id":                    func(r *kamreg.Registration) string { return r.CallID },
	"contact":                    func(r *kamreg.Registration) string { return r.Contact },
	"contact_ip":                 func(r *kamreg.Registration) string { return r.ContactIP },
	"contact_port":               func(r *kamreg.Registration) string { return r.ContactPort },
	"event_timestamp":            func(r *kamreg.Registration) string { return strconv.FormatInt(r.EventTimestamp, 10) },
	"expires":                    func(r *kamreg.Registration) string { return strconv.FormatInt(r.Expires, 10) },
	"from_host":                  func(r *kamreg.Registration) string { return r.FromHost },
	"from_user":                  func(r *kamreg.Registration) string { return r.FromUser },
	"network_ip":                 func(r *kamreg.Registration) string { return r.NetworkIP },
	"network_port":               func(r *kamreg.Registration) string { return r.NetworkPort },
	"original_contact":           func(r *kamreg.Registration) string { return r.OriginalContact },
	"owner_id":                   func(r *kamreg.Registration) string { return r.OwnerID },
	"proxy_ip":                   func(r *kamreg.Registration) string { return r.ProxyIP },
	"proxy_port":                 func(r *kamreg.Registration) string { return r.ProxyPort },
	"realm":                      func(r *kamreg.Registration) string { return r.Realm },
	"suppress_unregister_notify": func(r *kamreg.Registration) string { return strconv.FormatBool(r.SuppressUnregisterNotify) },
	"to_host":                    func(r *kamreg.Registration) string { return r.ToHost },
	"to_user":                    func(r *kamreg.Registration) string { return r.ToUser },
	"user_agent":                 func(r *kamreg.Registration) string { return r.UserAgent },
	"username":                   func(r *kamreg.Registration) string { return r.Username },

	"initial_registration":      func(r *kamreg.Registration) string { return gregorianOrEmpty(r.InitialRegistration) },
	"last_registration":         func(r *kamreg.Registration) string { return gregorianOrEmpty(r.LastRegistration) },
	"presence_id":               func(r *kamreg.Registration) string { return r.PresenceID },
	"proxy_protocol":            func(r *kamreg.Registration) string { return r.ProxyProtocol },
	"register_overwrite_notify": func(r *kamreg.Registration) string { return r.RegisterOverwriteNotify },
	"registrar_hostname":        func(r *kamreg.Registration) string { return r.RegistrarHostname },
	"registrar_node":            func(r *kamreg.Registration) string { return r.RegistrarNode },
	"source_ip":                 func(r *kamreg.Registration) string { return r.SourceIP },
	"source_port":               func(r *kamreg.Registration) string { return r.SourcePort },
}

// IsKey tells whether key is one of the registration's keys.
func IsKey(key string) bool {
	_, ok := accessors[key]
	return ok
}

// Value returns the value of key as text: strings as they are, numbers in
// decimal, booleans as true or false. It is "" for an unknown key or value.
func Value(r *kamreg.Registration, key string) string {
	if f, ok := accessors[key]; ok {
		return f(r)
	}
	return ""
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

package adapter

import (
	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/jsontext"
)

// AppendJSON appends r as Kazoo's JSON object: the 24 keys, then the
// extra keys that are known, byte for byte what encoding/json writes (with
// HTML escaping off), without reflection.
func AppendJSON(b []byte, r *kamreg.Registration) []byte {
	str := func(b []byte, key, v string) []byte {
		b = append(b, key...)
		return jsontext.String(b, v)
	}
	// Values repeated under several keys are escaped once, then copied.
	var contact, host, user []byte
	again := func(b []byte, key string, enc *[]byte, v string) []byte {
		b = append(b, key...)
		if *enc != nil {
			return append(b, *enc...)
		}
		start := len(b)
		b = jsontext.String(b, v)
		*enc = b[start:len(b):len(b)]
		return b
	}
	b = str(b, `{"account_name":`, r.AccountName)
	b = str(b, `,"account_realm":`, r.AccountRealm)
	b = str(b, `,"authorizing_id":`, r.AuthorizingID)
	b = str(b, `,"authorizing_type":`, r.AuthorizingType)
	b = str(b, `,"call_id":`, r.CallID)
	b = again(b, `,"contact":`, &contact, r.Contact)
	b = str(b, `,"contact_ip":`, r.ContactIP)
	b = str(b, `,"contact_port":`, r.ContactPort)
	b = jsontext.Int(append(b, `,"event_timestamp":`...), r.EventTimestamp)
	b = jsontext.Int(append(b, `,"expires":`...), r.Expires)
	b = again(b, `,"from_host":`, &host, r.FromHost)
	b = again(b, `,"from_user":`, &user, r.FromUser)
	b = str(b, `,"network_ip":`, r.NetworkIP)
	b = str(b, `,"network_port":`, r.NetworkPort)
	b = sameOrStr(b, `,"original_contact":`, contact, r.Contact, r.OriginalContact)
	b = str(b, `,"owner_id":`, r.OwnerID)
	b = str(b, `,"proxy_ip":`, r.ProxyIP)
	b = str(b, `,"proxy_port":`, r.ProxyPort)
	b = sameOrStr(b, `,"realm":`, host, r.FromHost, r.Realm)
	b = jsontext.Bool(append(b, `,"suppress_unregister_notify":`...), r.SuppressUnregisterNotify)
	b = sameOrStr(b, `,"to_host":`, host, r.FromHost, r.ToHost)
	b = sameOrStr(b, `,"to_user":`, user, r.FromUser, r.ToUser)
	b = str(b, `,"user_agent":`, r.UserAgent)
	b = sameOrStr(b, `,"username":`, user, r.FromUser, r.Username)
	return append(appendExtra(b, r), '}')
}

// sameOrStr appends key and v, copying enc (the encoding of was) when v
// is the same value.
func sameOrStr(b []byte, key string, enc []byte, was, v string) []byte {
	b = append(b, key...)
	if v == was {
		return append(b, enc...)
	}
	return jsontext.String(b, v)
}

// appendExtra appends Kazoo 4's keys that are known, in ExtraKeys order.
func appendExtra(b []byte, r *kamreg.Registration) []byte {
	optStr := func(b []byte, key, v string) []byte {
		if v == "" {
			return b
		}
		b = append(b, key...)
		return jsontext.String(b, v)
	}
	optInt := func(b []byte, key string, v int64) []byte {
		if v == 0 {
			return b
		}
		return jsontext.Int(append(b, key...), v)
	}
	b = optInt(b, `,"initial_registration":`, r.InitialRegistration)
	b = optInt(b, `,"last_registration":`, r.LastRegistration)
	b = optStr(b, `,"presence_id":`, r.PresenceID)
	b = optStr(b, `,"proxy_protocol":`, r.ProxyProtocol)
	if v := r.RegisterOverwriteNotify; v != "" {
		b = jsontext.Bool(append(b, `,"register_overwrite_notify":`...), v == "true")
	}
	b = optStr(b, `,"registrar_hostname":`, r.RegistrarHostname)
	b = optStr(b, `,"registrar_node":`, r.RegistrarNode)
	b = optStr(b, `,"source_ip":`, r.SourceIP)
	b = optStr(b, `,"source_port":`, r.SourcePort)
	return b
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

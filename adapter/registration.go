package adapter

import (
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/kamreg/kamreg"
)

// GregorianOffset is the number of seconds from year 0 to the Unix epoch;
// Kazoo timestamps are Gregorian seconds.
const GregorianOffset = 62167219200

// gregorian returns t in Gregorian seconds.
func gregorian(t time.Time) int64 { return t.Unix() + GregorianOffset }

// Context is what a mapping needs besides the binding: kamreg's directory
// of accounts and devices, the advertised addresses, the configured
// registrars by usrloc server_id, and the time.
type Context struct {
	Directory  *kamreg.Directory
	Advertise  Advertise
	Registrars map[int]kamreg.Registrar
	Now        time.Time
	// OnWildcard, when set, is told of a listener socket on a wildcard
	// address with no advertised address: proxy_ip is then "undefined".
	OnWildcard func(socket string)
	// ChannelVars, when set, keeps parsed channel vars across mappings.
	ChannelVars *ChannelVarsCache
}

// boolText reads a channel var that Kazoo writes as a boolean or as the
// text "true"/"false"; "" when it is neither.
func boolText(v any) string {
	switch b := v.(type) {
	case bool:
		if b {
			return "true"
		}
		return "false"
	case string:
		switch strings.ToLower(b) {
		case "true", "false":
			return strings.ToLower(b)
		}
	}
	return ""
}

// orUndefined returns the first non-empty value, or "undefined".
func orUndefined(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return kamreg.Undefined
}

// FromBinding maps a binding to a registration. Device records win over
// channel vars, which win over "undefined".
func FromBinding(b *kamreg.Binding, c *Context) kamreg.Registration {
	cv := c.ChannelVars.parse(b.ChannelVars)
	r := kamreg.Registration{
		AccountName:              kamreg.Undefined,
		AccountRealm:             kamreg.Undefined,
		CallID:                   b.CallID,
		Contact:                  b.Contact,
		OriginalContact:          b.Contact,
		Username:                 b.Username,
		ToUser:                   b.Username,
		FromUser:                 b.Username,
		Realm:                    orUndefined(b.Domain),
		ToHost:                   orUndefined(b.Domain),
		FromHost:                 orUndefined(b.Domain),
		UserAgent:                b.UserAgent,
		EventTimestamp:           gregorian(b.LastModified),
		Expires:                  secondsLeft(b.Expires, c.Now),
		ContactIP:                kamreg.Undefined,
		ContactPort:              kamreg.Undefined,
		NetworkIP:                kamreg.Undefined,
		NetworkPort:              kamreg.Undefined,
		ProxyIP:                  kamreg.Undefined,
		ProxyPort:                kamreg.Undefined,
		LastRegistration:         gregorian(b.LastModified),
		PresenceID:               cv.PresenceID,
		RegisterOverwriteNotify:  boolText(cv.RegisterOverwriteNotify),
		SuppressUnregisterNotify: false,
	}
	if a, ok := c.Directory.Account(b.Domain); ok {
		r.AccountName, r.AccountRealm = orUndefined(a.Name), orUndefined(a.Realm)
	}
	if dev, ok := c.Directory.Device(b.Domain, b.Username); ok {
		r.AuthorizingID, r.AuthorizingType = dev.DeviceID, "device"
		r.OwnerID = orUndefined(dev.OwnerID, cv.OwnerID)
		r.SuppressUnregisterNotify = dev.SuppressUnregisterNotify
	} else {
		r.AuthorizingID, r.AuthorizingType = orUndefined(cv.AuthorizingID), orUndefined(cv.AuthorizingType)
		r.OwnerID = orUndefined(cv.OwnerID)
	}
	if hp, ok := parseURI(b.Contact); ok {
		r.ContactIP, r.ContactPort = hp.Host, hp.Port
		r.SourceIP, r.SourcePort = hp.Host, hp.Port
	}
	if b.Received != "" {
		if hp, ok := parseURI(b.Received); ok {
			r.NetworkIP, r.NetworkPort = hp.Host, hp.Port
			r.SourceIP, r.SourcePort = hp.Host, hp.Port
		}
	}
	if hp, ok := c.Advertise.Proxy(b.Socket); ok {
		r.ProxyPort = hp.Port
		if !isWildcard(hp.Host) {
			r.ProxyIP = hp.Host
		} else if c.OnWildcard != nil {
			c.OnWildcard(b.Socket)
		}
	}
	r.ProxyProtocol = socketProtocol(b.Socket)
	if !b.InitialRegistration.IsZero() {
		r.InitialRegistration = gregorian(b.InitialRegistration)
	}
	if reg, ok := c.Registrars[b.ServerID]; ok && b.ServerID != 0 {
		r.RegistrarNode, r.RegistrarHostname = reg.Node, reg.Hostname
	}
	return r
}

// socketProtocol is the transport of a listener socket ("udp", "tcp",
// "tls", "ws", "wss", "sctp"), or "" when the socket names none.
func socketProtocol(socket string) string {
	proto, _, ok := strings.Cut(strings.TrimSpace(socket), ":")
	if !ok {
		return ""
	}
	switch p := strings.ToLower(proto); p {
	case "udp", "tcp", "tls", "ws", "wss", "sctp":
		return p
	}
	return ""
}

// RegistrarOf names a configured node for registrations: its name, and the
// host of its JSON-RPC URL (empty for a unix socket).
func RegistrarOf(name, rpcURL string) kamreg.Registrar {
	r := kamreg.Registrar{Node: name}
	if u, err := url.Parse(rpcURL); err == nil && u.Scheme != "unix" {
		r.Hostname = u.Hostname()
	}
	return r
}

// secondsLeft is the whole seconds from now until expires, rounded up and
// never negative. A zero expires (permanent) gives 0.
func secondsLeft(expires, now time.Time) int64 {
	if expires.IsZero() {
		return 0
	}
	left := expires.Sub(now).Seconds()
	if left <= 0 {
		return 0
	}
	return int64(math.Ceil(left))
}

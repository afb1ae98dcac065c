package adapter

import (
	"encoding/json"
	"math"
	"time"

	"github.com/kamreg/kamreg/kamailio"
)

// Undefined is the value of a key kamreg cannot know, as in Kazoo.
const Undefined = "undefined"

// GregorianOffset is the number of seconds from year 0 to the Unix epoch;
// Kazoo timestamps are Gregorian seconds.
const GregorianOffset = 62167219200

// Registration is one Kazoo Crossbar registration entry: one contact
// (binding). Its keys are Kazoo's documented 24, in alphabetical order.
type Registration struct {
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
}

// channelVars are the keys kamreg reads from Kazoo's custom_channel_vars.
type channelVars struct {
	AuthorizingID   string `json:"Authorizing-ID"`
	AuthorizingType string `json:"Authorizing-Type"`
	OwnerID         string `json:"Owner-ID"`
}

func parseChannelVars(s string) channelVars {
	var cv channelVars
	if s != "" {
		// Kazoo writes a JSON object; anything else is ignored.
		_ = json.Unmarshal([]byte(s), &cv)
	}
	return cv
}

// orUndefined returns the first non-empty value, or "undefined".
func orUndefined(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return Undefined
}

// FromBinding maps a location row to a registration as of now. Device
// records win over channel vars, which win over "undefined".
func FromBinding(b kamailio.Binding, adv Advertise, now time.Time) Registration {
	cv := parseChannelVars(b.ChannelVars)
	r := Registration{
		AccountName:              orUndefined(b.AccountName),
		AccountRealm:             orUndefined(b.AccountRealm),
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
		SuppressUnregisterNotify: b.SuppressUnregisterNotify,
		EventTimestamp:           b.LastModified.Unix() + GregorianOffset,
		Expires:                  secondsLeft(b.Expires, now),
		ContactIP:                Undefined,
		ContactPort:              Undefined,
		NetworkIP:                Undefined,
		NetworkPort:              Undefined,
		ProxyIP:                  Undefined,
		ProxyPort:                Undefined,
	}
	if b.DeviceID != "" {
		r.AuthorizingID, r.AuthorizingType = b.DeviceID, "device"
	} else {
		r.AuthorizingID, r.AuthorizingType = orUndefined(cv.AuthorizingID), orUndefined(cv.AuthorizingType)
	}
	r.OwnerID = orUndefined(b.OwnerID, cv.OwnerID)
	if hp, ok := ParseURI(b.Contact); ok {
		r.ContactIP, r.ContactPort = hp.Host, hp.Port
	}
	if b.Received != "" {
		if hp, ok := ParseURI(b.Received); ok {
			r.NetworkIP, r.NetworkPort = hp.Host, hp.Port
		}
	}
	if hp, ok := adv.Proxy(b.Socket); ok {
		r.ProxyIP, r.ProxyPort = hp.Host, hp.Port
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

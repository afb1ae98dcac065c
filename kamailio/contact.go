package kamailio

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kamreg/kamreg"
)

// notSet is how Kamailio's RPC spells an empty text field.
const notSet = "[not set]"

// Text is a JSON-RPC text field; Kamailio's "[not set]" decodes to "".
type Text string

// UnmarshalJSON decodes a string, mapping "[not set]" and null to "".
func (t *Text) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == nil || *s == notSet {
		*t = ""
		return nil
	}
	*t = Text(*s)
	return nil
}

// Expiry is a contact's Expires field: seconds left, or one of Kamailio's
// states "permanent", "expired" or "deleted".
type Expiry struct {
	Seconds int64
	State   string
}

// Live tells whether the contact should be listed.
func (e Expiry) Live() bool {
	switch e.State {
	case "":
		return e.Seconds > 0
	case "permanent":
		return true
	}
	return false
}

// UnmarshalJSON accepts an integer or a string.
func (e *Expiry) UnmarshalJSON(b []byte) error {
	var n int64
	if err := json.Unmarshal(b, &n); err == nil {
		*e = Expiry{Seconds: n}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("Expires: want a number or a string, got %s", b)
	}
	*e = Expiry{State: s}
	return nil
}

// Contact is one binding as ul.lookup and ul.dump report it.
type Contact struct {
	Address      Text    `json:"Address"`
	Expires      Expiry  `json:"Expires"`
	Q            float64 `json:"Q"`
	CallID       Text    `json:"Call-ID"`
	CSeq         int64   `json:"CSeq"`
	UserAgent    Text    `json:"User-Agent"`
	Received     Text    `json:"Received"`
	Path         Text    `json:"Path"`
	State        Text    `json:"State"`
	Socket       Text    `json:"Socket"`
	Ruid         Text    `json:"Ruid"`
	Instance     Text    `json:"Instance"`
	ServerID     int64   `json:"Server-Id"`
	LastModified int64   `json:"Last-Modified"`
}

// SplitAoR reads "user@domain".
func SplitAoR(s string) (kamreg.AoR, bool) {
	i := strings.LastIndexByte(s, '@')
	if i <= 0 || i == len(s)-1 {
		return kamreg.AoR{}, false
	}
	return kamreg.AoR{Username: s[:i], Domain: s[i+1:]}, true
}

// Binding turns a live contact of aor into a binding as of now. ok is
// false for a contact that is expired or deleted, or an AoR without a
// domain.
func (c Contact) Binding(aor string, now time.Time) (kamreg.Binding, bool) {
	a, ok := SplitAoR(aor)
	if !ok || !c.Expires.Live() {
		return kamreg.Binding{}, false
	}
	b := kamreg.Binding{
		Ruid: string(c.Ruid), Username: a.Username, Domain: a.Domain, Contact: string(c.Address),
		Received: string(c.Received), Path: string(c.Path), Socket: string(c.Socket),
		CallID: string(c.CallID), CSeq: int(c.CSeq), UserAgent: string(c.UserAgent), ServerID: int(c.ServerID),
		LastModified: time.Unix(c.LastModified, 0),
	}
	if c.Expires.State == "" {
		b.Expires = now.Add(time.Duration(c.Expires.Seconds) * time.Second)
	}
	return b, true
}

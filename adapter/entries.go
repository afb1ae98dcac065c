package adapter

import (
	"bytes"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/jsontext"
)

// entryCacheSize is how many registrations an EntryCache keeps: every
// phone of the realms listed most, about 2 KB each. A list of more
// bindings than that maps and encodes the rest afresh.
const entryCacheSize = 10000

// EntryCache keeps each registration, and its JSON, while what it is made
// of is unchanged: the binding (usrloc rewrites Call-ID, CSeq and
// last_modified with every REGISTER), and the account and device the
// directory has for it. Only expires moves between reads: it is computed
// each time and written in place. A nil *EntryCache keeps nothing, and
// maps and encodes every time.
type EntryCache struct {
	mapped  *lru.Cache[string, *mapped]
	encoded *lru.Cache[jsonKey, *encoded]
}

// mapped is one binding as it was mapped.
type mapped struct {
	b       kamreg.Binding
	account kamreg.Account
	device  kamreg.Device
	reg     kamreg.Registration // Expires 0
}

// jsonKey finds a registration's JSON; the registration itself says
// whether the JSON is still its own.
type jsonKey struct{ callID, contact string }

// encoded is one registration's JSON, split around the value of expires.
type encoded struct {
	reg        kamreg.Registration // Expires 0
	head, tail []byte
}

// NewEntryCache returns a cache of entryCacheSize registrations.
func NewEntryCache() *EntryCache {
	m, _ := lru.New[string, *mapped](entryCacheSize)
	e, _ := lru.New[jsonKey, *encoded](entryCacheSize)
	return &EntryCache{mapped: m, encoded: e}
}

// For is the cache a read of scope uses: none for a read of every realm,
// which goes once over rows that would push out those the realms' own
// lists keep.
func (ec *EntryCache) For(s kamreg.Scope) *EntryCache {
	if s.Realm == "" {
		return nil
	}
	return ec
}

// Len is how many registrations the cache keeps.
func (ec *EntryCache) Len() int {
	if ec == nil {
		return 0
	}
	return ec.mapped.Len()
}

// Map is FromBinding(b, c), from the cache while b and its account and
// device are what they were. Directory lookups are the only work of a hit.
func (ec *EntryCache) Map(b *kamreg.Binding, c *Context) kamreg.Registration {
	if ec == nil {
		return FromBinding(b, c)
	}
	account, _ := c.Directory.Account(b.Domain)
	device, _ := c.Directory.Device(b.Domain, b.Username)
	if m, ok := ec.mapped.Get(b.Ruid); ok && m.b == *b && m.account == account && m.device == device {
		r := m.reg
		r.Expires = secondsLeft(b.Expires, c.Now)
		return r
	}
	r := FromBinding(b, c)
	m := &mapped{b: *b, account: account, device: device, reg: r}
	m.reg.Expires = 0
	ec.mapped.Add(b.Ruid, m)
	return r
}

// expiresKey is how the JSON writer writes the key expires, never first.
var expiresKey = []byte(`,"expires":`)

// AppendJSON is AppendJSON(b, r), from the cache while r is, but for
// expires, the registration the JSON was written for. A registration
// from Map is then found with a comparison of shared strings.
func (ec *EntryCache) AppendJSON(b []byte, r *kamreg.Registration) []byte {
	if ec == nil {
		return AppendJSON(b, r)
	}
	k := jsonKey{r.CallID, r.Contact}
	e, ok := ec.encoded.Get(k)
	if ok {
		// The kept registration, with r's expires: equal when r is it.
		kept := e.reg
		kept.Expires = r.Expires
		ok = kept == *r
	}
	if !ok {
		bare := *r
		bare.Expires = 0
		js := AppendJSON(nil, &bare)
		i := bytes.Index(js, expiresKey)
		if i < 0 {
			return AppendJSON(b, r)
		}
		cut := i + len(expiresKey)
		e = &encoded{reg: bare, head: js[:cut], tail: js[cut+1:]} // the 0
		ec.encoded.Add(k, e)
	}
	b = append(b, e.head...)
	b = jsontext.Int(b, r.Expires)
	return append(b, e.tail...)
}

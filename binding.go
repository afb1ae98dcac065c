package kamreg

import "time"

// Binding is one live contact of an AoR as Kamailio's usrloc holds it: a
// row of the location table, or a contact of ul.dump, with the usrloc
// attributes kamreg reads.
type Binding struct {
	Ruid      string
	Username  string
	Domain    string
	Contact   string
	Received  string
	Path      string
	Socket    string
	CallID    string
	CSeq      int
	UserAgent string
	// ServerID is the usrloc server_id of the node that wrote the row; 0
	// when unknown.
	ServerID int
	// Expires and LastModified are real instants, read in the zone
	// Kamailio writes them in. Expires is zero for a permanent contact.
	Expires      time.Time
	LastModified time.Time
	// ChannelVars is Kazoo's custom_channel_vars attribute (a JSON text),
	// if any.
	ChannelVars string
	// InitialRegistration is when the contact first registered, from the
	// initial_registration attribute; zero when unknown.
	InitialRegistration time.Time
}

// KeyOf returns the position of a binding in the list's order.
func (b Binding) KeyOf() Key { return Key{Username: b.Username, Contact: b.Contact, Ruid: b.Ruid} }

// AoR is a usrloc address of record as it appears in the location table.
type AoR struct {
	Username string
	Domain   string
}

// String returns "username@domain", the form ul.rm takes.
func (a AoR) String() string { return a.Username + "@" + a.Domain }

// Scope selects bindings: one realm (case-insensitively), or every realm
// when Realm is empty, and optionally one username.
type Scope struct {
	Realm    string
	Username string
}

// Key positions a page: the last entry of the page before. Entries are
// ordered by username, then contact, then ruid.
type Key struct {
	Username string
	Contact  string
	Ruid     string
}

// Less tells whether k sorts before o.
func (k Key) Less(o Key) bool {
	if k.Username != o.Username {
		return k.Username < o.Username
	}
	if k.Contact != o.Contact {
		return k.Contact < o.Contact
	}
	return k.Ruid < o.Ruid
}

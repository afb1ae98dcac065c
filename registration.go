package kamreg

// Undefined is the value of one of the 24 documented keys that kamreg
// cannot know, as in Kazoo.
const Undefined = "undefined"

// Registration is one Kazoo Crossbar registration entry: one contact
// (binding). The first 24 fields are Kazoo's documented keys, always
// present; the rest are Kazoo 4's extra keys, left out when unknown (an
// empty string, or a zero time).
type Registration struct {
	AccountName              string
	AccountRealm             string
	AuthorizingID            string
	AuthorizingType          string
	CallID                   string
	Contact                  string
	ContactIP                string
	ContactPort              string
	EventTimestamp           int64
	Expires                  int64
	FromHost                 string
	FromUser                 string
	NetworkIP                string
	NetworkPort              string
	OriginalContact          string
	OwnerID                  string
	ProxyIP                  string
	ProxyPort                string
	Realm                    string
	SuppressUnregisterNotify bool
	ToHost                   string
	ToUser                   string
	UserAgent                string
	Username                 string

	// Kazoo 4's keys.
	SourceIP            string
	SourcePort          string
	ProxyProtocol       string
	LastRegistration    int64
	InitialRegistration int64
	RegistrarNode       string
	RegistrarHostname   string
	PresenceID          string
	// RegisterOverwriteNotify is "true", "false" or "" (unknown).
	RegisterOverwriteNotify string
}

// Filter keeps (or, with Not, drops) entries whose Key equals Value.
type Filter struct {
	Key   string
	Value string
	Not   bool
}

// ListQuery selects registrations: a scope, filters on any key, and a page.
type ListQuery struct {
	Scope   Scope
	Filters []Filter
	// After, when set, starts after that entry.
	After *Key
	// Limit is the page size; 0 means the whole list.
	Limit int
}

// Page is one page of registrations. Next is set while more remain.
type Page struct {
	Entries []Registration
	Next    *Key
}

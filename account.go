package kamreg

// Account is a Kazoo account as kamreg knows it: the realm its phones
// register in, its parent and whether it is super-duper.
type Account struct {
	ID         string
	Name       string
	Realm      string
	ParentID   string
	SuperDuper bool
}

// Device is the Kazoo device behind a SIP username of an account.
type Device struct {
	AccountID                string
	Username                 string
	DeviceID                 string
	OwnerID                  string
	SuppressUnregisterNotify bool
}

// Registrar is a configured Kamailio node as registrations name it: the
// node that wrote a row, known by its usrloc server_id.
type Registrar struct {
	Node     string
	Hostname string
}

// Descendant is an account below another, with its tree as Kazoo gives
// it: the ids of its ancestors, the most ancestral first, its parent last.
type Descendant struct {
	Account
	Tree []string
}

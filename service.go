package kamreg

import "context"

// RegistrationService is the Registrations API's use cases.
type RegistrationService interface {
	// Stream hands emit each live registration q selects, ordered by
	// username then contact, as it is read, and stops at emit's first
	// error. With q.Limit, next is where the following page starts, nil on
	// the last page.
	Stream(ctx context.Context, q ListQuery, emit func(*Registration) error) (next *Key, err error)
	// Count returns how many entries List would return without a page.
	Count(ctx context.Context, q ListQuery) (int, error)
	// FlushRealm removes every registration of the account's realm on
	// every node. An incomplete flush is a *FlushError.
	FlushRealm(ctx context.Context, a Account) (FlushReport, error)
	// FlushUser removes every contact of username in the account's realm
	// on every node; ErrUnknownUser when the account has no such user.
	FlushUser(ctx context.Context, a Account, username string) (FlushReport, error)
}

// Authenticator returns the account a token is bound to, or ErrBadToken
// (ErrMalformedToken and ErrUnknownToken among them); any other error is
// the backend's, not the caller's.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (string, error)
}

// AccountService looks accounts up and decides who may act on which.
type AccountService interface {
	// Get returns one account, or ErrNotFound.
	Get(ctx context.Context, id string) (Account, error)
	// MayAct tells whether caller is target, one of its ancestors, or
	// super-duper.
	MayAct(ctx context.Context, caller, target string) (bool, error)
}

// AccountTree lists the accounts below an account.
type AccountTree interface {
	// Descendants returns every account below id (children, their
	// children, …), ordered by name then id; none when it has none.
	Descendants(ctx context.Context, id string) ([]Descendant, error)
}

// DeviceRecords lists kamreg's own device records.
type DeviceRecords interface {
	// List returns the account's devices, ordered by username.
	List(ctx context.Context, accountID string) ([]Device, error)
}

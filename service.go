package kamreg

import "context"

// RegistrationService is the Registrations API's use cases.
type RegistrationService interface {
	// List returns a page of live registrations, ordered by username then
	// contact.
	List(ctx context.Context, q ListQuery) (Page, error)
	// Count returns how many entries List would return without a page.
	Count(ctx context.Context, q ListQuery) (int, error)
	// FlushRealm removes every registration of the account's realm on
	// every node. An incomplete flush is a *FlushError.
	FlushRealm(ctx context.Context, a Account) (FlushReport, error)
	// FlushUser removes every contact of username in the account's realm
	// on every node; ErrUnknownUser when the account has no such user.
	FlushUser(ctx context.Context, a Account, username string) (FlushReport, error)
}

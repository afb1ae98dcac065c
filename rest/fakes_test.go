package rest

import (
	"context"

	"github.com/kamreg/kamreg"
)

type fakeAccounts struct {
	GetFn    func(id string) (kamreg.Account, error)
	MayActFn func(caller, target string) (bool, error)
}

func (f fakeAccounts) Get(_ context.Context, id string) (kamreg.Account, error) { return f.GetFn(id) }
func (f fakeAccounts) MayAct(_ context.Context, caller, target string) (bool, error) {
	return f.MayActFn(caller, target)
}

type fakeTokens struct {
	AuthenticateFn func(token string) (string, error)
}

func (f fakeTokens) Authenticate(_ context.Context, token string) (string, error) {
	return f.AuthenticateFn(token)
}

type fakeRegistrations struct {
	// ListFn answers Stream with a whole page, unless StreamFn is set.
	ListFn       func(q kamreg.ListQuery) (kamreg.Page, error)
	StreamFn     func(ctx context.Context, q kamreg.ListQuery, emit func(*kamreg.Registration) error) (*kamreg.Key, error)
	CountFn      func(q kamreg.ListQuery) (int, error)
	FlushRealmFn func(a kamreg.Account) (kamreg.FlushReport, error)
	FlushUserFn  func(a kamreg.Account, username string) (kamreg.FlushReport, error)
}

func (f fakeRegistrations) Stream(ctx context.Context, q kamreg.ListQuery, emit func(*kamreg.Registration) error) (*kamreg.Key, error) {
	if f.StreamFn != nil {
		return f.StreamFn(ctx, q, emit)
	}
	page, err := f.ListFn(q)
	if err != nil {
		return nil, err
	}
	for i := range page.Entries {
		if err := emit(&page.Entries[i]); err != nil {
			return nil, err
		}
	}
	return page.Next, nil
}
func (f fakeRegistrations) Count(_ context.Context, q kamreg.ListQuery) (int, error) {
	return f.CountFn(q)
}
func (f fakeRegistrations) FlushRealm(_ context.Context, a kamreg.Account) (kamreg.FlushReport, error) {
	return f.FlushRealmFn(a)
}
func (f fakeRegistrations) FlushUser(_ context.Context, a kamreg.Account, username string) (kamreg.FlushReport, error) {
	return f.FlushUserFn(a, username)
}

type fakeDB struct{ PingFn func() error }

func (f fakeDB) Ping(context.Context) error { return f.PingFn() }

package rest

import (
	"context"

	"github.com/kamreg/kamreg/adapter"
	"github.com/kamreg/kamreg/registry"
	"github.com/kamreg/kamreg/store"
)

type fakeAccounts struct {
	GetFn    func(id string) (store.Account, error)
	MayActFn func(caller, target string) (bool, error)
}

func (f fakeAccounts) Get(_ context.Context, id string) (store.Account, error) { return f.GetFn(id) }
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
	ListFn       func(q registry.ListQuery) (registry.Page, error)
	CountFn      func(q registry.ListQuery) (int, error)
	FlushRealmFn func(realm string) (adapter.FlushReport, error)
	FlushUserFn  func(accountID, realm, username string) (adapter.FlushReport, error)
}

func (f fakeRegistrations) List(_ context.Context, q registry.ListQuery) (registry.Page, error) {
	return f.ListFn(q)
}
func (f fakeRegistrations) Count(_ context.Context, q registry.ListQuery) (int, error) {
	return f.CountFn(q)
}
func (f fakeRegistrations) FlushRealm(_ context.Context, realm string) (adapter.FlushReport, error) {
	return f.FlushRealmFn(realm)
}
func (f fakeRegistrations) FlushUser(_ context.Context, accountID, realm, username string) (adapter.FlushReport, error) {
	return f.FlushUserFn(accountID, realm, username)
}

type fakeDB struct{ PingFn func() error }

func (f fakeDB) Ping(context.Context) error { return f.PingFn() }

package store

import (
	"context"
	"testing"
	"time"
)

type countingAccounts struct {
	gets, mays int
	mayAct     map[[2]string]bool
}

func (c *countingAccounts) Get(_ context.Context, id string) (Account, error) {
	c.gets++
	if id == "missing" {
		return Account{}, ErrNotFound
	}
	return Account{ID: id, Realm: id + ".test"}, nil
}

func (c *countingAccounts) MayAct(_ context.Context, caller, target string) (bool, error) {
	c.mays++
	return c.mayAct[[2]string{caller, target}], nil
}

func TestCachedAccounts(t *testing.T) {
	ctx := context.Background()
	inner := &countingAccounts{mayAct: map[[2]string]bool{{"parent", "child"}: true}}
	c := NewCachedAccounts(Accounts{})
	c.Accounts = inner
	clock := time.Unix(1000, 0)
	c.accounts.now = func() time.Time { return clock }
	c.mayAct.now = c.accounts.now

	for i := 0; i < 3; i++ {
		if a, err := c.Get(ctx, "a"); err != nil || a.Realm != "a.test" {
			t.Fatalf("%+v %v", a, err)
		}
		if _, err := c.Get(ctx, "missing"); err != ErrNotFound {
			t.Fatalf("missing: %v", err)
		}
	}
	if inner.gets != 4 {
		t.Errorf("%d lookups, want 4 (one for a, three for the missing account)", inner.gets)
	}
	tests := []struct {
		caller, target string
		want           bool
	}{
		{"parent", "child", true}, {"child", "parent", false}, {"parent", "child", true}, {"other", "child", false},
	}
	for _, tt := range tests {
		if got, _ := c.MayAct(ctx, tt.caller, tt.target); got != tt.want {
			t.Errorf("%s on %s: %v", tt.caller, tt.target, got)
		}
	}
	if inner.mays != 3 {
		t.Errorf("%d authorization queries, want 3", inner.mays)
	}
	clock = clock.Add(CacheTTL + time.Second)
	_, _ = c.Get(ctx, "a")
	if inner.gets != 5 {
		t.Errorf("an expired entry was reused")
	}
}

type countingTokens struct {
	calls   int
	revoked bool
}

func (c *countingTokens) Authenticate(_ context.Context, token string) (string, error) {
	c.calls++
	if token != "good" || c.revoked {
		return "", ErrBadToken
	}
	return "acct", nil
}

func TestCachedTokensForgetRevocationWithinTTL(t *testing.T) {
	ctx := context.Background()
	inner := &countingTokens{}
	c := NewCachedTokens(Tokens{})
	c.Tokens = inner
	clock := time.Unix(1000, 0)
	c.ok.now = func() time.Time { return clock }
	for i := 0; i < 3; i++ {
		if id, err := c.Authenticate(ctx, "good"); err != nil || id != "acct" {
			t.Fatal(id, err)
		}
		if _, err := c.Authenticate(ctx, "bad"); err != ErrBadToken {
			t.Fatal(err)
		}
	}
	if inner.calls != 4 {
		t.Errorf("%d calls, want 4: failures are never cached", inner.calls)
	}
	inner.revoked = true
	clock = clock.Add(CacheTTL + time.Millisecond)
	if _, err := c.Authenticate(ctx, "good"); err != ErrBadToken {
		t.Errorf("a revoked token still works after the cache lifetime: %v", err)
	}
}

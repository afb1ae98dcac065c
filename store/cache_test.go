package store

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/testbed"
)

type countingAccounts struct {
	gets, mays atomic.Int32
	mayAct     map[[2]string]bool
	gate       chan struct{}
}

func (c *countingAccounts) Get(ctx context.Context, id string) (kamreg.Account, error) {
	c.gets.Add(1)
	if c.gate != nil {
		select {
		case <-c.gate:
		case <-ctx.Done():
			return kamreg.Account{}, ctx.Err()
		}
	}
	if id == "missing" {
		return kamreg.Account{}, kamreg.ErrNotFound
	}
	return kamreg.Account{ID: id, Realm: id + ".test"}, nil
}

func (c *countingAccounts) MayAct(_ context.Context, caller, target string) (bool, error) {
	c.mays.Add(1)
	return c.mayAct[[2]string{caller, target}], nil
}

// expire waits, with a deadline, until the cache has dropped key.
func expire[V any](t *testing.T, c *lookupCache[V], key string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.lru.Contains(key) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never expired", key)
		}
		time.Sleep(5 * time.Millisecond) // waiting for a condition
	}
}

func TestCachedAccounts(t *testing.T) {
	ctx := context.Background()
	inner := &countingAccounts{mayAct: map[[2]string]bool{{"parent", "child"}: true}}
	c := newCachedAccounts(inner, 200*time.Millisecond)
	for i := 0; i < 3; i++ {
		if a, err := c.Get(ctx, "a"); err != nil || a.Realm != "a.test" {
			t.Fatalf("%+v %v", a, err)
		}
		if _, err := c.Get(ctx, "missing"); err != kamreg.ErrNotFound {
			t.Fatalf("missing: %v", err)
		}
	}
	if n := inner.gets.Load(); n != 4 {
		t.Errorf("%d lookups, want 4 (one for a, three for the missing account)", n)
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
	if n := inner.mays.Load(); n != 3 {
		t.Errorf("%d authorization queries, want 3", n)
	}
	expire(t, c.accounts, "a")
	_, _ = c.Get(ctx, "a")
	if n := inner.gets.Load(); n != 5 {
		t.Errorf("an expired entry was reused")
	}
}

// TestConcurrentMissesShareOneLookup: twenty callers of one missing entry
// cost one database lookup.
func TestConcurrentMissesShareOneLookup(t *testing.T) {
	inner := &countingAccounts{gate: make(chan struct{})}
	c := newCachedAccounts(inner, time.Minute)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = c.Get(context.Background(), "a")
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for inner.gets.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // waiting for the first lookup to start
	}
	close(inner.gate)
	testbed.Wait(t, &wg, 10*time.Second, "20 concurrent callers")
	if n := inner.gets.Load(); n != 1 {
		t.Errorf("%d lookups for 20 concurrent callers", n)
	}
}

type countingTokens struct {
	calls   atomic.Int32
	revoked atomic.Bool
}

func (c *countingTokens) Authenticate(_ context.Context, token string) (string, error) {
	c.calls.Add(1)
	if token != "good" || c.revoked.Load() {
		return "", kamreg.ErrBadToken
	}
	return "acct", nil
}

func TestCachedTokensForgetRevocationWithinTTL(t *testing.T) {
	ctx := context.Background()
	inner := &countingTokens{}
	c := newCachedTokens(inner, 200*time.Millisecond)
	for i := 0; i < 3; i++ {
		if id, err := c.Authenticate(ctx, "good"); err != nil || id != "acct" {
			t.Fatal(id, err)
		}
		if _, err := c.Authenticate(ctx, "bad"); err != kamreg.ErrBadToken {
			t.Fatal(err)
		}
	}
	if n := inner.calls.Load(); n != 4 {
		t.Errorf("%d calls, want 4: failures are never cached", n)
	}
	inner.revoked.Store(true)
	expire(t, c.ok, "good")
	if _, err := c.Authenticate(ctx, "good"); err != kamreg.ErrBadToken {
		t.Errorf("a revoked token still works after the cache lifetime: %v", err)
	}
}

// TestALeaderGoingAwayFailsNobodyElse: the caller whose miss started the
// shared lookup goes away; the others waiting on it still get the account.
func TestALeaderGoingAwayFailsNobodyElse(t *testing.T) {
	inner := &countingAccounts{gate: make(chan struct{})}
	c := newCachedAccounts(inner, time.Minute)
	leaderCtx, leave := context.WithCancel(context.Background())
	leader := make(chan error, 1)
	go func() { _, err := c.Get(leaderCtx, "a"); leader <- err }()
	deadline := time.Now().Add(5 * time.Second)
	for inner.gets.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // waiting for the shared lookup to start
	}
	follower := make(chan error, 1)
	go func() { _, err := c.Get(context.Background(), "a"); follower <- err }()
	leave()
	if err := testbed.Receive(t, leader, 10*time.Second, "the caller that went away"); err == nil {
		t.Error("the caller that went away got an answer")
	}
	close(inner.gate)
	select {
	case err := <-follower:
		if err != nil {
			t.Errorf("the other caller failed with the leader: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the other caller got no answer")
	}
}

package auth

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/testbed"
)

// fakeClock is a clock that moves only when the test moves it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1000, 0)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type countingAccounts struct {
	gets, mays atomic.Int32
	mayAct     map[[2]string]bool
	// started, when set, hears of each Get as it starts; gate, when set,
	// holds each Get until it is closed.
	started chan struct{}
	gate    chan struct{}
}

func (c *countingAccounts) Get(ctx context.Context, id string) (kamreg.Account, error) {
	c.gets.Add(1)
	if c.started != nil {
		c.started <- struct{}{}
	}
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

func TestCachedAccounts(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	inner := &countingAccounts{mayAct: map[[2]string]bool{{"parent", "child"}: true}}
	c := newCachedAccounts(inner, cacheTTL, clock.now)
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
	var got []bool
	for _, tt := range tests {
		ok, _ := c.MayAct(ctx, tt.caller, tt.target)
		got = append(got, ok)
	}
	if diff := cmp.Diff([]bool{true, false, true, false}, got); diff != "" {
		t.Errorf("authorizations (-want +got):\n%s", diff)
	}
	if n := inner.mays.Load(); n != 3 {
		t.Errorf("%d authorization queries, want 3", n)
	}
	clock.add(cacheTTL - time.Nanosecond)
	_, _ = c.Get(ctx, "a")
	if n := inner.gets.Load(); n != 4 {
		t.Errorf("an entry was looked up again within its TTL")
	}
	clock.add(time.Nanosecond)
	_, _ = c.Get(ctx, "a")
	if n := inner.gets.Load(); n != 5 {
		t.Errorf("an expired entry was reused")
	}
}

// TestConcurrentMissesShareOneLookup: twenty callers of one missing entry
// cost one database lookup.
func TestConcurrentMissesShareOneLookup(t *testing.T) {
	inner := &countingAccounts{started: make(chan struct{}, 20), gate: make(chan struct{})}
	c := newCachedAccounts(inner, time.Minute, time.Now)
	var g errgroup.Group
	for i := 0; i < 20; i++ {
		g.Go(func() error {
			_, err := c.Get(context.Background(), "a")
			return err
		})
	}
	testbed.Receive(t, inner.started, 10*time.Second, "the first lookup")
	close(inner.gate)
	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	if err := testbed.Receive(t, done, 10*time.Second, "20 concurrent callers"); err != nil {
		t.Error(err)
	}
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
	clock := newFakeClock()
	inner := &countingTokens{}
	c := newCachedTokens(inner, cacheTTL, clock.now)
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
	if _, err := c.Authenticate(ctx, "good"); err != nil {
		t.Errorf("within its TTL a token is answered from the cache: %v", err)
	}
	clock.add(cacheTTL)
	if _, err := c.Authenticate(ctx, "good"); err != kamreg.ErrBadToken {
		t.Errorf("a revoked token still works after the cache lifetime: %v", err)
	}
}

// TestALeaderGoingAwayFailsNobodyElse: the caller whose miss started the
// shared lookup goes away; the others waiting on it still get the account.
func TestALeaderGoingAwayFailsNobodyElse(t *testing.T) {
	inner := &countingAccounts{started: make(chan struct{}, 2), gate: make(chan struct{})}
	c := newCachedAccounts(inner, time.Minute, time.Now)
	leaderCtx, leave := context.WithCancel(context.Background())
	leader := make(chan error, 1)
	go func() { _, err := c.Get(leaderCtx, "a"); leader <- err }()
	testbed.Receive(t, inner.started, 10*time.Second, "the shared lookup")
	follower := make(chan error, 1)
	go func() { _, err := c.Get(context.Background(), "a"); follower <- err }()
	leave()
	if err := testbed.Receive(t, leader, 10*time.Second, "the caller that went away"); err == nil {
		t.Error("the caller that went away got an answer")
	}
	close(inner.gate)
	if err := testbed.Receive(t, follower, 10*time.Second, "the other caller"); err != nil {
		t.Errorf("the other caller failed with the leader: %v", err)
	}
}

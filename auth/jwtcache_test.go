package auth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
)

// countingVerifier verifies the tokens it was told of until their Until,
// counting the verifications of each.
type countingVerifier struct {
	mu     sync.Mutex
	clk    *clock
	valid  map[string]Verified
	counts map[string]int
}

func (f *countingVerifier) Verify(token string) (Verified, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts[token]++
	if v, ok := f.valid[token]; ok && f.clk.now().Before(v.Until) {
		return v, nil
	}
	return Verified{}, kamreg.ErrBadToken
}

// clock is a fake time that a test moves.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestJWTCache(t *testing.T) {
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	const other = "fedcba9876543210fedcba9876543210"
	type call struct {
		at    time.Duration // after start
		token string
		want  string // the account, or "" for ErrBadToken
	}
	tests := []struct {
		name  string
		size  int
		calls []call
		// verified is how many times each token was verified.
		verified map[string]int
	}{
		{"verified once, then remembered", 10, []call{{0, "a", account}, {time.Second, "a", account}, {time.Hour - time.Nanosecond, "a", account}},
			map[string]int{"a": 1}},
		{"refused from its Until on, without a verification", 10, []call{{0, "a", account}, {time.Hour, "a", ""}, {2 * time.Hour, "a", ""}},
			map[string]int{"a": 1}},
		{"a failure is not kept", 10, []call{{0, "bad", ""}, {time.Second, "bad", ""}},
			map[string]int{"bad": 2}},
		{"each token its own answer", 10, []call{{0, "a", account}, {0, "b", other}, {time.Second, "a", account}, {time.Second, "b", other}},
			map[string]int{"a": 1, "b": 1}},
		{"an expired token is refused, and not kept", 10, []call{{2 * time.Hour, "a", ""}, {2 * time.Hour, "a", ""}},
			map[string]int{"a": 2}},
		{"bounded: the least recently used is verified again", 1, []call{{0, "a", account}, {0, "b", other}, {0, "a", account}},
			map[string]int{"a": 2, "b": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{}
			v := &countingVerifier{clk: clk, counts: map[string]int{}, valid: map[string]Verified{
				"a": {AccountID: account, Until: start.Add(time.Hour)},
				"b": {AccountID: other, Until: start.Add(time.Hour)},
			}}
			c := newJWTCache(v, tt.size, clk.now)
			for i, cl := range tt.calls {
				clk.t = start.Add(cl.at)
				got, err := c.Authenticate(context.Background(), cl.token)
				if got != cl.want || (cl.want == "") != errors.Is(err, kamreg.ErrBadToken) {
					t.Errorf("call %d (%s at +%s): %q, %v; want %q", i, cl.token, cl.at, got, err, cl.want)
				}
			}
			if d := cmp.Diff(tt.verified, v.counts); d != "" {
				t.Errorf("verifications (-want +got):\n%s", d)
			}
		})
	}
}

func TestJWTVerifyTellsUntilWhen(t *testing.T) {
	key := mustKey(t)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	tok := mint(t, jwt.SigningMethodRS256, key, jwt.MapClaims{"account_id": account, "exp": exp.Unix()})
	got, err := newJWT(&key.PublicKey).Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(Verified{AccountID: account, Until: exp.Add(leeway)}, got); d != "" {
		t.Errorf("verified (-want +got):\n%s", d)
	}
	// Through the cache, a real JWT is still refused once it expires.
	clk := &clock{t: exp}
	c := newJWTCache(newJWT(&key.PublicKey), 10, clk.now)
	if id, err := c.Authenticate(context.Background(), tok); id != account || err != nil {
		t.Fatalf("cached JWT: %q, %v", id, err)
	}
	clk.t = exp.Add(leeway)
	if _, err := c.Authenticate(context.Background(), tok); !errors.Is(err, kamreg.ErrBadToken) {
		t.Errorf("an expired JWT through the cache: %v, want ErrBadToken", err)
	}
}

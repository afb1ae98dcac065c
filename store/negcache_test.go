package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kamreg/kamreg"
)

type tokenFunc func(token string) (string, error)

func (f tokenFunc) Authenticate(_ context.Context, token string) (string, error) { return f(token) }

func TestNegativeTokens(t *testing.T) {
	secret := strings.Repeat("a", 64)
	good := "0123456789abcdef0123456789abcdef." + secret
	unknown := "ffffffffffffffffffffffffffffffff." + secret
	wrongSecret := "0123456789abcdef0123456789abcdef." + strings.Repeat("b", 64)
	var asked []string
	n := NewNegativeTokens(tokenFunc(func(tok string) (string, error) {
		asked = append(asked, tok)
		switch tok {
		case good:
			return "acct", nil
		case wrongSecret:
			return "", kamreg.ErrBadToken
		}
		return "", kamreg.ErrUnknownToken
	}))
	now := time.Unix(1000, 0)
	n.ids.now = func() time.Time { return now }
	for _, tt := range []struct {
		token string
		err   error
	}{
		{unknown, kamreg.ErrUnknownToken},                                      // asked
		{unknown, kamreg.ErrUnknownToken},                                      // remembered
		{unknown[:32] + "." + strings.Repeat("c", 64), kamreg.ErrUnknownToken}, // same id, remembered
		{"not-a-token", kamreg.ErrMalformedToken},
		{wrongSecret, kamreg.ErrBadToken}, // asked: a wrong secret does not make the id unknown
		{wrongSecret, kamreg.ErrBadToken}, // asked again
		{good, nil},
	} {
		if _, err := n.Authenticate(context.Background(), tt.token); !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("%.12s…: %v, want %v", tt.token, err, tt.err)
		}
	}
	now = now.Add(NegativeTTL + time.Second)
	_, _ = n.Authenticate(context.Background(), unknown) // forgotten: asked again
	if diff := cmp.Diff([]string{unknown, wrongSecret, wrongSecret, good, unknown}, asked); diff != "" {
		t.Errorf("look-ups (-want +got):\n%s", diff)
	}
}

func TestExpiringSetIsBounded(t *testing.T) {
	s := newExpiringSet(3, time.Minute, time.Now)
	for _, k := range []string{"a", "b", "c", "d", "b"} {
		s.add(k)
	}
	got := []bool{s.has("a"), s.has("b"), s.has("c"), s.has("d")}
	if diff := cmp.Diff([]bool{false, true, true, true}, got); diff != "" {
		t.Errorf("members a b c d (-want +got):\n%s", diff)
	}
	if len(s.until) != 3 {
		t.Errorf("%d members, want at most 3", len(s.until))
	}
}

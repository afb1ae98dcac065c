package auth

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
	now := time.Unix(1000, 0)
	n := newNegativeTokens(tokenFunc(func(tok string) (string, error) {
		asked = append(asked, tok)
		switch tok {
		case good:
			return "acct", nil
		case wrongSecret:
			return "", kamreg.ErrBadToken
		}
		return "", kamreg.ErrUnknownToken
	}), 100, negativeTTL, func() time.Time { return now })
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
	// Once the id is forgotten, it is asked again.
	now = now.Add(negativeTTL)
	_, _ = n.Authenticate(context.Background(), unknown)
	if diff := cmp.Diff([]string{unknown, wrongSecret, wrongSecret, good, unknown}, asked); diff != "" {
		t.Errorf("look-ups (-want +got):\n%s", diff)
	}
}

func TestNegativeTokensAreBounded(t *testing.T) {
	n := newNegativeTokens(tokenFunc(func(string) (string, error) { return "", kamreg.ErrUnknownToken }), 3, time.Minute, time.Now)
	id := func(c string) string { return strings.Repeat(c, 32) }
	for _, c := range []string{"a", "b", "c", "d", "b"} {
		_, _ = n.Authenticate(context.Background(), id(c)+"."+strings.Repeat("0", 64))
	}
	got := []bool{n.ids.Contains(id("a")), n.ids.Contains(id("b")), n.ids.Contains(id("c")), n.ids.Contains(id("d"))}
	if diff := cmp.Diff([]bool{false, true, true, true}, got); diff != "" {
		t.Errorf("ids a b c d remembered (-want +got):\n%s", diff)
	}
}

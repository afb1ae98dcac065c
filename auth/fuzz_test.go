package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kamreg/kamreg"
)

// FuzzToken: a token that is not signed by the key never authenticates,
// whatever its shape, and nothing panics.
func FuzzToken(f *testing.F) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	signed, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"account_id": account, "exp": time.Now().Add(time.Hour).Unix()}).SignedString(other)
	for _, s := range []string{signed, "a.b.c", "0123456789abcdef0123456789abcdef." + "00", "..", "e30.e30.", ""} {
		f.Add(s)
	}
	chain := Chain{JWT: newJWT(&key.PublicKey), Tokens: fakeTokens{func(string) (string, error) { return "", kamreg.ErrBadToken }}}
	f.Fuzz(func(t *testing.T, tok string) {
		id, err := chain.Authenticate(context.Background(), tok)
		if !errors.Is(err, kamreg.ErrBadToken) || id != "" {
			t.Errorf("%q authenticated as %q (%v)", tok, id, err)
		}
		_, _, _ = kamreg.SplitToken(tok)
	})
}

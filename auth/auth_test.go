package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/kamreg/kamreg"
)

const account = "0123456789abcdef0123456789abcdef"

func mustKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mint(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWT(t *testing.T) {
	key, other := mustKey(t), mustKey(t)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&key.PublicKey))})
	path := filepath.Join(t.TempDir(), "kazoo.pub")
	if err := os.WriteFile(path, pubPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := LoadJWT(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	live := jwt.MapClaims{"account_id": account, "owner_id": "u", "exp": now.Add(time.Hour).Unix()}
	with := func(k string, val any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for kk, vv := range live {
			c[kk] = vv
		}
		if val == nil {
			delete(c, k)
		} else {
			c[k] = val
		}
		return c
	}
	none := mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, live)
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"RS256", mint(t, jwt.SigningMethodRS256, key, live), true},
		{"RS384", mint(t, jwt.SigningMethodRS384, key, live), true},
		{"RS512", mint(t, jwt.SigningMethodRS512, key, live), true},
		{"expired within the leeway", mint(t, jwt.SigningMethodRS256, key, with("exp", now.Add(-10*time.Second).Unix())), true},
		{"expired", mint(t, jwt.SigningMethodRS256, key, with("exp", now.Add(-time.Minute).Unix())), false},
		{"no exp", mint(t, jwt.SigningMethodRS256, key, with("exp", nil)), false},
		{"no account_id", mint(t, jwt.SigningMethodRS256, key, with("account_id", nil)), false},
		{"malformed account_id", mint(t, jwt.SigningMethodRS256, key, with("account_id", "ACCOUNT")), false},
		{"another key", mint(t, jwt.SigningMethodRS256, other, live), false},
		{"alg none", none, false},
		{"HS256 keyed with the public key", mint(t, jwt.SigningMethodHS256, pubPEM, live), false},
		{"HS512 keyed with the public key", mint(t, jwt.SigningMethodHS512, pubPEM, live), false},
		{"PS256", mint(t, jwt.SigningMethodPS256, key, live), false},
		{"garbage", "a.b.c", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Authenticate(context.Background(), tt.token)
			if tt.ok && (err != nil || got != account) {
				t.Errorf("got %q, %v; want %s", got, err, account)
			}
			if !tt.ok && !errors.Is(err, kamreg.ErrBadToken) {
				t.Errorf("got %q, %v; want ErrBadToken", got, err)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

type fakeTokens struct{ fn func(string) (string, error) }

func (f fakeTokens) Authenticate(_ context.Context, tok string) (string, error) { return f.fn(tok) }

func TestChain(t *testing.T) {
	key := mustKey(t)
	good := "0123456789abcdef0123456789abcdef." + strings.Repeat("5", 64)
	unknown := "ffffffffffffffffffffffffffffffff." + strings.Repeat("5", 64)
	var asked []string
	api := fakeTokens{func(tok string) (string, error) {
		asked = append(asked, tok)
		if tok == good {
			return "api-account", nil
		}
		return "", kamreg.ErrUnknownToken
	}}
	jwtToken := mint(t, jwt.SigningMethodRS256, key, jwt.MapClaims{"account_id": account, "exp": time.Now().Add(time.Hour).Unix()})
	tests := []struct {
		name  string
		chain Chain
		token string
		want  string
		err   error
	}{
		{"API token", Chain{JWT: newJWT(&key.PublicKey), Tokens: api}, good, "api-account", nil},
		{"JWT", Chain{JWT: newJWT(&key.PublicKey), Tokens: api}, jwtToken, account, nil},
		{"JWT without a key configured", Chain{Tokens: api}, jwtToken, "", kamreg.ErrMalformedToken},
		{"unknown API token", Chain{Tokens: api}, unknown, "", kamreg.ErrUnknownToken},
		{"malformed: no dot", Chain{Tokens: api}, "nodot", "", kamreg.ErrMalformedToken},
		{"malformed: short secret", Chain{Tokens: api}, "0123456789abcdef0123456789abcdef.55", "", kamreg.ErrMalformedToken},
		{"malformed: upper-case id", Chain{Tokens: api}, strings.ToUpper(good[:32]) + good[32:], "", kamreg.ErrMalformedToken},
		{"malformed: empty", Chain{Tokens: api}, "", "", kamreg.ErrMalformedToken},
	}
	for _, tt := range tests {
		got, err := tt.chain.Authenticate(context.Background(), tt.token)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("%s: %q, %v; want %q, %v", tt.name, got, err, tt.want, tt.err)
		}
		if !errors.Is(err, kamreg.ErrBadToken) && err != nil {
			t.Errorf("%s: %v is not an ErrBadToken", tt.name, err)
		}
	}
	// Only well-formed API tokens reached the token store.
	if diff := cmp.Diff([]string{good, unknown}, asked); diff != "" {
		t.Errorf("tokens looked up (-want +got):\n%s", diff)
	}
}

// Package auth authenticates callers: kamreg API tokens (kept by store)
// and, when a public key is configured, Kazoo's RS256/384/512 JWTs.
package auth

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kamreg/kamreg"
)

// Leeway is the clock skew tolerated on a JWT's exp.
const Leeway = 30 * time.Second

// JWT verifies Kazoo-issued JWTs with Kazoo's RSA public key.
type JWT struct {
	key *rsa.PublicKey
	now func() time.Time
}

// LoadJWT reads Kazoo's RSA public key (PEM) from path.
func LoadJWT(path string) (*JWT, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := jwt.ParseRSAPublicKeyFromPEM(pem)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return NewJWT(key), nil
}

// NewJWT returns a verifier for key.
func NewJWT(key *rsa.PublicKey) *JWT { return &JWT{key: key, now: time.Now} }

// claims are the parts of a Kazoo token kamreg reads.
type claims struct {
	AccountID string `json:"account_id"`
	jwt.RegisteredClaims
}

// Authenticate returns the account_id claim of a valid token (Verify).
func (j *JWT) Authenticate(_ context.Context, token string) (string, error) {
	v, err := j.Verify(token)
	return v.AccountID, err
}

// Verify checks a token: signed with the configured key by RS256, RS384
// or RS512 (never "none" nor an HMAC algorithm), with an exp not passed
// (give or take Leeway) and a well-formed account_id. Anything else is
// kamreg.ErrBadToken.
func (j *JWT) Verify(token string) (Verified, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		if _, ok := t.Method.(*jwt.SigningMethodRSA); !ok {
			return nil, fmt.Errorf("algorithm %v refused", t.Header["alg"])
		}
		return j.key, nil
	},
		jwt.WithValidMethods([]string{"RS256", "RS384", "RS512"}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(j.now))
	if err != nil || !kamreg.ValidID(c.AccountID) || c.ExpiresAt == nil {
		return Verified{}, kamreg.ErrBadToken
	}
	return Verified{AccountID: c.AccountID, Until: c.ExpiresAt.Add(Leeway)}, nil
}

// TokenChecker authenticates kamreg API tokens.
type TokenChecker interface {
	Authenticate(ctx context.Context, token string) (string, error)
}

// Chain takes a JWT (three dot-separated parts) to the JWT verifier when
// one is configured, and anything else to the API tokens.
type Chain struct {
	// JWT authenticates JWTs (a *JWTCache over a *JWT); nil refuses them.
	JWT    TokenChecker
	Tokens TokenChecker
}

// Authenticate returns the caller's account id, or kamreg.ErrBadToken. A
// token that is neither a JWT (when JWTs are on) nor "<id>.<secret>" is
// kamreg.ErrMalformedToken and never reaches Tokens.
func (c Chain) Authenticate(ctx context.Context, token string) (string, error) {
	if strings.Count(token, ".") == 2 {
		if c.JWT == nil {
			return "", kamreg.ErrMalformedToken
		}
		return c.JWT.Authenticate(ctx, token)
	}
	if _, _, ok := kamreg.SplitToken(token); !ok {
		return "", kamreg.ErrMalformedToken
	}
	id, err := c.Tokens.Authenticate(ctx, token)
	if err != nil && !errors.Is(err, kamreg.ErrBadToken) {
		return "", err
	}
	return id, err
}

package auth

import (
	"context"
	"crypto/rsa"
	"fmt"
	"os"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kamreg/kamreg"
)

// leeway is the clock skew tolerated on a JWT's exp.
const leeway = 30 * time.Second

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
	return newJWT(key), nil
}

// newJWT returns a verifier for key.
func newJWT(key *rsa.PublicKey) *JWT { return &JWT{key: key, now: time.Now} }

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
// (give or take leeway) and a well-formed account_id. Anything else is
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
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(j.now))
	if err != nil || !kamreg.ValidID(c.AccountID) || c.ExpiresAt == nil {
		return Verified{}, kamreg.ErrBadToken
	}
	return Verified{AccountID: c.AccountID, Until: c.ExpiresAt.Add(leeway)}, nil
}

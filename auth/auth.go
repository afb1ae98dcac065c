// Package auth is kamreg's authentication: who a caller is (kamreg API
// tokens, kept by store, and, when a public key is configured, Kazoo's
// RS256/384/512 JWTs), the caches in front of those lookups and of the
// account lookups, and the policy that bounds failed authentications per
// client address and the requests of each token. It knows no HTTP and no
// SQL: rest/ reads the token and answers, store/ runs the queries.
package auth

import (
	"context"
	"errors"
	"strings"

	"github.com/kamreg/kamreg"
)

// Chain takes a JWT (three dot-separated parts) to the JWT verifier when
// one is configured, and anything else to the API tokens.
type Chain struct {
	// JWT authenticates JWTs (a *JWTCache over a *JWT); nil refuses them.
	JWT    kamreg.Authenticator
	Tokens kamreg.Authenticator
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

package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/dberr"
)

// Tokens keeps kamreg API tokens. A token reads "<id>.<secret>": the id is
// public (it names the token for revocation), and only a SHA-256 of the
// secret is stored.
type Tokens struct {
	Pool *pgxpool.Pool
	// OnLookup, when set, is called for each look-up sent to PostgreSQL.
	OnLookup func()
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return hex.EncodeToString(b)
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Create makes a token for the account and returns it. The secret is not
// kept and cannot be shown again.
func (s Tokens) Create(ctx context.Context, accountID, description string) (string, error) {
	if err := checkID("account id", accountID); err != nil {
		return "", err
	}
	id, secret := randomHex(16), randomHex(32)
	_, err := s.Pool.Exec(ctx, `INSERT INTO kamreg_tokens (id, account_id, secret_hash, description) VALUES ($1, $2, $3, $4)`,
		id, accountID, hashSecret(secret), description)
	if dberr.IsCode(err, "23503") {
		return "", invalid("account id", "account "+accountID+" does not exist")
	}
	if err != nil {
		return "", dberr.Wrap(err)
	}
	return id + "." + secret, nil
}

// Revoke revokes a token given its id (or the whole token). It returns
// kamreg.ErrNotFound when no live token has that id.
func (s Tokens) Revoke(ctx context.Context, idOrToken string) error {
	id, _, _ := strings.Cut(idOrToken, ".")
	if err := checkID("token id", id); err != nil {
		return err
	}
	tag, err := s.Pool.Exec(ctx, `UPDATE kamreg_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, id)
	if err != nil {
		return dberr.Wrap(err)
	}
	if tag.RowsAffected() == 0 {
		return kamreg.ErrNotFound
	}
	return nil
}

// Authenticate returns the account a live token is bound to, or
// kamreg.ErrBadToken (kamreg.ErrMalformedToken, kamreg.ErrUnknownToken or
// a wrong secret).
func (s Tokens) Authenticate(ctx context.Context, token string) (string, error) {
	id, secret, ok := kamreg.SplitToken(token)
	if !ok {
		return "", kamreg.ErrMalformedToken
	}
	var accountID string
	var hash []byte
	if s.OnLookup != nil {
		s.OnLookup()
	}
	err := s.Pool.QueryRow(ctx, `SELECT account_id, secret_hash FROM kamreg_tokens WHERE id = $1 AND revoked_at IS NULL`, id).Scan(&accountID, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", kamreg.ErrUnknownToken
	}
	if err != nil {
		return "", dberr.Wrap(err)
	}
	if subtle.ConstantTimeCompare(hash, hashSecret(secret)) != 1 {
		return "", kamreg.ErrBadToken
	}
	return accountID, nil
}

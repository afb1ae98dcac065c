package store

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Device is the Kazoo device behind a SIP username of an account.
type Device struct {
	AccountID                string
	Username                 string
	DeviceID                 string
	OwnerID                  string
	SuppressUnregisterNotify bool
}

// Devices reads and writes kamreg_devices.
type Devices struct{ Pool *pgxpool.Pool }

// Put creates or updates the device of an account's username. Usernames
// compare case-insensitively, as Kamailio's AoRs do by default.
func (s Devices) Put(ctx context.Context, d Device) error {
	if err := checkID("account id", d.AccountID); err != nil {
		return err
	}
	if err := checkID("device id", d.DeviceID); err != nil {
		return err
	}
	if d.OwnerID != "" {
		if err := checkID("owner id", d.OwnerID); err != nil {
			return err
		}
	}
	d.Username = strings.TrimSpace(d.Username)
	if d.Username == "" || strings.ContainsAny(d.Username, "@ \t") {
		return &InvalidError{Field: "username", Message: "must be a SIP username without @ or spaces"}
	}
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE kamreg_devices SET username = $2, device_id = $3, owner_id = NULLIF($4, ''),
				suppress_unregister_notify = $5, updated_at = now()
			WHERE account_id = $1 AND lower(username) = lower($2)`,
			d.AccountID, d.Username, d.DeviceID, d.OwnerID, d.SuppressUnregisterNotify)
		if err != nil || tag.RowsAffected() > 0 {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO kamreg_devices (account_id, username, device_id, owner_id, suppress_unregister_notify)
			VALUES ($1, $2, $3, NULLIF($4, ''), $5)`,
			d.AccountID, d.Username, d.DeviceID, d.OwnerID, d.SuppressUnregisterNotify)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23503" {
			return &InvalidError{Field: "account id", Message: "account " + d.AccountID + " does not exist"}
		}
		return err
	})
}

// Exists tells whether the account has a device for username.
func (s Devices) Exists(ctx context.Context, accountID, username string) (bool, error) {
	var ok bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM kamreg_devices WHERE account_id = $1 AND lower(username) = lower($2))`,
		accountID, username).Scan(&ok)
	return ok, err
}

package store

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/dberr"
)

// Devices reads and writes kamreg_devices.
type Devices struct{ Pool *pgxpool.Pool }

// Put creates or updates the device of an account's username. Usernames
// compare case-insensitively, as Kamailio's AoRs do by default.
func (s Devices) Put(ctx context.Context, d kamreg.Device) error {
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
		return invalid("username", "must be a SIP username without @ or spaces")
	}
	// One round trip, one transaction: the device, and the notification
	// that its realm's directory changed (see notifyDirectory).
	b := &pgx.Batch{}
	b.Queue(`
		INSERT INTO kamreg_devices (account_id, username, device_id, owner_id, suppress_unregister_notify)
		VALUES ($1, $2, $3, NULLIF($4, ''), $5)
		ON CONFLICT (account_id, lower(username)) DO UPDATE SET username = EXCLUDED.username,
			device_id = EXCLUDED.device_id, owner_id = EXCLUDED.owner_id,
			suppress_unregister_notify = EXCLUDED.suppress_unregister_notify, updated_at = now()`,
		d.AccountID, d.Username, d.DeviceID, d.OwnerID, d.SuppressUnregisterNotify)
	b.Queue(notifyDirectory, flushChannel, directorySender+" 0 ", maxRealm, d.AccountID)
	err := s.Pool.SendBatch(ctx, b).Close()
	if dberr.IsCode(err, "23503") {
		return invalid("account id", "account "+d.AccountID+" does not exist")
	}
	return dberr.Wrap(err)
}

// Exists tells whether the account has a device for username.
func (s Devices) Exists(ctx context.Context, accountID, username string) (bool, error) {
	var ok bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM kamreg_devices WHERE account_id = $1 AND lower(username) = lower($2))`,
		accountID, username).Scan(&ok)
	return ok, dberr.Wrap(err)
}

// Usernames returns the usernames of the account's devices.
func (s Devices) Usernames(ctx context.Context, accountID string) ([]string, error) {
	rows, err := s.Pool.Query(ctx, `SELECT username FROM kamreg_devices WHERE account_id = $1 ORDER BY username`, accountID)
	if err != nil {
		return nil, dberr.Wrap(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, dberr.Wrap(err)
		}
		out = append(out, u)
	}
	return out, dberr.Wrap(rows.Err())
}

// List returns the account's devices, ordered by username.
func (s Devices) List(ctx context.Context, accountID string) ([]kamreg.Device, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT username, device_id, coalesce(owner_id, ''), suppress_unregister_notify FROM kamreg_devices
		WHERE account_id = $1 ORDER BY lower(username), username`, accountID)
	if err != nil {
		return nil, dberr.Wrap(err)
	}
	out := []kamreg.Device{}
	d := kamreg.Device{AccountID: accountID}
	_, err = pgx.ForEachRow(rows, []any{&d.Username, &d.DeviceID, &d.OwnerID, &d.SuppressUnregisterNotify}, func() error {
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, dberr.Wrap(err)
	}
	return out, nil
}

package store

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamreg/kamreg/kamailio"
)

// Directory answers what kamreg's tables know about realms and usernames,
// for bindings read outside the location table (the rpc source).
type Directory struct{ Pool *pgxpool.Pool }

type deviceInfo struct {
	id, owner string
	suppress  bool
}

// Enrich fills each binding's account (by realm, case-insensitively) and
// device (by username) in one query.
func (d Directory) Enrich(ctx context.Context, bs []kamailio.Binding) error {
	if len(bs) == 0 {
		return nil
	}
	realms := map[string]bool{}
	var list []string
	for _, b := range bs {
		if r := strings.ToLower(b.Domain); !realms[r] {
			realms[r] = true
			list = append(list, r)
		}
	}
	rows, err := d.Pool.Query(ctx, `
		SELECT a.id, a.name, a.realm, coalesce(lower(d.username), ''), coalesce(d.device_id, ''),
			coalesce(d.owner_id, ''), coalesce(d.suppress_unregister_notify, false)
		FROM kamreg_accounts a LEFT JOIN kamreg_devices d ON d.account_id = a.id
		WHERE lower(a.realm) = ANY($1::text[])`, list)
	if err != nil {
		return err
	}
	defer rows.Close()
	accounts := map[string]Account{}
	devices := map[[2]string]deviceInfo{}
	for rows.Next() {
		var a Account
		var user string
		var dev deviceInfo
		if err := rows.Scan(&a.ID, &a.Name, &a.Realm, &user, &dev.id, &dev.owner, &dev.suppress); err != nil {
			return err
		}
		realm := strings.ToLower(a.Realm)
		accounts[realm] = a
		if user != "" {
			devices[[2]string{realm, user}] = dev
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range bs {
		b := &bs[i]
		realm := strings.ToLower(b.Domain)
		if a, ok := accounts[realm]; ok {
			b.AccountID, b.AccountName, b.AccountRealm = a.ID, a.Name, a.Realm
		}
		if dev, ok := devices[[2]string{realm, strings.ToLower(b.Username)}]; ok {
			b.DeviceID, b.OwnerID, b.SuppressUnregisterNotify = dev.id, dev.owner, dev.suppress
		}
	}
	return nil
}

package store

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/dberr"
)

// Directory reads what kamreg's tables say about one realm (or every
// realm): its accounts, its devices and the flush records that still hide
// rows. Read takes all of them in one round trip; Accounts and
// FlushRecords take one part, for a reader that holds the other.
type Directory struct{ Pool *pgxpool.Pool }

// directory reads the accounts of one realm (lower case), or of every
// realm for "", with their devices.
const (
	directoryOfRealm = `
		SELECT a.id, a.name, a.realm, coalesce(a.parent_id, ''), a.superduper, coalesce(d.username, ''),
			coalesce(d.device_id, ''), coalesce(d.owner_id, ''), coalesce(d.suppress_unregister_notify, false)
		FROM kamreg_accounts a LEFT JOIN kamreg_devices d ON d.account_id = a.id
		WHERE lower(a.realm) = $1`
	directoryOfAll = `
		SELECT a.id, a.name, a.realm, coalesce(a.parent_id, ''), a.superduper, coalesce(d.username, ''),
			coalesce(d.device_id, ''), coalesce(d.owner_id, ''), coalesce(d.suppress_unregister_notify, false)
		FROM kamreg_accounts a LEFT JOIN kamreg_devices d ON d.account_id = a.id`
	flushesOfRealm = `
		SELECT ruid, username, domain, callid, cseq, last_modified FROM kamreg_flushes
		WHERE domain = $1 AND expires_at > now()`
	flushesOfAll = `
		SELECT ruid, username, domain, callid, cseq, last_modified FROM kamreg_flushes
		WHERE expires_at > now()`
)

// Read returns the directory and the live flush records of realm ("" for
// every realm), in one round trip.
func (d Directory) Read(ctx context.Context, realm string) (*kamreg.Directory, []kamreg.FlushRecord, error) {
	return d.read(ctx, realm, true, true)
}

// Accounts returns the directory of realm ("" for every realm) alone.
func (d Directory) Accounts(ctx context.Context, realm string) (*kamreg.Directory, error) {
	dir, _, err := d.read(ctx, realm, true, false)
	return dir, err
}

// FlushRecords returns the live flush records of realm ("" for every
// realm) alone.
func (d Directory) FlushRecords(ctx context.Context, realm string) ([]kamreg.FlushRecord, error) {
	_, recs, err := d.read(ctx, realm, false, true)
	return recs, err
}

func (d Directory) read(ctx context.Context, realm string, accounts, flushes bool) (*kamreg.Directory, []kamreg.FlushRecord, error) {
	realm = strings.ToLower(realm)
	b := &pgx.Batch{}
	var dir *kamreg.Directory
	if accounts {
		dir = kamreg.NewDirectory()
		queue(b, realm, directoryOfRealm, directoryOfAll).Query(func(rows pgx.Rows) error { return scanDirectory(rows, dir) })
	}
	var hidden []kamreg.FlushRecord
	if flushes {
		queue(b, realm, flushesOfRealm, flushesOfAll).Query(func(rows pgx.Rows) error {
			var err error
			hidden, err = scanFlushes(rows)
			return err
		})
	}
	if err := d.Pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, nil, dberr.Wrap(err)
	}
	return dir, hidden, nil
}

func scanDirectory(rows pgx.Rows, dir *kamreg.Directory) error {
	var a kamreg.Account
	var dev kamreg.Device
	_, err := pgx.ForEachRow(rows, []any{&a.ID, &a.Name, &a.Realm, &a.ParentID, &a.SuperDuper, &dev.Username,
		&dev.DeviceID, &dev.OwnerID, &dev.SuppressUnregisterNotify}, func() error {
		dir.AddAccount(a)
		if dev.Username != "" {
			dev.AccountID = a.ID
			dir.AddDevice(a.Realm, dev)
		}
		return nil
	})
	return err
}

// queue adds ofRealm for realm, or ofAll when realm is "".
func queue(b *pgx.Batch, realm, ofRealm, ofAll string) *pgx.QueuedQuery {
	if realm == "" {
		return b.Queue(ofAll)
	}
	return b.Queue(ofRealm, realm)
}

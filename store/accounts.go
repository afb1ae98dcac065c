package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/dberr"
)

// Accounts reads and writes kamreg_accounts.
type Accounts struct{ Pool *pgxpool.Pool }

// maxDepth bounds walks up the account tree.
const maxDepth = 64

// ancestors walks up the tree from the account $1 (itself included), at
// most $3 levels, as the relation up(id, parent_id, depth).
const ancestors = `
	WITH RECURSIVE up(id, parent_id, depth) AS (
		SELECT id, parent_id, 0 FROM kamreg_accounts WHERE id = $1
		UNION ALL
		SELECT p.id, p.parent_id, up.depth + 1 FROM kamreg_accounts p JOIN up ON p.id = up.parent_id
		WHERE up.depth < $3)`

// Put creates or updates an account after checking its fields, that the
// parent exists and that the parent link makes no cycle.
func (s Accounts) Put(ctx context.Context, a kamreg.Account) error {
	if err := checkID("account id", a.ID); err != nil {
		return err
	}
	a.Realm = strings.TrimSpace(a.Realm)
	a.Name = strings.TrimSpace(a.Name)
	if a.Realm == "" || strings.ContainsAny(a.Realm, " @;:/\t") {
		return invalid("realm", fmt.Sprintf("%q is not a SIP domain", a.Realm))
	}
	if a.Name == "" {
		return invalid("name", "must not be empty")
	}
	if a.ParentID != "" {
		if err := checkID("parent id", a.ParentID); err != nil {
			return err
		}
		if a.ParentID == a.ID {
			return invalid("parent id", "an account cannot be its own parent")
		}
	}
	return dberr.Wrap(pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if a.ParentID != "" {
			var found, cycle bool
			err := tx.QueryRow(ctx, ancestors+`
				SELECT EXISTS (SELECT 1 FROM up), EXISTS (SELECT 1 FROM up WHERE id = $2)`,
				a.ParentID, a.ID, maxDepth).Scan(&found, &cycle)
			if err != nil {
				return err
			}
			if !found {
				return invalid("parent id", fmt.Sprintf("account %s does not exist", a.ParentID))
			}
			if cycle {
				return invalid("parent id", fmt.Sprintf("account %s is below %s: that would make a cycle", a.ParentID, a.ID))
			}
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO kamreg_accounts (id, name, realm, parent_id, superduper)
			VALUES ($1, $2, $3, NULLIF($4, ''), $5)
			ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, realm = EXCLUDED.realm,
				parent_id = EXCLUDED.parent_id, superduper = EXCLUDED.superduper, updated_at = now()`,
			a.ID, a.Name, a.Realm, a.ParentID, a.SuperDuper)
		if dberr.IsCode(err, "23505") {
			return invalid("realm", fmt.Sprintf("%q already belongs to another account", a.Realm))
		}
		if err != nil {
			return err
		}
		// An account may change realm: every realm's directory is read
		// again.
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, flushChannel, payload(directorySender, 0, ""))
		return err
	}))
}

const accountColumns = `id, name, realm, coalesce(parent_id, ''), superduper`

func scanAccount(row pgx.Row) (kamreg.Account, error) {
	var a kamreg.Account
	err := row.Scan(&a.ID, &a.Name, &a.Realm, &a.ParentID, &a.SuperDuper)
	return a, dberr.Wrap(err)
}

// Get returns one account, or kamreg.ErrNotFound.
func (s Accounts) Get(ctx context.Context, id string) (kamreg.Account, error) {
	return scanAccount(s.Pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM kamreg_accounts WHERE id = $1`, id))
}

// List returns every account, ordered by id.
func (s Accounts) List(ctx context.Context) ([]kamreg.Account, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+accountColumns+` FROM kamreg_accounts ORDER BY id`)
	if err != nil {
		return nil, dberr.Wrap(err)
	}
	defer rows.Close()
	var out []kamreg.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, dberr.Wrap(rows.Err())
}

// MayAct tells whether the caller account may act on the target account:
// it is the target, one of its ancestors, or a super-duper account.
func (s Accounts) MayAct(ctx context.Context, caller, target string) (bool, error) {
	var ok bool
	err := s.Pool.QueryRow(ctx, ancestors+`
		SELECT EXISTS (SELECT 1 FROM up WHERE id = $2)
			OR EXISTS (SELECT 1 FROM kamreg_accounts WHERE id = $2 AND superduper)`,
		target, caller, maxDepth).Scan(&ok)
	return ok, dberr.Wrap(err)
}

// Descendants returns every account below id, at most maxDepth levels
// down, ordered by name then id. Each carries its tree: id's own
// ancestors, id, then the accounts between id and it.
func (s Accounts) Descendants(ctx context.Context, id string) ([]kamreg.Descendant, error) {
	rows, err := s.Pool.Query(ctx, ancestors+`,
		lineage(tree) AS (SELECT coalesce(array_agg(id ORDER BY depth DESC), '{}') FROM up),
		down(id, tree, depth) AS (
			SELECT c.id, lineage.tree, 1 FROM kamreg_accounts c, lineage WHERE c.parent_id = $1
			UNION ALL
			SELECT c.id, down.tree || down.id, down.depth + 1 FROM kamreg_accounts c JOIN down ON c.parent_id = down.id
			WHERE down.depth < $2)
		SELECT a.id, a.name, a.realm, coalesce(a.parent_id, ''), a.superduper, down.tree
		FROM down JOIN kamreg_accounts a ON a.id = down.id
		ORDER BY a.name, a.id`, id, maxDepth, maxDepth)
	if err != nil {
		return nil, dberr.Wrap(err)
	}
	out := []kamreg.Descendant{}
	var d kamreg.Descendant
	_, err = pgx.ForEachRow(rows, []any{&d.ID, &d.Name, &d.Realm, &d.ParentID, &d.SuperDuper, &d.Tree}, func() error {
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, dberr.Wrap(err)
	}
	return out, nil
}

package registry

import (
	"context"
	"strings"

	"github.com/kamreg/kamreg"
)

// AccountLister lists every account (store.Accounts).
type AccountLister interface {
	List(ctx context.Context) ([]kamreg.Account, error)
}

// RealmCounter counts live rows per realm (kamailio.Usrloc).
type RealmCounter interface {
	CountByRealm(ctx context.Context, realms []string) (map[string]int, error)
}

// AccountCount is the number of live registrations of an account.
type AccountCount struct {
	Account kamreg.Account
	Count   int
}

// CountByAccount counts the live rows of each account's realm, for the
// kamreg_registrations gauge: one query for the accounts, one for the
// counts, at most limit accounts. Rows a flush record still hides are
// counted until Kamailio's timer removes them.
func CountByAccount(ctx context.Context, accounts AccountLister, rows RealmCounter, limit int) ([]AccountCount, error) {
	all, err := accounts.List(ctx)
	if err != nil {
		return nil, err
	}
	if len(all) > limit {
		all = all[:limit]
	}
	realms := make([]string, len(all))
	for i, a := range all {
		realms[i] = strings.ToLower(a.Realm)
	}
	counts, err := rows.CountByRealm(ctx, realms)
	if err != nil {
		return nil, err
	}
	out := make([]AccountCount, len(all))
	for i, a := range all {
		out[i] = AccountCount{Account: a, Count: counts[realms[i]]}
	}
	return out, nil
}

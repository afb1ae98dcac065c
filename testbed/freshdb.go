package testbed

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// FreshDB creates a database of t's own in p, with Kamailio's schema, and
// returns its URL; it fails t when it cannot. The database is named after
// the test, so that a failing test's data is easy to find.
func (p *Postgres) FreshDB(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url, err := p.CreateDatabase(ctx, dbName(t.Name(), freshDBs.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// freshDBs numbers the databases FreshDB creates.
var freshDBs atomic.Int64

// maxIdentifier is the longest name PostgreSQL keeps; it cuts longer ones.
const maxIdentifier = 63

var notInName = regexp.MustCompile(`[^a-z0-9]+`)

// dbName is the n-th fresh database's name for the test named test: the
// number first, so that cutting a long name never makes two alike.
func dbName(test string, n int64) string {
	name := fmt.Sprintf("t%d_%s", n, notInName.ReplaceAllString(strings.ToLower(test), "_"))
	return strings.TrimRight(name[:min(len(name), maxIdentifier)], "_")
}

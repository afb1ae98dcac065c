package query

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPgbench(t *testing.T) {
	for _, c := range []struct{ sql, want string }{
		{Count, `SELECT count(*) FROM location WHERE domain = :realm AND (expires > (now() AT TIME ZONE 'UTC') OR expires = '1970-01-01 00:00:00');` + "\n"},
		{List, `SELECT * FROM location WHERE domain = :realm AND (expires > (now() AT TIME ZONE 'UTC') OR expires = '1970-01-01 00:00:00') ORDER BY username, contact;` + "\n"},
	} {
		if diff := cmp.Diff(c.want, Pgbench(c.sql)); diff != "" {
			t.Errorf("(-want +got)\n%s", diff)
		}
	}
}

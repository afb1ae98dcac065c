package testbed

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDBName: a fresh database's name is a plain identifier PostgreSQL
// keeps whole, and two tests never share one.
func TestDBName(t *testing.T) {
	long := "TestAVeryLongTestNameThatGoesOnAndOnPastWhatPostgreSQLKeeps/with_a_subtest"
	tests := []struct {
		test string
		n    int64
		want string
	}{
		{"TestAccounts", 1, "t1_testaccounts"},
		{"TestOptions/dump TTL", 12, "t12_testoptions_dump_ttl"},
		{"TestX/", 3, "t3_testx"},
		{long, 7, "t7_testaverylongtestnamethatgoesonandonpastwhatpostgresqlkeeps"},
		{long, 8, "t8_testaverylongtestnamethatgoesonandonpastwhatpostgresqlkeeps"},
	}
	for _, tt := range tests {
		got := dbName(tt.test, tt.n)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("dbName(%q, %d) (-want +got):\n%s", tt.test, tt.n, diff)
		}
		if len(got) > maxIdentifier {
			t.Errorf("dbName(%q, %d) is %d bytes, past PostgreSQL's %d", tt.test, tt.n, len(got), maxIdentifier)
		}
	}
}

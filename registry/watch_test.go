package registry

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
)

func TestWatched(t *testing.T) {
	src, dir := acme()
	dir.records = []kamreg.FlushRecord{{Ruid: "r2", CallID: "c-r2", CSeq: 1, LastModified: now.Add(-time.Minute)}}
	r := &Registry{Source: src, Directory: dir, Now: func() time.Time { return now }}
	entries, err := r.Watched(context.Background(), "ACME.test")
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ ID, Username, Account string }
	var got []row
	versions := map[string]string{}
	for _, e := range entries {
		got = append(got, row{e.ID, e.Reg.Username, e.Reg.AccountName})
		versions[e.ID] = e.Version
	}
	// The list's order and mapping; r2 is hidden by its flush record.
	want := []row{{"r1", "alice", "Acme"}, {"r3", "bob", "Acme"}, {"r4", "carol", "Acme"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}

	// A REGISTER refreshing r1 changes its version, and only its.
	src.bindings[1].CSeq++
	src.bindings[1].Expires = src.bindings[1].Expires.Add(time.Minute)
	again, err := r.Watched(context.Background(), "acme.test")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range again {
		if changed := e.Version != versions[e.ID]; changed != (e.ID == "r1") {
			t.Errorf("%s: version changed %v", e.ID, changed)
		}
	}
}

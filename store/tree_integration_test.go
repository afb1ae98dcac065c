//go:build integration

package store

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
)

// TestDescendants: every account below one, however deep, ordered by
// name, each with Kazoo's tree (the queried account's own ancestors
// first); none below a leaf or an unknown account.
func TestDescendants(t *testing.T) {
	ctx := testCtx(t)
	s := Accounts{Pool: freshDB(t, true)}
	const sibling = "21000000000000000000000000000000"
	for _, a := range []kamreg.Account{
		{ID: root, Name: "Root", Realm: "root.test"},
		{ID: mid, Name: "Mid", Realm: "mid.test", ParentID: root},
		{ID: sibling, Name: "Beta", Realm: "beta.test", ParentID: root, SuperDuper: true},
		{ID: leaf, Name: "Leaf", Realm: "leaf.test", ParentID: mid},
		{ID: other, Name: "Other", Realm: "other.test"},
	} {
		if err := s.Put(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name, id string
		want     []kamreg.Descendant
	}{
		{"root", root, []kamreg.Descendant{
			{Account: kamreg.Account{ID: sibling, Name: "Beta", Realm: "beta.test", ParentID: root, SuperDuper: true}, Tree: []string{root}},
			{Account: kamreg.Account{ID: leaf, Name: "Leaf", Realm: "leaf.test", ParentID: mid}, Tree: []string{root, mid}},
			{Account: kamreg.Account{ID: mid, Name: "Mid", Realm: "mid.test", ParentID: root}, Tree: []string{root}},
		}},
		{"mid", mid, []kamreg.Descendant{
			{Account: kamreg.Account{ID: leaf, Name: "Leaf", Realm: "leaf.test", ParentID: mid}, Tree: []string{root, mid}},
		}},
		{"leaf", leaf, []kamreg.Descendant{}},
		{"unknown", "60000000000000000000000000000000", []kamreg.Descendant{}},
	} {
		got, err := s.Descendants(ctx, tt.id)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Descendants(%s) (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestDeviceList: an account's device records, ordered by username
// whatever its case, and none for an account without any.
func TestDeviceList(t *testing.T) {
	ctx := testCtx(t)
	pool := freshDB(t, true)
	for _, a := range []kamreg.Account{{ID: root, Name: "Root", Realm: "root.test"}, {ID: other, Name: "Other", Realm: "other.test"}} {
		if err := (Accounts{Pool: pool}).Put(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	s := Devices{Pool: pool}
	for _, d := range []kamreg.Device{
		{AccountID: root, Username: "bob", DeviceID: dev2, OwnerID: owner, SuppressUnregisterNotify: true},
		{AccountID: root, Username: "Alice", DeviceID: dev1},
		{AccountID: root, Username: "<img/src=x/onerror=alert(1)>", DeviceID: dev1},
	} {
		if err := s.Put(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		account string
		want    []kamreg.Device
	}{
		{root, []kamreg.Device{
			{AccountID: root, Username: "<img/src=x/onerror=alert(1)>", DeviceID: dev1},
			{AccountID: root, Username: "Alice", DeviceID: dev1},
			{AccountID: root, Username: "bob", DeviceID: dev2, OwnerID: owner, SuppressUnregisterNotify: true},
		}},
		{other, []kamreg.Device{}},
	} {
		got, err := s.List(ctx, tt.account)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("List %s (-want +got):\n%s", tt.account[:1], diff)
		}
	}
}

// TestTreeFailures: with the database gone, the reads of this file fail
// with the unavailable kind, never an empty answer.
func TestTreeFailures(t *testing.T) {
	ctx := testCtx(t)
	pool := freshDB(t, true)
	pool.Close()
	_, errTree := Accounts{Pool: pool}.Descendants(ctx, root)
	_, errDevices := Devices{Pool: pool}.List(ctx, root)
	got := []string{kamreg.ErrorCode(errTree), kamreg.ErrorCode(errDevices)}
	if diff := cmp.Diff([]string{kamreg.EUNAVAILABLE, kamreg.EUNAVAILABLE}, got); diff != "" {
		t.Errorf("error kinds (-want +got):\n%s", diff)
	}
}

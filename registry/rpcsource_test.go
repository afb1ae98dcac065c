package registry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg/kamailio"
)

type dumpNode struct {
	fakeNode
	records []kamailio.Record
	err     error
}

func (n *dumpNode) Dump(context.Context, string) ([]kamailio.Record, error) { return n.records, n.err }

type noEnrich struct{}

func (noEnrich) Enrich(context.Context, []kamailio.Binding) error { return nil }

func contact(ruid, addr string, expires kamailio.Expiry) kamailio.Contact {
	return kamailio.Contact{Ruid: kamailio.Text(ruid), Address: kamailio.Text(addr), Expires: expires, LastModified: 1795724632}
}

func TestRPCBindingsMergeAndFilter(t *testing.T) {
	live := kamailio.Expiry{Seconds: 120}
	k1 := &dumpNode{records: []kamailio.Record{
		{AoR: "bob@acme.test", Contacts: []kamailio.Contact{contact("r2", "sip:bob@127.0.0.1", live)}},
		{AoR: "alice@acme.test", Contacts: []kamailio.Contact{
			contact("r1", "sip:alice@127.0.0.2", live),
			contact("gone", "sip:alice@127.0.0.3", kamailio.Expiry{State: "expired"}),
			contact("del", "sip:alice@127.0.0.4", kamailio.Expiry{State: "deleted"}),
		}},
		{AoR: "carol@other.test", Contacts: []kamailio.Contact{contact("r3", "sip:carol@127.0.0.1", live)}},
	}}
	k2 := &dumpNode{records: []kamailio.Record{
		{AoR: "alice@ACME.test", Contacts: []kamailio.Contact{
			contact("r1", "sip:alice@127.0.0.2", live), // the same binding, seen by both nodes
			contact("r4", "sip:alice@127.0.0.1", kamailio.Expiry{State: "permanent"}),
		}},
	}}
	now := time.Unix(1795724700, 0)
	r := RPCBindings{Nodes: []Node{k1, k2}, Table: "location", Enricher: noEnrich{}, Now: func() time.Time { return now }}
	got, err := r.Live(context.Background(), kamailio.Query{Scope: kamailio.Scope{Realm: "Acme.Test"}})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Ruid, Contact string
		Expires       time.Time
	}
	var rows []row
	for _, b := range got {
		rows = append(rows, row{b.Ruid, b.Contact, b.Expires})
	}
	want := []row{
		{"r4", "sip:alice@127.0.0.1", time.Time{}},
		{"r1", "sip:alice@127.0.0.2", now.Add(120 * time.Second)},
		{"r2", "sip:bob@127.0.0.1", now.Add(120 * time.Second)},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if n, _ := r.Count(context.Background(), kamailio.Query{Scope: kamailio.Scope{Realm: "acme.test", Username: "ALICE"}}); n != 2 {
		t.Errorf("count of alice %d, want 2", n)
	}
	page, err := r.Live(context.Background(), kamailio.Query{Scope: kamailio.Scope{Realm: "acme.test"},
		After: &kamailio.Key{Username: "alice", Contact: "sip:alice@127.0.0.2", Ruid: "r1"}, Limit: 5})
	if err != nil || len(page) != 1 || page[0].Ruid != "r2" {
		t.Errorf("page after alice: %+v, %v", page, err)
	}
	if n, _ := r.Count(context.Background(), kamailio.Query{Scope: kamailio.Scope{Realm: "acme.test"},
		Where: []kamailio.Condition{{Column: "username", Value: "bob", Not: true}}}); n != 2 {
		t.Errorf("count of not-bob %d, want 2", n)
	}
	k2.err = errors.New("node k2: reply too large")
	if _, err := r.Live(context.Background(), kamailio.Query{}); err == nil {
		t.Error("a node failed and the list was served anyway")
	}
}

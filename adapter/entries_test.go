package adapter

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
)

// TestEntryCache: whatever changes between two reads of a binding, the
// cache maps and encodes it exactly as FromBinding and AppendJSON do; it
// serves from what it kept only while the binding, its account and its
// device are unchanged, with expires computed again.
func TestEntryCache(t *testing.T) {
	withDevice := func() *kamreg.Directory {
		d := acme()
		d.AddDevice("acme.kamreg.test", kamreg.Device{Username: "alice", DeviceID: "dev-1", OwnerID: "owner-1"})
		return d
	}
	renamed := func() *kamreg.Directory {
		d := kamreg.NewDirectory()
		d.AddAccount(kamreg.Account{ID: "0123456789abcdef0123456789abcdef", Name: "Acme Renamed", Realm: "Acme.Kamreg.Test"})
		return d
	}
	for _, tt := range []struct {
		name    string
		change  func(b *kamreg.Binding, c *Context)
		fromHit bool
	}{
		{"nothing changed", func(*kamreg.Binding, *Context) {}, true},
		{"a second later: expires moves", func(_ *kamreg.Binding, c *Context) { c.Now = c.Now.Add(time.Second) }, true},
		{"a new REGISTER", func(b *kamreg.Binding, _ *Context) { b.CSeq++; b.LastModified = b.LastModified.Add(time.Minute) }, false},
		{"a new User-Agent", func(b *kamreg.Binding, _ *Context) { b.UserAgent = "other" }, false},
		{"new channel vars", func(b *kamreg.Binding, _ *Context) { b.ChannelVars = `{"Owner-ID":"x"}` }, false},
		{"a device record appears", func(_ *kamreg.Binding, c *Context) { c.Directory = withDevice() }, false},
		{"the account is renamed", func(_ *kamreg.Binding, c *Context) { c.Directory = renamed() }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ec := NewEntryCache()
			b := binding()
			c := mapCtx(acme())
			first := ec.Map(&b, c)
			_ = ec.AppendJSON(nil, &first)
			// The next read: the same values in new strings, as pgx
			// scans them.
			b = fresh(b)
			tt.change(&b, c)
			got := ec.Map(&b, c)
			want := FromBinding(&b, c)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("Map (-FromBinding +cache):\n%s", d)
			}
			if hit := unsafe.StringData(got.Contact) == unsafe.StringData(first.Contact); hit != tt.fromHit {
				t.Errorf("served from the cache: %t, want %t", hit, tt.fromHit)
			}
			if d := cmp.Diff(string(AppendJSON(nil, &want)), string(ec.AppendJSON([]byte("prefix"), &got)[len("prefix"):])); d != "" {
				t.Errorf("AppendJSON (-plain +cache):\n%s", d)
			}
		})
	}
}

// fresh is b with each string copied.
func fresh(b kamreg.Binding) kamreg.Binding {
	for _, s := range []*string{&b.Ruid, &b.Username, &b.Domain, &b.Contact, &b.Received, &b.Path, &b.Socket,
		&b.CallID, &b.UserAgent, &b.ChannelVars} {
		*s = strings.Clone(*s)
	}
	return b
}

// TestEntryCacheIsBounded: a list of more bindings than the cache holds
// is mapped right, and the cache keeps entryCacheSize of them.
func TestEntryCacheIsBounded(t *testing.T) {
	ec := NewEntryCache()
	c := mapCtx(acme())
	for i := 0; i < entryCacheSize+100; i++ {
		b := binding()
		b.Ruid, b.CallID = fmt.Sprintf("uloc-%d", i), fmt.Sprintf("c%d", i)
		r := ec.Map(&b, c)
		if got, want := string(ec.AppendJSON(nil, &r)), string(AppendJSON(nil, &r)); got != want {
			t.Fatalf("entry %d: %s, want %s", i, got, want)
		}
	}
	if ec.mapped.Len() != entryCacheSize || ec.encoded.Len() != entryCacheSize {
		t.Errorf("kept %d mappings and %d encodings, want %d", ec.mapped.Len(), ec.encoded.Len(), entryCacheSize)
	}
}

// BenchmarkList1000: mapping and encoding a realm of 1,000 bindings, as a
// list does, afresh and from the cache.
func BenchmarkList1000(b *testing.B) {
	bs := make([]kamreg.Binding, 1000)
	for i := range bs {
		bs[i] = binding()
		bs[i].Ruid, bs[i].CallID = fmt.Sprintf("uloc-%d", i), fmt.Sprintf("c%d", i)
	}
	c := mapCtx(acme())
	c.ChannelVars = NewChannelVarsCache(16)
	buf := make([]byte, 0, len(bs)*JSONSizeHint)
	for _, ec := range []*EntryCache{nil, NewEntryCache()} {
		b.Run(map[bool]string{true: "afresh", false: "cached"}[ec == nil], func(b *testing.B) {
			for b.Loop() {
				buf = buf[:0]
				for i := range bs {
					r := ec.Map(&bs[i], c)
					buf = ec.AppendJSON(buf, &r)
				}
			}
		})
	}
}

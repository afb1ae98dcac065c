package registry

import (
	"context"
	"strconv"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/kamailio"
	"github.com/kamreg/kamreg/watch"
)

var _ watch.Source = (*Registry)(nil)

// Watched returns the realm's live registrations as List does (the same
// read, the same flush records hiding rows, the same order), each with
// its binding's identity (ruid) and a version that changes when the phone
// registers again, for the event stream's poller.
func (r *Registry) Watched(ctx context.Context, realm string) ([]watch.Entry, error) {
	out := []watch.Entry{}
	err := r.each(ctx, readQuery{Query: kamailio.Query{Scope: kamreg.Scope{Realm: realm}}},
		func(b *kamreg.Binding, reg *kamreg.Registration) bool {
			id := b.Ruid
			if id == "" {
				id = b.Username + "\x00" + b.Contact
			}
			out = append(out, watch.Entry{ID: id, Version: version(b), Reg: *reg})
			return true
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// version is what a REGISTER refreshing a binding changes: its CSeq,
// Call-ID or last modification. Not its expiry: the rpc source computes
// that from the time of each dump, which would make every dump a refresh.
func version(b *kamreg.Binding) string {
	v := make([]byte, 0, 32+len(b.CallID))
	v = strconv.AppendInt(v, b.LastModified.UnixNano(), 36)
	v = append(v, ' ')
	v = strconv.AppendInt(v, int64(b.CSeq), 10)
	v = append(v, ' ')
	return string(append(v, b.CallID...))
}

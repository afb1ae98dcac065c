package registry

import (
	"context"
	"strconv"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
	"github.com/kamreg/kamreg/kamailio"
	"github.com/kamreg/kamreg/watch"
)

var _ watch.Source = (*Registry)(nil)

// Watched returns the realm's live registrations as List does (the same
// read, the same flush records hiding rows, the same order), each with
// its binding's identity (ruid) and a version that changes when the phone
// registers again, for the event stream's poller.
func (r *Registry) Watched(ctx context.Context, realm string) ([]watch.Entry, error) {
	scope := kamreg.Scope{Realm: realm}
	dir, recs, err := r.Directory.Read(ctx, scope.Realm, true)
	if err != nil {
		return nil, err
	}
	bs, err := r.Source.Live(ctx, kamailio.Query{Scope: scope})
	if err != nil {
		return nil, err
	}
	h := hiddenBy(recs)
	mc := r.mapping(dir)
	out := make([]watch.Entry, 0, len(bs))
	for i := range bs {
		b := &bs[i]
		if h.hides(b) {
			continue
		}
		id := b.Ruid
		if id == "" {
			id = b.Username + "\x00" + b.Contact
		}
		out = append(out, watch.Entry{ID: id, Version: version(b), Reg: adapter.FromBinding(b, mc)})
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

package store

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestToldBySender: a flush of another replica goes to OnFlushed, never
// one of its own; a change of accounts or devices to OnChanged when it is
// set, else to OnFlushed; a payload of another form to OnFlushed, as
// "every realm".
func TestToldBySender(t *testing.T) {
	for _, tt := range []struct {
		name      string
		payload   string
		onChanged bool
		flushed   []string
		changed   []string
	}{
		{"another replica's flush", payload("b", 1, "Acme.Test"), true, []string{"acme.test"}, nil},
		{"its own flush", payload("a", 1, "acme.test"), true, nil, nil},
		{"a device put", payload(directorySender, 0, "acme.test"), true, nil, []string{"acme.test"}},
		{"a device put, no OnChanged", payload(directorySender, 0, "acme.test"), false, []string{"acme.test"}, nil},
		{"an account put", payload(directorySender, 0, ""), true, nil, []string{""}},
		{"a payload of another form", "garbage", true, []string{""}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var flushed, changed []string
			l := &Listener{Self: "a", OnFlushed: func(r string) { flushed = append(flushed, r) }}
			if tt.onChanged {
				l.OnChanged = func(r string) { changed = append(changed, r) }
			}
			l.told(tt.payload)
			if d := cmp.Diff(tt.flushed, flushed); d != "" {
				t.Errorf("OnFlushed (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.changed, changed); d != "" {
				t.Errorf("OnChanged (-want +got):\n%s", d)
			}
		})
	}
}

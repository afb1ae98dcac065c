package kamreg

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitToken(t *testing.T) {
	id, secret := "0123456789abcdef0123456789abcdef", strings.Repeat("a", 64)
	type split struct {
		ID, Secret string
		OK         bool
	}
	tests := []struct {
		in   string
		want split
	}{
		{id + "." + secret, split{id, secret, true}},
		{id + secret, split{}},                        // no dot
		{strings.ToUpper(id) + "." + secret, split{}}, // not a Kazoo id
		{id[:31] + "." + secret, split{}},             // short id
		{id + "." + secret[:63], split{}},             // short secret
		{id + "." + secret + ".x", split{}},           // more after the secret
		{"", split{}},
	}
	for _, tt := range tests {
		i, s, ok := SplitToken(tt.in)
		if diff := cmp.Diff(tt.want, split{i, s, ok}); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.in, diff)
		}
	}
}

package rest

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/kamreg/kamreg"
)

// FuzzStartKey: decoding never panics, and whatever decodes encodes back
// to the same key.
func FuzzStartKey(f *testing.F) {
	f.Add(EncodeStartKey(kamreg.Key{Username: "alice", Contact: "sip:alice@127.0.0.1", Ruid: "r1"}))
	f.Add("AAAA")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := decodeStartKey(s)
		if err != nil {
			return
		}
		again, err := decodeStartKey(EncodeStartKey(k))
		if err != nil || again != k {
			t.Errorf("%q: %+v then %+v, %v", s, k, again, err)
		}
	})
}

// FuzzListOptions: any query string is parsed or refused with a
// parameter error, never a panic.
func FuzzListOptions(f *testing.F) {
	for _, q := range []string{"page_size=10", "filter_username=a&filter_not_realm=b", "start_key=AAAA", "page_size=-1", "filter_x=1", "accept=csv&%zz"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		r := httptest.NewRequest("GET", "/x", nil)
		r.URL.RawQuery = q
		if _, err := url.ParseQuery(q); err != nil {
			r.URL.RawQuery = url.QueryEscape(q)
		}
		_, err := parseListOptions(r)
		var pe *paramError
		if err != nil && !errors.As(err, &pe) {
			t.Errorf("%q: %v is not a parameter error", q, err)
		}
	})
}

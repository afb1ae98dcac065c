package rest

import (
	"encoding/csv"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
)

func TestParseListOptions(t *testing.T) {
	key := kamreg.Key{Username: "bob", Contact: "sip:bob@127.0.0.1;transport=tcp", Ruid: "uloc-1"}
	sk := EncodeStartKey(key)
	tests := []struct {
		query   string
		accept  string
		want    kamreg.ListQuery
		csv     bool
		wantErr string // the offending parameter
	}{
		{"", "", kamreg.ListQuery{}, false, ""},
		{"page_size=1", "", kamreg.ListQuery{Limit: 1}, false, ""},
		{"page_size=10000&start_key=" + sk, "", kamreg.ListQuery{Limit: 10000, After: &key}, false, ""},
		{"filter_username=alice&filter_not_contact_port=5060&filter_suppress_unregister_notify=true", "", kamreg.ListQuery{Filters: []kamreg.Filter{
			{Key: "contact_port", Value: "5060", Not: true}, {Key: "suppress_unregister_notify", Value: "true"}, {Key: "username", Value: "alice"}}}, false, ""},
		{"accept=csv", "", kamreg.ListQuery{}, true, ""},
		{"", "application/json, text/csv;q=0.5", kamreg.ListQuery{}, true, ""},
		{"auth_token=x&unrelated=1", "", kamreg.ListQuery{}, false, ""},
		{"page_size=0", "", kamreg.ListQuery{}, false, "page_size"},
		{"page_size=-3", "", kamreg.ListQuery{}, false, "page_size"},
		{"page_size=10001", "", kamreg.ListQuery{}, false, "page_size"},
		{"page_size=99999999999999999999", "", kamreg.ListQuery{}, false, "page_size"},
		{"page_size=ten", "", kamreg.ListQuery{}, false, "page_size"},
		{"page_size=1&page_size=2", "", kamreg.ListQuery{}, false, "page_size"},
		{"page_size=5&start_key=", "", kamreg.ListQuery{}, false, "start_key"},
		{"page_size=5&start_key=" + sk[:len(sk)-2], "", kamreg.ListQuery{}, false, "start_key"},
		{"page_size=5&start_key=" + strings.Repeat("A", 3000), "", kamreg.ListQuery{}, false, "start_key"},
		{"filter_nope=1", "", kamreg.ListQuery{}, false, "filter_nope"},
		{"filter_not_=1", "", kamreg.ListQuery{}, false, "filter_not_"},
		{"filter_=1", "", kamreg.ListQuery{}, false, "filter_"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/x?"+tt.query, nil)
		if tt.accept != "" {
			r.Header.Set("Accept", tt.accept)
		}
		o, err := parseListOptions(r)
		if tt.wantErr != "" {
			pe, ok := err.(*paramError)
			if !ok || pe.Parameter != tt.wantErr {
				t.Errorf("%q: error %v, want one naming %s", tt.query, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.query, err)
			continue
		}
		if diff := cmp.Diff(tt.want, o.query); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.query, diff)
		}
		if o.csv != tt.csv {
			t.Errorf("%q: csv %v", tt.query, o.csv)
		}
	}
}

func TestStartKeyRoundTrip(t *testing.T) {
	for _, k := range []kamreg.Key{
		{Username: "alice", Contact: "sip:alice@[::1]:5060;ob", Ruid: "uloc-5f-1"},
		{Username: "", Contact: "", Ruid: ""},
		{Username: "ünïcode", Contact: "sip:x@y?h=%00", Ruid: "r"},
	} {
		got, err := decodeStartKey(EncodeStartKey(k))
		if err != nil {
			t.Fatalf("%+v: %v", k, err)
		}
		if diff := cmp.Diff(k, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}
}

func TestCSV(t *testing.T) {
	regs := sampleRegistrations()
	regs[0].UserAgent = `Yealink "T46", v2`
	s := newTestServer(t, fakeRegistrations{ListFn: func(kamreg.ListQuery) (kamreg.Page, error) {
		return kamreg.Page{Entries: regs, Next: &kamreg.Key{Username: "z"}}, nil
	}}, nil)
	w := do(s, "GET", base+"?accept=csv&page_size=2", goodTok)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	for k, want := range map[string]string{
		"Content-Type":        "text/csv; charset=utf-8",
		"Content-Disposition": `attachment; filename="registrations.csv"`,
		"X-Next-Start-Key":    EncodeStartKey(kamreg.Key{Username: "z"}),
	} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(w.Body.String(), `"Yealink ""T46"", v2"`) {
		t.Errorf("user agent not quoted:\n%s", w.Body)
	}
	rows, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// Kazoo's 24 documented keys first, unchanged, then Kazoo 4's.
	wantHeader := append(append([]string{}, adapter.Keys...), "initial_registration", "last_registration", "presence_id",
		"proxy_protocol", "register_overwrite_notify", "registrar_hostname", "registrar_node", "source_ip", "source_port")
	if diff := cmp.Diff(wantHeader, rows[0]); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if len(rows) != 3 || rows[1][22] != regs[0].UserAgent || rows[1][8] != "63962913599" {
		t.Errorf("rows %q", rows)
	}
	etag := w.Header().Get("ETag")
	if w2 := do(s, "GET", base+"?accept=csv", goodTok, "If-None-Match", etag); w2.Code != 304 {
		t.Errorf("CSV If-None-Match: %d", w2.Code)
	}
	if w3 := do(s, "GET", base, goodTok, "Accept", "text/csv"); w3.Header().Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Errorf("Accept: text/csv gave %s", w3.Header().Get("Content-Type"))
	}
}

package kamailio

import (
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var sortStrings = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
})

func TestExpiry(t *testing.T) {
	tests := []struct {
		in   string
		want Expiry
		live bool
	}{
		{`300`, Expiry{Seconds: 300}, true},
		{`0`, Expiry{}, false},
		{`"permanent"`, Expiry{State: "permanent"}, true},
		{`"expired"`, Expiry{State: "expired"}, false},
		{`"deleted"`, Expiry{State: "deleted"}, false},
	}
	for _, tt := range tests {
		var got Expiry
		if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.in, diff)
		}
		if got.Live() != tt.live {
			t.Errorf("%s: Live() = %v", tt.in, got.Live())
		}
	}
	var e Expiry
	if err := json.Unmarshal([]byte(`{}`), &e); err == nil {
		t.Error("an object decoded as an Expires value")
	}
}

func TestTextNotSet(t *testing.T) {
	var c Contact
	if err := json.Unmarshal([]byte(`{"Path":"[not set]","Instance":null,"User-Agent":"ua"}`), &c); err != nil {
		t.Fatal(err)
	}
	if c.Path != "" || c.Instance != "" || c.UserAgent != "ua" {
		t.Errorf("got %+v", c)
	}
}

func TestParseNodes(t *testing.T) {
	tests := []struct {
		spec    string
		want    []Node
		wantErr string
	}{
		{"", nil, ""},
		{"http://127.0.0.1:5071/RPC", []Node{{Name: "127.0.0.1:5071", URL: "http://127.0.0.1:5071/RPC"}}, ""},
		{"k1=http://127.0.0.1:5071/RPC, k2=http://127.0.0.2:5071/RPC", []Node{
			{Name: "k1", URL: "http://127.0.0.1:5071/RPC"}, {Name: "k2", URL: "http://127.0.0.2:5071/RPC"}}, ""},
		{"k1=http://a:1/RPC,k1=http://b:1/RPC", nil, `kamailio rpc endpoint "k1=http://b:1/RPC": node name "k1" given twice`},
		{"ftp://x/RPC", nil, `kamailio rpc endpoint "ftp://x/RPC": want http://host:port/RPC or unix:/path, optionally prefixed name=`},
		{"unix:/run/kamailio/kamailio_rpc.sock", []Node{{Name: "/run/kamailio/kamailio_rpc.sock", URL: "unix:/run/kamailio/kamailio_rpc.sock"}}, ""},
		{"k3=unix:/run/k.sock", []Node{{Name: "k3", URL: "unix:/run/k.sock"}}, ""},
		{"edge1@11=http://127.0.0.1:5071/RPC", []Node{{Name: "edge1", URL: "http://127.0.0.1:5071/RPC", ServerID: 11}}, ""},
		{"edge1@x=http://127.0.0.1:5071/RPC", nil, `kamailio rpc endpoint "edge1@x=http://127.0.0.1:5071/RPC": want name@SERVER_ID=url with a positive usrloc server_id`},
		{"edge1@11=http://127.0.0.1:5071/RPC#timer=60s, unix:/run/k.sock#timer=2s", []Node{
			{Name: "edge1", URL: "http://127.0.0.1:5071/RPC", ServerID: 11, Timer: time.Minute},
			{Name: "/run/k.sock", URL: "unix:/run/k.sock", Timer: 2 * time.Second}}, ""},
		{"k1=http://127.0.0.1:5071/RPC#timer=0s", nil, `kamailio rpc endpoint "k1=http://127.0.0.1:5071/RPC#timer=0s": want url#timer=DURATION (the node's usrloc timer_interval, e.g. #timer=60s)`},
		{"k1=http://127.0.0.1:5071/RPC#frag", nil, `kamailio rpc endpoint "k1=http://127.0.0.1:5071/RPC#frag": want url#timer=DURATION (the node's usrloc timer_interval, e.g. #timer=60s)`},
		{"unix:run/k.sock", nil, `kamailio rpc endpoint "unix:run/k.sock": want unix:/absolute/path/kamailio_rpc.sock`},
	}
	for _, tt := range tests {
		got, err := ParseNodes(tt.spec)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if gotErr != tt.wantErr {
			t.Errorf("%q: error %q, want %q", tt.spec, gotErr, tt.wantErr)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.spec, diff)
		}
	}
}

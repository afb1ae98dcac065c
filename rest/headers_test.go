package rest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tokenHeaders are the headers of an answer that may carry a token.
type tokenHeaders struct{ CacheControl, NoSniff string }

func tokenHeadersOf(h http.Header) tokenHeaders {
	return tokenHeaders{h.Get("Cache-Control"), h.Get("X-Content-Type-Options")}
}

// TestTokenAnswersAreNotStored: every answer that carries the caller's
// token (envelopes, CSV, errors, the event stream, the proxy's) says
// Cache-Control: no-store and X-Content-Type-Options: nosniff.
func TestTokenAnswersAreNotStored(t *testing.T) {
	kazoo, _ := fakeKazoo(t)
	u, _ := url.Parse(kazoo.URL)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down, _ := url.Parse("http://" + ln.Addr().String())
	ln.Close()
	plain := newTestServer(t, fakeRegistrations{}, nil)
	proxyCfg := testConfig(fakeRegistrations{}, nil)
	proxyCfg.KazooURL = u
	proxying := New(proxyCfg)
	downCfg := testConfig(fakeRegistrations{}, nil)
	downCfg.KazooURL = down
	unreachable := New(downCfg)
	tests := []struct {
		name         string
		s            http.Handler
		method, path string
		token        string
		status       int
	}{
		{"list", plain, "GET", base, goodTok, 200},
		{"list, token in the query", plain, "GET", base + "?auth_token=" + goodTok, "", 200},
		{"count", plain, "GET", base + "/count", goodTok, 200},
		{"CSV", plain, "GET", base + "?accept=csv", goodTok, 200},
		{"flush", plain, "DELETE", base + "/alice", goodTok, 200},
		{"401", plain, "GET", base, "bad", 401},
		{"403", plain, "GET", base, otherTok, 403},
		{"404", plain, "GET", "/v2/nope", goodTok, 404},
		{"405", plain, "GET", base + "/alice", goodTok, 405},
		{"400", plain, "GET", base + "?page_size=0", goodTok, 400},
		{"preflight", plain, "OPTIONS", base, "", 200},
		{"proxied", proxying, "PUT", "/v2/accounts/" + acctID + "/devices", goodTok, 201},
		{"Kazoo down", unreachable, "GET", "/v2/accounts/" + acctID + "/users", goodTok, 502},
	}
	want := tokenHeaders{"no-store", "nosniff"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(tt.s, tt.method, tt.path, tt.token)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if diff := cmp.Diff(want, tokenHeadersOf(w.Header())); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("event stream", func(t *testing.T) {
		src := &liveSource{}
		src.set(live("r1", sampleRegistrations()[0]))
		s := newStreamServer(t, src, nil)
		resp, _ := openStream(t, s.URL+eventsPath, goodTok)
		if diff := cmp.Diff(want, tokenHeadersOf(resp.Header)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("proxied, Kazoo's own Cache-Control replaced", func(t *testing.T) {
		k := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "private, max-age=60")
		}))
		defer k.Close()
		ku, _ := url.Parse(k.URL)
		cfg := testConfig(fakeRegistrations{}, nil)
		cfg.KazooURL = ku
		w := do(New(cfg), "GET", "/v2/accounts/"+acctID+"/users", goodTok)
		if diff := cmp.Diff(tokenHeaders{"no-store", "nosniff"}, tokenHeadersOf(w.Header())); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

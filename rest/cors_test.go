package rest

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const kazooList = "Content-Type, Depth, User-Agent, X-Http-Method-Override, X-File-Name, If-Modified-Since, " +
	"If-None-Match, X-Requested-With, X-Auth-Token, X-Kazoo-Cluster-ID, Cache-Control, If-Match, " +
	"Authorization, Accept, X-Request-ID, Range"

func TestPreflight(t *testing.T) {
	s := newTestServer(t, fakeRegistrations{}, nil)
	tests := []struct {
		name, path, requested string
		want                  map[string]string
	}{
		{"account route, Monster's headers", base, "content-type,x-auth-token,x-kazoo-cluster-id", map[string]string{
			"Access-Control-Allow-Methods": "DELETE, GET, OPTIONS",
			"Access-Control-Allow-Headers": kazooList,
		}},
		{"count route", base + "/count", "", map[string]string{
			"Access-Control-Allow-Methods": "GET, OPTIONS",
			"Access-Control-Allow-Headers": kazooList,
		}},
		{"username route, trailing slash", base + "/alice/", "X-Auth-Token", map[string]string{
			"Access-Control-Allow-Methods": "DELETE, OPTIONS",
			"Access-Control-Allow-Headers": kazooList,
		}},
		{"other requested headers are echoed once", "/v2/registrations", "X-Custom-One, x-custom-one,Content-Type, X-Two", map[string]string{
			"Access-Control-Allow-Methods": "GET, OPTIONS",
			"Access-Control-Allow-Headers": kazooList + ", X-Custom-One, X-Two",
		}},
		{"names that are not tokens are dropped", base, "X-Ok, bad header, (x)", map[string]string{
			"Access-Control-Allow-Methods": "DELETE, GET, OPTIONS",
			"Access-Control-Allow-Headers": kazooList + ", X-Ok",
		}},
		{"no route", "/v2/nothing", "", map[string]string{
			"Access-Control-Allow-Methods": "GET, DELETE, OPTIONS",
			"Access-Control-Allow-Headers": kazooList,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers := []string{"Origin", "http://ui.example", "Access-Control-Request-Method", "GET"}
			if tt.requested != "" {
				headers = append(headers, "Access-Control-Request-Headers", tt.requested)
			}
			w := do(s, http.MethodOptions, tt.path, "", headers...)
			if w.Code != 200 || w.Body.Len() != 0 {
				t.Errorf("%d %q, want 200 and no body", w.Code, w.Body)
			}
			want := map[string]string{
				"Access-Control-Allow-Origin":   "*",
				"Access-Control-Max-Age":        "86400",
				"Access-Control-Expose-Headers": "X-Request-ID, ETag, Location, Content-Disposition, X-Next-Start-Key",
			}
			for k, v := range tt.want {
				want[k] = v
			}
			got := map[string]string{}
			for k := range want {
				got[k] = w.Header().Get(k)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEveryAnswerExposesHeaders(t *testing.T) {
	s := newTestServer(t, fakeRegistrations{}, nil)
	for _, c := range []struct{ method, path, token string }{
		{"GET", base, goodTok}, {"GET", base, ""}, {"DELETE", base + "/alice", goodTok}, {"GET", "/v2/nothing", ""},
	} {
		w := do(s, c.method, c.path, c.token, "Origin", "http://ui.example")
		got := []string{w.Header().Get("Access-Control-Allow-Origin"), w.Header().Get("Access-Control-Expose-Headers")}
		want := []string{"*", "X-Request-ID, ETag, Location, Content-Disposition, X-Next-Start-Key"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", c.method, c.path, diff)
		}
	}
}

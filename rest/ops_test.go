package rest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMetricsOnlyOnTheOpsListener(t *testing.T) {
	s := newTestServer(t, fakeRegistrations{}, nil)
	ops := s.OpsHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("kamreg_registrations{account_id=\"x\"} 1\n"))
	}))
	type answer struct {
		Status int
		Body   string
	}
	get := func(h http.Handler, path string) answer {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return answer{w.Code, w.Body.String()}
	}
	got := map[string]answer{
		"ops /metrics":  get(ops, "/metrics"),
		"ops /healthz":  get(ops, "/healthz"),
		"ops /readyz":   get(ops, "/readyz/"),
		"ops /v2":       {get(ops, base).Status, ""},
		"api /metrics":  {get(s, "/metrics").Status, ""},
		"api /metrics/": {get(s, "/metrics/").Status, ""},
		"api /healthz":  get(s, "/healthz"),
	}
	want := map[string]answer{
		"ops /metrics":  {200, "kamreg_registrations{account_id=\"x\"} 1\n"},
		"ops /healthz":  {200, `{"status":"ok"}`},
		"ops /readyz":   {200, `{"status":"ready"}`},
		"ops /v2":       {404, ""},
		"api /metrics":  {404, ""},
		"api /metrics/": {404, ""},
		"api /healthz":  {200, `{"status":"ok"}`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

package rest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	logtest "github.com/sirupsen/logrus/hooks/test"
)

// pgError is what pgx says when PostgreSQL is down: a user name, a
// database and an address that the API port must not tell.
const pgError = "failed to connect to `user=postgres database=kamailio`: 127.0.0.1:49841 (127.0.0.1): dial error: dial tcp 127.0.0.1:49841: connect: connection refused"

// rpcError is a Kamailio transport error, with an internal URL.
const rpcError = `Post "http://10.0.0.7:5071/RPC": dial tcp 10.0.0.7:5071: connect: connection refused`

// TestReadyz: the API port's /readyz names the failing components only;
// the metrics listener's gives the reasons, and so does the log.
func TestReadyz(t *testing.T) {
	type answer struct {
		Status int
		Body   string
	}
	tests := []struct {
		name     string
		db       error
		k2       error
		api, ops answer
	}{
		{"all answer", nil, nil, answer{200, `{"status":"ready"}`}, answer{200, `{"status":"ready"}`}},
		{"a node down", nil, errors.New(rpcError),
			answer{200, `{"status":"ready","failing":["kamailio:k2"]}`},
			answer{200, `{"status":"ready","failing":["kamailio:k2"],"reasons":{"kamailio:k2":"Post \"http://10.0.0.7:5071/RPC\": dial tcp 10.0.0.7:5071: connect: connection refused"}}`}},
		{"PostgreSQL down", errors.New(pgError), nil,
			answer{503, `{"status":"unavailable","failing":["postgres"]}`},
			answer{503, `{"status":"unavailable","failing":["postgres"],"reasons":{"postgres":"failed to connect to ` + "`user=postgres database=kamailio`" + `: 127.0.0.1:49841 (127.0.0.1): dial error: dial tcp 127.0.0.1:49841: connect: connection refused"}}`}},
		{"both down", errors.New(pgError), errors.New(rpcError),
			answer{503, `{"status":"unavailable","failing":["kamailio:k2","postgres"]}`}, answer{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(fakeRegistrations{}, nil)
			logger, hook := logtest.NewNullLogger()
			cfg.Log = logger
			cfg.DB = fakeDB{PingFn: func() error { return tt.db }}
			cfg.Nodes = []NodeChecker{fakeNode{"k1", nil}, fakeNode{"k2", tt.k2}}
			s := New(cfg)
			ops := s.OpsHandler(http.NotFoundHandler())
			get := func(h http.Handler) answer {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
				return answer{w.Code, w.Body.String()}
			}
			api := get(s)
			if diff := cmp.Diff(tt.api, api); diff != "" {
				t.Errorf("API port (-want +got):\n%s", diff)
			}
			for _, secret := range []string{"127.0.0.1", "10.0.0.7", "user=", "dial", "http://"} {
				if strings.Contains(api.Body, secret) {
					t.Errorf("API port tells %q: %s", secret, api.Body)
				}
			}
			if tt.ops.Status != 0 {
				if diff := cmp.Diff(tt.ops, get(ops)); diff != "" {
					t.Errorf("metrics listener (-want +got):\n%s", diff)
				}
			}
			var logged strings.Builder
			for _, e := range hook.AllEntries() {
				for k, v := range e.Data {
					if strings.HasPrefix(k, "reason_") {
						logged.WriteString(k + "=" + v.(string) + "\n")
					}
				}
			}
			for c, err := range map[string]error{"postgres": tt.db, "kamailio:k2": tt.k2} {
				if err != nil && !strings.Contains(logged.String(), "reason_"+c+"="+err.Error()) {
					t.Errorf("the log has no reason for %s:\n%s", c, logged.String())
				}
			}
		})
	}
}

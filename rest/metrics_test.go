package rest

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/metrics"
)

func TestMetricsRecordRoutesAndFlushes(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	s := newTestServer(t, fakeRegistrations{FlushRealmFn: func(kamreg.Account) (kamreg.FlushReport, error) {
		report := kamreg.FlushReport{Flushed: []string{"a@r"}, Failed: []string{"b@r"}, Nodes: []kamreg.NodeFailure{{Node: "k2", Error: "x"}}}
		return report, &kamreg.FlushError{Report: report}
	}}, nil)
	s.cfg.Metrics = m
	do(s, "GET", base, goodTok)
	do(s, "GET", base, goodTok)
	do(s, "GET", base+"/count", "")
	do(s, "DELETE", base, goodTok)
	do(s, "DELETE", base+"/alice", goodTok)
	want := `
# HELP kamreg_http_requests_total HTTP requests by route and status code.
# TYPE kamreg_http_requests_total counter
kamreg_http_requests_total{code="200",method="DELETE",route="account_registration_user"} 1
kamreg_http_requests_total{code="200",method="GET",route="account_registrations"} 2
kamreg_http_requests_total{code="401",method="GET",route="account_registrations_count"} 1
kamreg_http_requests_total{code="503",method="DELETE",route="account_registrations"} 1
# HELP kamreg_flushes_total Flushes by scope (account, user) and outcome (ok, incomplete, error).
# TYPE kamreg_flushes_total counter
kamreg_flushes_total{outcome="incomplete",scope="account"} 1
kamreg_flushes_total{outcome="ok",scope="user"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "kamreg_http_requests_total", "kamreg_flushes_total"); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(m.FlushedAoRs); got != 2 {
		t.Errorf("flushed AoRs %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.FailedAoRs); got != 1 {
		t.Errorf("failed AoRs %v, want 1", got)
	}
}

type fakeNode struct {
	name string
	err  error
}

func (n fakeNode) Name() string                   { return n.name }
func (n fakeNode) Ping(ctx context.Context) error { return n.err }

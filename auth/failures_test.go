package auth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/metrics"
)

func TestGuard(t *testing.T) {
	reg := prometheus.NewRegistry()
	clock := newFakeClock()
	g := newGuard(FailureLimit{Rate: 0.0001, Burst: 2, Metrics: metrics.NewAuthFailures(reg)}, clock.now)
	admit := func(client, token string) bool { _, ok := g.Admit(client, token); return ok }
	account := func(client, token string) bool { _, ok := g.AdmitAccount(client, token); return ok }
	g.Succeeded("good")
	tests := []struct {
		name string
		step func() bool
		want bool
	}{
		{"a first failure", func() bool { return admit("x", "bad-1") }, true},
		{"a second", func() bool { return admit("x", "bad-2") }, true},
		{"the third is over the burst", func() bool { return admit("x", "bad-3") }, false},
		{"without a token too", func() bool { return admit("x", "") }, false},
		{"a good token is not charged", func() bool { return admit("x", "good") }, true},
		{"another address has its own budget", func() bool { return admit("y", "bad-4") }, true},
		{"a good token's account lookups are its own budget", func() bool { return account("x", "good") }, true},
		{"and a second", func() bool { return account("x", "good") }, true},
		{"but bounded all the same", func() bool { return account("x", "good") }, false},
		{"an unknown token's account lookup is the address's", func() bool { return account("y", "bad-5") }, true},
		{"which is then spent", func() bool { return account("y", "bad-5") }, false},
		{"a token that failed is forgotten as good", func() bool { g.Failed("good", "invalid"); return admit("x", "good") }, false},
	}
	var got, want []string
	for _, tt := range tests {
		got = append(got, fmt.Sprintf("%s: %v", tt.name, tt.step()))
		want = append(want, fmt.Sprintf("%s: %v", tt.name, tt.want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("admissions (-want +got):\n%s", diff)
	}
	g.UnknownAccount()
	wantMetrics := `
# HELP kamreg_auth_failures_total Failed authentications by reason: missing, malformed, unknown_token, invalid, unknown_account, kazoo_login (Kazoo's 401 to a proxied login), and rate_limited (answered 429 before any lookup).
# TYPE kamreg_auth_failures_total counter
kamreg_auth_failures_total{reason="invalid"} 1
kamreg_auth_failures_total{reason="kazoo_login"} 0
kamreg_auth_failures_total{reason="malformed"} 0
kamreg_auth_failures_total{reason="missing"} 0
kamreg_auth_failures_total{reason="rate_limited"} 5
kamreg_auth_failures_total{reason="unknown_account"} 1
kamreg_auth_failures_total{reason="unknown_token"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(wantMetrics), "kamreg_auth_failures_total"); err != nil {
		t.Error(err)
	}
}

func TestGuardRefund(t *testing.T) {
	g := newGuard(FailureLimit{Rate: 0.0001, Burst: 1}, newFakeClock().now)
	c, ok := g.Admit("x", "new")
	if !ok {
		t.Fatal("the first lookup was refused")
	}
	c.Refund() // it succeeded
	if _, ok := g.Admit("x", "other"); !ok {
		t.Error("a lookup that succeeded was not given back")
	}
	if _, ok := g.Admit("x", "third"); ok {
		t.Error("a lookup that failed was given back")
	}
}

func TestGuardOff(t *testing.T) {
	g := NewGuard(FailureLimit{}) // nil metrics, no rate: no limit
	for i := range 100 {
		if _, ok := g.Admit("x", "bad-"+strconv.Itoa(i)); !ok {
			t.Fatalf("refused lookup %d with the limit off", i)
		}
		if _, ok := g.AdmitAccount("x", ""); !ok {
			t.Fatalf("refused account lookup %d with the limit off", i)
		}
		g.Failed("bad", "invalid")
	}
}

// TestFloodersBudgetOutlivesAFullTable: past budgetsMax addresses, the
// least recently used one goes. Each address used to be dropped at once
// when the table was full of addresses that had failed, so a flooder that
// failed from budgetsMax other addresses once each got its burst back.
func TestFloodersBudgetOutlivesAFullTable(t *testing.T) {
	g := newGuard(FailureLimit{Rate: 0.0001, Burst: 1}, newFakeClock().now)
	g.Admit("flooder", "bad")
	for i := range budgetsMax - 1 {
		g.Admit("other-"+strconv.Itoa(i), "bad")
	}
	if _, ok := g.Admit("flooder", "bad"); ok {
		t.Fatal("the flooder's budget was not spent")
	}
	g.Admit("one-more", "bad")
	if _, ok := g.Admit("flooder", "bad"); ok {
		t.Error("the flooder's budget was refilled when the table of addresses was full")
	}
}

// TestGoodTokenOutlivesAFullTable: past goodTokensMax tokens remembered
// good, the least recently used one goes. They used to be forgotten all at
// once, so a token in use was charged again from an address over its
// limit.
func TestGoodTokenOutlivesAFullTable(t *testing.T) {
	g := newGuard(FailureLimit{Rate: 0.0001, Burst: 1}, newFakeClock().now)
	g.Admit("flooded", "bad") // the address's budget is spent
	g.Succeeded("in-use")
	for i := range goodTokensMax - 1 {
		g.Succeeded("other-" + strconv.Itoa(i))
	}
	if _, ok := g.Admit("flooded", "in-use"); !ok {
		t.Fatal("a good token was charged")
	}
	g.Succeeded("one-more")
	if _, ok := g.Admit("flooded", "in-use"); !ok {
		t.Error("a good token in use was forgotten when the table of good tokens was full")
	}
}

func TestFailureReason(t *testing.T) {
	tests := []struct {
		token string
		err   error
		want  string
	}{
		{"", nil, "missing"},
		{"", kamreg.ErrBadToken, "missing"},
		{"x", kamreg.ErrMalformedToken, "malformed"},
		{"x", fmt.Errorf("wrapped: %w", kamreg.ErrUnknownToken), "unknown_token"},
		{"x", kamreg.ErrBadToken, "invalid"},
		{"x", errors.New("other"), "invalid"},
	}
	var got, want []string
	for _, tt := range tests {
		got = append(got, FailureReason(tt.token, tt.err))
		want = append(want, tt.want)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
}

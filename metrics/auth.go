package metrics

import "github.com/prometheus/client_golang/prometheus"

// AuthFailures counts failed authentications by reason, and the token
// look-ups that reach PostgreSQL. A nil *AuthFailures records nothing.
type AuthFailures struct {
	c       *prometheus.CounterVec
	lookups prometheus.Counter
}

// authFailureReasons are the values of the reason label, each present from
// the start.
var authFailureReasons = []string{"missing", "malformed", "unknown_token", "invalid", "unknown_account", "kazoo_login", "rate_limited"}

// NewAuthFailures creates kamreg_auth_failures_total{reason} and
// kamreg_token_lookups_total and registers them with reg.
func NewAuthFailures(reg prometheus.Registerer) *AuthFailures {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kamreg_auth_failures_total",
		Help: "Failed authentications by reason: missing, malformed, unknown_token, invalid, unknown_account, " +
			"kazoo_login (Kazoo's 401 to a proxied login), and rate_limited (answered 429 before any lookup).",
	}, []string{"reason"})
	for _, r := range authFailureReasons {
		c.WithLabelValues(r)
	}
	lookups := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kamreg_token_lookups_total",
		Help: "API token look-ups sent to PostgreSQL (cached answers, malformed and remembered unknown tokens never are).",
	})
	reg.MustRegister(c, lookups)
	return &AuthFailures{c: c, lookups: lookups}
}

// Lookup counts one token look-up sent to PostgreSQL.
func (a *AuthFailures) Lookup() {
	if a != nil {
		a.lookups.Inc()
	}
}

// Inc counts one failure.
func (a *AuthFailures) Inc(reason string) {
	if a != nil {
		a.c.WithLabelValues(reason).Inc()
	}
}

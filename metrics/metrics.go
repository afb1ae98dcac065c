// Package metrics defines kamreg's Prometheus metrics in one place: HTTP
// requests, Kamailio JSON-RPC calls, flushes, dumps, authentication
// failures, the event stream and registrations per account; the pool's
// statistics are exported by store, which owns the pool.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are kamreg's collectors. A nil *Metrics records nothing.
type Metrics struct {
	HTTPRequests  *prometheus.CounterVec
	HTTPDuration  *prometheus.HistogramVec
	ResponsesCut  *prometheus.CounterVec
	RPCCalls      *prometheus.CounterVec
	RPCDuration   *prometheus.HistogramVec
	KamailioUp    *prometheus.GaugeVec
	Flushes       *prometheus.CounterVec
	FlushedAoRs   prometheus.Counter
	FailedAoRs    prometheus.Counter
	Registrations *prometheus.GaugeVec
	Dumps         *prometheus.CounterVec
	Sweeps        *prometheus.CounterVec
	SweptAoRs     prometheus.Counter
	BuildInfo     *prometheus.GaugeVec
}

// New creates the collectors and registers them with reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kamreg_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "method", "code"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kamreg_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method"}),
		ResponsesCut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kamreg_http_responses_cut_total",
			Help: "Streamed lists that ended before their last byte, by route and reason (client: the client went away; backend: a read failed mid-list, and the answer was cut).",
		}, []string{"route", "reason"}),
		RPCCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kamreg_kamailio_rpc_calls_total", Help: "Kamailio JSON-RPC calls by node, method and outcome (ok, kamailio_error, no_answer).",
		}, []string{"node", "method", "outcome"}),
		RPCDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kamreg_kamailio_rpc_duration_seconds", Help: "Kamailio JSON-RPC call latency by node and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"node", "method"}),
		KamailioUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kamreg_kamailio_up", Help: "1 when the node answered its last JSON-RPC call, 0 when it did not.",
		}, []string{"node"}),
		Flushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kamreg_flushes_total", Help: "Flushes by scope (account, user) and outcome (ok, incomplete, error).",
		}, []string{"scope", "outcome"}),
		FlushedAoRs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kamreg_flushed_aors_total", Help: "AoRs every node acknowledged in a flush.",
		}),
		FailedAoRs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kamreg_flush_failed_aors_total", Help: "AoRs some node did not acknowledge in a flush.",
		}),
		Registrations: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kamreg_registrations", Help: "Live registrations of each known account, refreshed on an interval.",
		}, []string{"account_id", "realm"}),
		Dumps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kamreg_ul_dumps_total", Help: "ul.dump calls the rpc source sent to each node (concurrent reads share one).",
		}, []string{"node"}),
		Sweeps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kamreg_flush_sweeps_total", Help: "Sweeps one usrloc timer interval after a realm flush, by outcome (clean, removed, failed).",
		}, []string{"outcome"}),
		SweptAoRs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kamreg_flush_swept_aors_total", Help: "AoRs written late by a node's usrloc timer that a sweep removed on every node.",
		}),
		BuildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kamreg_build_info", Help: "Always 1: the version, VCS revision and Go version kamreg was built with.",
		}, []string{"version", "revision", "goversion"}),
	}
	reg.MustRegister(m.HTTPRequests, m.HTTPDuration, m.ResponsesCut, m.RPCCalls, m.RPCDuration, m.KamailioUp,
		m.Flushes, m.FlushedAoRs, m.FailedAoRs, m.Registrations, m.Dumps, m.Sweeps, m.SweptAoRs, m.BuildInfo)
	return m
}

// ObserveSweep records one sweep: its outcome (registry.SweepClean,
// SweepRemoved or SweepFailed, a closed set) and the AoRs it removed.
func (m *Metrics) ObserveSweep(outcome string, removed int) {
	if m == nil {
		return
	}
	m.Sweeps.WithLabelValues(outcome).Inc()
	m.SweptAoRs.Add(float64(removed))
}

// ObserveHTTP records one answered request. route must come from a
// closed set (route names); method is mapped by MethodLabel, and code is
// bounded to the three digits of an HTTP status.
func (m *Metrics) ObserveHTTP(route, method string, code int, took time.Duration) {
	m.observeHTTP(route, method, codeLabel(code), took)
}

// codeCut is the code label of a response aborted mid-way (a streamed
// list whose backend failed after its first byte): no status tells it.
const codeCut = "cut"

// ObserveCut records one request whose response was aborted mid-way, as
// ObserveHTTP with the code codeCut.
func (m *Metrics) ObserveCut(route, method string, took time.Duration) {
	m.observeHTTP(route, method, codeCut, took)
}

func (m *Metrics) observeHTTP(route, method, code string, took time.Duration) {
	if m == nil {
		return
	}
	method = MethodLabel(method)
	m.HTTPRequests.WithLabelValues(route, method, code).Inc()
	m.HTTPDuration.WithLabelValues(route, method).Observe(took.Seconds())
}

// Reasons a streamed list is cut (the reason label of ResponsesCut).
const (
	CutClient  = "client"
	CutBackend = "backend"
)

// ObserveStreamCut records one streamed list that ended early; reason is
// CutClient or CutBackend.
func (m *Metrics) ObserveStreamCut(route, reason string) {
	if m == nil {
		return
	}
	m.ResponsesCut.WithLabelValues(route, reason).Inc()
}

// httpMethods are the closed set of the method label: the methods kamreg
// serves (GET, HEAD for the page, DELETE, OPTIONS, POST) and those Kazoo's
// crossbar takes through the proxy (PUT, PATCH).
var httpMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// MethodLabel is method when it is one of httpMethods, "other" otherwise:
// a caller invents methods, and each would be a new series.
func MethodLabel(method string) string {
	if httpMethods[method] {
		return method
	}
	return "other"
}

// codeLabel is the status code, or "other" outside 100-599.
func codeLabel(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code)
}

// ObserveRPC records one JSON-RPC call; outcome is ok, kamailio_error or
// no_answer. A node that answered (even with an error) is up.
func (m *Metrics) ObserveRPC(node, method, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	m.RPCCalls.WithLabelValues(node, method, outcome).Inc()
	m.RPCDuration.WithLabelValues(node, method).Observe(took.Seconds())
	up := 1.0
	if outcome == "no_answer" {
		up = 0
	}
	m.KamailioUp.WithLabelValues(node).Set(up)
}

// ObserveFlush records one flush.
func (m *Metrics) ObserveFlush(scope, outcome string, flushed, failed int) {
	if m == nil {
		return
	}
	m.Flushes.WithLabelValues(scope, outcome).Inc()
	m.FlushedAoRs.Add(float64(flushed))
	m.FailedAoRs.Add(float64(failed))
}

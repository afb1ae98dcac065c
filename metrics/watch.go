package metrics

import "github.com/prometheus/client_golang/prometheus"

// Watch counts the watch stream's work: watchers, watched realms, polls,
// events sent and watchers dropped. A nil *Watch records nothing.
type Watch struct {
	watchers prometheus.Gauge
	realms   prometheus.Gauge
	polls    *prometheus.CounterVec
	events   *prometheus.CounterVec
	dropped  *prometheus.CounterVec
}

// watchEventTypes are the values of the type label of
// kamreg_watch_events_total, each present from the start.
var watchEventTypes = []string{"snapshot", "registered", "refreshed", "unregistered"}

// NewWatch creates kamreg_watch_watchers, kamreg_watch_realms,
// kamreg_watch_polls_total{outcome}, kamreg_watch_events_total{type} and
// kamreg_watch_dropped_total{reason} and registers them with reg.
func NewWatch(reg prometheus.Registerer) *Watch {
	w := &Watch{
		watchers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kamreg_watch_watchers", Help: "Open registration event streams.",
		}),
		realms: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kamreg_watch_realms", Help: "Realms being polled for event streams (one poller each).",
		}),
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kamreg_watch_polls_total", Help: "Polls of watched realms by outcome (ok, error).",
		}, []string{"outcome"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kamreg_watch_events_total", Help: "Events handed to watchers by type (snapshot, registered, refreshed, unregistered).",
		}, []string{"type"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kamreg_watch_dropped_total", Help: "Streams closed by kamreg by reason (slow: the watcher did not keep up; shutdown).",
		}, []string{"reason"}),
	}
	for _, t := range watchEventTypes {
		w.events.WithLabelValues(t)
	}
	for _, o := range []string{"ok", "error"} {
		w.polls.WithLabelValues(o)
	}
	for _, r := range []string{"slow", "shutdown"} {
		w.dropped.WithLabelValues(r)
	}
	reg.MustRegister(w.watchers, w.realms, w.polls, w.events, w.dropped)
	return w
}

// Watchers adds delta to the open streams.
func (w *Watch) Watchers(delta int) {
	if w != nil {
		w.watchers.Add(float64(delta))
	}
}

// Realms adds delta to the polled realms.
func (w *Watch) Realms(delta int) {
	if w != nil {
		w.realms.Add(float64(delta))
	}
}

// Poll counts one poll; outcome is ok or error.
func (w *Watch) Poll(outcome string) {
	if w != nil {
		w.polls.WithLabelValues(outcome).Inc()
	}
}

// Events counts n events of a type handed to watchers.
func (w *Watch) Events(typ string, n int) {
	if w != nil && n > 0 {
		w.events.WithLabelValues(typ).Add(float64(n))
	}
}

// Dropped counts one stream kamreg closed; reason is slow or shutdown.
func (w *Watch) Dropped(reason string) {
	if w != nil {
		w.dropped.WithLabelValues(reason).Inc()
	}
}

// EventsCounter returns the counter of one event type, for tests.
func (w *Watch) EventsCounter(typ string) prometheus.Counter { return w.events.WithLabelValues(typ) }

// DroppedCounter returns the counter of one drop reason, for tests.
func (w *Watch) DroppedCounter(reason string) prometheus.Counter {
	return w.dropped.WithLabelValues(reason)
}

// WatchersGauge returns the open streams' gauge, for tests.
func (w *Watch) WatchersGauge() prometheus.Gauge { return w.watchers }

// RealmsGauge returns the polled realms' gauge, for tests.
func (w *Watch) RealmsGauge() prometheus.Gauge { return w.realms }

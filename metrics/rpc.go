package metrics

import "github.com/prometheus/client_golang/prometheus"

// RPCHedges counts the Kamailio JSON-RPC calls that were sent a second
// time for want of an answer, by node, method and the attempt that
// answered first. A nil *RPCHedges records nothing.
type RPCHedges struct{ c *prometheus.CounterVec }

// NewRPCHedges creates kamreg_kamailio_rpc_hedged_total{node,method,won}
// and registers it with reg.
func NewRPCHedges(reg prometheus.Registerer) *RPCHedges {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kamreg_kamailio_rpc_hedged_total",
		Help: "Kamailio JSON-RPC calls with no answer within the node's hedge delay, sent again on another connection, " +
			"by node, method and the attempt that answered first (first, second, or none).",
	}, []string{"node", "method", "won"})
	reg.MustRegister(c)
	return &RPCHedges{c: c}
}

// Observe counts one hedged call. node comes from the configuration,
// method from the client's table and won is first, second or none: all
// closed sets.
func (h *RPCHedges) Observe(node, method, won string) {
	if h != nil {
		h.c.WithLabelValues(node, method, won).Inc()
	}
}

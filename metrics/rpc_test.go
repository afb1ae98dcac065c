package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRPCHedges(t *testing.T) {
	var none *RPCHedges
	none.Observe("k1", "ul.rm", "second") // a nil *RPCHedges records nothing

	reg := prometheus.NewRegistry()
	h := NewRPCHedges(reg)
	for _, won := range []string{"second", "second", "first", "none"} {
		h.Observe("edge1", "ul.rm", won)
	}
	h.Observe("edge2", "ul.lookup", "second")
	want := `
# HELP kamreg_kamailio_rpc_hedged_total Kamailio JSON-RPC calls with no answer within the node's hedge delay, sent again on another connection, by node, method and the attempt that answered first (first, second, or none).
# TYPE kamreg_kamailio_rpc_hedged_total counter
kamreg_kamailio_rpc_hedged_total{method="ul.lookup",node="edge2",won="second"} 1
kamreg_kamailio_rpc_hedged_total{method="ul.rm",node="edge1",won="first"} 1
kamreg_kamailio_rpc_hedged_total{method="ul.rm",node="edge1",won="none"} 1
kamreg_kamailio_rpc_hedged_total{method="ul.rm",node="edge1",won="second"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

package registry

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/kamreg/kamreg"
)

// fanout removes every AoR from the usrloc table of every node. Calls run
// concurrently: nodes in parallel, and at most perNode calls in flight on
// one node. An AoR a node does not hold is not an error (Node.Remove).
func fanout(ctx context.Context, nodes []Node, table string, aors []string, perNode int) kamreg.FlushReport {
	if perNode < 1 {
		perNode = 1
	}
	var mu sync.Mutex
	failedAoR := map[string]bool{}
	var report kamreg.FlushReport
	var wg sync.WaitGroup
	for _, node := range nodes {
		wg.Add(1)
		go func(node Node) {
			defer wg.Done()
			failed, first := flushNode(ctx, node, table, aors, perNode)
			if len(failed) == 0 {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, aor := range failed {
				failedAoR[aor] = true
			}
			msg := first.Error()
			if len(failed) > 1 || len(aors) > 1 {
				msg = fmt.Sprintf("%d of %d AoRs not flushed: %v", len(failed), len(aors), first)
			}
			report.Nodes = append(report.Nodes, kamreg.NodeFailure{Node: node.Node().Name, Error: msg})
		}(node)
	}
	wg.Wait()
	sort.Slice(report.Nodes, func(i, j int) bool { return report.Nodes[i].Node < report.Nodes[j].Node })
	for _, aor := range aors {
		if failedAoR[aor] {
			report.Failed = append(report.Failed, aor)
		} else {
			report.Flushed = append(report.Flushed, aor)
		}
	}
	return report
}

// flushNode removes the AoRs on one node and returns those that failed and
// the first error. Once the node has failed many calls in a row (it is down,
// or hangs), the rest are not sent and count as failed at once.
func flushNode(ctx context.Context, node Node, table string, aors []string, perNode int) ([]string, error) {
	errs := make([]error, len(aors))
	sem := make(chan struct{}, perNode)
	giveUp := int64(max(2*perNode, 8))
	var inARow atomic.Int64
	var lastErr atomic.Value
	var wg sync.WaitGroup
	for i, aor := range aors {
		sem <- struct{}{}
		if n := inARow.Load(); n >= giveUp {
			<-sem
			errs[i] = fmt.Errorf("not sent after %d failed calls in a row: %w", n, lastErr.Load().(error))
			continue
		}
		wg.Add(1)
		go func(i int, aor string) {
			defer func() { <-sem; wg.Done() }()
			errs[i] = node.Remove(ctx, table, aor)
			if errs[i] != nil {
				lastErr.Store(errs[i])
				inARow.Add(1)
			} else {
				inARow.Store(0)
			}
		}(i, aor)
	}
	wg.Wait()
	var failed []string
	var first error
	for i, err := range errs {
		if err != nil {
			failed = append(failed, aors[i])
			if first == nil {
				first = err
			}
		}
	}
	return failed, first
}

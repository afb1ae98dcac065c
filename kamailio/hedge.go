package kamailio

import (
	"context"
	"sync"
	"time"
)

// minHedgeDelay is the shortest wait before a call with no answer is sent
// again, however fast the node has been.
const minHedgeDelay = 100 * time.Millisecond

// maxHedgesInFlight bounds the hedged attempts in flight on one node: a
// node slow for every call must not get each call twice.
const maxHedgesInFlight = 4

// Which attempt of a hedged call answered first (the won label of
// kamreg_kamailio_rpc_hedged_total).
const (
	wonFirst  = "first"
	wonSecond = "second"
	wonNone   = "none"
)

// HedgeObserver hears of every hedged call: the node, the method and
// which attempt answered first ("first", "second" or "none").
type HedgeObserver func(node, method, won string)

// ObserveHedges makes the client report every hedged call to o.
func (c *Client) ObserveHedges(o HedgeObserver) { c.hedged = o }

// latency follows a node's recent answers to hedgeable calls as TCP
// follows round trips (RFC 6298): a smoothed mean and mean deviation.
type latency struct {
	mu           sync.Mutex
	srtt, rttvar time.Duration
	seen         bool
}

// observe adds one answered attempt, timed from its own send.
func (l *latency) observe(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.seen {
		l.srtt, l.rttvar, l.seen = d, d/2, true
		return
	}
	dev := l.srtt - d
	if dev < 0 {
		dev = -dev
	}
	l.rttvar = (3*l.rttvar + dev) / 4
	l.srtt = (7*l.srtt + d) / 8
}

// delay is how long to wait for an answer before hedging: the mean plus
// four deviations, at most ceiling, never below minHedgeDelay.
func (l *latency) delay(ceiling time.Duration) time.Duration {
	l.mu.Lock()
	d := l.srtt + 4*l.rttvar
	l.mu.Unlock()
	return max(minHedgeDelay, min(d, ceiling))
}

// hedgeCeiling is the longest hedge delay: half the per-call timeout, so
// that the second attempt has time to answer.
func (c *Client) hedgeCeiling() time.Duration {
	if c.timeout <= 0 {
		return time.Second
	}
	return c.timeout / 2
}

// sent is what one attempt of an exchange got.
type sent struct {
	i    int // 0 for the first attempt, 1 for the hedge
	raw  []byte
	err  error
	took time.Duration
}

// hedgedExchange sends body on the client's transport and, when no answer
// came within the node's hedge delay, once more on its hedge transport
// (another connection: the idle one that answered last, or a new one; over
// the datagram socket, a socket of its own). The first answer wins and the
// other attempt is cancelled. A first attempt that fails before the delay
// is not hedged: the retry policy decides what follows. Both attempts
// share ctx and its per-call timeout.
func (c *Client) hedgedExchange(ctx context.Context, method string, id int64, body []byte) ([]byte, error) {
	results := make(chan sent, 2)
	var cancels [2]context.CancelFunc
	inFlight, hedged := 0, false
	// The loser is cancelled, and has ended (its socket closed) when the
	// call returns.
	defer func() {
		for _, cancel := range cancels {
			if cancel != nil {
				cancel()
			}
		}
		for ; inFlight > 0; inFlight-- {
			<-results
		}
	}()
	launch := func(i int, t transport, done func()) {
		actx, cancel := context.WithCancel(ctx)
		cancels[i] = cancel
		inFlight++
		go func() {
			start := time.Now()
			raw, err := c.send(actx, t, method, id, body)
			r := sent{i: i, raw: raw, err: err, took: time.Since(start)}
			if done != nil {
				done()
			}
			results <- r
		}()
	}
	launch(0, c.transport, nil)
	timer := time.NewTimer(c.latency.delay(c.hedgeCeiling()))
	defer timer.Stop()
	var errs [2]error
	for {
		select {
		case <-timer.C:
			if ctx.Err() != nil || !c.takeHedge() {
				continue
			}
			launch(1, c.hedge, c.releaseHedge)
			hedged = true
		case r := <-results:
			inFlight--
			if r.err == nil {
				c.latency.observe(r.took)
				if hedged {
					c.reportHedge(method, []string{wonFirst, wonSecond}[r.i])
				}
				return r.raw, nil
			}
			errs[r.i] = r.err
			if !hedged || inFlight == 0 {
				if hedged {
					c.reportHedge(method, wonNone)
				}
				if errs[0] != nil {
					return nil, errs[0]
				}
				return nil, errs[1]
			}
		}
	}
}

// takeHedge reserves one of the node's hedges in flight, if one is free.
func (c *Client) takeHedge() bool {
	if c.hedges.Add(1) > maxHedgesInFlight {
		c.hedges.Add(-1)
		return false
	}
	return true
}

func (c *Client) releaseHedge() { c.hedges.Add(-1) }

func (c *Client) reportHedge(method, won string) {
	if c.hedged != nil {
		c.hedged(c.node.Name, method, won)
	}
}

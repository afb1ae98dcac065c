package kamailio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kamreg/kamreg"
)

// DefaultMaxReply bounds the bytes read from one JSON-RPC reply.
const DefaultMaxReply = 64 << 20

// Client calls one Kamailio node's JSON-RPC, over HTTP (kept-alive
// connections) or a unix datagram socket. It is safe for concurrent use.
// It sends only the methods of its table (methods.go), each through a
// typed call. A call that got no answer (connection refused or reset,
// timeout) is tried again, a bounded number of times; Kamailio's own
// errors are not. A hedgeable call with no answer after the node's recent
// latency (at least 100 ms) is sent once more on another
// connection, within the same timeout, and the first answer wins.
type Client struct {
	node      Node
	transport transport
	// hedge carries second attempts: over HTTP the same pool of kept-alive
	// connections, whose most recently answered idle one is taken first
	// (the worker that just answered on it still holds it); over the
	// datagram socket, a socket of its own.
	hedge    transport
	timeout  time.Duration
	maxReply int64
	retries  int
	nextID   atomic.Int64
	observe  Observer
	hedged   HedgeObserver
	latency  latency
	hedges   atomic.Int32 // hedged attempts in flight
}

// Observer hears of every call: the node, the method, its outcome (ok,
// kamailio_error or no_answer) and how long it took with its retries.
type Observer func(node, method, outcome string, took time.Duration)

// Observe makes the client report every call to o.
func (c *Client) Observe(o Observer) { c.observe = o }

// Ping calls core.version: it tells whether the node answers.
func (c *Client) Ping(ctx context.Context) error { return c.call(ctx, "core.version", nil, nil) }

// transport carries one request and returns the raw reply.
type transport interface {
	// id is the request's JSON-RPC id, for a transport that must match
	// replies to requests.
	roundTrip(ctx context.Context, method string, id int64, body []byte, maxReply int64) ([]byte, error)
}

// defaultRetries is how many times a call that got no answer is tried again.
const defaultRetries = 2

// NewClient returns a client for node with a per-call timeout and a bound
// on the size of one reply.
func NewClient(node Node, timeout time.Duration, maxReply int64) *Client {
	if maxReply <= 0 {
		maxReply = DefaultMaxReply
	}
	c := &Client{node: node, timeout: timeout, maxReply: maxReply, retries: defaultRetries}
	if path, ok := strings.CutPrefix(node.URL, "unix:"); ok {
		// Every datagram round trip binds a socket of its own.
		c.transport = &dgramTransport{path: path}
		c.hedge = c.transport
	} else {
		c.transport = newHTTPTransport(node.URL)
		c.hedge = c.transport
	}
	return c
}

// Node returns the node this client calls.
func (c *Client) Node() Node { return c.node }

// Name returns the node's name.
func (c *Client) Name() string { return c.node.Name }

type rpcRequest struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
	ID      int64  `json:"id"`
}

type rpcReply struct {
	Result json.RawMessage `json:"result"`
	Error  *RPCError       `json:"error"`
}

// errTooLarge is a reply over the size bound; trying again cannot help.
var errTooLarge = errors.New("reply too large")

// call sends one JSON-RPC request and decodes its result into result
// (which may be nil). A method not in the table is refused unsent.
// Kamailio's error objects come back as *RPCError; anything that
// prevented an answer comes back as *TransportError.
func (c *Client) call(ctx context.Context, method string, params []any, result any) (err error) {
	pol, ok := methods[method]
	if !ok {
		return errMethodRefused(method)
	}
	if c.observe != nil {
		start := time.Now()
		defer func() {
			outcome := "ok"
			var rpcErr *RPCError
			switch {
			case errors.As(err, &rpcErr):
				outcome = "kamailio_error"
			case err != nil:
				outcome = "no_answer"
			}
			c.observe(c.node.Name, method, outcome, time.Since(start))
		}()
	}
	if params == nil {
		params = []any{}
	}
	id := c.nextID.Add(1)
	body, err := json.Marshal(rpcRequest{JSONRPC: "2.0", Method: method, Params: params, ID: id})
	if err != nil {
		return err
	}
	var raw []byte
	for attempt := 0; ; attempt++ {
		raw, err = c.attempt(ctx, method, pol, id, body)
		if err == nil || errors.Is(err, errTooLarge) || pol.once || attempt >= c.retries || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(50*(attempt+1)*(attempt+1)) * time.Millisecond):
		}
	}
	if err != nil {
		return c.noAnswer(err)
	}
	var reply rpcReply
	if err := json.Unmarshal(raw, &reply); err != nil {
		return c.noAnswer(fmt.Errorf("%s: undecodable reply: %w", method, err))
	}
	if reply.Error != nil {
		return kamreg.Wrap(kamreg.EUNAVAILABLE, reply.Error, "Kamailio node %s answered %s", c.node.Name, reply.Error)
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(reply.Result, result); err != nil {
		return c.noAnswer(fmt.Errorf("%s: unexpected result: %w", method, err))
	}
	return nil
}

// noAnswer is a call that got no usable answer from the node.
func (c *Client) noAnswer(err error) error {
	return kamreg.Wrap(kamreg.EUNAVAILABLE, &TransportError{Node: c.node.Name, Err: err},
		"Kamailio node %s did not answer: %v", c.node.Name, err)
}

// attempt makes one try within the per-call timeout, hedged when the
// method's policy allows it.
func (c *Client) attempt(ctx context.Context, method string, pol policy, id int64, body []byte) ([]byte, error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	if pol.hedge {
		return c.hedgedExchange(ctx, method, id, body)
	}
	return c.send(ctx, c.transport, method, id, body)
}

// send carries body (the request of JSON-RPC id id) over t once and
// returns a non-empty reply.
func (c *Client) send(ctx context.Context, t transport, method string, id int64, body []byte) ([]byte, error) {
	raw, err := t.roundTrip(ctx, method, id, body, c.maxReply)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fmt.Errorf("%s: empty reply", method)
	}
	return raw, nil
}

// httpTransport posts to http://host:port/RPC.
type httpTransport struct {
	url    string
	client *http.Client
}

// newHTTPTransport speaks HTTP/1.1 only, one request per connection at a
// time (Go never pipelines), so that two requests in flight are on two
// connections, each read by one of Kamailio's TCP workers. Connections are
// kept alive, and their number is not bounded: a call never queues behind
// a stalled one. An idle connection is taken most recently used first, so
// a hedge goes out on the one that answered last, which Kamailio's worker
// holds a few seconds after answering; a new connection goes to whichever
// worker holds the fewest, which may be the one that is tied up.
func newHTTPTransport(url string) *httpTransport {
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	return &httpTransport{url: url, client: &http.Client{Transport: &http.Transport{
		Protocols:           protocols,
		MaxConnsPerHost:     0,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}}}
}

// An HTTP reply answers its own request; the id is not needed.
func (t *httpTransport) roundTrip(ctx context.Context, method string, _ int64, body []byte, maxReply int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	if err != nil {
		return nil, fmt.Errorf("%s: reading reply: %w", method, err)
	}
	if int64(len(raw)) > maxReply {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", method, errTooLarge, maxReply)
	}
	return raw, nil
}

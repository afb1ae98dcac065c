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
// A call that got no answer (connection refused or reset, timeout) is
// tried again, a bounded number of times; Kamailio's own errors are not.
type Client struct {
	node      Node
	transport transport
	timeout   time.Duration
	maxReply  int64
	retries   int
	nextID    atomic.Int64
	observe   Observer
}

// Observer hears of every call: the node, the method, its outcome (ok,
// kamailio_error or no_answer) and how long it took with its retries.
type Observer func(node, method, outcome string, took time.Duration)

// Observe makes the client report every call to o.
func (c *Client) Observe(o Observer) { c.observe = o }

// Ping calls core.version: it tells whether the node answers.
func (c *Client) Ping(ctx context.Context) error { return c.Call(ctx, "core.version", nil, nil) }

// transport carries one request and returns the raw reply.
type transport interface {
	// id is the request's JSON-RPC id, for a transport that must match
	// replies to requests.
	roundTrip(ctx context.Context, method string, id int64, body []byte, maxReply int64) ([]byte, error)
}

// Retries is how many times a call that got no answer is tried again.
const Retries = 2

// NewClient returns a client for node with a per-call timeout and a bound
// on the size of one reply.
func NewClient(node Node, timeout time.Duration, maxReply int64) *Client {
	if maxReply <= 0 {
		maxReply = DefaultMaxReply
	}
	c := &Client{node: node, timeout: timeout, maxReply: maxReply, retries: Retries}
	if path, ok := strings.CutPrefix(node.URL, "unix:"); ok {
		c.transport = &dgramTransport{path: path}
	} else {
		c.transport = &httpTransport{url: node.URL, client: &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
		}}}
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

// Call sends one JSON-RPC request and decodes its result into result
// (which may be nil). Kamailio's error objects come back as *RPCError;
// anything that prevented an answer comes back as *TransportError.
func (c *Client) Call(ctx context.Context, method string, params []any, result any) (err error) {
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
		raw, err = c.attempt(ctx, method, id, body)
		if err == nil || errors.Is(err, errTooLarge) || attempt >= c.retries || ctx.Err() != nil {
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

// attempt makes one try within the per-call timeout.
func (c *Client) attempt(ctx context.Context, method string, id int64, body []byte) ([]byte, error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	raw, err := c.transport.roundTrip(ctx, method, id, body, c.maxReply)
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

// Remove calls ul.rm for aor ("user@domain") in the usrloc table. An AoR the
// node does not hold is not an error.
func (c *Client) Remove(ctx context.Context, table, aor string) error {
	err := c.Call(ctx, "ul.rm", []any{table, aor}, nil)
	if errors.Is(err, kamreg.ErrNotFound) {
		return nil
	}
	return err
}

// Lookup calls ul.lookup for aor. An AoR the node does not hold gives no
// contacts and no error.
func (c *Client) Lookup(ctx context.Context, table, aor string) ([]Contact, error) {
	var rec struct {
		AoR      string `json:"AoR"`
		Contacts []struct {
			Contact Contact `json:"Contact"`
		} `json:"Contacts"`
	}
	err := c.Call(ctx, "ul.lookup", []any{table, aor}, &rec)
	if errors.Is(err, kamreg.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]Contact, 0, len(rec.Contacts))
	for _, w := range rec.Contacts {
		out = append(out, w.Contact)
	}
	return out, nil
}

// Record is one AoR and its contacts as ul.dump reports them.
type Record struct {
	AoR      string
	Contacts []Contact
}

// Dump calls ul.dump and returns every AoR the node holds in table, with
// its contacts. The reply is bounded in size and time like every call.
func (c *Client) Dump(ctx context.Context, table string) ([]Record, error) {
	var raw json.RawMessage
	if err := c.Call(ctx, "ul.dump", nil, &raw); err != nil {
		return nil, err
	}
	recs, err := DecodeDump(raw, table)
	if err != nil {
		return nil, c.noAnswer(fmt.Errorf("ul.dump: %w", err))
	}
	return recs, nil
}

// DecodeDump reads the result of ul.dump: the AoRs of table with their
// contacts. It tolerates what it does not know and refuses what is not a
// dump.
func DecodeDump(raw []byte, table string) ([]Record, error) {
	var dump struct {
		Domains []struct {
			Domain struct {
				Domain string `json:"Domain"`
				AoRs   []struct {
					Info struct {
						AoR      string `json:"AoR"`
						Contacts []struct {
							Contact Contact `json:"Contact"`
						} `json:"Contacts"`
					} `json:"Info"`
				} `json:"AoRs"`
			} `json:"Domain"`
		} `json:"Domains"`
	}
	if err := json.Unmarshal(raw, &dump); err != nil {
		return nil, err
	}
	var out []Record
	for _, d := range dump.Domains {
		if d.Domain.Domain != table {
			continue
		}
		for _, a := range d.Domain.AoRs {
			rec := Record{AoR: a.Info.AoR}
			for _, w := range a.Info.Contacts {
				rec.Contacts = append(rec.Contacts, w.Contact)
			}
			out = append(out, rec)
		}
	}
	return out, nil
}

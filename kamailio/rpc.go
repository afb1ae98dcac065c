package kamailio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// DefaultMaxReply bounds the bytes read from one JSON-RPC reply.
const DefaultMaxReply = 64 << 20

// Client calls one Kamailio node's JSON-RPC over HTTP. It is safe for
// concurrent use and keeps connections alive between calls.
type Client struct {
	node     Node
	http     *http.Client
	timeout  time.Duration
	maxReply int64
	nextID   atomic.Int64
}

// NewClient returns a client for node with a per-call timeout and a bound
// on the size of one reply.
func NewClient(node Node, timeout time.Duration, maxReply int64) *Client {
	if maxReply <= 0 {
		maxReply = DefaultMaxReply
	}
	transport := &http.Transport{
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
	return &Client{node: node, http: &http.Client{Transport: transport}, timeout: timeout, maxReply: maxReply}
}

// Node returns the node this client calls.
func (c *Client) Node() Node { return c.node }

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

// Call sends one JSON-RPC request and decodes its result into result
// (which may be nil). Kamailio's error objects come back as *RPCError;
// anything that prevented an answer comes back as *TransportError.
func (c *Client) Call(ctx context.Context, method string, params []any, result any) error {
	if params == nil {
		params = []any{}
	}
	body, err := json.Marshal(rpcRequest{JSONRPC: "2.0", Method: method, Params: params, ID: c.nextID.Add(1)})
	if err != nil {
		return err
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.node.URL, bytes.NewReader(body))
	if err != nil {
		return &TransportError{Node: c.node.Name, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return &TransportError{Node: c.node.Name, Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.maxReply+1))
	if err != nil {
		return &TransportError{Node: c.node.Name, Err: fmt.Errorf("%s: reading reply: %w", method, err)}
	}
	if int64(len(raw)) > c.maxReply {
		return &TransportError{Node: c.node.Name, Err: fmt.Errorf("%s: reply larger than %d bytes", method, c.maxReply)}
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return &TransportError{Node: c.node.Name, Err: fmt.Errorf("%s: empty reply (HTTP %d)", method, resp.StatusCode)}
	}
	var reply rpcReply
	if err := json.Unmarshal(raw, &reply); err != nil {
		return &TransportError{Node: c.node.Name, Err: fmt.Errorf("%s: undecodable reply (HTTP %d): %w", method, resp.StatusCode, err)}
	}
	if reply.Error != nil {
		return reply.Error
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(reply.Result, result); err != nil {
		return &TransportError{Node: c.node.Name, Err: fmt.Errorf("%s: unexpected result: %w", method, err)}
	}
	return nil
}

// Remove calls ul.rm for aor ("user@domain") in the usrloc table. An AoR the
// node does not hold is not an error.
func (c *Client) Remove(ctx context.Context, table, aor string) error {
	err := c.Call(ctx, "ul.rm", []any{table, aor}, nil)
	if errors.Is(err, ErrNotFound) {
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
	if errors.Is(err, ErrNotFound) {
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

// AoRs calls ul.dump brief and returns the AoRs the node holds in table.
func (c *Client) AoRs(ctx context.Context, table string) ([]string, error) {
	var dump struct {
		Domains []struct {
			Domain struct {
				Domain string `json:"Domain"`
				AoRs   []struct {
					AoR string `json:"AoR"`
				} `json:"AoRs"`
			} `json:"Domain"`
		} `json:"Domains"`
	}
	if err := c.Call(ctx, "ul.dump", []any{"brief"}, &dump); err != nil {
		return nil, err
	}
	var out []string
	for _, d := range dump.Domains {
		if d.Domain.Domain != table {
			continue
		}
		for _, a := range d.Domain.AoRs {
			out = append(out, a.AoR)
		}
	}
	return out, nil
}

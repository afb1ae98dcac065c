//go:build integration

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"
)

// heldNode is a Kamailio JSON-RPC node served by the test on 127.0.0.1. It
// answers as Kamailio 5.6 does (kamailio/testdata), or passes every call on
// to a real node, and holds every ul.rm after the first pass of them until
// the test releases it: a flush is then provably in flight.
type heldNode struct {
	srv *httptest.Server
	// upstream is a real node's RPC URL; empty means the node answers
	// itself.
	upstream string
	pass     int

	mu      sync.Mutex
	rms     int      // ul.rm calls received, retries included
	removed []string // AoRs whose ul.rm got a result, in order

	held, release         chan struct{}
	heldOnce, releaseOnce sync.Once
}

// newHeldNode starts a node that holds the ul.rm calls after the first
// pass; upstream, when set, is the real node it stands in front of. The
// test's cleanup releases it and stops it.
func newHeldNode(t *testing.T, upstream string, pass int) *heldNode {
	t.Helper()
	h := &heldNode{upstream: upstream, pass: pass, held: make(chan struct{}), release: make(chan struct{})}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(func() {
		h.Release()
		h.srv.CloseClientConnections()
		h.srv.Close()
	})
	return h
}

// URL is the node's JSON-RPC endpoint.
func (h *heldNode) URL() string { return h.srv.URL + "/RPC" }

// Release lets every held ul.rm, and every later one, go on.
func (h *heldNode) Release() { h.releaseOnce.Do(func() { close(h.release) }) }

// waitHeld waits until a ul.rm is being held.
func (h *heldNode) waitHeld(timeout time.Duration) error {
	select {
	case <-h.held:
		return nil
	case <-time.After(timeout):
		h.mu.Lock()
		defer h.mu.Unlock()
		return fmt.Errorf("no ul.rm held within %s (%d received)", timeout, h.rms)
	}
}

// Removed returns the AoRs whose ul.rm got a result, sorted, once each.
func (h *heldNode) Removed() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	out := []string{}
	for _, aor := range h.removed {
		if !seen[aor] {
			seen[aor] = true
			out = append(out, aor)
		}
	}
	sort.Strings(out)
	return out
}

type rpcCall struct {
	Method string            `json:"method"`
	Params []json.RawMessage `json:"params"`
	ID     json.RawMessage   `json:"id"`
}

func (h *heldNode) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var c rpcCall
	_ = json.Unmarshal(body, &c)
	var aor string
	if c.Method == "ul.rm" {
		if len(c.Params) == 2 {
			_ = json.Unmarshal(c.Params[1], &aor)
		}
		h.mu.Lock()
		n := h.rms
		h.rms++
		h.mu.Unlock()
		if n >= h.pass {
			h.heldOnce.Do(func() { close(h.held) })
			select {
			case <-h.release:
			case <-r.Context().Done():
				return
			}
		}
	}
	reply, ok := h.answer(r.Context(), c, body)
	if !ok {
		// As a dead node: the connection ends without an answer.
		if hj, isHJ := w.(http.Hijacker); isHJ {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	if c.Method == "ul.rm" {
		var v struct{ Result json.RawMessage }
		if json.Unmarshal(reply, &v) == nil && v.Result != nil {
			h.mu.Lock()
			h.removed = append(h.removed, aor)
			h.mu.Unlock()
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(reply)
}

// answer returns the reply to one call: the real node's, or Kamailio's
// own answer for the calls kamreg makes. ok is false when the real node
// did not answer.
func (h *heldNode) answer(ctx context.Context, c rpcCall, body []byte) (reply []byte, ok bool) {
	if h.upstream != "" {
		req, err := http.NewRequestWithContext(ctx, "POST", h.upstream, bytes.NewReader(body))
		if err != nil {
			return nil, false
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, false
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return b, err == nil
	}
	id := string(c.ID)
	if id == "" {
		id = "null"
	}
	switch c.Method {
	case "ul.rm":
		return []byte(`{"jsonrpc":"2.0","result":{},"id":` + id + `}`), true
	case "core.version":
		return []byte(`{"jsonrpc":"2.0","result":"kamailio 5.6.3 (x86_64/linux) ","id":` + id + `}`), true
	case "ul.lookup":
		return []byte(`{"jsonrpc":"2.0","error":{"code":500,"message":"AOR not found in location table"},"id":` + id + `}`), true
	default:
		return []byte(`{"jsonrpc":"2.0","error":{"code":500,"message":"Method Not Found"},"id":` + id + `}`), true
	}
}

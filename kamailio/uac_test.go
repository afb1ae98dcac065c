package kamailio

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
)

// uacServer is a JSON-RPC endpoint that records each request's params and
// answers with reply; hang makes it answer nothing until the test ends.
func uacServer(t *testing.T, reply string, hang bool) (*Client, *atomic.Int32, chan []any) {
	t.Helper()
	var calls atomic.Int32
	params := make(chan []any, 4)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var req struct {
			Method string `json:"method"`
			Params []any  `json:"params"`
		}
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &req)
		if req.Method != "tm.t_uac_start" {
			t.Errorf("method %q", req.Method)
		}
		params <- req.Params
		if hang {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		_, _ = io.WriteString(w, reply)
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return NewClient(Node{Name: "k1", URL: srv.URL + "/RPC"}, 200*time.Millisecond, 0), &calls, params
}

var checkSync = UAC{Method: "NOTIFY", RURI: "sip:alice@192.0.2.1:5070", NextHop: "sip:198.51.100.7:41000",
	Headers: []string{"From: <sip:kamreg@a.test>;tag=1", "To: <sip:alice@a.test>", "Event: check-sync"}}

func TestSendRequest(t *testing.T) {
	c, calls, params := uacServer(t, `{"jsonrpc":"2.0","result":null,"id":1}`, false)
	if err := c.SendRequest(context.Background(), checkSync); err != nil {
		t.Fatal(err)
	}
	// No socket: "." lets the node choose, as tm's RPC takes it.
	want := []any{"NOTIFY", "sip:alice@192.0.2.1:5070", "sip:198.51.100.7:41000", ".",
		"From: <sip:kamreg@a.test>;tag=1\r\nTo: <sip:alice@a.test>\r\nEvent: check-sync\r\n"}
	if diff := cmp.Diff(want, <-params); diff != "" {
		t.Errorf("params (-want +got):\n%s", diff)
	}
	if calls.Load() != 1 {
		t.Errorf("%d calls", calls.Load())
	}
}

// TestSendRequestNeverRetried: a request that timed out may have been
// sent; it is not sent again.
func TestSendRequestNeverRetried(t *testing.T) {
	c, calls, _ := uacServer(t, "", true)
	err := c.SendRequest(context.Background(), checkSync)
	if kamreg.ErrorCode(err) != kamreg.EUNAVAILABLE {
		t.Fatalf("err %v, want unavailable", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func TestSendRequestKamailioError(t *testing.T) {
	c, _, _ := uacServer(t, `{"jsonrpc":"2.0","error":{"code":400,"message":"Invalid next-hop"},"id":1}`, false)
	err := c.SendRequest(context.Background(), checkSync)
	var rpcErr *RPCError
	if kamreg.ErrorCode(err) != kamreg.EUNAVAILABLE || !errors.As(err, &rpcErr) || rpcErr.Code != 400 {
		t.Fatalf("err %v, want Kamailio's 400", err)
	}
}

// TestSendRequestRefusesLineBreaks: what a phone wrote (its contact) can
// never add a header or a line.
func TestSendRequestRefusesLineBreaks(t *testing.T) {
	c, calls, _ := uacServer(t, `{"jsonrpc":"2.0","result":null,"id":1}`, false)
	for _, u := range []UAC{
		{Method: "NOTIFY", RURI: "sip:a@b\r\nX-Evil: 1", Headers: checkSync.Headers},
		{Method: "NOTIFY", RURI: "sip:a@b", Socket: "udp:1.2.3.4:5060\n", Headers: checkSync.Headers},
		{Method: "NOTIFY", RURI: "sip:a@b", Headers: []string{"To: <sip:a@b>\r\nX-Evil: 1"}},
		{Method: "NOTIFY", RURI: "", Headers: checkSync.Headers},
	} {
		if err := c.SendRequest(context.Background(), u); kamreg.ErrorCode(err) != kamreg.EINVALID {
			t.Errorf("%q: err %v, want invalid", u.RURI, err)
		}
	}
	if calls.Load() != 0 {
		t.Errorf("%d calls, want none", calls.Load())
	}
}

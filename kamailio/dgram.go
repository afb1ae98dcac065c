package kamailio

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// maxDatagram is the largest reply one datagram can carry.
const maxDatagram = 1 << 16

// dgramTransport talks to jsonrpcs's unix datagram socket. Kamailio sends
// the reply to the sender's address, so each attempt (a retry or a hedge
// included) binds a socket of its own: mode 0600, in a new directory of
// mode 0700 with a random name, both removed afterwards, and jsonrpcs
// hands each datagram to a worker that is free. Only the user kamreg runs
// as (and root) can send to it, so Kamailio must run as that user or as
// root. A datagram whose JSON-RPC id is not the request's is dropped; one
// reply must fit in one
// datagram.
type dgramTransport struct {
	path string
	// dir is where the calls' directories are made; empty means
	// os.TempDir().
	dir string
}

func (t *dgramTransport) roundTrip(ctx context.Context, method string, id int64, body []byte, maxReply int64) ([]byte, error) {
	dir, err := os.MkdirTemp(t.dir, "kamreg-rpc-")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	defer os.RemoveAll(dir)
	// MkdirTemp makes it 0700 already; say so, whatever it does elsewhere.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	local := filepath.Join(dir, "reply.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: local, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("%s: binding %s: %w", method, local, err)
	}
	defer conn.Close()
	// The directory already keeps everyone else out; the socket's own mode
	// does too, should the directory ever be opened up.
	if err := os.Chmod(local, 0o600); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Minute)
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if _, err := conn.WriteToUnix(body, &net.UnixAddr{Name: t.path, Net: "unixgram"}); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	// One byte more than either bound tells a reply over it (a datagram
	// longer than the buffer is cut to it): it is too large, whatever its
	// id, since only the node writes to this socket.
	buf := make([]byte, min(maxReply, maxDatagram)+1)
	want := strconv.FormatInt(id, 10)
	for {
		n, _, err := conn.ReadFromUnix(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s: %w", method, ctx.Err())
			}
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		if n == len(buf) {
			return nil, fmt.Errorf("%s: %w: more than %d bytes", method, errTooLarge, len(buf)-1)
		}
		if replyID(buf[:n]) == want {
			return bytes.Clone(buf[:n]), nil
		}
		// Not the answer to this request: keep waiting for it.
	}
}

// replyID is the JSON-RPC id of a reply as written, or "" when the
// datagram is not a JSON object with one.
func replyID(raw []byte) string {
	var reply struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(raw, &reply) != nil {
		return ""
	}
	return string(bytes.TrimSpace(reply.ID))
}

package kamailio

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// maxDatagram is the largest reply one datagram can carry.
const maxDatagram = 1 << 16

var dgramSeq atomic.Int64

// dgramTransport talks to jsonrpcs's unix datagram socket. Kamailio sends
// the reply to the sender's address, so each attempt (a retry or a hedge
// included) binds a socket of its own, removed afterwards, and jsonrpcs
// hands each datagram to a worker that is free; one reply must fit in one
// datagram.
type dgramTransport struct {
	path string
	// dir is where client sockets are bound; empty means os.TempDir().
	dir string
}

func (t *dgramTransport) roundTrip(ctx context.Context, method string, body []byte, maxReply int64) ([]byte, error) {
	dir := t.dir
	if dir == "" {
		dir = os.TempDir()
	}
	local := filepath.Join(dir, fmt.Sprintf("kamreg-rpc-%d-%d.sock", os.Getpid(), dgramSeq.Add(1)))
	laddr := &net.UnixAddr{Name: local, Net: "unixgram"}
	conn, err := net.ListenUnixgram("unixgram", laddr)
	if err != nil {
		return nil, fmt.Errorf("%s: binding %s: %w", method, local, err)
	}
	defer os.Remove(local)
	defer conn.Close()
	// Kamailio may run as another user: it must be able to answer.
	_ = os.Chmod(local, 0o666)
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
	size := maxReply + 1
	if size > maxDatagram {
		size = maxDatagram
	}
	buf := make([]byte, size)
	n, _, err := conn.ReadFromUnix(buf)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", method, ctx.Err())
		}
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	if int64(n) > maxReply {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", method, errTooLarge, maxReply)
	}
	return buf[:n], nil
}

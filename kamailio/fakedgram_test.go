package kamailio

import (
	"net"
	"path/filepath"
	"testing"
	"time"
)

// fakeDatagramNode listens on the unix datagram socket name in dir, as
// Kamailio's jsonrpcs does, and sends what reply returns for each request
// (any number of datagrams, nothing for none) back to the socket it came
// from, until the test ends. It returns the socket's path.
func fakeDatagramNode(t *testing.T, dir, name string, reply func(req []byte, from *net.UnixAddr) [][]byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	srv, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := srv.ReadFromUnix(buf)
			if err != nil {
				return
			}
			for _, d := range reply(buf[:n], from) {
				_, _ = srv.WriteToUnix(d, from)
			}
		}
	}()
	return path
}

// dgramClient is a client of the datagram socket at path whose own
// sockets go under dir, so that a test sees what it leaves behind.
func dgramClient(name, path, dir string, timeout time.Duration, maxReply int64) *Client {
	c := NewClient(Node{Name: name, URL: "unix:" + path}, timeout, maxReply)
	c.transport.(*dgramTransport).dir = dir
	return c
}

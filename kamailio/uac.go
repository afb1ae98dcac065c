package kamailio

import (
	"context"
	"errors"
	"strings"

	"github.com/kamreg/kamreg"
)

// UAC is one request a node sends as a user agent client (tm.t_uac_start):
// what kamreg sends a phone, such as NOTIFY check-sync.
type UAC struct {
	// Method is the SIP method, e.g. "NOTIFY".
	Method string
	// RURI is the request URI: the phone's contact.
	RURI string
	// NextHop is where the request goes instead of the RURI's host (the
	// contact's received address behind NAT); "" for none.
	NextHop string
	// Socket is the node's socket to send from (e.g. "udp:127.0.0.1:5060");
	// "" for the node's choice.
	Socket string
	// Headers are the request's headers, each "Name: value", From and To
	// among them. They must hold no CR or LF.
	Headers []string
}

// errBadUAC is a request that cannot be sent as it is.
var errBadUAC = errors.New("a request field holds a line break or is empty")

// params are tm.t_uac_start's parameters: method, RURI, next hop and
// socket ("." for none), and the headers, each line ended by CRLF.
func (u UAC) params() ([]any, error) {
	if u.Method == "" || u.RURI == "" || strings.ContainsAny(u.Method+u.RURI+u.NextHop+u.Socket, "\r\n \t") {
		return nil, errBadUAC
	}
	var h strings.Builder
	for _, line := range u.Headers {
		if strings.ContainsAny(line, "\r\n") {
			return nil, errBadUAC
		}
		h.WriteString(line)
		h.WriteString("\r\n")
	}
	return []any{u.Method, u.RURI, orDot(u.NextHop), orDot(u.Socket), h.String()}, nil
}

func orDot(s string) string {
	if s == "" {
		return "."
	}
	return s
}

// SendRequest asks the node to send u (tm.t_uac_start: the node answers
// once the request is handed to its transaction layer, not once the
// phone answered). It is tried once: a request that may have been sent
// is never sent again, since a phone told twice may reboot twice.
func (c *Client) SendRequest(ctx context.Context, u UAC) error {
	p, err := u.params()
	if err != nil {
		return kamreg.Wrap(kamreg.EINVALID, err, "request to %s not sent: %v", u.RURI, err)
	}
	return c.call(ctx, "tm.t_uac_start", p, nil)
}

package kamailio

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Node is one configured Kamailio JSON-RPC endpoint.
type Node struct {
	// Name identifies the node in answers, logs and metrics.
	Name string
	// URL is the endpoint: http://host:port/RPC, or unix:/path for
	// jsonrpcs's datagram socket.
	URL string
	// ServerID is the node's usrloc server_id, when given ("name@ID="):
	// it tells which node wrote a location row. 0 when unknown.
	ServerID int
	// Timer is the node's usrloc timer_interval, when given ("url#timer=60s"):
	// how late, under db_mode 2, it writes a row. 0 when not given.
	Timer time.Duration
}

// ParseNodes reads KAMREG_KAMAILIO_RPC: comma-separated endpoints, each
// optionally prefixed "name=" or "name@SERVER_ID=", and optionally ending
// in "#timer=DURATION", the node's usrloc timer_interval (a URL fragment is
// never sent). An unnamed endpoint is named after its host and port, or its
// socket path.
func ParseNodes(spec string) ([]Node, error) {
	var nodes []Node
	seen := map[string]bool{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		var n Node
		if name, rest, ok := strings.Cut(item, "="); ok && !strings.Contains(name, ":") {
			n.Name, n.URL = strings.TrimSpace(name), strings.TrimSpace(rest)
			if name, id, ok := strings.Cut(n.Name, "@"); ok {
				sid, err := strconv.Atoi(id)
				if err != nil || sid <= 0 {
					return nil, fmt.Errorf("kamailio rpc endpoint %q: want name@SERVER_ID=url with a positive usrloc server_id", item)
				}
				n.Name, n.ServerID = name, sid
			}
		} else {
			n.URL = item
		}
		if u, frag, ok := strings.Cut(n.URL, "#"); ok {
			v, found := strings.CutPrefix(frag, "timer=")
			d, err := time.ParseDuration(v)
			if !found || err != nil || d <= 0 {
				return nil, fmt.Errorf("kamailio rpc endpoint %q: want url#timer=DURATION (the node's usrloc timer_interval, e.g. #timer=60s)", item)
			}
			n.URL, n.Timer = u, d
		}
		if path, ok := strings.CutPrefix(n.URL, "unix:"); ok {
			if !strings.HasPrefix(path, "/") {
				return nil, fmt.Errorf("kamailio rpc endpoint %q: want unix:/absolute/path/kamailio_rpc.sock", item)
			}
			if n.Name == "" {
				n.Name = path
			}
		} else if u, err := url.Parse(n.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("kamailio rpc endpoint %q: want http://host:port/RPC or unix:/path, optionally prefixed name=", item)
		} else if n.Name == "" {
			n.Name = u.Host
		}
		if seen[n.Name] {
			return nil, fmt.Errorf("kamailio rpc endpoint %q: node name %q given twice", item, n.Name)
		}
		seen[n.Name] = true
		nodes = append(nodes, n)
	}
	return nodes, nil
}

package kamailio

import (
	"fmt"
	"net/url"
	"strings"
)

// Node is one configured Kamailio JSON-RPC endpoint.
type Node struct {
	// Name identifies the node in answers, logs and metrics.
	Name string
	// URL is the endpoint, http://host:port/RPC.
	URL string
}

// ParseNodes reads KAMREG_KAMAILIO_RPC: comma-separated endpoints, each
// optionally prefixed "name=". An unnamed endpoint is named after its
// host and port.
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
		} else {
			n.URL = item
		}
		u, err := url.Parse(n.URL)
		switch {
		case strings.HasPrefix(n.URL, "unix:"):
			return nil, fmt.Errorf("kamailio rpc endpoint %q: the unix socket transport is not supported yet; use http://host:port/RPC", item)
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			return nil, fmt.Errorf("kamailio rpc endpoint %q: want http://host:port/RPC, optionally prefixed name=", item)
		}
		if n.Name == "" {
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

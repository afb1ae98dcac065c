package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"slices"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/kamailio"
)

// sender is a node that can send a request as a user agent client
// (kamailio.Client). A node that cannot is reported as failed by Sync.
type sender interface {
	SendRequest(ctx context.Context, u kamailio.UAC) error
}

// ErrNoRegistration is a sync of a device or username with no live
// registration: nothing was sent.
var ErrNoRegistration = errors.New("no live registration")

// DeviceStatus returns the device ids (authorizing_id, from kamreg's
// device records or Kazoo's channel vars) of the scope's live
// registrations, each once, sorted. Registrations with no known device id
// are left out.
func (r *Registry) DeviceStatus(ctx context.Context, s kamreg.Scope) ([]string, error) {
	seen := map[string]bool{}
	ids := []string{}
	err := r.each(ctx, readQuery{Query: kamailio.Query{Scope: s}}, func(_ *kamreg.Binding, reg *kamreg.Registration) bool {
		if id := reg.AuthorizingID; id != "" && id != kamreg.Undefined && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	return ids, nil
}

// SyncRequest is a check-sync for every live contact of a device
// (DeviceID set) or of Scope.Username.
type SyncRequest struct {
	Scope    kamreg.Scope
	DeviceID string
	// Reboot adds ";reboot=true" to the Event header.
	Reboot bool
}

// SyncReport says which contacts a sync reached. Sent and Failed hold
// contacts, in the list's order; Nodes each node that failed, once.
type SyncReport struct {
	Sent   []string
	Failed []string
	Nodes  []kamreg.NodeFailure
}

// Complete tells whether every node holding a contact accepted its NOTIFY.
func (s SyncReport) Complete() bool { return len(s.Failed) == 0 && len(s.Nodes) == 0 }

// contacts returns the live bindings a sync tells, through the one read
// path.
func (r *Registry) contacts(ctx context.Context, req SyncRequest) ([]kamreg.Binding, error) {
	q := readQuery{Query: kamailio.Query{Scope: req.Scope}}
	if req.DeviceID != "" {
		q.Rest = []kamreg.Filter{{Key: "authorizing_id", Value: req.DeviceID}}
	}
	var bs []kamreg.Binding
	err := r.each(ctx, q, func(b *kamreg.Binding, _ *kamreg.Registration) bool {
		bs = append(bs, *b)
		return true
	})
	return bs, err
}

// Sync sends NOTIFY "Event: check-sync" to every live contact of the
// device or username, from each node that holds the contact: the node of
// the row's server_id when one is configured with it, else every node
// whose ul.lookup has the contact. ErrNoRegistration when there is no live
// contact. The report is complete only when every node holding a contact
// accepted its request; nothing is sent twice.
func (r *Registry) Sync(ctx context.Context, req SyncRequest) (SyncReport, error) {
	bs, err := r.contacts(ctx, req)
	if err != nil {
		return SyncReport{}, err
	}
	if len(bs) == 0 {
		return SyncReport{}, ErrNoRegistration
	}
	if len(r.Nodes) == 0 {
		return SyncReport{}, ErrNoNodes
	}
	var rep SyncReport
	failedNode := map[string]bool{}
	fail := func(node string, err error) {
		if !failedNode[node] {
			failedNode[node] = true
			rep.Nodes = append(rep.Nodes, kamreg.NodeFailure{Node: node, Error: kamreg.ErrorMessage(err)})
		}
	}
	for i := range bs {
		b := &bs[i]
		holders, err := r.holders(ctx, b, fail)
		ok := err == nil && len(holders) > 0
		if err == nil && len(holders) == 0 {
			fail("", kamreg.Errorf(kamreg.EUNAVAILABLE, "no Kamailio node holds the contact of %s@%s", b.Username, b.Domain))
		}
		for _, n := range holders {
			if err := r.notify(ctx, n, b, req.Reboot); err != nil {
				fail(n.Node().Name, err)
				ok = false
			}
		}
		if ok {
			rep.Sent = append(rep.Sent, b.Contact)
		} else {
			rep.Failed = append(rep.Failed, b.Contact)
		}
	}
	slices.SortFunc(rep.Nodes, func(a, b kamreg.NodeFailure) int {
		if a.Node < b.Node {
			return -1
		}
		if a.Node > b.Node {
			return 1
		}
		return 0
	})
	return rep, nil
}

// holders returns the nodes that hold b: the node configured with b's
// server_id, else every node whose ul.lookup of the AoR has b (same ruid,
// or same contact when the ruid is unknown). A node that cannot be asked
// is reported to fail and makes the answer an error.
func (r *Registry) holders(ctx context.Context, b *kamreg.Binding, fail func(string, error)) ([]Node, error) {
	if b.ServerID != 0 {
		for _, n := range r.Nodes {
			if n.Node().ServerID == b.ServerID {
				return []Node{n}, nil
			}
		}
	}
	aor := kamreg.AoR{Username: b.Username, Domain: b.Domain}.String()
	var out []Node
	var firstErr error
	for _, n := range r.Nodes {
		cs, err := n.Lookup(ctx, r.Table, aor)
		if err != nil {
			fail(n.Node().Name, err)
			firstErr = cmpOr(firstErr, err)
			continue
		}
		for _, c := range cs {
			if (b.Ruid != "" && string(c.Ruid) == b.Ruid) || (b.Ruid == "" && string(c.Address) == b.Contact) {
				out = append(out, n)
				break
			}
		}
	}
	return out, firstErr
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// notify sends b's NOTIFY from node n: the RURI is the contact, the next
// hop its received address (a phone behind NAT), the socket the one it
// registered through, so that the request reaches the phone as its
// REGISTER came (over its connection for TCP and TLS, while it is open).
func (r *Registry) notify(ctx context.Context, n Node, b *kamreg.Binding, reboot bool) error {
	s, ok := n.(sender)
	if !ok {
		return kamreg.Errorf(kamreg.EUNAVAILABLE, "node %s cannot send requests", n.Node().Name)
	}
	return s.SendRequest(ctx, checkSync(b, reboot))
}

// checkSync is the NOTIFY check-sync for binding b.
func checkSync(b *kamreg.Binding, reboot bool) kamailio.UAC {
	event := "check-sync"
	if reboot {
		event += ";reboot=true"
	}
	tag := make([]byte, 8)
	_, _ = rand.Read(tag)
	user := (&url.URL{Path: b.Username}).EscapedPath()
	return kamailio.UAC{
		Method: "NOTIFY", RURI: b.Contact, NextHop: b.Received, Socket: b.Socket,
		Headers: []string{
			"From: <sip:kamreg@" + b.Domain + ">;tag=" + hex.EncodeToString(tag),
			"To: <sip:" + user + "@" + b.Domain + ">",
			"Event: " + event,
			"Subscription-State: active",
		},
	}
}

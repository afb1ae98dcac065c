package rest

import (
	"net/http"

	"github.com/kamreg/kamreg"
)

// The Kazoo routes the registrations page reads besides kamreg's own (the
// account, its descendants and its devices), served from kamreg's tables
// when no Kazoo is configured. With KAMREG_KAZOO_URL set they are not
// routes: Kazoo answers them through the proxy. Each takes the
// registrations list's auth, headers and errors (inAccount): a caller that
// may act on an account may act on each of its descendants.

// accountDoc is GET /v2/accounts/{id} from kamreg's accounts table: the
// keys of Kazoo's account document kamreg holds.
type accountDoc struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Realm      string `json:"realm"`
	SuperDuper bool   `json:"superduper_admin"`
}

// descendantDoc is one entry of …/descendants, as Kazoo writes it.
type descendantDoc struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Realm string   `json:"realm"`
	Tree  []string `json:"tree"`
}

// deviceDoc is one entry of …/devices from kamreg's device records, in the
// shape of Kazoo's device list with_status. The records hold no name: the
// name is the username. Every record is a SIP device, enabled.
type deviceDoc struct {
	DeviceType  string `json:"device_type"`
	Enabled     bool   `json:"enabled"`
	ID          string `json:"id"`
	Name        string `json:"name"`
	OwnerID     string `json:"owner_id,omitempty"`
	Registered  bool   `json:"registered"`
	Registrable bool   `json:"registrable"`
	Username    string `json:"username"`
}

// standInRoutes are the routes of this file, for a server with no Kazoo;
// one whose dependency is missing is left out (a 404).
func (s *Server) standInRoutes() []route {
	if s.cfg.KazooURL != nil {
		return nil
	}
	const acct = "/v2/accounts/{account_id}"
	var rs []route
	if s.cfg.Tree != nil {
		rs = append(rs,
			route{"account", acct, map[string]handler{http.MethodGet: s.inAccount(s.account)}},
			route{"account_descendants", acct + "/descendants", map[string]handler{http.MethodGet: s.inAccount(s.descendants)}})
	}
	if s.cfg.DeviceRecords != nil && s.cfg.Devices != nil {
		rs = append(rs, route{"account_devices", acct + "/devices", map[string]handler{http.MethodGet: s.inAccount(s.deviceList)}})
	}
	return rs
}

// account answers GET /v2/accounts/{account_id}.
func (s *Server) account(w http.ResponseWriter, r *http.Request, a *kamreg.Account) {
	respond(w, r, accountDoc{ID: a.ID, Name: a.Name, Realm: a.Realm, SuperDuper: a.SuperDuper}, paging{})
}

// descendants answers GET …/descendants: every account below the URL's,
// ordered by name.
func (s *Server) descendants(w http.ResponseWriter, r *http.Request, a *kamreg.Account) {
	ctx, cancel := s.readContext(r)
	defer cancel()
	ds, err := s.cfg.Tree.Descendants(ctx, a.ID)
	if err != nil {
		respondError(w, r, err)
		return
	}
	out := make([]descendantDoc, len(ds))
	for i, d := range ds {
		out[i] = descendantDoc{ID: d.ID, Name: d.Name, Realm: d.Realm, Tree: d.Tree}
		if out[i].Tree == nil {
			out[i].Tree = []string{}
		}
	}
	n := len(out)
	respond(w, r, out, paging{size: &n})
}

// deviceList answers GET …/devices: the account's device records, each
// registered when a live registration of the realm has its device id as
// authorizing_id (as the proxied list's status).
func (s *Server) deviceList(w http.ResponseWriter, r *http.Request, a *kamreg.Account) {
	ctx, cancel := s.readContext(r)
	defer cancel()
	devs, err := s.cfg.DeviceRecords.List(ctx, a.ID)
	if err != nil {
		respondError(w, r, err)
		return
	}
	ids, err := s.cfg.Devices.DeviceStatus(ctx, scopeOf(a))
	if err != nil {
		respondError(w, r, err)
		return
	}
	registered := make(map[string]bool, len(ids))
	for _, id := range ids {
		registered[id] = true
	}
	out := make([]deviceDoc, len(devs))
	for i, d := range devs {
		out[i] = deviceDoc{DeviceType: "sip_device", Enabled: true, ID: d.DeviceID, Name: d.Username, OwnerID: d.OwnerID,
			Registered: registered[d.DeviceID], Registrable: true, Username: d.Username}
	}
	n := len(out)
	respond(w, r, out, paging{size: &n})
}

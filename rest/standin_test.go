package rest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
)

const (
	account     = "/v2/accounts/" + acctID
	childID     = "c0000000000000000000000000000001"
	grandID     = "c0000000000000000000000000000002"
	hostileName = "<img src=x onerror=alert(1)>"
)

type fakeTree struct {
	DescendantsFn func(id string) ([]kamreg.Descendant, error)
}

func (f fakeTree) Descendants(_ context.Context, id string) ([]kamreg.Descendant, error) {
	if f.DescendantsFn == nil {
		return []kamreg.Descendant{
			{Account: kamreg.Account{ID: childID, Name: hostileName, Realm: "child.kamreg.test", ParentID: id}, Tree: []string{id}},
			{Account: kamreg.Account{ID: grandID, Name: "Grandchild", Realm: "grand.kamreg.test", ParentID: childID}, Tree: []string{id, childID}},
		}, nil
	}
	return f.DescendantsFn(id)
}

type fakeDeviceRecords struct {
	ListFn func(accountID string) ([]kamreg.Device, error)
}

func (f fakeDeviceRecords) List(_ context.Context, accountID string) ([]kamreg.Device, error) {
	if f.ListFn == nil {
		return []kamreg.Device{
			{AccountID: accountID, Username: "alice", DeviceID: devID, OwnerID: "0a000000000000000000000000000000"},
			{AccountID: accountID, Username: "<img/src=x/onerror=alert(1)>", DeviceID: "d0000000000000000000000000000009"},
		}, nil
	}
	return f.ListFn(accountID)
}

// standInServer is a server with no Kazoo, on fakes.
func standInServer(t *testing.T, tree fakeTree, records fakeDeviceRecords, devices fakeDevices) *Server {
	t.Helper()
	return deviceServer(t, devices, nil, func(c *Config) {
		c.Tree = tree
		c.DeviceRecords = records
	})
}

// TestStandInGoldens: without Kazoo, kamreg answers the account, its
// descendants and its devices from its own tables, in Kazoo's shapes, with
// the registrations list's auth and errors; each answer is its
// hand-written golden and matches openapi.yaml.
func TestStandInGoldens(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	unavailable := kamreg.Errorf(kamreg.EUNAVAILABLE, "PostgreSQL is unreachable or failing")
	for _, tt := range []struct {
		name, method, path, token string
		tree                      fakeTree
		records                   fakeDeviceRecords
		devices                   fakeDevices
		status                    int
	}{
		{"account_doc", "GET", account, goodTok, fakeTree{}, fakeDeviceRecords{}, fakeDevices{}, 200},
		{"descendants", "GET", account + "/descendants", goodTok, fakeTree{}, fakeDeviceRecords{}, fakeDevices{}, 200},
		{"descendants_empty", "GET", account + "/descendants", goodTok, fakeTree{DescendantsFn: func(string) ([]kamreg.Descendant, error) {
			return []kamreg.Descendant{}, nil
		}}, fakeDeviceRecords{}, fakeDevices{}, 200},
		{"device_list", "GET", devices + "?with_status=true&paginate=false", goodTok, fakeTree{}, fakeDeviceRecords{}, fakeDevices{}, 200},
		{"error_descendants_datastore", "GET", account + "/descendants", goodTok, fakeTree{DescendantsFn: func(string) ([]kamreg.Descendant, error) {
			return nil, unavailable
		}}, fakeDeviceRecords{}, fakeDevices{}, 503},
		{"error_device_list_datastore", "GET", devices, goodTok, fakeTree{}, fakeDeviceRecords{ListFn: func(string) ([]kamreg.Device, error) {
			return nil, unavailable
		}}, fakeDevices{}, 503},
		{"error_device_list_status", "GET", devices, goodTok, fakeTree{}, fakeDeviceRecords{}, fakeDevices{StatusFn: func(kamreg.Scope) ([]string, error) {
			return nil, unavailable
		}}, 503},
		{"error_descendants_forbidden", "GET", account + "/descendants", otherTok, fakeTree{}, fakeDeviceRecords{}, fakeDevices{}, 403},
		{"error_account_no_token", "GET", account, "", fakeTree{}, fakeDeviceRecords{}, fakeDevices{}, 401},
		{"error_device_list_unknown_account", "GET", "/v2/accounts/ffffffffffffffffffffffffffffffff/devices", goodTok,
			fakeTree{}, fakeDeviceRecords{}, fakeDevices{}, 404},
		{"error_device_list_method", "PUT", devices, goodTok, fakeTree{}, fakeDeviceRecords{}, fakeDevices{}, 405},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := do(standInServer(t, tt.tree, tt.records, tt.devices), tt.method, tt.path, tt.token)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			golden(t, tt.name, w.Body.Bytes())
			checkOpenAPI(t, doc, router, tt.method, tt.path, w)
		})
	}
}

// TestStandInAsks: each route asks its store about the URL's account (and
// the device status about its realm); a trailing slash is the same route.
func TestStandInAsks(t *testing.T) {
	var asked []string
	s := standInServer(t,
		fakeTree{DescendantsFn: func(id string) ([]kamreg.Descendant, error) {
			asked = append(asked, "descendants "+id)
			return nil, nil
		}},
		fakeDeviceRecords{ListFn: func(id string) ([]kamreg.Device, error) {
			asked = append(asked, "devices "+id)
			return nil, nil
		}},
		fakeDevices{StatusFn: func(sc kamreg.Scope) ([]string, error) {
			asked = append(asked, "status "+sc.Realm)
			return nil, nil
		}})
	for _, p := range []string{account + "/descendants", devices, account + "/descendants/", devices + "/"} {
		if w := do(s, "GET", p, goodTok); w.Code != 200 {
			t.Errorf("%s: %d %s", p, w.Code, w.Body)
		}
	}
	want := []string{"descendants " + acctID, "devices " + acctID, "status Acme.Kamreg.Test",
		"descendants " + acctID, "devices " + acctID, "status Acme.Kamreg.Test"}
	if diff := cmp.Diff(want, asked); diff != "" {
		t.Errorf("asked (-want +got):\n%s", diff)
	}
}

// TestStandInsProxiedToKazoo: with KAMREG_KAZOO_URL set, the account, its
// descendants and its devices are Kazoo's, through the proxy: kamreg's
// tables are never read for them.
func TestStandInsProxiedToKazoo(t *testing.T) {
	var paths []string
	kazoo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":[],"status":"success"}`))
	}))
	defer kazoo.Close()
	u, err := url.Parse(kazoo.URL)
	if err != nil {
		t.Fatal(err)
	}
	fail := func(what string) { t.Errorf("kamreg read its %s", what) }
	s := deviceServer(t, fakeDevices{}, nil, func(c *Config) {
		c.KazooURL = u
		c.Tree = fakeTree{DescendantsFn: func(string) ([]kamreg.Descendant, error) { fail("tree"); return nil, nil }}
		c.DeviceRecords = fakeDeviceRecords{ListFn: func(string) ([]kamreg.Device, error) { fail("devices"); return nil, nil }}
	})
	want := []string{account, account + "/descendants", devices}
	for _, p := range want {
		if w := do(s, "GET", p, goodTok); w.Code != 200 {
			t.Errorf("%s: %d %s", p, w.Code, w.Body)
		}
	}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("Kazoo was asked (-want +got):\n%s", diff)
	}
}

// TestStandInsNeedTheirStores: a server without the stores answers these
// paths 404, as before they were served.
func TestStandInsNeedTheirStores(t *testing.T) {
	s := deviceServer(t, fakeDevices{}, nil)
	for _, p := range []string{account, account + "/descendants", devices} {
		if w := do(s, "GET", p, goodTok); w.Code != 404 {
			t.Errorf("%s: %d, want 404", p, w.Code)
		}
	}
}

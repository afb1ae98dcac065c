package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/registry"
)

// Devices is what the device routes ask of the registrations
// (registry.Registry): which devices are registered, and check-sync.
type Devices interface {
	DeviceStatus(ctx context.Context, s kamreg.Scope) ([]string, error)
	Sync(ctx context.Context, req registry.SyncRequest) (registry.SyncReport, error)
}

// deviceStatus is one entry of …/devices/status, as Kazoo 4.3 writes it.
type deviceStatus struct {
	DeviceID   string `json:"device_id"`
	Registered bool   `json:"registered"`
}

// devicesStatus answers GET …/devices/status: one entry per device id of
// a live registration of the account's realm, sorted by id.
func (s *Server) devicesStatus(w http.ResponseWriter, r *http.Request, a *kamreg.Account) {
	if s.cfg.Devices == nil {
		respondError(w, r, errNotFound)
		return
	}
	ctx, cancel := s.readContext(r)
	defer cancel()
	ids, err := s.cfg.Devices.DeviceStatus(ctx, scopeOf(a))
	if err != nil {
		respondError(w, r, err)
		return
	}
	out := make([]deviceStatus, len(ids))
	for i, id := range ids {
		out[i] = deviceStatus{DeviceID: id, Registered: true}
	}
	respond(w, r, out, paging{})
}

// registrableTypes are Kazoo's device types that register over SIP; a
// device without a device_type is a sip_device, as in Kazoo.
var registrableTypes = map[string]bool{"sip_device": true, "softphone": true, "fax": true, "smartphone": true, "mobile": true}

// deviceListPath is Kazoo's device list of one account.
var deviceListPath = regexp.MustCompile(`^/v2/accounts/([0-9a-f]{32})/devices/?$`)

// maxDeviceList bounds the bytes of a Kazoo device list kamreg rewrites;
// a larger answer is passed on as Kazoo sent it.
const maxDeviceList = 16 << 20

// withStatusKey marks a proxied device list that gains each device's
// status; its value is the account id.
type withStatusKey struct{}

// markWithStatus marks GET …/devices?with_status=true for the status
// rewrite and asks Kazoo for a full, uncompressed answer (no 304: the
// status changes when Kazoo's data does not).
func (s *Server) markWithStatus(r *http.Request) *http.Request {
	if s.cfg.Devices == nil || r.Method != http.MethodGet || r.URL.Query().Get("with_status") != "true" {
		return r
	}
	m := deviceListPath.FindStringSubmatch(r.URL.EscapedPath())
	if m == nil {
		return r
	}
	r.Header.Del("If-None-Match")
	r.Header.Set("Accept-Encoding", "identity")
	return r.WithContext(context.WithValue(r.Context(), withStatusKey{}, m[1]))
}

// statusReadError is a marked device list whose status kamreg could not
// read: answered as the registrations list's error, not as a 502.
type statusReadError struct{ Err error }

func (e *statusReadError) Error() string { return "device status: " + e.Err.Error() }
func (e *statusReadError) Unwrap() error { return e.Err }

// addStatus rewrites Kazoo's answer to a marked device list: in a 2xx JSON
// envelope whose data is an array, each device object gains "registered"
// and, when absent, "registrable". Every other answer, and every other
// key, is passed on as Kazoo sent it (the envelope's keys in Kazoo's
// alphabetical order). Kazoo's ETag is dropped, since the data changed.
func (s *Server) addStatus(resp *http.Response) error {
	accountID, ok := resp.Request.Context().Value(withStatusKey{}).(string)
	if !ok || resp.StatusCode/100 != 2 || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		return nil
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && ce != "identity" {
		return nil
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxDeviceList+1))
	if err != nil {
		return err
	}
	if len(raw) > maxDeviceList {
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(raw), resp.Body), resp.Body}
		return nil
	}
	_ = resp.Body.Close()
	setBody(resp, raw)
	var env map[string]json.RawMessage
	var devices []json.RawMessage
	if json.Unmarshal(raw, &env) != nil || json.Unmarshal(env["data"], &devices) != nil || devices == nil {
		return nil
	}
	registered, err := s.registeredIn(resp.Request.Context(), accountID)
	if err != nil {
		return &statusReadError{Err: err}
	}
	for i, d := range devices {
		devices[i] = withStatus(d, registered)
	}
	if env["data"], err = encodeJSON(devices); err != nil {
		return err
	}
	out, err := encodeJSON(env)
	if err != nil {
		return err
	}
	resp.Header.Del("ETag")
	setBody(resp, out)
	return nil
}

// registeredIn returns the device ids of the account's live registrations.
func (s *Server) registeredIn(ctx context.Context, accountID string) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ReadTimeout)
	defer cancel()
	a, err := s.cfg.Accounts.Get(ctx, accountID)
	if errors.Is(err, kamreg.ErrNotFound) {
		err = &unknownAccountError{ID: accountID}
	}
	if err != nil {
		return nil, err
	}
	ids, err := s.cfg.Devices.DeviceStatus(ctx, scopeOf(&a))
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return set, nil
}

// withStatus returns device d with "registered" set and "registrable"
// added when absent; what is not an object is returned as it is.
func withStatus(d json.RawMessage, registered map[string]bool) json.RawMessage {
	var obj map[string]json.RawMessage
	if json.Unmarshal(d, &obj) != nil || obj == nil {
		return d
	}
	var id, typ string
	_ = json.Unmarshal(obj["id"], &id)
	obj["registered"] = json.RawMessage(strconv.FormatBool(registered[id]))
	if _, ok := obj["registrable"]; !ok {
		typ = "sip_device"
		if t, ok := obj["device_type"]; ok {
			typ = ""
			_ = json.Unmarshal(t, &typ)
		}
		obj["registrable"] = json.RawMessage(strconv.FormatBool(registrableTypes[typ]))
	}
	out, err := encodeJSON(obj)
	if err != nil {
		return d
	}
	return out
}

func setBody(resp *http.Response, b []byte) {
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
}

// readCloser reads from one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}

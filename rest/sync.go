package rest

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/sirupsen/logrus"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/registry"
)

// Rate of check-syncs one account may ask for, when Config leaves it zero.
const (
	DefaultSyncRate  = 0.2 // one every 5 s
	DefaultSyncBurst = 10
)

// maxLoggedContacts bounds the contacts one sync's log line names.
const maxLoggedContacts = 10

// noRegistrationError is a sync of a device or username with no live
// registration: 404 "bad identifier", naming it as the flush of an
// unknown username does.
type noRegistrationError struct{ ID string }

func (e *noRegistrationError) Error() string { return "no live registration for " + e.ID }

// syncData is the 503 of a sync that some node holding a contact did not
// accept, in the form of an incomplete flush's.
type syncData struct {
	Message string               `json:"message"`
	Nodes   []kamreg.NodeFailure `json:"nodes"`
	Sent    int                  `json:"sent"`
	Failed  int                  `json:"failed"`
}

// syncError is a sync some node holding a contact did not accept.
type syncError struct{ Report registry.SyncReport }

func (e *syncError) Error() string {
	return strconv.Itoa(len(e.Report.Failed)) + " contacts not sent check-sync"
}

func syncAnswer(e *syncError) apiError {
	d := syncData{Nodes: e.Report.Nodes, Sent: len(e.Report.Sent), Failed: len(e.Report.Failed),
		Message: "the check-sync did not reach every Kamailio node holding a contact: " +
			strconv.Itoa(len(e.Report.Failed)) + " of " + strconv.Itoa(len(e.Report.Failed)+len(e.Report.Sent)) + " contacts not sent"}
	if d.Nodes == nil {
		d.Nodes = []kamreg.NodeFailure{}
	}
	return apiError{Status: http.StatusServiceUnavailable, Message: "sync incomplete", Data: d, Level: logrus.WarnLevel}
}

// syncDevice answers POST …/devices/{device_id}/sync.
func (s *Server) syncDevice(w http.ResponseWriter, r *http.Request, a *kamreg.Account) {
	id := pathVar(r, "device_id")
	if !kamreg.ValidID(id) {
		respondError(w, r, &noRegistrationError{ID: id})
		return
	}
	s.sync(w, r, a, registry.SyncRequest{Scope: scopeOf(a), DeviceID: id}, "device", id)
}

// syncUser answers POST …/registrations/{username}/sync; the segment is
// read as a flush's (usernameOf).
func (s *Server) syncUser(w http.ResponseWriter, r *http.Request, a *kamreg.Account) {
	segment := pathVar(r, "username")
	username, ok := usernameOf(segment, a)
	if !ok {
		respondError(w, r, &noRegistrationError{ID: segment})
		return
	}
	sc := scopeOf(a)
	sc.Username = username
	s.sync(w, r, a, registry.SyncRequest{Scope: sc}, "username", segment)
}

// sync sends check-sync to every contact the request selects, within the
// account's rate, and logs it: "sync request sent" once every node holding
// a contact accepted.
func (s *Server) sync(w http.ResponseWriter, r *http.Request, a *kamreg.Account, req registry.SyncRequest, kind, id string) {
	switch v := r.URL.Query().Get("reboot"); v {
	case "", "false":
	case "true":
		req.Reboot = true
	default:
		respondError(w, r, &paramError{Parameter: "reboot", Message: "want true or false"})
		return
	}
	if s.cfg.Devices == nil {
		respondError(w, r, errNotFound)
		return
	}
	if !s.syncLimits.Allow(a.ID) {
		respondError(w, r, errTooManyRequests)
		return
	}
	ctx, cancel := s.readContext(r)
	defer cancel()
	rep, err := s.cfg.Devices.Sync(ctx, req)
	s.logSync(r, a, kind, id, req.Reboot, rep, err)
	switch {
	case errors.Is(err, registry.ErrNoRegistration):
		respondError(w, r, &noRegistrationError{ID: id})
	case err != nil:
		respondError(w, r, err)
	case !rep.Complete():
		respondError(w, r, &syncError{Report: rep})
	default:
		respond(w, r, "sync request sent", paging{})
	}
}

// logSync records one sync: the account, the device or username, and the
// contacts (at most maxLoggedContacts, each quoted and bounded).
func (s *Server) logSync(r *http.Request, a *kamreg.Account, kind, id string, reboot bool, rep registry.SyncReport, err error) {
	all := append(append([]string(nil), rep.Sent...), rep.Failed...)
	named := make([]string, 0, min(len(all), maxLoggedContacts))
	for _, c := range all[:min(len(all), maxLoggedContacts)] {
		named = append(named, strconv.QuoteToASCII(bounded(c)))
	}
	entry := s.cfg.Log.WithFields(logrus.Fields{
		"request_id": stateOf(r).requestID, "account_id": a.ID, kind: strconv.QuoteToASCII(bounded(id)),
		"reboot": reboot, "contacts": len(all), "sent": len(rep.Sent), "failed": len(rep.Failed), "contact_list": named,
	})
	if err != nil {
		entry = entry.WithField(logrus.ErrorKey, bounded(err.Error()))
	}
	entry.Info("check-sync")
}

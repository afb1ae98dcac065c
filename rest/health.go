package rest

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// health is the body of /healthz and /readyz. Failing names the
// components that do not answer ("postgres", "kamailio:<node>"); Reasons,
// on the metrics listener only, says why each failed.
type health struct {
	Status  string            `json:"status"`
	Failing []string          `json:"failing,omitempty"`
	Reasons map[string]string `json:"reasons,omitempty"`
}

// postgresComponent and kamailioComponent name the components /readyz
// reports on.
const (
	postgresComponent = "postgres"
	kamailioComponent = "kamailio:"
)

func writeHealth(w http.ResponseWriter, status int, h health) {
	body, _ := encodeJSON(h)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// healthz answers while the process is alive.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeHealth(w, http.StatusOK, health{Status: "ok"})
}

// readyz is the API port's /readyz: 200 while PostgreSQL answers, 503
// otherwise, naming the components that do not answer and nothing else
// (no error text, address, URL or user name: anyone may ask). A node that
// does not answer does not make kamreg unready (lists are still served).
// The reasons go to the log and to the metrics listener's /readyz.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	status, h := s.readiness(r)
	h.Reasons = nil
	writeHealth(w, status, h)
}

// readyzDetailed is the metrics listener's /readyz: readyz with the
// reasons.
func (s *Server) readyzDetailed(w http.ResponseWriter, r *http.Request) {
	status, h := s.readiness(r)
	writeHealth(w, status, h)
}

// readiness asks PostgreSQL and every node at once and logs what fails.
func (s *Server) readiness(r *http.Request) (int, health) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	reasons := s.pingNodes(ctx)
	if err := s.cfg.DB.Ping(ctx); err != nil {
		reasons[postgresComponent] = err.Error()
	}
	if len(reasons) == 0 {
		return http.StatusOK, health{Status: "ready"}
	}
	h := health{Status: "ready", Reasons: reasons}
	for c := range reasons {
		h.Failing = append(h.Failing, c)
	}
	sort.Strings(h.Failing)
	fields := logrus.Fields{"request_id": stateOf(r).requestID, "failing": h.Failing}
	for c, why := range reasons {
		fields["reason_"+c] = why
	}
	s.cfg.Log.WithFields(fields).Warn("readiness: components do not answer")
	status := http.StatusOK
	if _, down := reasons[postgresComponent]; down {
		h.Status, status = "unavailable", http.StatusServiceUnavailable
		stateOf(r).err = errors.New("not ready: " + strings.Join(h.Failing, ", ") + " do not answer")
	}
	return status, h
}

// pingNodes asks every node at once whether it answers, and returns why
// each that does not failed, by component name.
func (s *Server) pingNodes(ctx context.Context) map[string]string {
	out := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range s.cfg.Nodes {
		wg.Add(1)
		go func(n NodeChecker) {
			defer wg.Done()
			if err := n.Ping(ctx); err != nil {
				mu.Lock()
				out[kamailioComponent+n.Name()] = err.Error()
				mu.Unlock()
			}
		}(n)
	}
	wg.Wait()
	return out
}

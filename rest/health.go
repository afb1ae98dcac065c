package rest

import (
	"context"
	"net/http"
	"sync"
	"time"
)

type health struct {
	Status   string            `json:"status"`
	Reason   string            `json:"reason,omitempty"`
	Kamailio map[string]string `json:"kamailio,omitempty"`
}

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

// readyz answers 200 while PostgreSQL answers, 503 with the reason
// otherwise. Its body also says whether each Kamailio node answers; a node
// that does not answer does not make kamreg unready (lists are still
// served).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	nodes := s.pingNodes(ctx)
	if err := s.cfg.DB.Ping(ctx); err != nil {
		stateOf(r).err = err
		writeHealth(w, http.StatusServiceUnavailable, health{Status: "unavailable", Reason: "PostgreSQL: " + err.Error(), Kamailio: nodes})
		return
	}
	writeHealth(w, http.StatusOK, health{Status: "ready", Kamailio: nodes})
}

// pingNodes asks every node at once whether it answers.
func (s *Server) pingNodes(ctx context.Context) map[string]string {
	if len(s.cfg.Nodes) == 0 {
		return nil
	}
	out := make(map[string]string, len(s.cfg.Nodes))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range s.cfg.Nodes {
		wg.Add(1)
		go func(n NodeChecker) {
			defer wg.Done()
			state := "ok"
			if err := n.Ping(ctx); err != nil {
				state = "unreachable: " + err.Error()
			}
			mu.Lock()
			out[n.Name()] = state
			mu.Unlock()
		}(n)
	}
	wg.Wait()
	return out
}

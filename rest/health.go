package rest

import (
	"context"
	"net/http"
	"time"
)

type health struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
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
// otherwise.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.cfg.DB.Ping(ctx); err != nil {
		stateOf(r).err = err
		writeHealth(w, http.StatusServiceUnavailable, health{Status: "unavailable", Reason: "PostgreSQL: " + err.Error()})
		return
	}
	writeHealth(w, http.StatusOK, health{Status: "ready"})
}

package rest

import (
	"net/http"
	"time"
)

// client returns the key of the caller's address, as the failed-auth
// limit counts it (auth.Proxies.Client).
func (s *Server) client(r *http.Request) string {
	return s.guard.Client(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
}

// holder holds back refusals over the failed-auth limit before they are
// answered: a flooding client that waits for each answer then sends a few
// requests a second instead of thousands, and the refusals cost the CPU
// nothing that valid callers on the same cores need.
type holder struct {
	// d is how long a refusal is held (0: not at all).
	d time.Duration
	// held bounds the refusals being held back at once.
	held chan struct{}
}

// heldMax bounds the refusals held back at once; beyond, a refusal is
// answered at once.
const heldMax = 4096

func newHolder(d time.Duration) *holder { return &holder{d: d, held: make(chan struct{}, heldMax)} }

// hold waits h.d before a refusal is answered, unless the request ends
// first or heldMax refusals are already waiting.
func (h *holder) hold(r *http.Request) {
	if h.d <= 0 {
		return
	}
	select {
	case h.held <- struct{}{}:
	default:
		return
	}
	defer func() { <-h.held }()
	t := time.NewTimer(h.d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

package rest

import (
	"net/http"

	"github.com/gorilla/mux"
)

// OpsHandler serves the operators' listener: /metrics (Prometheus),
// /healthz as on the API, and /readyz with the reasons of each failing
// component, which the API port does not tell. Tenants' data in the
// metrics stays off the API port, which does not serve /metrics.
func (s *Server) OpsHandler(metrics http.Handler) http.Handler {
	r := mux.NewRouter()
	for _, rt := range []route{
		{"metrics", "/metrics", map[string]handler{http.MethodGet: metrics.ServeHTTP}},
		{"healthz", "/healthz", map[string]handler{http.MethodGet: s.healthz}},
		{"readyz", "/readyz", map[string]handler{http.MethodGet: s.readyzDetailed}},
	} {
		h := s.dispatch(rt)
		r.Handle(rt.path, h)
		r.Handle(rt.path+"/", h)
	}
	r.NotFoundHandler = s.notFound()
	return r
}

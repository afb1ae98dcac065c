package rest

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/sirupsen/logrus"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
	"github.com/kamreg/kamreg/auth"
	"github.com/kamreg/kamreg/metrics"
)

// Registrations is the service behind the API.
type Registrations = kamreg.RegistrationService

// Pinger checks that PostgreSQL answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// NodeChecker checks that a Kamailio node answers.
type NodeChecker interface {
	Name() string
	Ping(ctx context.Context) error
}

// Config holds every dependency of the server.
type Config struct {
	Accounts      kamreg.AccountService
	Tokens        kamreg.Authenticator
	Registrations Registrations
	// Entries, when set, keeps the JSON of the registrations listed
	// (the registry's adapter.EntryCache); nil encodes each one.
	Entries *adapter.EntryCache
	DB      Pinger
	// CORSOrigin is Access-Control-Allow-Origin; empty means "*".
	CORSOrigin string
	// ReadTimeout bounds the database work of one read; zero means 15 s.
	ReadTimeout time.Duration
	Log         *logrus.Logger
	// Nodes are the Kamailio nodes /readyz reports on.
	Nodes []NodeChecker
	// Metrics records requests and flushes; nil records nothing.
	Metrics *metrics.Metrics
	// RateLimit is the requests per second one token may make (0: no
	// limit), with bursts of RateBurst (0: twice the rate).
	RateLimit float64
	RateBurst int
	// KazooURL, when set, is Kazoo's crossbar: every request no route
	// serves is proxied there instead of answered 404.
	KazooURL *url.URL
	// AuthFailures limits failed authentications per client address.
	AuthFailures auth.FailureLimit
	// AuthFailHold is how long a refusal over that limit is held back
	// before it is answered (0: not at all); at most heldMax at once.
	AuthFailHold time.Duration
	// Watch serves the event stream (…/registrations/events); nil answers
	// it 404. Heartbeat and Recheck are the stream's comment interval
	// and how often its token is checked again (defaultHeartbeat,
	// defaultRecheck when zero).
	Watch     Watcher
	Heartbeat time.Duration
	Recheck   time.Duration
	// Streams caps the event streams per token and per client address.
	Streams StreamLimit
	// Devices serves …/devices/status, the status in a proxied device
	// list, and check-sync; nil answers them 404 (the list is proxied
	// as it is).
	Devices Devices
	// SyncRate is the check-syncs per second one account may ask for
	// (DefaultSyncRate when zero, negative for no limit), in bursts of
	// SyncBurst (DefaultSyncBurst when zero).
	SyncRate  float64
	SyncBurst int
	// Tree and DeviceRecords serve the account, its descendants and its
	// devices from kamreg's tables when KazooURL is nil (standin.go); nil
	// answers them 404.
	Tree          kamreg.AccountTree
	DeviceRecords kamreg.DeviceRecords
}

// Server is the HTTP API.
type Server struct {
	cfg    Config
	router *mux.Router
	// handler is the router behind the refusal of dot segments.
	handler  http.Handler
	requests *auth.RequestLimit
	guard    *auth.Guard
	holder   *holder
	streams  *streamSlots
	// syncLimits keeps one bucket of check-syncs per account.
	syncLimits *auth.RequestLimit
}

// handler is a route's handler for one method.
type handler func(w http.ResponseWriter, r *http.Request)

// route is one path and the handler of each method it takes.
type route struct {
	name    string
	path    string
	methods map[string]handler
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.CORSOrigin == "" {
		cfg.CORSOrigin = "*"
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = 15 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = logrus.New()
	}
	if cfg.SyncRate == 0 {
		cfg.SyncRate = DefaultSyncRate
	}
	if cfg.SyncBurst == 0 {
		cfg.SyncBurst = DefaultSyncBurst
	}
	s := &Server{cfg: cfg, router: mux.NewRouter(), requests: auth.NewRequestLimit(cfg.RateLimit, cfg.RateBurst),
		guard: auth.NewGuard(cfg.AuthFailures), holder: newHolder(cfg.AuthFailHold), streams: newStreamSlots(cfg.Streams),
		syncLimits: auth.NewRequestLimit(cfg.SyncRate, cfg.SyncBurst)}
	// A path is matched as it is, escaped (see paths.go): never cleaned
	// or redirected, and %2F or %2E inside a segment is part of a name.
	s.router.SkipClean(true)
	s.router.UseEncodedPath()
	const acct = "/v2/accounts/{account_id}/registrations"
	const devices = "/v2/accounts/{account_id}/devices"
	routes := []route{
		{"account_registrations", acct, map[string]handler{
			http.MethodGet: s.inAccount(s.list), http.MethodDelete: s.inAccount(s.flushRealm)}},
		// Before {username}: DELETE …/registrations/count is a 405, as in Kazoo.
		{"account_registrations_count", acct + "/count", map[string]handler{http.MethodGet: s.inAccount(s.count)}},
		// GET is the event stream; DELETE flushes a user named "events".
		{"account_registrations_events", acct + "/events", map[string]handler{http.MethodGet: s.inAccount(s.events),
			http.MethodDelete: s.inAccount(s.flushEventsUser)}},
		{"account_registration_user", acct + "/{username}", map[string]handler{http.MethodDelete: s.inAccount(s.flushUser)}},
		{"account_registration_user_sync", acct + "/{username}/sync", map[string]handler{http.MethodPost: s.inAccount(s.syncUser)}},
		{"account_devices_status", devices + "/status", map[string]handler{http.MethodGet: s.inAccount(s.devicesStatus)}},
		{"account_device_sync", devices + "/{device_id}/sync", map[string]handler{http.MethodPost: s.inAccount(s.syncDevice)}},
		{"registrations", "/v2/registrations", map[string]handler{http.MethodGet: s.superDuper(s.list)}},
		{"registrations_count", "/v2/registrations/count", map[string]handler{http.MethodGet: s.superDuper(s.count)}},
		{"healthz", "/healthz", map[string]handler{http.MethodGet: s.healthz}},
		{"readyz", "/readyz", map[string]handler{http.MethodGet: s.readyz}},
	}
	routes = append(routes, s.standInRoutes()...)
	// A trailing slash is the same route, served by the same handler: a
	// redirect (mux's StrictSlash) would turn a DELETE into a GET and fail
	// a CORS preflight.
	for _, rt := range routes {
		h := s.dispatch(rt)
		s.router.Handle(rt.path, h)
		s.router.Handle(rt.path+"/", h)
	}
	s.mountUI()
	s.router.NotFoundHandler = s.notFound()
	if cfg.KazooURL != nil {
		s.router.NotFoundHandler = s.kazooProxy(cfg.KazooURL)
	}
	s.handler = s.refuseDotSegments(s.router)
	return s
}

// notFound answers what no route serves: a 404 envelope (and a preflight
// for OPTIONS, so that a browser can read that 404).
func (s *Server) notFound() http.Handler {
	return s.observe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			preflight(w, r, "GET, DELETE, OPTIONS")
			return
		}
		respondError(w, r, errNotFound)
	}))
}

// ServeHTTP serves the API. A path holding a "." or ".." segment is
// refused before any route, the Kazoo proxy included, sees it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// dispatch picks the route's handler by method: OPTIONS is a CORS
// preflight, and a method the route does not take is a 405.
func (s *Server) dispatch(rt route) http.Handler {
	allowed := make([]string, 0, len(rt.methods))
	for m := range rt.methods {
		allowed = append(allowed, m)
	}
	sort.Strings(allowed)
	allow := strings.Join(allowed, ", ")
	preflightMethods := allow + ", " + http.MethodOptions
	return s.observe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stateOf(r).route = rt.name
		if r.Method == http.MethodOptions {
			preflight(w, r, preflightMethods)
			return
		}
		h, ok := rt.methods[r.Method]
		if !ok {
			respondError(w, r, &methodError{Allow: allow})
			return
		}
		h(w, r)
	}))
}

package app

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/kamreg/kamreg/adapter"
	"github.com/kamreg/kamreg/auth"
	"github.com/kamreg/kamreg/kamailio"
	"github.com/kamreg/kamreg/rest"
)

// Config is every setting (the README's configuration table); each has a flag and a KAMREG_*
// variable of the same name (Flags). Check validates it and fills in what
// the settings parse to.
type Config struct {
	Listen           string
	DatabaseURL      string
	KamailioRPC      string
	Source           string
	LocationTable    string
	DBTimezone       string
	Advertise        string
	JWTPublicKey     string
	CORSOrigin       string
	RPCTimeout       time.Duration
	FlushConcurrency int
	LogLevel         string
	LogFormat        string
	NoMigrate        bool
	RateLimit        float64
	RateBurst        int
	// SyncRate and SyncBurst bound the check-syncs per account (0: no limit).
	SyncRate       float64
	SyncBurst      int
	KazooURL       string
	MetricsListen  string
	AuthFailRate   string
	AuthFailBurst  int
	TrustedProxies string
	TLSCert        string
	TLSKey         string
	DumpTTL        time.Duration
	UsrlocTimer    time.Duration
	WatchInterval  time.Duration
	FlushRefresh   time.Duration
	DBWait         time.Duration
	// StreamsPerToken and StreamsPerAddress cap the event streams open at
	// once per token and per client address (rest.StreamLimit; 0: no cap).
	StreamsPerToken   int
	StreamsPerAddress int

	nodes     []kamailio.Node
	kazooURL  *url.URL
	advertise adapter.Advertise
	jwt       *auth.JWT

	authFailRate   float64
	trustedProxies []netip.Prefix
}

// Flags returns the flag set of the command kamreg NAME: the settings
// every command shares, and the serve settings when serve is true.
func (c *Config) Flags(name string, serve bool) *flag.FlagSet {
	fs := flag.NewFlagSet("kamreg "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.DatabaseURL, "database-url", "", "PostgreSQL URL of the database holding Kamailio's location table and kamreg's tables (required)")
	fs.StringVar(&c.LocationTable, "location-table", "location", "usrloc table name")
	fs.StringVar(&c.DBTimezone, "db-timezone", "UTC", "time zone Kamailio writes location timestamps in")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", "json", "log format: json or text")
	if serve {
		fs.StringVar(&c.Listen, "listen", ":8000", "HTTP listen address")
		fs.StringVar(&c.KamailioRPC, "kamailio-rpc", "", "comma-separated Kamailio JSON-RPC endpoints, [name=]http://host:port/RPC")
		fs.StringVar(&c.Source, "source", "db", "where registrations are read: db or rpc")
		fs.StringVar(&c.Advertise, "advertise", "", "proto:ip:port=ip:port,… reported as proxy_ip and proxy_port for a listener")
		fs.StringVar(&c.JWTPublicKey, "jwt-public-key", "", "path to Kazoo's RSA public key (PEM); turns on JWT auth")
		fs.StringVar(&c.CORSOrigin, "cors-origin", "*", "Access-Control-Allow-Origin")
		fs.DurationVar(&c.RPCTimeout, "rpc-timeout", 5*time.Second, "timeout for one JSON-RPC call")
		fs.IntVar(&c.FlushConcurrency, "flush-concurrency", 16, "most RPC calls in flight during a flush, per node")
		fs.DurationVar(&c.DBWait, "db-wait", 2*time.Minute, "how long serve waits for PostgreSQL at start, retrying with backoff")
		fs.DurationVar(&c.DumpTTL, "dump-ttl", 2*time.Second, "rpc source: how long one ul.dump per node serves concurrent reads (0: no reuse)")
		fs.DurationVar(&c.UsrlocTimer, "usrloc-timer", 5*time.Second, "db source: the nodes' usrloc timer_interval (db_mode 2); a realm flush sweeps again one interval later (0: no sweep, for db_mode 1 or 3)")
		fs.DurationVar(&c.WatchInterval, "watch-interval", time.Second, "how often a watched realm is polled for the event stream")
		fs.IntVar(&c.StreamsPerToken, "streams-per-token", rest.DefaultStreamsPerToken, "event streams one token may hold open at once; 0: no cap; beyond: 429")
		fs.IntVar(&c.StreamsPerAddress, "streams-per-address", rest.DefaultStreamsPerAddress, "event streams one client address may hold open at once, whatever their tokens; 0: no cap; beyond: 429")
		fs.DurationVar(&c.FlushRefresh, "flush-refresh", 5*time.Second, "how long a realm's flush records held in memory serve before they are read again, notification or not (0: read them with every request)")
		fs.BoolVar(&c.NoMigrate, "no-migrate", false, "do not apply pending migrations at start")
		fs.Float64Var(&c.RateLimit, "rate-limit", 50, "requests per second one token may make; 0 turns the limit off")
		fs.IntVar(&c.RateBurst, "rate-burst", 100, "requests one token may make in a burst")
		fs.Float64Var(&c.SyncRate, "sync-rate", rest.DefaultSyncRate, "check-syncs (device restarts) per second one account may ask for; 0 turns the limit off")
		fs.IntVar(&c.SyncBurst, "sync-burst", rest.DefaultSyncBurst, "check-syncs one account may ask for in a burst")
		fs.StringVar(&c.KazooURL, "kazoo-url", "", "Kazoo crossbar root URL (http://kazoo:8000): requests kamreg does not serve are proxied there")
		fs.StringVar(&c.MetricsListen, "metrics-listen", "127.0.0.1:9108", "listen address of /metrics (and /healthz, /readyz); empty: no metrics listener")
		fs.StringVar(&c.AuthFailRate, "auth-fail-rate", "5/s", "failed authentications one client address may make (N/s, N/m or N/h; 0: no limit); beyond: 429")
		fs.IntVar(&c.AuthFailBurst, "auth-fail-burst", 20, "failed authentications one client address may make in a burst")
		fs.StringVar(&c.TrustedProxies, "trusted-proxies", "", "comma-separated CIDRs of proxies whose X-Forwarded-For names the client")
		fs.StringVar(&c.TLSCert, "tls-cert", "", "PEM certificate (chain): serve HTTPS; reloaded on SIGHUP")
		fs.StringVar(&c.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	}
	return fs
}

// sweepMargin is how long past one usrloc timer interval a realm flush's
// sweep waits: the timer's write of a node's rows takes time too.
const sweepMargin = time.Second

// sweepDelay is how long after a realm flush's first pass its sweep runs:
// the longest usrloc timer_interval of the nodes (a node's "#timer=", else
// KAMREG_USRLOC_TIMER) and sweepMargin; 0 (no sweep) when no node writes
// rows late.
func (c *Config) sweepDelay() time.Duration {
	longest := c.UsrlocTimer
	if len(c.nodes) > 0 {
		longest = 0
		for _, n := range c.nodes {
			longest = max(longest, cmp.Or(n.Timer, c.UsrlocTimer))
		}
	}
	if longest == 0 {
		return 0
	}
	return longest + sweepMargin
}

// ErrNoDatabase is Check's answer when no database URL is set.
var ErrNoDatabase = errors.New("KAMREG_DATABASE_URL (or --database-url) is required")

// Check validates the shared settings, and the serve settings when serve.
func (c *Config) Check(serve bool) error {
	if c.DatabaseURL == "" {
		return ErrNoDatabase
	}
	if err := kamailio.CheckTableName(c.LocationTable); err != nil {
		return err
	}
	if _, err := time.LoadLocation(c.DBTimezone); err != nil {
		return fmt.Errorf("KAMREG_DB_TIMEZONE %q: %v", c.DBTimezone, err)
	}
	if _, err := logrus.ParseLevel(c.LogLevel); err != nil {
		return fmt.Errorf("KAMREG_LOG_LEVEL: %v", err)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return fmt.Errorf("KAMREG_LOG_FORMAT %q: want json or text", c.LogFormat)
	}
	if !serve {
		return nil
	}
	var err error
	if c.nodes, err = kamailio.ParseNodes(c.KamailioRPC); err != nil {
		return fmt.Errorf("KAMREG_KAMAILIO_RPC: %v", err)
	}
	if c.advertise, err = adapter.ParseAdvertise(c.Advertise); err != nil {
		return fmt.Errorf("KAMREG_ADVERTISE: %v", err)
	}
	switch c.Source {
	case "db":
	case "rpc":
		if len(c.nodes) == 0 {
			return errors.New("KAMREG_SOURCE=rpc reads ul.dump from the Kamailio nodes: set KAMREG_KAMAILIO_RPC")
		}
	default:
		return fmt.Errorf("KAMREG_SOURCE %q: want db or rpc", c.Source)
	}
	if c.JWTPublicKey != "" {
		if c.jwt, err = auth.LoadJWT(c.JWTPublicKey); err != nil {
			return fmt.Errorf("KAMREG_JWT_PUBLIC_KEY: %v", err)
		}
	}
	if c.RPCTimeout <= 0 {
		return fmt.Errorf("KAMREG_RPC_TIMEOUT %v: must be positive", c.RPCTimeout)
	}
	if c.FlushRefresh < 0 {
		return fmt.Errorf("KAMREG_FLUSH_REFRESH %v: must be 0 or more", c.FlushRefresh)
	}
	if c.UsrlocTimer < 0 {
		return fmt.Errorf("KAMREG_USRLOC_TIMER %v: must be 0 (no sweep) or positive", c.UsrlocTimer)
	}
	if c.FlushConcurrency < 1 {
		return fmt.Errorf("KAMREG_FLUSH_CONCURRENCY %d: must be at least 1", c.FlushConcurrency)
	}
	if c.RateLimit < 0 || c.RateBurst < 1 {
		return fmt.Errorf("KAMREG_RATE_LIMIT %v / KAMREG_RATE_BURST %d: want a rate of 0 or more and a burst of 1 or more", c.RateLimit, c.RateBurst)
	}
	if c.SyncRate < 0 || c.SyncBurst < 1 {
		return fmt.Errorf("KAMREG_SYNC_RATE %v / KAMREG_SYNC_BURST %d: want a rate of 0 or more and a burst of 1 or more", c.SyncRate, c.SyncBurst)
	}
	if c.StreamsPerToken < 0 || c.StreamsPerAddress < 0 {
		return fmt.Errorf("KAMREG_STREAMS_PER_TOKEN %d / KAMREG_STREAMS_PER_ADDRESS %d: want 0 (no cap) or more", c.StreamsPerToken, c.StreamsPerAddress)
	}
	if err := c.checkSecurity(); err != nil {
		return err
	}
	if c.kazooURL, err = parseKazooURL(c.KazooURL); err != nil {
		return fmt.Errorf("KAMREG_KAZOO_URL %q: %v", c.KazooURL, err)
	}
	if strings.TrimSpace(c.CORSOrigin) == "" {
		c.CORSOrigin = "*"
	}
	return nil
}

// Logger builds the logrus logger the settings describe.
func (c *Config) Logger(out io.Writer) *logrus.Logger {
	log := logrus.New()
	log.SetOutput(out)
	level, _ := logrus.ParseLevel(c.LogLevel)
	log.SetLevel(level)
	if c.LogFormat == "text" {
		log.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
	} else {
		log.SetFormatter(&logrus.JSONFormatter{})
	}
	return log
}

// parseKazooURL reads Kazoo's crossbar root: http or https, a host, and no
// /v2 (the proxied path keeps its own).
func parseKazooURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("want an http:// or https:// URL")
	case u.Host == "":
		return nil, errors.New("no host")
	case u.User != nil, u.RawQuery != "", u.Fragment != "":
		return nil, errors.New("want only scheme, host, port and an optional path prefix")
	case strings.TrimSuffix(u.Path, "/") == "/v2" || strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/v2"):
		return nil, errors.New("give the crossbar root without /v2 (http://kazoo:8000): the request's /v2/… path is kept")
	}
	return u, nil
}

// Nodes are the Kamailio nodes KAMREG_KAMAILIO_RPC names (after Check).
func (c *Config) Nodes() []kamailio.Node { return c.nodes }

// Advertised is what KAMREG_ADVERTISE maps (after Check).
func (c *Config) Advertised() adapter.Advertise { return c.advertise }

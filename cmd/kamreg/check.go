package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamreg/kamreg/app"
	"github.com/kamreg/kamreg/kamailio"
	"github.com/kamreg/kamreg/store"
)

// errChecksFailed is returned when a check failed; the lines said which.
var errChecksFailed = errors.New("some checks failed")

// check validates the configuration and reaches PostgreSQL, the location
// table and each Kamailio node, printing one line per check. With
// --serving URL it only checks that a running kamreg at URL is ready, and
// that its metrics listener answers (for container health checks).
func check(ctx context.Context, args []string, stdout io.Writer) error {
	var c app.Config
	fs := c.Flags("check", true)
	serving := fs.String("serving", "", "only check that the kamreg serving at this base URL is ready")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *serving != "" {
		return checkServing(ctx, &c, *serving, stdout)
	}
	failed := false
	line := func(what string, err error) bool {
		if err != nil {
			failed = true
			fmt.Fprintf(stdout, "FAIL %s: %s\n", what, oneLine(describe(err)))
			return false
		}
		fmt.Fprintf(stdout, "ok   %s\n", what)
		return true
	}
	if !line("configuration", checkConfig(&c, true)) {
		return errChecksFailed
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	pool, err := store.Open(cctx, c.DatabaseURL)
	if line("PostgreSQL answers", err) {
		defer pool.Close()
		pending, err := store.PendingMigrations(cctx, pool)
		if err == nil && pending {
			err = errors.New("pending: run kamreg migrate (kamreg serve does it unless --no-migrate)")
		}
		line("kamreg's migrations applied", err)
		if c.Source == "db" {
			if line(fmt.Sprintf("usrloc table %q present and indexed", c.LocationTable),
				kamailio.EnsureLocationIndex(cctx, pool, c.LocationTable)) {
				line("every listener socket in the table has an address to report as proxy_ip",
					wildcardSockets(cctx, pool, &c))
			}
		}
	}
	if c.TLSCert != "" {
		line("TLS certificate and key", c.CheckTLS())
	}
	if len(c.Nodes()) == 0 {
		fmt.Fprintln(stdout, "warn no Kamailio node configured (KAMREG_KAMAILIO_RPC): flushes will answer 503")
	}
	for _, n := range c.Nodes() {
		client := kamailio.NewClient(n, c.RPCTimeout, kamailio.DefaultMaxReply)
		version, err := client.Version(cctx)
		if line(fmt.Sprintf("Kamailio node %s (%s) answers", n.Name, n.URL), err) {
			printVersion(stdout, n.Name, version)
		}
		line(fmt.Sprintf("Kamailio node %s has usrloc table %q", n.Name, c.LocationTable),
			usrlocAnswers(cctx, client, c.LocationTable))
	}
	if failed {
		return errChecksFailed
	}
	return nil
}

// printVersion prints what node answered to core.version, with a warning
// when its major version is not one kamreg is verified on.
func printVersion(stdout io.Writer, node, version string) {
	fmt.Fprintf(stdout, "     Kamailio node %s runs %s\n", node, oneLine(version))
	if !kamailio.Verified(version) {
		fmt.Fprintf(stdout, "warn Kamailio node %s runs Kamailio %s, which kamreg is not verified on (verified: %s)\n",
			node, cmp.Or(kamailio.Major(version), "of an unknown version"), kamailio.VerifiedList())
	}
}

// wildcardSockets fails when rows name a listener on a wildcard address
// (Kamailio listening on 0.0.0.0 with no advertise) that KAMREG_ADVERTISE
// does not map: kamreg would report proxy_ip "undefined" for them.
func wildcardSockets(ctx context.Context, pool *pgxpool.Pool, c *app.Config) error {
	u, err := kamailio.NewUsrloc(pool, c.LocationTable, c.DBTimezone)
	if err != nil {
		return err
	}
	sockets, err := u.Sockets(ctx)
	if err != nil {
		return err
	}
	if w := c.Advertised().Wildcards(sockets); len(w) > 0 {
		return fmt.Errorf("%s on a wildcard address: set advertise in kamailio.cfg, or KAMREG_ADVERTISE=%s=<address phones reach>:<port>",
			strings.Join(w, ", "), w[0])
	}
	return nil
}

// usrlocAnswers looks up an AoR no phone has: "not found" proves that
// usrloc's RPC and the table are there.
func usrlocAnswers(ctx context.Context, c *kamailio.Client, table string) error {
	_, err := c.Lookup(ctx, table, "kamreg-check@kamreg.invalid")
	return err
}

// checkServing asks the kamreg serving at base for /readyz (trusting
// KAMREG_TLS_CERT for https), then its metrics listener for /metrics.
func checkServing(ctx context.Context, c *app.Config, base string, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	client, err := servingClient(c)
	if err != nil {
		return err
	}
	body, err := getOK(ctx, client, strings.TrimSuffix(base, "/")+"/readyz")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ok   %s/readyz: %s\n", strings.TrimSuffix(base, "/"), body)
	if c.MetricsListen == "" {
		return nil
	}
	metrics := "http://" + localAddr(c.MetricsListen) + "/metrics"
	if _, err := getOK(ctx, http.DefaultClient, metrics); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ok   %s answers\n", metrics)
	return nil
}

// servingClient trusts the system's roots and, when kamreg serves HTTPS,
// the certificates of KAMREG_TLS_CERT.
func servingClient(c *app.Config) (*http.Client, error) {
	if c.TLSCert == "" {
		return http.DefaultClient, nil
	}
	pem, err := os.ReadFile(c.TLSCert)
	if err != nil {
		return nil, fmt.Errorf("KAMREG_TLS_CERT: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	roots.AppendCertsFromPEM(pem)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}, nil
}

func getOK(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %d %s", url, resp.StatusCode, body)
	}
	return body, nil
}

// localAddr turns a listen address into one to dial on this host: an
// empty or unspecified host becomes 127.0.0.1.
func localAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
)

// listeners are the API's and the metrics' sockets, opened before serving
// so that a busy port or a bad certificate fails the start.
type listeners struct {
	api, metrics net.Listener
	// certs is set when the API serves HTTPS.
	certs *certReloader
}

// listen opens the API listener (HTTPS when a certificate is configured)
// and the metrics listener (none when c.MetricsListen is empty).
func listen(c *Config) (*listeners, error) {
	var l listeners
	if c.TLSCert != "" {
		var err error
		if l.certs, err = newCertReloader(c.TLSCert, c.TLSKey); err != nil {
			return nil, fmt.Errorf("KAMREG_TLS_CERT/KAMREG_TLS_KEY: %w", err)
		}
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", c.Listen, err)
	}
	l.api = ln
	if c.MetricsListen != "" {
		if l.metrics, err = net.Listen("tcp", c.MetricsListen); err != nil {
			ln.Close()
			return nil, fmt.Errorf("KAMREG_METRICS_LISTEN %s: %w", c.MetricsListen, err)
		}
	}
	return &l, nil
}

// close closes both listeners.
func (l *listeners) close() {
	l.api.Close()
	if l.metrics != nil {
		l.metrics.Close()
	}
}

// shutdownGrace is how long in-flight requests may finish after SIGTERM.
const shutdownGrace = 30 * time.Second

// newHTTPServer returns a server with kamreg's timeouts; its own errors
// (TLS handshakes that failed, mostly scanners) are logged at debug level.
func newHTTPServer(h http.Handler, log *logrus.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          stdlog.New(log.WriterLevel(logrus.DebugLevel), "", 0),
	}
}

// serveUntil serves api and ops on l until ctx ends, then lets in-flight
// requests finish for up to shutdownGrace. While it serves, SIGHUP reloads
// the TLS certificate and key; connections already open are kept.
func serveUntil(ctx context.Context, l *listeners, api, ops http.Handler, log *logrus.Logger) error {
	servers := []*http.Server{newHTTPServer(api, log)}
	lns := []net.Listener{l.api}
	if l.metrics != nil {
		servers = append(servers, newHTTPServer(ops, log))
		lns = append(lns, l.metrics)
	}
	if l.certs != nil {
		servers[0].TLSConfig = l.certs.config()
		stop := l.certs.reloadOnSIGHUP(log)
		defer stop()
	}
	served := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			if srv.TLSConfig != nil {
				served <- srv.ServeTLS(lns[i], "", "")
				return
			}
			served <- srv.Serve(lns[i])
		}()
	}
	select {
	case err := <-served:
		for _, srv := range servers {
			srv.Close()
		}
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown: %w", err))
		}
	}
	for range servers {
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// certReloader holds the API's certificate; reload reads the pair again.
type certReloader struct {
	certFile, keyFile string
	mu                sync.RWMutex
	cert              *tls.Certificate
}

func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile}
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// reload reads the pair; on failure the certificate in use stays.
func (r *certReloader) reload() error {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("loading %s and %s: %w", r.certFile, r.keyFile, err)
	}
	r.mu.Lock()
	r.cert = &cert
	r.mu.Unlock()
	return nil
}

// config is TLS 1.2 or later, Go's default suites, with the certificate
// read at each handshake.
func (r *certReloader) config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			r.mu.RLock()
			defer r.mu.RUnlock()
			return r.cert, nil
		},
	}
}

// reloadOnSIGHUP reloads the pair at each SIGHUP until stop is called.
func (r *certReloader) reloadOnSIGHUP(log *logrus.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-hup:
				if err := r.reload(); err != nil {
					log.WithError(err).Error("SIGHUP: TLS certificate not reloaded; the previous one stays in use")
					continue
				}
				log.WithField("cert", r.certFile).Info("SIGHUP: TLS certificate reloaded")
			}
		}
	}()
	return func() { signal.Stop(hup); close(done) }
}

// CheckTLS loads the certificate and key of KAMREG_TLS_CERT and
// KAMREG_TLS_KEY, as serve would; nil when TLS is off.
func (c *Config) CheckTLS() error {
	if c.TLSCert == "" {
		return nil
	}
	_, err := newCertReloader(c.TLSCert, c.TLSKey)
	return err
}

package app

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kamreg/kamreg/testbed"
	"github.com/sirupsen/logrus"
)

// newTestCA makes a CA for the test.
func newTestCA(t *testing.T) testCA {
	t.Helper()
	ca, err := testbed.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	return testCA{ca}
}

// testCA is a throwaway certificate authority.
type testCA struct{ *testbed.CA }

// issue writes a certificate for 127.0.0.1 with the given serial, and its
// key, to cert.pem and key.pem in dir.
func (ca testCA) issue(t *testing.T, dir string, serial int64) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := ca.Issue(certFile, keyFile, serial); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestTLSServesAndReloadsOnSIGHUP(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certFile, keyFile := ca.issue(t, dir, 1)
	c := &Config{Listen: "127.0.0.1:0", MetricsListen: "127.0.0.1:0", TLSCert: certFile, TLSKey: keyFile}
	lns, err := listen(c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	log := logrus.New()
	log.SetOutput(io.Discard)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.URL.Path) })
	done := make(chan error, 1)
	go func() { done <- serveUntil(ctx, lns, ok, ok, log) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serveUntil: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("serveUntil did not return")
		}
	}()
	base := "https://" + lns.api.Addr().String()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}}
	defer client.CloseIdleConnections()

	// get returns the serial of the certificate the connection used and
	// whether the connection was reused.
	get := func(cl *http.Client, path string) (serial int64, reused bool) {
		t.Helper()
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", base+path, nil)
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if string(body) != path || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
			t.Fatalf("GET %s: %q over %+v", path, body, resp.TLS)
		}
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64(), reused
	}
	if serial, _ := get(client, "/a"); serial != 1 {
		t.Fatalf("serial %d, want 1", serial)
	}
	// Plain HTTP on the metrics listener.
	if resp, err := http.Get("http://" + lns.metrics.Addr().String() + "/metrics"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("metrics listener: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// TLS 1.1 is refused.
	old := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: ca.Pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}}
	if _, err := old.Get(base + "/old"); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("a TLS 1.1 client: %v, want a protocol version error", err)
	}

	// A new pair, then SIGHUP: new connections get it, the open one goes on.
	ca.issue(t, dir, 2)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	fresh := func() int64 {
		cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: ca.Pool}, DisableKeepAlives: true}}
		s, _ := get(cl, "/fresh")
		return s
	}
	testbed.Eventually(t, 10*time.Second, "the certificate reloaded after SIGHUP", func() bool { return fresh() == 2 })
	if serial, reused := get(client, "/b"); serial != 1 || !reused {
		t.Errorf("the connection opened before the reload: serial %d, reused %v; want 1, true", serial, reused)
	}

	// A broken pair on reload keeps the one in use.
	if err := testbed.ReplaceFile(keyFile, []byte("not a key")); err != nil {
		t.Fatal(err)
	}
	if err := lns.certs.reload(); err == nil {
		t.Error("a broken key was accepted")
	}
	if s := fresh(); s != 2 {
		t.Errorf("after a failed reload: serial %d, want 2", s)
	}
}

func TestTLSBadPairAtStart(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certFile, _ := ca.issue(t, dir, 1)
	other := t.TempDir()
	_, otherKey := ca.issue(t, other, 2)
	for _, tt := range []struct{ cert, key, want string }{
		{certFile, otherKey, "KAMREG_TLS_CERT/KAMREG_TLS_KEY: loading " + certFile + " and " + otherKey + ": tls: private key does not match public key"},
		{filepath.Join(dir, "missing.pem"), otherKey, "KAMREG_TLS_CERT/KAMREG_TLS_KEY: loading " + filepath.Join(dir, "missing.pem") + " and " + otherKey + ": open " + filepath.Join(dir, "missing.pem") + ": no such file or directory"},
	} {
		lns, err := listen(&Config{Listen: "127.0.0.1:0", TLSCert: tt.cert, TLSKey: tt.key})
		if err == nil {
			lns.api.Close()
			t.Errorf("%s and %s: no error", tt.cert, tt.key)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("error %q\nwant  %q", err, tt.want)
		}
	}
}

package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// testCA is a throwaway certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1000), Subject: pkix.Name{CommonName: "kamreg test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return testCA{cert, key, pool}
}

// issue writes a certificate for 127.0.0.1 with the given serial, and its
// key, to cert.pem and key.pem in dir.
func (ca testCA) issue(t *testing.T, dir string, serial int64) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "kamreg"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	write(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	write(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	return certFile, keyFile
}

// write replaces a file in one rename, as a certificate manager does.
func write(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
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
		TLSClientConfig: &tls.Config{RootCAs: ca.pool}}}
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
		RootCAs: ca.pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}}
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
			TLSClientConfig: &tls.Config{RootCAs: ca.pool}, DisableKeepAlives: true}}
		s, _ := get(cl, "/fresh")
		return s
	}
	deadline := time.Now().Add(10 * time.Second)
	for fresh() != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the certificate was not reloaded within 10 s of SIGHUP")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if serial, reused := get(client, "/b"); serial != 1 || !reused {
		t.Errorf("the connection opened before the reload: serial %d, reused %v; want 1, true", serial, reused)
	}

	// A broken pair on reload keeps the one in use.
	write(t, keyFile, []byte("not a key"))
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

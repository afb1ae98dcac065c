//go:build integration

package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/app"
	"github.com/kamreg/kamreg/kamailio"
	"github.com/kamreg/kamreg/migrations"
	"github.com/kamreg/kamreg/store"
	"github.com/kamreg/kamreg/testbed"
)

// pg is the PostgreSQL every test shares; each test has a database of its
// own.
var pg *testbed.Postgres

func TestMain(m *testing.M) {
	os.Exit(testbed.RunWithPostgres(m, &pg))
}

// realm is the realm testbed.Preload fills with prefix "app".
const realm = "app0000.test"

// tenant is an account on realm with a token, in a fresh database that
// holds contacts live rows of realm; it returns the database URL.
func tenant(t *testing.T, contacts int) (dbURL, accountID, token string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dbURL = pg.FreshDB(t)
	if err := testbed.Preload(ctx, dbURL, "app", contacts, contacts, 1, "UTC"); err != nil {
		t.Fatal(err)
	}
	pool, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := store.Migrate(ctx, pool, migrations.Usrloc{}); err != nil {
		t.Fatal(err)
	}
	accountID = "0a0b0c0d0e0f00112233445566778899"
	if err := (store.Accounts{Pool: pool}).Put(ctx, kamreg.Account{ID: accountID, Name: "App", Realm: realm}); err != nil {
		t.Fatal(err)
	}
	if token, err = (store.Tokens{Pool: pool}).Create(ctx, accountID, "app test"); err != nil {
		t.Fatal(err)
	}
	return dbURL, accountID, token
}

// config is the serve configuration on dbURL, on free ports of 127.0.0.1.
func config(t *testing.T, dbURL string) app.Config {
	t.Helper()
	var c app.Config
	if err := c.Flags("serve", true).Parse([]string{"--database-url=" + dbURL,
		"--listen=127.0.0.1:0", "--metrics-listen=127.0.0.1:0", "--log-level=debug"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Check(true); err != nil {
		t.Fatal(err)
	}
	return c
}

// heldNode is a Kamailio node in memory whose every ul.rm is held until
// the test releases it; the first one held is announced on held.
type heldNode struct {
	held, release chan struct{}
	heldOnce      sync.Once
	mu            sync.Mutex
	removed       []string
}

func newHeldNode() *heldNode {
	return &heldNode{held: make(chan struct{}), release: make(chan struct{})}
}

func (n *heldNode) Node() kamailio.Node {
	return kamailio.Node{Name: "held", URL: "http://127.0.0.1:1/RPC"}
}
func (n *heldNode) Name() string               { return "held" }
func (n *heldNode) Ping(context.Context) error { return nil }
func (n *heldNode) Remove(ctx context.Context, _, aor string) error {
	n.heldOnce.Do(func() { close(n.held) })
	select {
	case <-n.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.removed = append(n.removed, aor)
	return nil
}
func (n *heldNode) Lookup(context.Context, string, string) ([]kamailio.Contact, error) {
	return nil, nil
}
func (n *heldNode) Dump(context.Context, string) ([]kamailio.Record, error) { return nil, nil }

// logged closes a channel when a message is logged.
type logged struct {
	msg  string
	once sync.Once
	seen chan struct{}
}

func (l *logged) Levels() []logrus.Level { return logrus.AllLevels }
func (l *logged) Fire(e *logrus.Entry) error {
	if e.Message == l.msg {
		l.once.Do(func() { close(l.seen) })
	}
	return nil
}

// warnings keeps the warnings and errors logged, with their error.
type warnings struct {
	mu   sync.Mutex
	seen []string
}

func (w *warnings) Levels() []logrus.Level {
	return []logrus.Level{logrus.WarnLevel, logrus.ErrorLevel}
}

func (w *warnings) Fire(e *logrus.Entry) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, fmt.Sprintf("%s (%v)", e.Message, e.Data[logrus.ErrorKey]))
	return nil
}

func (w *warnings) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.seen...)
}

// TestServeFinishesAFlushInFlight ends Serve's context while a realm flush
// waits on its node: Serve waits for it, the flush answers 200 once the
// node lets go, every AoR was removed, and only then does Serve return.
func TestServeFinishesAFlushInFlight(t *testing.T) {
	dbURL, id, token := tenant(t, 3)
	node := newHeldNode()
	log := logrus.New()
	log.SetOutput(io.Discard)
	shutting := &logged{msg: "shutting down: finishing in-flight requests", seen: make(chan struct{})}
	log.AddHook(shutting)
	a, err := app.Open(context.Background(), config(t, dbURL), app.Options{Log: log, Nodes: []app.Node{node}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx) }()

	type answer struct {
		status int
		body   string
		err    error
	}
	flushed := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest("DELETE", "http://"+a.Addr()+"/v2/accounts/"+id+"/registrations", nil)
		req.Header.Set("X-Auth-Token", token)
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			flushed <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		flushed <- answer{resp.StatusCode, string(b), err}
	}()
	testbed.Receive(t, node.held, 10*time.Second, "a ul.rm reaches the node")
	cancel()
	testbed.Receive(t, shutting.seen, 10*time.Second, "Serve begins shutting down")
	select {
	case err := <-served:
		t.Fatalf("Serve returned while a flush was in flight: %v", err)
	case r := <-flushed:
		t.Fatalf("the flush answered while its node held it: %+v", r)
	default:
	}
	close(node.release)
	select {
	case r := <-flushed:
		if r.err != nil || r.status != 200 || !strings.Contains(r.body, `"data":"ok"`) {
			t.Errorf("flush during shutdown: %+v", r)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the flush did not answer")
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	sort.Strings(node.removed)
	want := []string{"u000000@" + realm, "u000001@" + realm, "u000002@" + realm}
	if diff := cmp.Diff(want, node.removed); diff != "" {
		t.Errorf("AoRs removed (-want +got):\n%s", diff)
	}
}

// TestOptions checks that the gauge follows GaugeInterval, the version
// reaches kamreg_build_info, and the clock reaches the mapping.
func TestOptions(t *testing.T) {
	dbURL, id, token := tenant(t, 3)
	log := logrus.New()
	log.SetOutput(io.Discard)
	warned := &warnings{}
	log.AddHook(warned)
	// Preload writes expires one day ahead plus up to an hour; a clock two
	// days ahead finds every registration expired.
	later := time.Now().Add(48 * time.Hour)
	a, err := app.Open(context.Background(), config(t, dbURL), app.Options{Log: log, Version: "9.8.7",
		GaugeInterval: 20 * time.Millisecond, Now: func() time.Time { return later }, Nodes: []app.Node{}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx) }()
	defer func() {
		cancel()
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return")
		}
	}()
	get := func(url string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("X-Auth-Token", token)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return b.String()
	}
	gauge := func(n int) {
		t.Helper()
		want := fmt.Sprintf(`kamreg_registrations{account_id="%s",realm="%s"} %d`, id, realm, n)
		testbed.EventuallyOK(t, 10*time.Second, want+", with a gauge interval of 20 ms", func() error {
			if strings.Contains(get("http://"+a.MetricsAddr()+"/metrics"), want) {
				return nil
			}
			return fmt.Errorf("warnings: %v", warned.all())
		})
	}
	gauge(3)
	pctx, pcancel := context.WithTimeout(context.Background(), time.Minute)
	defer pcancel()
	if err := testbed.Preload(pctx, dbURL, "app", 4, 4, 2, "UTC"); err != nil {
		t.Fatal(err)
	}
	gauge(7)
	if m := get("http://" + a.MetricsAddr() + "/metrics"); !strings.Contains(m, `kamreg_build_info{goversion=`) ||
		!strings.Contains(m, `version="9.8.7"} 1`) {
		t.Errorf("kamreg_build_info lacks version 9.8.7")
	}
	list := get("http://" + a.Addr() + "/v2/accounts/" + id + "/registrations?filter_username=u000000")
	if !strings.Contains(list, `"expires":0,`) {
		t.Errorf("with the clock two days ahead, the registration should have expired: %s", list)
	}
}

// TestOpenOnABusyPort fails Open with the address in the message.
func TestOpenOnABusyPort(t *testing.T) {
	dbURL, _, _ := tenant(t, 1)
	first, err := app.Open(context.Background(), config(t, dbURL), app.Options{Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	c := config(t, dbURL)
	c.Listen = first.Addr()
	_, err = app.Open(context.Background(), c, app.Options{Log: quiet()})
	if err == nil || !strings.Contains(err.Error(), "listen "+first.Addr()) {
		t.Fatalf("Open on a busy port: %v", err)
	}
}

func quiet() *logrus.Logger {
	log := logrus.New()
	log.SetOutput(io.Discard)
	return log
}

//go:build integration

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kamreg/kamreg/testbed"
)

// event is one Server-Sent Event of the registrations stream.
type event struct {
	Type, ID string
	Users    []string
}

// openEvents opens an account's event stream on env.main with the token
// in the query string, as EventSource would; the channel closes when the
// stream ends.
func openEvents(t *testing.T, a account, query string) <-chan event {
	t.Helper()
	return openEventsAt(t, env.main, a, query)
}

// openEventsAt opens an account's event stream on the kamreg s.
func openEventsAt(t *testing.T, s *kamregServer, a account, query string) <-chan event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	url := s.Base + "/v2/accounts/" + a.id + "/registrations/events?auth_token=" + a.token + query
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		resp.Body.Close()
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan event, 64)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 8<<20)
		var e event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "" && e.Type != "":
				out <- e
				e = event{}
			case strings.HasPrefix(line, "event: "):
				e.Type = line[len("event: "):]
			case strings.HasPrefix(line, "id: "):
				e.ID = line[len("id: "):]
			case strings.HasPrefix(line, "data: "):
				data := line[len("data: "):]
				if !strings.HasPrefix(data, "[") {
					data = "[" + data + "]"
				}
				var regs []struct{ Username string }
				_ = json.Unmarshal([]byte(data), &regs)
				e.Users = []string{}
				for _, r := range regs {
					e.Users = append(e.Users, r.Username)
				}
			}
		}
	}()
	return out
}

// awaitEvent waits, up to limit, for an event of that type about user.
func awaitEvent(t *testing.T, events <-chan event, typ, user string, limit time.Duration) {
	t.Helper()
	deadline := time.After(limit)
	for {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatalf("the stream ended before %s %s", typ, user)
			}
			if e.Type == typ && len(e.Users) == 1 && e.Users[0] == user {
				return
			}
		case <-deadline:
			t.Fatalf("no %s event for %s within %s", typ, user, limit)
		}
	}
}

// TestEventStream follows an account against the real Kamailio (usrloc
// db_mode 2): the snapshot, a phone registering, a flush through kamreg
// seen within a second, filters, and a revoked token closing the stream.
func TestEventStream(t *testing.T) {
	a := newAccount(t, "Events", "events.kamreg.test", "", false)
	register(t, testbed.Phone{User: "alice", Domain: a.realm, ContactPort: 5070})
	waitCount(t, env.main, a, 1)

	all := openEvents(t, a, "")
	bobOnly := openEvents(t, a, "&filter_username=bob")
	for name, stream := range map[string]<-chan event{"all": all, "bob only": bobOnly} {
		select {
		case e := <-stream:
			want := "alice"
			if name == "bob only" {
				want = ""
			}
			if e.Type != "snapshot" || strings.Join(e.Users, ",") != want {
				t.Errorf("%s: first event %+v, want the snapshot of %q", name, e, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no snapshot", name)
		}
	}

	register(t, testbed.Phone{User: "bob", Domain: a.realm, ContactPort: 5071})
	// db_mode 2 writes the row at its next timer run (1 s here), then the
	// next poll (1 s) sees it.
	awaitEvent(t, all, "registered", "bob", 10*time.Second)
	awaitEvent(t, bobOnly, "registered", "bob", 10*time.Second)

	if r := call(t, "DELETE", env.main.Base+"/v2/accounts/"+a.id+"/registrations/bob", a.token); r.status != 200 {
		t.Fatalf("flush bob: %d %s", r.status, r.body)
	}
	awaitEvent(t, all, "unregistered", "bob", time.Second)
	awaitEvent(t, bobOnly, "unregistered", "bob", time.Second)

	id, _, _ := strings.Cut(a.token, ".")
	mustCLI(t, "tokens", "revoke", id)
	deadline := time.After(8 * time.Second)
	for open := true; open; {
		select {
		case _, open = <-all:
		case <-deadline:
			t.Fatal("the stream of a revoked token is still open after 8 s")
		}
	}
}

// TestEventStreamsAreCapped runs kamreg with KAMREG_STREAMS_PER_TOKEN=2
// and KAMREG_STREAMS_PER_ADDRESS=3: a token's third stream and the
// address's fourth get 429 in Kazoo's envelope, and a stream closed by
// its client gives its slots back.
func TestEventStreamsAreCapped(t *testing.T) {
	s, err := startKamreg("main="+env.kam.RPCURL(), "KAMREG_STREAMS_PER_TOKEN=2", "KAMREG_STREAMS_PER_ADDRESS=3")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := newAccount(t, "Capped streams", "capped.events.kamreg.test", "", false)
	second := strings.TrimSpace(mustCLI(t, "tokens", "create", "--account", a.id))
	third := strings.TrimSpace(mustCLI(t, "tokens", "create", "--account", a.id))
	url := s.Base + "/v2/accounts/" + a.id + "/registrations/events"
	// open asks for a stream; a refusal's body is read and closed.
	open := func(token string) (int, http.Header, []byte, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Header.Set("X-Auth-Token", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body []byte
		if resp.StatusCode != 200 {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		return resp.StatusCode, resp.Header, body, cancel
	}
	var got []int
	var closeFirst context.CancelFunc
	for i, tok := range []string{a.token, a.token, a.token, second, third} {
		status, h, body, cancel := open(tok)
		got = append(got, status)
		if i == 0 {
			closeFirst = cancel
		}
		if status == 429 {
			var env struct{ Message, Error, Status string }
			if err := json.Unmarshal(body, &env); err != nil || env.Message != "too_many_requests" || env.Error != "429" ||
				env.Status != "error" || h.Get("Retry-After") == "" {
				t.Errorf("stream %d refused with %s (Retry-After %q)", i, body, h.Get("Retry-After"))
			}
		}
	}
	if want := []int{200, 200, 429, 200, 429}; !slices.Equal(got, want) {
		t.Fatalf("statuses %v, want %v (the token's third, then the address's fourth refused)", got, want)
	}
	closeFirst()
	testbed.Eventually(t, 10*time.Second, "a closed stream gives its slot back", func() bool {
		status, _, _, cancel := open(third)
		if status != 200 {
			cancel()
		}
		return status == 200
	})
}

//go:build integration

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/kamreg/kamreg/rest"
	"github.com/kamreg/kamreg/testbed"
)

// streamRows is the size of the streamed realm: tens of megabytes of
// JSON, far more than kamreg holds before its first byte (4 MiB, README)
// and more than loopback's socket buffers hold, so that a client that
// stops reading holds kamreg in the middle of the list.
const streamRows = 60000

// maxPageSize is the largest page_size kamreg takes (README).
const maxPageSize = 10000

// streamBed is a kamreg on its own database, whose one realm holds
// streamRows live rows.
type streamBed struct {
	kr    *kamregServer
	a     account
	name  string // the database
	list  string // the list's URL
	admin string
}

func newStreamBed(t *testing.T) *streamBed {
	t.Helper()
	ctx := context.Background()
	name := "stream" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	dbURL, err := env.pg.CreateDatabase(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := testbed.Preload(ctx, dbURL, "stream", streamRows, streamRows, 1, kamailioTZ); err != nil {
		t.Fatal(err)
	}
	kr := serveFor(t, "main="+env.kam.RPCURL(), "KAMREG_DATABASE_URL="+dbURL)
	a := newAccountIn(t, dbURL, "Stream", "stream0000.test", "", false)
	return &streamBed{kr: kr, a: a, name: name, admin: env.pg.AdminURL(),
		list: kr.Base + "/v2/accounts/" + a.id + "/registrations"}
}

// get sends GET u with the account's token on a connection of its own.
func (sb *streamBed) get(t *testing.T, u string, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", sb.a.token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	tr := &http.Transport{DisableKeepAlives: true, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := (&http.Client{Transport: tr, Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// listEnvelope is a list answer, its data kept as written.
type listEnvelope struct {
	Data         json.RawMessage `json:"data"`
	PageSize     int             `json:"page_size"`
	NextStartKey string          `json:"next_start_key"`
	Revision     string          `json:"revision"`
	Status       string          `json:"status"`
}

// readList reads a whole streamed list answer: 200, chunked, no ETag and
// no Content-Length, a complete envelope whose revision is its data's.
func readList(t *testing.T, resp *http.Response) (listEnvelope, []map[string]any) {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the list: %v", err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != "" || resp.ContentLength != -1 ||
		!cmp.Equal(resp.TransferEncoding, []string{"chunked"}) {
		t.Errorf("streamed list: status %d, ETag %q, Content-Length %d, Transfer-Encoding %v; want 200, none, -1, chunked",
			resp.StatusCode, resp.Header.Get("ETag"), resp.ContentLength, resp.TransferEncoding)
	}
	var env listEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("the streamed list is not one JSON envelope (%d bytes): %v", len(body), err)
	}
	var entries []map[string]any
	if err := json.Unmarshal(env.Data, &entries); err != nil {
		t.Fatal(err)
	}
	if env.Status != "success" || env.PageSize != len(entries) || env.Revision != rest.Revision(env.Data) {
		t.Errorf("envelope: status %q, page_size %d for %d entries, revision %q (the data's is %q)",
			env.Status, env.PageSize, len(entries), env.Revision, rest.Revision(env.Data))
	}
	return env, entries
}

// TestStreamedLists: lists far larger than what kamreg holds before its
// first byte are streamed whole, in order, paged, and as CSV; a small page
// keeps its ETag and 304.
func TestStreamedLists(t *testing.T) {
	sb := newStreamBed(t)

	t.Run("the whole realm", func(t *testing.T) {
		_, entries := readList(t, sb.get(t, sb.list))
		if len(entries) != streamRows {
			t.Fatalf("%d entries, want %d", len(entries), streamRows)
		}
		for i := 1; i < len(entries); i++ {
			if entries[i-1]["username"].(string) >= entries[i]["username"].(string) {
				t.Fatalf("entries %d and %d out of order: %v, %v", i-1, i, entries[i-1]["username"], entries[i]["username"])
			}
		}
		if n := countNow(t, sb.kr, sb.a); n != streamRows {
			t.Errorf("count %d, want %d", n, streamRows)
		}
	})

	t.Run("pages larger than the buffer", func(t *testing.T) {
		const page = maxPageSize
		seen := map[string]bool{}
		next := ""
		for i := 0; ; i++ {
			u := sb.list + "?page_size=" + strconv.Itoa(page)
			if next != "" {
				u += "&start_key=" + url.QueryEscape(next)
			}
			env, entries := readList(t, sb.get(t, u))
			for _, e := range entries {
				seen[e["username"].(string)] = true
			}
			if env.NextStartKey == "" {
				break
			}
			if i > streamRows/page {
				t.Fatal("more pages than rows")
			}
			next = env.NextStartKey
		}
		if len(seen) != streamRows {
			t.Errorf("%d distinct usernames over the pages, want %d", len(seen), streamRows)
		}
	})

	t.Run("CSV", func(t *testing.T) {
		resp := sb.get(t, sb.list+"?accept=csv")
		lines := 0
		last := ""
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines++
			last = sc.Text()
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		if lines != streamRows+1 || resp.Header.Get("ETag") != "" || resp.Header.Get("Content-Disposition") == "" || resp.ContentLength != -1 {
			t.Errorf("CSV: %d lines (want %d), ETag %q, Content-Disposition %q, Content-Length %d", lines, streamRows+1,
				resp.Header.Get("ETag"), resp.Header.Get("Content-Disposition"), resp.ContentLength)
		}
		if want := fmt.Sprintf("u%06d", streamRows-1); !strings.Contains(last, want) {
			t.Errorf("the CSV's last row is not %s's: %q", want, last)
		}
		// A page small enough to be whole: an ETag, and its next key as a
		// header (a streamed page has it as a trailer: see rest's tests).
		small := sb.get(t, sb.list+"?accept=csv&page_size=100")
		b, err := io.ReadAll(small.Body)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(string(b), "\n"); got != 101 {
			t.Errorf("a CSV page of 100: %d lines", got)
		}
		if small.Header.Get("ETag") == "" || small.Header.Get("X-Next-Start-Key") == "" || small.ContentLength != int64(len(b)) {
			t.Errorf("a CSV page within the buffer: ETag %q, X-Next-Start-Key %q, Content-Length %d", small.Header.Get("ETag"),
				small.Header.Get("X-Next-Start-Key"), small.ContentLength)
		}
	})

	t.Run("a small page is whole, with its ETag", func(t *testing.T) {
		resp := sb.get(t, sb.list+"?page_size=100")
		b, _ := io.ReadAll(resp.Body)
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || etag == "" || resp.ContentLength != int64(len(b)) {
			t.Fatalf("small page: %d, ETag %q, Content-Length %d for %d bytes", resp.StatusCode, etag, resp.ContentLength, len(b))
		}
		if again := sb.get(t, sb.list+"?page_size=100", "If-None-Match", etag); again.StatusCode != 304 {
			t.Errorf("If-None-Match with the ETag: %d, want 304", again.StatusCode)
		}
	})
}

// TestStreamedListClientGoesAway: a client that closes its connection in
// the middle of a streamed list ends the stream: kamreg counts it as cut
// by the client, holds no database connection and no goroutine for it.
func TestStreamedListClientGoesAway(t *testing.T) {
	sb := newStreamBed(t)
	before := metricsOf(t, sb.kr)
	resp := sb.get(t, sb.list)
	if _, err := io.CopyN(io.Discard, resp.Body, 256<<10); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	testbed.Eventually(t, 30*time.Second, "kamreg counts the list as cut by the client, with no database connection held", func() bool {
		m := metricsOf(t, sb.kr)
		return m[`kamreg_http_responses_cut_total{reason="client",route="account_registrations"}`] == 1 &&
			m["kamreg_db_pool_acquired_connections"] <= before["kamreg_db_pool_acquired_connections"] && m["go_goroutines"] <= before["go_goroutines"]
	})
}

// TestStreamedListBackendFails: when PostgreSQL fails in the middle of a
// streamed list, the answer is cut: the connection closes before the
// chunked body's end and the JSON stops before the envelope's status, so
// no client takes it for a complete list. kamreg counts and logs it, and
// serves the list again once the database is back.
func TestStreamedListBackendFails(t *testing.T) {
	sb := newStreamBed(t)
	resp := sb.get(t, sb.list)
	head := make([]byte, 64<<10)
	if _, err := io.ReadFull(resp.Body, head); err != nil {
		t.Fatal(err)
	}
	// kamreg is now held writing (the client reads no more): the database
	// goes away under it.
	setConnections(t, sb, false)
	restored := false
	defer func() {
		if !restored {
			setConnections(t, sb, true)
		}
	}()
	rest, err := io.ReadAll(resp.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("reading the rest of a list cut by a backend failure: %v, want an unexpected EOF", err)
	}
	body := append(head, rest...)
	if bytes.HasSuffix(bytes.TrimSpace(body), []byte(`"status":"success"}`)) || json.Valid(body) {
		t.Errorf("a cut list looks complete: it ends with %q", body[max(0, len(body)-80):])
	}
	testbed.Eventually(t, 10*time.Second, "kamreg counts the list as cut by the backend", func() bool {
		return metricsOf(t, sb.kr)[`kamreg_http_responses_cut_total{reason="backend",route="account_registrations"}`] == 1
	})
	if log, err := os.ReadFile(sb.kr.LogPath); err != nil || !bytes.Contains(log, []byte("response cut")) {
		t.Errorf("kamreg's log does not say the list was cut (%v)", err)
	}

	setConnections(t, sb, true)
	restored = true
	testbed.Eventually(t, 30*time.Second, "the list is served again", func() bool {
		r, err := tryCall("GET", sb.list+"?page_size=1", sb.a.token)
		return err == nil && r.status == 200
	})
}

// setConnections allows or refuses every connection to the stream bed's
// database, and ends those open when it refuses them.
func setConnections(t *testing.T, sb *streamBed, allow bool) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, sb.admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	db := pgx.Identifier{sb.name}.Sanitize()
	if _, err := conn.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s ALLOW_CONNECTIONS %t`, db, allow)); err != nil {
		t.Fatal(err)
	}
	if !allow {
		if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, sb.name); err != nil {
			t.Fatal(err)
		}
	}
}

// metricsOf reads kamreg's /metrics as series → value.
func metricsOf(t *testing.T, s *kamregServer) map[string]float64 {
	t.Helper()
	r := call(t, "GET", metricsURL(s), "")
	out := map[string]float64{}
	for _, line := range strings.Split(string(r.body), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

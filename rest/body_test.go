package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
	"github.com/kamreg/kamreg/metrics"
	"github.com/kamreg/kamreg/testbed"
	"github.com/sirupsen/logrus"
)

// bigEntries returns n registrations of about 1.2 KB of JSON each.
func bigEntries(n int) []kamreg.Registration {
	out := make([]kamreg.Registration, n)
	base := sampleRegistrations()[0]
	base.UserAgent = strings.Repeat("x", 800)
	for i := range out {
		out[i] = base
		out[i].Username = fmt.Sprintf("user%06d", i)
	}
	return out
}

// streamingServer serves s over real HTTP, for chunked answers and cuts.
func streamingServer(t *testing.T, s *Server) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

func get(t *testing.T, url string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("X-Auth-Token", goodTok)
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestBodiesWholeOrStreamed: a list whose data fits maxHashedBody is sent
// whole with Content-Length and ETag; a larger one is chunked without
// them. Either way the envelope is the same bytes and the revision is
// the data's.
func TestBodiesWholeOrStreamed(t *testing.T) {
	for _, tt := range []struct {
		name     string
		n        int
		streamed bool
	}{
		{"a thousand entries: whole", 1000, false},
		{"five thousand: streamed", 5000, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			entries := bigEntries(tt.n)
			s := newTestServer(t, fakeRegistrations{ListFn: func(kamreg.ListQuery) (kamreg.Page, error) {
				return kamreg.Page{Entries: entries}, nil
			}}, nil)
			resp := get(t, streamingServer(t, s).URL+"/v2/accounts/"+acctID+"/registrations")
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			data := adapter.AppendJSONList(nil, entries)
			if (len(data) > maxHashedBody) != tt.streamed {
				t.Fatalf("%d bytes of data against a bound of %d: the case is wrong", len(data), maxHashedBody)
			}
			rev := Revision(data)
			want := `{"auth_token":"` + goodTok + `","data":` + string(data) + `,"page_size":` + strconv.Itoa(tt.n) +
				`,"request_id":"` + resp.Header.Get("X-Request-ID") + `","revision":"` + rev + `","status":"success"}`
			if !bytes.Equal(body, []byte(want)) {
				t.Errorf("body differs from the whole envelope (%d bytes, want %d); ends %q", len(body), len(want), body[max(0, len(body)-120):])
			}
			type shape struct {
				ETag          string
				ContentLength int64
				Chunked       bool
			}
			got := shape{resp.Header.Get("ETag"), resp.ContentLength, len(resp.TransferEncoding) == 1}
			wantShape := shape{`"` + rev + `"`, int64(len(want)), false}
			if tt.streamed {
				wantShape = shape{"", -1, true}
			}
			if d := cmp.Diff(wantShape, got); d != "" {
				t.Errorf("headers (-want +got):\n%s", d)
			}
		})
	}
}

// TestStreamedCSVTrailer: a paged CSV too large to hold has no ETag and
// its next page's key comes as the trailer X-Next-Start-Key.
func TestStreamedCSVTrailer(t *testing.T) {
	entries := bigEntries(5000)
	next := kamreg.Key{Username: "user005000", Contact: "sip:x", Ruid: "r"}
	s := newTestServer(t, fakeRegistrations{ListFn: func(kamreg.ListQuery) (kamreg.Page, error) {
		return kamreg.Page{Entries: entries, Next: &next}, nil
	}}, nil)
	resp := get(t, streamingServer(t, s).URL+"/v2/accounts/"+acctID+"/registrations?accept=csv&page_size=5000")
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("ETag") != "" || resp.ContentLength != -1 || resp.Header.Get("Content-Disposition") == "" {
		t.Errorf("headers: ETag %q, Content-Length %d, Content-Disposition %q", resp.Header.Get("ETag"), resp.ContentLength, resp.Header.Get("Content-Disposition"))
	}
	if got := bytes.Count(body, []byte("\n")); got != 5001 {
		t.Errorf("%d lines, want 5001", got)
	}
	if got, want := resp.Trailer.Get("X-Next-Start-Key"), EncodeStartKey(next); got != want {
		t.Errorf("trailer X-Next-Start-Key %q, want %q", got, want)
	}
}

// TestBackendFailureMidList: a read that fails before the first byte is
// the error's envelope; once the list streams, the answer is cut (the
// client reads an unexpected EOF, and the body is not JSON), counted and
// logged at warning level (a backend's fault, not kamreg's).
func TestBackendFailureMidList(t *testing.T) {
	failing := errors.New("connection reset")
	for _, tt := range []struct {
		name    string
		emitted int
		cut     bool
	}{
		{"before the first byte", 100, false},
		{"in the middle", 5000, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			entries := bigEntries(tt.emitted)
			var log bytes.Buffer
			s := newTestServer(t, fakeRegistrations{StreamFn: func(_ context.Context, _ kamreg.ListQuery, emit func(*kamreg.Registration) error) (*kamreg.Key, error) {
				for i := range entries {
					if err := emit(&entries[i]); err != nil {
						return nil, err
					}
				}
				return nil, kamreg.Errorf(kamreg.EUNAVAILABLE, "read: %v", failing)
			}}, &log)
			m := metrics.New(prometheus.NewRegistry())
			s.cfg.Metrics = m
			resp := get(t, streamingServer(t, s).URL+"/v2/accounts/"+acctID+"/registrations")
			body, err := io.ReadAll(resp.Body)
			if !tt.cut {
				if err != nil || resp.StatusCode != 503 || !json.Valid(body) {
					t.Errorf("failure before the first byte: %v, %d %s", err, resp.StatusCode, body)
				}
				return
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) || resp.StatusCode != 200 {
				t.Errorf("cut list: status %d, read error %v; want 200 and an unexpected EOF", resp.StatusCode, err)
			}
			if json.Valid(body) || bytes.Contains(body, []byte(`"status":"success"`)) {
				t.Errorf("a cut list looks complete: ends %q", body[max(0, len(body)-80):])
			}
			testbed.Eventually(t, 10*time.Second, "the cut is counted", func() bool {
				return testutil.ToFloat64(m.ResponsesCut.WithLabelValues("account_registrations", metrics.CutBackend)) == 1
			})
			if l := log.String(); !strings.Contains(l, `"msg":"response cut"`) || !strings.Contains(l, `"cut":"backend"`) ||
				!strings.Contains(l, `"level":"warning"`) || !strings.Contains(l, `"error":"read: connection reset"`) {
				t.Errorf("log:\n%s", log.String())
			}
		})
	}
}

// TestClientGoneMidList: a client that goes away ends the stream: emit
// returns an error, the read stops, and the cut is counted as the
// client's, not logged as a failure.
func TestClientGoneMidList(t *testing.T) {
	entry := bigEntries(1)[0]
	stopped := make(chan error, 1)
	var log bytes.Buffer
	s := newTestServer(t, fakeRegistrations{StreamFn: func(_ context.Context, _ kamreg.ListQuery, emit func(*kamreg.Registration) error) (*kamreg.Key, error) {
		for {
			// An endless list: only the client's going stops it.
			if err := emit(&entry); err != nil {
				stopped <- err
				return nil, err
			}
		}
	}}, &log)
	m := metrics.New(prometheus.NewRegistry())
	s.cfg.Metrics = m
	resp := get(t, streamingServer(t, s).URL+"/v2/accounts/"+acctID+"/registrations")
	if _, err := io.CopyN(io.Discard, resp.Body, maxHashedBody+1<<20); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case err := <-stopped:
		if err == nil {
			t.Error("the stream stopped without an error")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the stream did not stop after the client went away")
	}
	testbed.Eventually(t, 10*time.Second, "the cut is counted as the client's", func() bool {
		return testutil.ToFloat64(m.ResponsesCut.WithLabelValues("account_registrations", metrics.CutClient)) == 1
	})
	if strings.Contains(log.String(), `"level":"error"`) {
		t.Errorf("a client going away is logged as an error:\n%s", log.String())
	}
}

// TestCutsAreCountedAtAnyLogLevel: with the log at error level, a cut
// list is still counted by its reason.
func TestCutsAreCountedAtAnyLogLevel(t *testing.T) {
	entries := bigEntries(5000)
	s := newTestServer(t, fakeRegistrations{StreamFn: func(_ context.Context, _ kamreg.ListQuery, emit func(*kamreg.Registration) error) (*kamreg.Key, error) {
		for i := range entries {
			if err := emit(&entries[i]); err != nil {
				return nil, err
			}
		}
		return nil, kamreg.Errorf(kamreg.EUNAVAILABLE, "read failed")
	}}, nil)
	s.cfg.Log.SetLevel(logrus.ErrorLevel)
	m := metrics.New(prometheus.NewRegistry())
	s.cfg.Metrics = m
	resp := get(t, streamingServer(t, s).URL+"/v2/accounts/"+acctID+"/registrations")
	_, _ = io.ReadAll(resp.Body)
	testbed.Eventually(t, 10*time.Second, "the cut is counted", func() bool {
		return testutil.ToFloat64(m.ResponsesCut.WithLabelValues("account_registrations", metrics.CutBackend)) == 1
	})
}

// TestAClientGoneSeenByTheRead: when the read sees the request's context
// end before a write fails, the list is still counted as cut by the
// client, and not logged at warning.
func TestAClientGoneSeenByTheRead(t *testing.T) {
	entries := bigEntries(5000)
	var log bytes.Buffer
	sent := make(chan struct{})
	s := newTestServer(t, fakeRegistrations{StreamFn: func(ctx context.Context, _ kamreg.ListQuery, emit func(*kamreg.Registration) error) (*kamreg.Key, error) {
		for i := range entries {
			if err := emit(&entries[i]); err != nil {
				return nil, err
			}
		}
		close(sent)
		<-ctx.Done() // the next batch's read, as the registry's does
		return nil, kamreg.Errorf(kamreg.EUNAVAILABLE, "read: %v", ctx.Err())
	}}, &log)
	m := metrics.New(prometheus.NewRegistry())
	s.cfg.Metrics = m
	resp := get(t, streamingServer(t, s).URL+"/v2/accounts/"+acctID+"/registrations")
	go func() { _, _ = io.Copy(io.Discard, resp.Body) }()
	testbed.Receive(t, sent, 10*time.Second, "the first entries")
	resp.Body.Close()
	testbed.Eventually(t, 10*time.Second, "the cut is counted as the client's", func() bool {
		return testutil.ToFloat64(m.ResponsesCut.WithLabelValues("account_registrations", metrics.CutClient)) == 1
	})
	if n := testutil.ToFloat64(m.ResponsesCut.WithLabelValues("account_registrations", metrics.CutBackend)); n != 0 {
		t.Errorf("%v cuts counted as the backend's", n)
	}
	if strings.Contains(log.String(), `"level":"warning"`) {
		t.Errorf("a client going away is logged at warning:\n%s", log.String())
	}
}

// TestAPanicAfterTheFirstByteIsCut: a handler that panics once part of
// its answer is out cuts the answer; the client never reads it as whole.
func TestAPanicAfterTheFirstByteIsCut(t *testing.T) {
	entries := bigEntries(5000)
	s := newTestServer(t, fakeRegistrations{StreamFn: func(_ context.Context, _ kamreg.ListQuery, emit func(*kamreg.Registration) error) (*kamreg.Key, error) {
		for i := range entries {
			if err := emit(&entries[i]); err != nil {
				return nil, err
			}
		}
		panic("a bug mid-list")
	}}, nil)
	for _, path := range []string{"/registrations", "/registrations?accept=csv"} {
		resp := get(t, streamingServer(t, s).URL+"/v2/accounts/"+acctID+path)
		if _, err := io.ReadAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: a panic after the first byte read as %v, want an unexpected EOF", path, err)
		}
	}
}

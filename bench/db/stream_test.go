package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// seen is what a test compares of a streamed measurement: the times vary.
// The server answers 401 unless the token came.
type seen struct {
	Status    int
	Bytes     int64
	Complete  bool
	Cut       bool
	FirstByte bool
}

func TestStreamList(t *testing.T) {
	whole := `{"auth_token":"t","data":[` + strings.Repeat(`{"username":"u"},`, 10000) + `{}],"page_size":10001,"request_id":"r","revision":"x","status":"success"}`
	for _, c := range []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
		want    seen
	}{
		{name: "a whole envelope larger than the read buffer", handler: func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(whole))
		}, want: seen{Status: 200, Bytes: int64(len(whole)), Complete: true, FirstByte: true}},
		{name: "cut mid-list: the connection ends before the envelope does", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100000")
			_, _ = w.Write([]byte(whole[:5000]))
			w.(http.Flusher).Flush()
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}, want: seen{Status: 200, Bytes: 5000, Cut: true, FirstByte: true}},
		{name: "an error answer is not a whole list", handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"503","status":"error"}`))
		}, want: seen{Status: 503, Bytes: 32, FirstByte: true}},
		{name: "no answer within the bound", handler: func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}, want: seen{Cut: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("X-Auth-Token") != "tok" {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				c.handler(w, r)
			}))
			defer srv.Close()
			// This process stands for kamreg: its /proc entries are real.
			s, err := streamList(srv.URL, "tok", os.Getpid(), 500*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			got := seen{Status: s.status, Bytes: s.bytes, Complete: s.complete, Cut: s.cut != "", FirstByte: s.firstByte > 0}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if s.before.rssKB == 0 || s.peakKB == 0 {
				t.Errorf("resident set not read: before %+v, peak %d kB", s.before, s.peakKB)
			}
		})
	}
}

func TestWholeEnvelope(t *testing.T) {
	for _, c := range []struct {
		tail string
		want bool
	}{
		{`,"request_id":"r","revision":"x","status":"success"}`, true},
		{`,"status":"success"}` + "\n", true},
		{`{"username":"u"},{"user`, false},
		{`"status":"error"}`, false},
		{``, false},
	} {
		if got := wholeEnvelope([]byte(c.tail)); got != c.want {
			t.Errorf("wholeEnvelope(%q) = %v, want %v", c.tail, got, c.want)
		}
	}
}

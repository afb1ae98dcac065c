package rest

import (
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/testbed"
)

// capped serves streams with the limit l, behind a trusted proxy at
// 127.0.0.1 when proxied; every token "tok-acct…" is the account's until
// revoked is set, and streams check their token every 10 ms.
func capped(t *testing.T, src *liveSource, l StreamLimit, proxied bool) (s *streamServer, revoked *atomic.Bool) {
	t.Helper()
	revoked = &atomic.Bool{}
	s = newStreamServer(t, src, func(c *Config, _ *http.Server) {
		c.Streams = l
		c.Recheck = 10 * time.Millisecond
		if proxied {
			c.AuthFailures.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		}
		c.Tokens = fakeTokens{AuthenticateFn: func(tok string) (string, error) {
			if strings.HasPrefix(tok, goodTok) && !revoked.Load() {
				return acctID, nil
			}
			return "", kamreg.ErrBadToken
		}}
	})
	return s, revoked
}

// opener is one stream a test asks for: its token, and the client the
// trusted proxy names ("" for none).
type opener struct{ token, client string }

func (o opener) headers() []string {
	h := []string{"X-Auth-Token", o.token, "X-Request-ID", "rid"}
	if o.client != "" {
		h = append(h, "X-Forwarded-For", o.client)
	}
	return h
}

func TestEventStreamCaps(t *testing.T) {
	a, b, c := opener{goodTok, ""}, opener{goodTok + "-2", ""}, opener{goodTok + "-3", ""}
	tests := []struct {
		name    string
		limit   StreamLimit
		proxied bool
		opens   []opener
		want    []int
	}{
		{"per token", StreamLimit{PerToken: 2}, false, []opener{a, a, a, b}, []int{200, 200, 429, 200}},
		{"per address, whatever the tokens", StreamLimit{PerAddress: 2}, false, []opener{a, b, c}, []int{200, 200, 429}},
		{"both: the token's cap first", StreamLimit{PerToken: 1, PerAddress: 3}, false, []opener{a, a, b, c, opener{goodTok + "-4", ""}},
			[]int{200, 429, 200, 200, 429}},
		{"per address behind a trusted proxy", StreamLimit{PerAddress: 1}, true,
			[]opener{{goodTok, "192.0.2.1"}, {goodTok + "-2", "192.0.2.1"}, {goodTok + "-3", "192.0.2.2"}, {goodTok + "-4", "2001:db8::1"}, {goodTok + "-5", "2001:db8::2"}},
			[]int{200, 429, 200, 200, 429}},
		{"an untrusted peer's X-Forwarded-For is not believed", StreamLimit{PerAddress: 1}, false,
			[]opener{{goodTok, "192.0.2.1"}, {goodTok + "-2", "192.0.2.2"}}, []int{200, 429}},
		{"0: no cap", StreamLimit{}, false, []opener{a, a, a, a, a, b, c}, []int{200, 200, 200, 200, 200, 200, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := capped(t, &liveSource{}, tt.limit, tt.proxied)
			var got []int
			for _, o := range tt.opens {
				st := startStream(t, s.URL+eventsPath, o.headers()...)
				got = append(got, st.resp.StatusCode)
				if st.resp.StatusCode == 200 {
					nextBlock(t, st.blocks) // the snapshot: the stream holds its slots
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
		})
	}
}

func TestEventStreamPastItsCapIsTheRateLimitAnswer(t *testing.T) {
	s, _ := capped(t, &liveSource{}, StreamLimit{PerToken: 1}, false)
	first := startStream(t, s.URL+eventsPath, opener{goodTok, ""}.headers()...)
	nextBlock(t, first.blocks)
	refused := startStream(t, s.URL+eventsPath, opener{goodTok, ""}.headers()...)
	h := refused.resp.Header
	if refused.resp.StatusCode != 429 || h.Get("Retry-After") != "1" || h.Get("Content-Type") != "application/json" {
		t.Errorf("answer %d, Retry-After %q, Content-Type %q; want 429, 1, application/json",
			refused.resp.StatusCode, h.Get("Retry-After"), h.Get("Content-Type"))
	}
	golden(t, "error_rate_limited", refused.body)
}

func TestAStreamThatEndsGivesItsSlotsBack(t *testing.T) {
	one := StreamLimit{PerToken: 1, PerAddress: 1}
	tests := []struct {
		name string
		// end opens a stream that takes the only slots, then ends it (or
		// has it fail before it starts).
		end func(t *testing.T, s *streamServer, src *liveSource, revoked *atomic.Bool)
	}{
		{"the client closes it", func(t *testing.T, s *streamServer, _ *liveSource, _ *atomic.Bool) {
			st := startStream(t, s.URL+eventsPath, opener{goodTok, ""}.headers()...)
			nextBlock(t, st.blocks)
			st.close()
		}},
		{"kamreg ends it: its token was revoked", func(t *testing.T, s *streamServer, _ *liveSource, revoked *atomic.Bool) {
			st := startStream(t, s.URL+eventsPath, opener{goodTok, ""}.headers()...)
			nextBlock(t, st.blocks)
			revoked.Store(true)
			waitEnd(t, st.blocks)
			revoked.Store(false)
		}},
		{"it fails before it starts: the realm cannot be read", func(t *testing.T, s *streamServer, src *liveSource, _ *atomic.Bool) {
			src.fail(kamreg.Errorf(kamreg.EUNAVAILABLE, "PostgreSQL is down"))
			st := startStream(t, s.URL+eventsPath, opener{goodTok, ""}.headers()...)
			if st.resp.StatusCode != 503 {
				t.Fatalf("answer %d, want 503", st.resp.StatusCode)
			}
			src.fail(nil)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &liveSource{}
			s, revoked := capped(t, src, one, false)
			tt.end(t, s, src, revoked)
			testbed.Eventually(t, streamWait, "the stream's slots are given back", func() bool {
				srv := s.Config.Handler.(*Server)
				tok, client := srv.streams.open(goodTok, "127.0.0.1")
				return tok == 0 && client == 0
			})
			st := startStream(t, s.URL+eventsPath, opener{goodTok, ""}.headers()...)
			if st.resp.StatusCode != 200 {
				t.Fatalf("the next stream: %d %s, want 200", st.resp.StatusCode, st.body)
			}
			nextBlock(t, st.blocks)
		})
	}
}

package rest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"

	"github.com/kamreg/kamreg"
)

// TestClassify: every kind of error a handler meets gets its status and
// message, and its request's log level: error only for kamreg's own
// faults, warn for a backend's (PostgreSQL, a node, Kazoo), info or debug
// for a client's.
func TestClassify(t *testing.T) {
	type answer struct {
		Status  int
		Message string
		Level   string
	}
	unavailable := kamreg.Errorf(kamreg.EUNAVAILABLE, "PostgreSQL is unreachable")
	tests := []struct {
		name string
		err  error
		want answer
	}{
		{"no token", errInvalidCredentials, answer{401, "invalid_credentials", "info"}},
		{"unknown token", fmt.Errorf("auth: %w", kamreg.ErrUnknownToken), answer{401, "invalid_credentials", "info"}},
		{"forbidden", errForbidden, answer{403, "forbidden", "info"}},
		{"malformed account", &malformedAccountError{ID: "xyz"}, answer{404, "bad identifier", "info"}},
		{"unknown account", &unknownAccountError{ID: acctID}, answer{404, "bad_identifier", "info"}},
		{"unknown user", &unknownUserError{Username: "nobody"}, answer{404, "bad identifier", "info"}},
		{"no live registration", &noRegistrationError{ID: "desk"}, answer{404, "bad identifier", "info"}},
		{"sync incomplete", &syncError{}, answer{503, "sync incomplete", "warning"}},
		{"too many requests", errTooManyRequests, answer{429, "too_many_requests", "debug"}},
		{"unknown path", errNotFound, answer{404, "not_found", "info"}},
		{"method not allowed", &methodError{Allow: "GET"}, answer{405, "invalid_method", "info"}},
		{"bad parameter", &paramError{Parameter: "page_size", Message: "too big"}, answer{400, "invalid request", "info"}},
		{"flush incomplete", &kamreg.FlushError{}, answer{503, "flush incomplete", "warning"}},
		{"Kazoo refused", &upstreamError{Host: "kazoo:8000", Err: errors.New("connection refused")}, answer{502, "bad_gateway", "warning"}},
		{"Kazoo too slow", &upstreamError{Host: "kazoo:8000", Err: context.DeadlineExceeded}, answer{502, "bad_gateway", "warning"}},
		{"device status unread", &statusReadError{Err: unavailable}, answer{503, "datastore fatal error", "warning"}},
		{"backend unavailable", unavailable, answer{503, "datastore fatal error", "warning"}},
		{"deadline", fmt.Errorf("count: %w", context.DeadlineExceeded), answer{503, "datastore fatal error", "warning"}},
		{"not found", kamreg.ErrNotFound, answer{404, "not_found", "info"}},
		{"invalid", kamreg.Errorf(kamreg.EINVALID, "empty realm"), answer{400, "invalid request", "info"}},
		{"incomplete without a report", kamreg.Errorf(kamreg.EINCOMPLETE, "?"), answer{500, "internal_error", "error"}},
		{"panic", &panicError{Value: "boom"}, answer{500, "internal_error", "error"}},
		{"no kind", errors.New("a fault of kamreg's"), answer{500, "internal_error", "error"}},
	}
	want, got := map[string]answer{}, map[string]answer{}
	for _, tt := range tests {
		a := classify(tt.err)
		want[tt.name] = tt.want
		got[tt.name] = answer{a.Status, a.Message, a.Level.String()}
		if a.Level == logrus.PanicLevel {
			t.Errorf("%s: no log level", tt.name)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("classify (-want +got):\n%s", diff)
	}
}

package kamreg

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestErrorKinds(t *testing.T) {
	type kind struct{ Code, Message string }
	tests := []struct {
		name string
		in   error
		want kind
	}{
		{"nil", nil, kind{"", "internal error"}},
		{"of a kind, wrapped", fmt.Errorf("reading: %w", Errorf(EUNAVAILABLE, "PostgreSQL is unreachable or failing")),
			kind{EUNAVAILABLE, "PostgreSQL is unreachable or failing"}},
		{"a flush error", &FlushError{Report: FlushReport{Failed: []string{"a@b"}}}, kind{EINCOMPLETE, "internal error"}},
		{"a deadline", fmt.Errorf("waiting: %w", context.DeadlineExceeded), kind{EUNAVAILABLE, "the backends did not answer in time"}},
		{"cancelled", context.Canceled, kind{EUNAVAILABLE, "the request was cancelled"}},
		{"of no kind", errors.New("boom"), kind{EINTERNAL, "internal error"}},
		{"a bad token", ErrUnknownToken, kind{EINVALID, "invalid credentials"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, kind{ErrorCode(tt.in), ErrorMessage(tt.in)}); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestErrorCause(t *testing.T) {
	refused := errors.New("connect: connection refused")
	for _, tt := range []struct {
		in   error
		want string
	}{
		{Wrap(EUNAVAILABLE, refused, "PostgreSQL is unreachable or failing"), "connect: connection refused"},
		{fmt.Errorf("location index: %w", Wrap(EUNAVAILABLE, refused, "PostgreSQL is unreachable or failing")), "connect: connection refused"},
		{Wrap(EUNAVAILABLE, fmt.Errorf("recording: %w", Wrap(EUNAVAILABLE, refused, "PostgreSQL is unreachable or failing")),
			"the flush reached every node but could not be recorded"), "connect: connection refused"},
		{Wrap(EUNAVAILABLE, Errorf(EUNAVAILABLE, "no node"), "outer"), ""},
		{Errorf(EINVALID, "no realm to watch"), ""},
		{refused, ""},
	} {
		if got := ErrorCause(tt.in); got != tt.want {
			t.Errorf("%v: cause %q, want %q", tt.in, got, tt.want)
		}
	}
}

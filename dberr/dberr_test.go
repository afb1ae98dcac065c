package dberr

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kamreg/kamreg"
)

func TestWrap(t *testing.T) {
	refused := errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	type answer struct{ Code, Message string }
	tests := []struct {
		name string
		in   error
		want answer
	}{
		{"nil", nil, answer{}},
		{"no rows", fmt.Errorf("scan: %w", pgx.ErrNoRows), answer{kamreg.ENOTFOUND, "not found"}},
		{"already of a kind", kamreg.ErrUnknownUser, answer{kamreg.ENOTFOUND, "unknown username"}},
		{"missing table", &pgconn.PgError{Code: "42P01", Message: `relation "location" does not exist`},
			answer{kamreg.EUNAVAILABLE, `a table is missing (relation "location" does not exist): load Kamailio's usrloc schema and run kamreg migrate`}},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), answer{kamreg.EUNAVAILABLE, "PostgreSQL did not answer in time"}},
		{"cancelled", context.Canceled, answer{kamreg.EUNAVAILABLE, "the request was cancelled"}},
		{"anything else", refused, answer{kamreg.EUNAVAILABLE, "PostgreSQL is unreachable or failing"}},
	}
	for _, tt := range tests {
		err := Wrap(tt.in)
		got := answer{}
		if err != nil {
			got = answer{kamreg.ErrorCode(err), kamreg.ErrorMessage(err)}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
		if tt.in != nil && !errors.Is(err, tt.in) && tt.want.Code != kamreg.ENOTFOUND {
			t.Errorf("%s: the cause is lost", tt.name)
		}
	}
}

func TestIsCode(t *testing.T) {
	dup := fmt.Errorf("insert: %w", &pgconn.PgError{Code: "23505"})
	if !IsCode(dup, "23505") || IsCode(dup, "42P01") || IsCode(errors.New("23505"), "23505") {
		t.Error("IsCode does not read the SQLSTATE of a wrapped *pgconn.PgError only")
	}
}

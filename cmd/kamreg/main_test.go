package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/kamreg/kamreg"
)

func TestDescribe(t *testing.T) {
	denied := errors.New("ERROR: permission denied for table location (SQLSTATE 42501)")
	for _, tt := range []struct {
		in   error
		want string
	}{
		{fmt.Errorf("location index: %w", kamreg.Wrap(kamreg.EUNAVAILABLE, denied, "PostgreSQL is unreachable or failing")),
			"location index: PostgreSQL is unreachable or failing (ERROR: permission denied for table location (SQLSTATE 42501))"},
		{errors.New("listen :8000: address already in use"), "listen :8000: address already in use"},
	} {
		if got := describe(tt.in); got != tt.want {
			t.Errorf("describe: %q\nwant %q", got, tt.want)
		}
	}
}

package store

import (
	"fmt"

	"github.com/kamreg/kamreg"
)

// ErrNotFound is kamreg.ErrNotFound, kept for callers of this package.
var ErrNotFound = kamreg.ErrNotFound

// invalid is bad input, refused before anything is written.
func invalid(field, message string) error {
	return kamreg.Errorf(kamreg.EINVALID, "invalid %s: %s", field, message)
}

// ValidID is kamreg.ValidID.
func ValidID(id string) bool { return kamreg.ValidID(id) }

func checkID(field, id string) error {
	if !ValidID(id) {
		return invalid(field, fmt.Sprintf("%q is not 32 lowercase hex characters", id))
	}
	return nil
}

package store

import (
	"fmt"
	"regexp"

	"github.com/kamreg/kamreg"
)

// ErrNotFound is kamreg.ErrNotFound, kept for callers of this package.
var ErrNotFound = kamreg.ErrNotFound

// invalid is bad input, refused before anything is written.
func invalid(field, message string) error {
	return kamreg.Errorf(kamreg.EINVALID, "invalid %s: %s", field, message)
}

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ValidID tells whether id is a Kazoo id: 32 lowercase hex characters.
func ValidID(id string) bool { return hexID.MatchString(id) }

func checkID(field, id string) error {
	if !ValidID(id) {
		return invalid(field, fmt.Sprintf("%q is not 32 lowercase hex characters", id))
	}
	return nil
}

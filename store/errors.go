package store

import (
	"fmt"

	"github.com/kamreg/kamreg"
)

// invalid is bad input, refused before anything is written.
func invalid(field, message string) error {
	return kamreg.Errorf(kamreg.EINVALID, "invalid %s: %s", field, message)
}

func checkID(field, id string) error {
	if !kamreg.ValidID(id) {
		return invalid(field, fmt.Sprintf("%q is not 32 lowercase hex characters", id))
	}
	return nil
}

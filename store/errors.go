package store

import (
	"errors"
	"fmt"
	"regexp"
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// InvalidError is bad input, refused before anything is written.
type InvalidError struct {
	Field   string
	Message string
}

func (e *InvalidError) Error() string { return fmt.Sprintf("invalid %s: %s", e.Field, e.Message) }

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ValidID tells whether id is a Kazoo id: 32 lowercase hex characters.
func ValidID(id string) bool { return hexID.MatchString(id) }

func checkID(field, id string) error {
	if !ValidID(id) {
		return &InvalidError{Field: field, Message: fmt.Sprintf("%q is not 32 lowercase hex characters", id)}
	}
	return nil
}

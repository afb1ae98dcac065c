package kamailio

import (
	"fmt"
	"strings"

	"github.com/kamreg/kamreg"
)

// RPCError is an error object Kamailio returned.
type RPCError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Error says the code and message Kamailio gave.
func (e *RPCError) Error() string {
	return fmt.Sprintf("kamailio error %d: %s", e.Code, e.Message)
}

// Is makes errors.Is(err, kamreg.ErrNotFound) true for Kamailio's answers
// that mean the AoR or contact is not there: code 404, or 500 "AOR not
// found in location table" / "AOR has no contacts" / "Contact not found".
// It is false for "Method Not Found", which means the module is missing.
func (e *RPCError) Is(target error) bool {
	if target != kamreg.ErrNotFound {
		return false
	}
	msg := strings.ToLower(e.Message)
	return e.Code == 404 || strings.HasPrefix(msg, "aor not found") || strings.HasPrefix(msg, "aor has no contacts") ||
		strings.HasPrefix(msg, "contact not found")
}

// TransportError is a failure to get any answer from a node: connection
// refused or reset, timeout, an unreadable or oversized reply.
type TransportError struct {
	Node string
	Err  error
}

// Error names the node and what went wrong.
func (e *TransportError) Error() string { return fmt.Sprintf("node %s: %v", e.Node, e.Err) }

// Unwrap returns the underlying error.
func (e *TransportError) Unwrap() error { return e.Err }

package kamailio

import "github.com/kamreg/kamreg"

// policy says how the client sends one JSON-RPC method.
type policy struct {
	// hedge: the method is idempotent and cheap, so a call with no answer
	// after the node's hedge delay may be sent once more, on a connection
	// of its own, and the first answer wins.
	hedge bool
	// once: the method is not idempotent (a phone told twice may reboot
	// twice), so it is never sent again, not even after a timeout.
	once bool
}

// methods are the only JSON-RPC methods the client sends, each with its
// policy. A method is added here with the typed call that uses it.
var methods = map[string]policy{
	"core.version": {hedge: true},
	"ul.lookup":    {hedge: true},
	"ul.rm":        {hedge: true}, // removing an AoR twice removes it once
	// ul.dump ties up one of the node's workers while it builds the whole
	// table in memory: a second one would tie up another.
	"ul.dump": {},
	// tm.t_uac_start sends a request to a phone (SendRequest).
	"tm.t_uac_start": {once: true},
}

// errMethodRefused is a call of a method the client does not send.
func errMethodRefused(method string) error {
	return kamreg.Errorf(kamreg.EINTERNAL, "JSON-RPC method %q is not one kamreg sends", method)
}

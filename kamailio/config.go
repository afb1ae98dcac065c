package kamailio

import _ "embed"

// ReferenceConfig is kamailio.cfg, the reference Kamailio configuration:
// a registrar with usrloc in PostgreSQL and JSON-RPC over HTTP, tuned by
// defines (-A NAME=VALUE).
//
//go:embed kamailio.cfg
var ReferenceConfig []byte

// Package kamailio speaks to Kamailio: its JSON-RPC interface (ul.rm,
// ul.lookup, ul.dump) and the usrloc tables it keeps in PostgreSQL.
// It also holds the reference kamailio.cfg used by docker-compose, the
// demo and the integration tests.
package kamailio

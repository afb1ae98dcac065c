// Package adapter turns Kamailio's usrloc bindings into Kazoo Crossbar
// registrations, and orchestrates a flush across Kamailio nodes. It is pure
// logic: no network and no database.
package adapter

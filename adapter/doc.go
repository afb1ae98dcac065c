// Package adapter turns Kamailio's usrloc bindings into Kazoo Crossbar
// registrations: URIs and sockets to addresses and ports, instants to
// Gregorian seconds, what kamreg knows of the account and the device, and
// Kazoo's channel vars. It also writes registrations as Kazoo's JSON and
// reads their keys for filters and CSV. Pure functions: no network and no
// database.
package adapter

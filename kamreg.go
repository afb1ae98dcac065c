// Package kamreg is the domain of the Kazoo Registrations API beside
// Kamailio: what a binding and a registration are, what an account and a
// device are, what a flush reports, the service the HTTP layer calls and
// the kinds of error every layer speaks. It imports nothing of the project;
// every other package depends on it.
//
// Where things live: kamailio/ speaks to Kamailio (JSON-RPC and its usrloc
// tables), store/ owns kamreg's own tables, auth/ tells who a caller is
// and how much it may ask, adapter/ maps bindings to Kazoo registrations,
// registry/ holds the use cases, rest/ serves HTTP.
package kamreg

// Package rest serves the Kazoo Crossbar Registrations API over HTTP: the
// routes, the Kazoo envelope, authentication and authorization, and the
// mapping of every error to its status and message.
package rest

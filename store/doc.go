// Package store keeps kamreg's own tables in PostgreSQL: accounts, devices,
// API tokens and flush records. It also applies the embedded migrations
// and the one index kamreg adds to Kamailio's location table.
package store

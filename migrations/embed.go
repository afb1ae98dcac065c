// Package migrations holds kamreg's own schema, applied by goose: SQL
// files embedded in the binary, and Go migrations where one must read
// Kamailio's usrloc table, whose name and time zone are settings. They
// create and alter kamreg's tables only; the usrloc tables belong to
// Kamailio and are only ever read here.
//
// The rule for every migration: it keeps every live flush record in force.
// A flush record hides a flushed row until Kamailio's timer removes it
// (usrloc db_mode 2); a migration that adds or changes a column the read
// path uses fills it in for the records already there, from what the old
// record and the location row of the same ruid hold, so that no flushed
// phone is listed again after an upgrade.
package migrations

import "embed"

// FS holds the SQL migration files, named NNNNN_description.sql.
//
//go:embed *.sql
var FS embed.FS

// Package query holds the one read of a realm's live location rows that
// bench/db measures three ways: through kamreg, through the thin service
// (bench/thin) and as plain SQL through pgbench.
package query

import "strings"

// live keeps the rows kamreg lists: not yet expired, or permanent.
const live = `(expires > (now() AT TIME ZONE 'UTC') OR expires = '1970-01-01 00:00:00')`

// List is the plain indexed read of a realm's live rows, $1 the realm.
const List = `SELECT * FROM location WHERE domain = $1 AND ` + live + ` ORDER BY username, contact`

// Count counts the rows List reads, $1 the realm.
const Count = `SELECT count(*) FROM location WHERE domain = $1 AND ` + live

// Pgbench turns one of the statements above into a pgbench script: $1
// becomes the variable :realm, which `pgbench -M prepared -D realm=R`
// sends as the statement's one parameter, so that PostgreSQL runs the
// same prepared statement as the services do.
func Pgbench(sql string) string { return strings.ReplaceAll(sql, "$1", ":realm") + ";\n" }

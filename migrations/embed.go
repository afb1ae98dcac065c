// Package migrations holds kamreg's own schema as SQL files, embedded in
// the binary and applied by goose. They create kamreg's tables only; the
// usrloc tables belong to Kamailio.
package migrations

import "embed"

// FS holds the migration files, named NNNNN_description.sql.
//
//go:embed *.sql
var FS embed.FS

package testbed

import (
	"os"
	"path/filepath"
	"strconv"
)

// PGBin is the directory of the newest PostgreSQL server programs Debian
// installed (/usr/lib/postgresql/<major>/bin holding initdb, major 15 or
// newer: 15 on Debian 12, 17 on Debian 13), or KAMREG_PG_BIN when set. It
// is empty when none is installed; Check then says so.
var PGBin = pgBin(os.Getenv("KAMREG_PG_BIN"), "/usr/lib/postgresql")

// minPGMajor is the oldest PostgreSQL kamreg is tested with.
const minPGMajor = 15

// pgBin returns override when set, else the bin directory under root of
// the highest major version from minPGMajor on that holds initdb and
// pg_ctl, else "".
func pgBin(override, root string) string {
	if override != "" {
		return override
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return ""
	}
	best, dir := 0, ""
	for _, e := range entries {
		major, err := strconv.Atoi(e.Name())
		if err != nil || major < minPGMajor || major <= best {
			continue
		}
		bin := filepath.Join(root, e.Name(), "bin")
		if isFile(filepath.Join(bin, "initdb")) && isFile(filepath.Join(bin, "pg_ctl")) {
			best, dir = major, bin
		}
	}
	return dir
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

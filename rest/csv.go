package rest

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
)

// respondCSV writes the entries as CSV: a header row of the keys, then one
// row per entry, as an attachment. The revision of the body is its ETag;
// a next page's start_key goes in X-Next-Start-Key.
func respondCSV(w http.ResponseWriter, r *http.Request, entries []kamreg.Registration, next string) {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(adapter.AllKeys)
	row := make([]string, len(adapter.AllKeys))
	for i := range entries {
		for j, k := range adapter.AllKeys {
			row[j] = csvCell(adapter.Value(&entries[i], k))
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	rev := Revision(buf.Bytes())
	h := w.Header()
	h.Set("ETag", `"`+rev+`"`)
	if next != "" {
		h.Set("X-Next-Start-Key", next)
	}
	if matchesETag(r.Header.Get("If-None-Match"), rev) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="registrations.csv"`)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// csvFormulaStart holds the first characters that make a spreadsheet read
// a cell as a formula (or strip it, for TAB and CR).
const csvFormulaStart = "=+-@\t\r"

// csvCell neutralises a cell that a spreadsheet would run as a formula:
// it starts with a single quote, as OWASP recommends for CSV injection.
// Phones write User-Agents, Call-IDs and Contacts: they are untrusted.
func csvCell(v string) string {
	if v != "" && strings.IndexByte(csvFormulaStart, v[0]) >= 0 {
		return "'" + v
	}
	return v
}

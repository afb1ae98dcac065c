package rest

import (
	"encoding/csv"
	"net/http"
	"strings"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
)

// listCSV answers a list as CSV, as its entries are read: a header row of
// the keys, then one row per entry, as an attachment. Whole (its data at
// most maxHashedBody) it has the revision of the body as ETag and a next
// page's start_key in X-Next-Start-Key; streamed, it has no ETag and the
// start_key comes as the trailer X-Next-Start-Key.
func (s *Server) listCSV(w http.ResponseWriter, r *http.Request, q kamreg.ListQuery) {
	bd := newBody(w, r, "text/csv; charset=utf-8")
	defer bd.release()
	bd.onStream = func(h http.Header) {
		attachment(h)
		if q.Limit > 0 {
			h.Set("Trailer", nextKeyHeader)
		}
	}
	bd.startData()
	cw := csv.NewWriter(bd)
	_ = cw.Write(adapter.AllKeys)
	row := make([]string, len(adapter.AllKeys))
	next, err := s.cfg.Registrations.Stream(r.Context(), q, func(reg *kamreg.Registration) error {
		for j, k := range adapter.AllKeys {
			row[j] = csvCell(adapter.Value(reg, k))
		}
		return cw.Write(row)
	})
	if err == nil {
		cw.Flush()
		err = cw.Error()
	}
	if err != nil {
		listFailed(w, r, bd, err)
		return
	}
	rev := bd.endData()
	var nextKey string
	if next != nil {
		nextKey = EncodeStartKey(*next)
	}
	bd.finish(rev, func(h http.Header) {
		attachment(h)
		if nextKey != "" {
			h.Set(nextKeyHeader, nextKey)
		}
	})
	if bd.streaming && nextKey != "" {
		w.Header().Set(nextKeyHeader, nextKey)
	}
}

// nextKeyHeader carries a CSV page's next start_key.
const nextKeyHeader = "X-Next-Start-Key"

func attachment(h http.Header) {
	h.Set("Content-Disposition", `attachment; filename="registrations.csv"`)
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

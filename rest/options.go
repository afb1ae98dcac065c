package rest

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
)

// maxPageSize is the largest page_size accepted.
const maxPageSize = 10000

// maxFilters bounds the filters of one request.
const maxFilters = 32

// listOptions are what a list request asks beyond Kazoo's plain list.
type listOptions struct {
	query    kamreg.ListQuery
	startKey string
	paged    bool
	csv      bool
}

// parseListOptions reads page_size, start_key, filter_<key>,
// filter_not_<key> and the CSV choice. Other parameters are ignored, as
// Kazoo does.
func parseListOptions(r *http.Request) (listOptions, error) {
	var o listOptions
	q := r.URL.Query()
	if v, ok := q["page_size"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > maxPageSize || len(v) > 1 {
			return o, &paramError{Parameter: "page_size", Message: fmt.Sprintf("page_size must be one integer from 1 to %d", maxPageSize)}
		}
		o.query.Limit, o.paged = n, true
	}
	if v, ok := q["start_key"]; ok {
		k, err := decodeStartKey(v[0])
		if err != nil || len(v) > 1 {
			return o, &paramError{Parameter: "start_key", Message: "malformed start_key: pass the next_start_key of the page before, unchanged"}
		}
		o.query.After, o.startKey = &k, v[0]
	}
	names := make([]string, 0, len(q))
	for name := range q {
		if strings.HasPrefix(name, "filter_") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		key, not := strings.TrimPrefix(name, "filter_"), false
		if k, ok := strings.CutPrefix(key, "not_"); ok {
			key, not = k, true
		}
		if !adapter.IsKey(key) {
			return o, &paramError{Parameter: name, Message: fmt.Sprintf("unknown key %q: filters work on the keys of a registration", key)}
		}
		for _, v := range q[name] {
			o.query.Filters = append(o.query.Filters, kamreg.Filter{Key: key, Value: v, Not: not})
		}
	}
	if len(o.query.Filters) > maxFilters {
		return o, &paramError{Parameter: "filter", Message: fmt.Sprintf("at most %d filters", maxFilters)}
	}
	o.csv = wantsCSV(r)
	return o, nil
}

// wantsCSV tells whether the caller asked for CSV: ?accept=csv or an
// Accept header naming text/csv.
func wantsCSV(r *http.Request) bool {
	if a := r.URL.Query().Get("accept"); a != "" {
		return a == "csv" || a == "text/csv"
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(mt), "text/csv") {
			return true
		}
	}
	return false
}

package rest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// envelope is Kazoo's response wrapper. Its fields are in alphabetical
// order, as Kazoo writes them.
type envelope struct {
	AuthToken    string          `json:"auth_token"`
	Data         json.RawMessage `json:"data"`
	Error        string          `json:"error,omitempty"`
	Message      string          `json:"message,omitempty"`
	NextStartKey string          `json:"next_start_key,omitempty"`
	PageSize     *int            `json:"page_size,omitempty"`
	RequestID    string          `json:"request_id"`
	Revision     string          `json:"revision,omitempty"`
	StartKey     string          `json:"start_key,omitempty"`
	Status       string          `json:"status"`
}

// paging is what a list envelope says about its page.
type paging struct {
	size              *int
	startKey, nextKey string
}

// encodeJSON writes v without HTML escaping and without a trailing newline.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Revision is the stable hash of a response's data: equal data gives an
// equal revision.
func Revision(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

// respond writes a success envelope around data; a list passes its paging.
// If-None-Match with the current revision answers 304.
func respond(w http.ResponseWriter, r *http.Request, data any, p paging) {
	st := stateOf(r)
	raw, err := encodeJSON(data)
	if err != nil {
		respondError(w, r, err)
		return
	}
	rev := Revision(raw)
	w.Header().Set("ETag", `"`+rev+`"`)
	if matchesETag(r.Header.Get("If-None-Match"), rev) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeEnvelope(w, http.StatusOK, envelope{
		AuthToken: st.token, Data: raw, PageSize: p.size, StartKey: p.startKey, NextStartKey: p.nextKey,
		RequestID: st.requestID, Revision: rev, Status: "success",
	})
}

// respondError writes the error envelope the error maps to.
func respondError(w http.ResponseWriter, r *http.Request, err error) {
	st := stateOf(r)
	e := classify(err)
	st.err = err
	if e.Allow != "" {
		w.Header().Set("Allow", e.Allow)
	}
	raw, encErr := encodeJSON(e.Data)
	if encErr != nil {
		raw = []byte(`{"message":"internal error"}`)
	}
	writeEnvelope(w, e.Status, envelope{
		AuthToken: st.token, Data: raw, Error: strconv.Itoa(e.Status), Message: e.Message,
		RequestID: st.requestID, Status: "error",
	})
}

func writeEnvelope(w http.ResponseWriter, status int, env envelope) {
	body, err := encodeJSON(env)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"status":"error","message":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// matchesETag tells whether an If-None-Match header names the revision.
func matchesETag(header, rev string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimSpace(tag)
		tag = strings.TrimPrefix(tag, "W/")
		if tag == "*" || strings.Trim(tag, `"`) == rev {
			return true
		}
	}
	return false
}

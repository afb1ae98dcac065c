package rest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/kamreg/kamreg/jsontext"
)

// envelope is Kazoo's response wrapper; writeEnvelope writes its keys in
// alphabetical order, as Kazoo does.
type envelope struct {
	AuthToken    string
	Data         json.RawMessage
	Error        string
	Message      string
	NextStartKey string
	PageSize     *int
	RequestID    string
	Revision     string
	StartKey     string
	Status       string
}

// noStore sets the headers of every answer that may carry the caller's
// token (envelopes, CSV, the event stream, errors): no cache may keep it,
// and no browser may read it as anything but its Content-Type.
func noStore(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
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

// respond writes a success envelope around data; a list passes its paging.
// If-None-Match with the current revision answers 304.
func respond(w http.ResponseWriter, r *http.Request, data any, p paging) {
	raw, err := encodeJSON(data)
	if err != nil {
		respondError(w, r, err)
		return
	}
	respondRaw(w, r, raw, p)
}

// respondRaw is respond for data already encoded as JSON.
func respondRaw(w http.ResponseWriter, r *http.Request, raw []byte, p paging) {
	st := stateOf(r)
	rev := Revision(raw)
	if notModified(w, r, rev) {
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
	if e.RetryAfter != "" {
		w.Header().Set("Retry-After", e.RetryAfter)
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

// writeEnvelope writes env as JSON, its keys in alphabetical order, with
// data copied as it is (it is already JSON).
func writeEnvelope(w http.ResponseWriter, status int, env envelope) {
	b := make([]byte, 0, len(env.Data)+256+len(env.AuthToken)+len(env.StartKey)+len(env.NextStartKey))
	b = append(appendHead(b, env), env.Data...)
	writeBody(w, status, "application/json", appendTail(b, env))
}

// appendHead appends the envelope's keys up to the data's value.
func appendHead(b []byte, env envelope) []byte {
	b = jsontext.String(append(b, `{"auth_token":`...), env.AuthToken)
	return append(b, `,"data":`...)
}

// appendTail appends the envelope's keys after the data.
func appendTail(b []byte, env envelope) []byte {
	if env.Error != "" {
		b = jsontext.String(append(b, `,"error":`...), env.Error)
	}
	if env.Message != "" {
		b = jsontext.String(append(b, `,"message":`...), env.Message)
	}
	if env.NextStartKey != "" {
		b = jsontext.String(append(b, `,"next_start_key":`...), env.NextStartKey)
	}
	if env.PageSize != nil {
		b = jsontext.Int(append(b, `,"page_size":`...), int64(*env.PageSize))
	}
	b = jsontext.String(append(b, `,"request_id":`...), env.RequestID)
	if env.Revision != "" {
		b = jsontext.String(append(b, `,"revision":`...), env.Revision)
	}
	if env.StartKey != "" {
		b = jsontext.String(append(b, `,"start_key":`...), env.StartKey)
	}
	b = jsontext.String(append(b, `,"status":`...), env.Status)
	return append(b, '}')
}

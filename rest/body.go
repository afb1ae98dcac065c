package rest

import (
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/zeebo/xxh3"
)

// maxHashedBody is the most data (the JSON of data, or the CSV) a list
// holds before its first byte. A list whose data fits is sent whole, with
// Content-Length and its revision as ETag (and a 304 for a matching
// If-None-Match); a longer one is streamed as it is read, in bounded
// memory, its revision in the envelope's tail only.
const maxHashedBody = 4 << 20

// streamChunk is how much a streamed body gathers between writes.
const streamChunk = 64 << 10

// bodies recycles the buffers bodies are written into.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBody is the largest buffer kept for reuse.
const maxPooledBody = 8 << 20

// body is a response body written piece by piece: kept whole while its
// data is at most maxHashedBody, then streamed. The data is hashed as it
// goes, so that its revision is the same either way.
type body struct {
	w    http.ResponseWriter
	r    *http.Request
	kind string // Content-Type
	// onStream sets what a streamed answer's headers need (a trailer).
	onStream func(http.Header)

	bp        *[]byte
	b         []byte
	dataFrom  int // where the data begins in b, until it streams
	hashed    int // bytes of b already hashed
	hashing   bool
	hash      xxh3.Hasher
	streaming bool
	err       error // the client's, once a write failed
}

// newBody starts a body of Content-Type kind; release returns its buffer.
func newBody(w http.ResponseWriter, r *http.Request, kind string) *body {
	bp := bodies.Get().(*[]byte)
	return &body{w: w, r: r, kind: kind, bp: bp, b: (*bp)[:0]}
}

func (bd *body) release() {
	*bd.bp = bd.b[:0]
	if cap(bd.b) <= maxPooledBody {
		bodies.Put(bd.bp)
	}
}

// startData marks the end of what comes before the data (the envelope's
// head), which is not hashed.
func (bd *body) startData() {
	bd.dataFrom, bd.hashed, bd.hashing = len(bd.b), len(bd.b), true
}

// Write appends p (for encoding/csv).
func (bd *body) Write(p []byte) (int, error) {
	bd.b = append(bd.b, p...)
	return len(p), bd.grew()
}

// grew is called after bytes were appended to b: past maxHashedBody of
// data the answer starts streaming, and a streaming answer sends what
// it gathered past streamChunk. It returns the client's write error.
func (bd *body) grew() error {
	switch {
	case bd.err != nil:
	case !bd.streaming && len(bd.b)-bd.dataFrom > maxHashedBody:
		bd.streaming = true
		h := bd.w.Header()
		h.Set("Content-Type", bd.kind)
		if bd.onStream != nil {
			bd.onStream(h)
		}
		bd.w.WriteHeader(http.StatusOK)
		bd.send()
	case bd.streaming && len(bd.b) >= streamChunk:
		bd.send()
	}
	return bd.err
}

// send hashes what is data in b and writes b to the client.
func (bd *body) send() {
	bd.sum()
	if _, err := bd.w.Write(bd.b); err != nil {
		bd.err = err
	}
	bd.b, bd.hashed = bd.b[:0], 0
}

// sum hashes the data of b not hashed yet.
func (bd *body) sum() {
	if bd.hashing {
		_, _ = bd.hash.Write(bd.b[bd.hashed:])
		bd.hashed = len(bd.b)
	}
}

// endData marks the end of the data and returns its revision: the
// bytes after it (the envelope's tail) are not hashed.
func (bd *body) endData() string {
	bd.sum()
	bd.hashing = false
	return hexRevision(bd.hash.Sum128())
}

// finish sends the body: whole, with Content-Length and the revision as
// ETag (a 304 when If-None-Match names it), or the rest of a stream.
// header sets what a whole answer carries beside the ETag.
func (bd *body) finish(rev string, header func(http.Header)) {
	if bd.streaming {
		if bd.err == nil {
			bd.send()
		}
		return
	}
	if header != nil {
		header(bd.w.Header())
	}
	if notModified(bd.w, bd.r, rev) {
		return
	}
	writeBody(bd.w, http.StatusOK, bd.kind, bd.b)
}

// Revision is the stable hash of a response's data: equal data gives an
// equal revision, on every replica. It is XXH3's 128 bits in hex: a
// revision names a version of the data for caching, it guards nothing,
// and a list of a thousand registrations is a megabyte to hash per request.
func Revision(data []byte) string { return hexRevision(xxh3.Hash128(data)) }

func hexRevision(sum xxh3.Uint128) string {
	b := sum.Bytes()
	return hex.EncodeToString(b[:])
}

// notModified sets the revision as the ETag and answers 304 when
// If-None-Match names it: the one home of ETag and 304.
func notModified(w http.ResponseWriter, r *http.Request, rev string) bool {
	w.Header().Set("ETag", `"`+rev+`"`)
	if !matchesETag(r.Header.Get("If-None-Match"), rev) {
		return false
	}
	w.WriteHeader(http.StatusNotModified)
	return true
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

func writeBody(w http.ResponseWriter, status int, kind string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", kind)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

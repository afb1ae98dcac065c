package rest

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/watch"
)

// Watcher follows a realm's live registrations for the event stream
// (watch.Hub).
type Watcher interface {
	Subscribe(ctx context.Context, realm string, filters []kamreg.Filter) (*watch.Watch, error)
}

// Defaults of the event stream's timers.
const (
	// defaultHeartbeat is how often an idle stream gets a comment, so that
	// proxies and browsers keep it open.
	defaultHeartbeat = 15 * time.Second
	// defaultRecheck is how often a stream's token and authorization are
	// checked again: with the 5 s authentication cache, a revoked token's
	// streams close within about 6 s.
	defaultRecheck = time.Second
	// eventWriteWait bounds one write to a stream's client.
	eventWriteWait = 30 * time.Second
	// eventRetry is the reconnection delay the stream suggests, in ms.
	eventRetry = 2000
)

// events serves GET …/registrations/events as Server-Sent Events: the
// snapshot (the list), then registered, refreshed and unregistered events
// with an id, and a comment heartbeat. Whatever fails before the stream
// starts is the usual error envelope, 429 past a cap of open streams
// (Config.Streams); Last-Event-ID is not replayed, a reconnection starts
// with a fresh snapshot.
func (s *Server) events(w http.ResponseWriter, r *http.Request, a *kamreg.Account) {
	if s.cfg.Watch == nil {
		respondError(w, r, errNotFound)
		return
	}
	o, err := parseListOptions(r)
	if err != nil {
		respondError(w, r, err)
		return
	}
	token, client := stateOf(r).token, s.client(r)
	if !s.streams.take(token, client) {
		respondError(w, r, errTooManyStreams)
		return
	}
	defer s.streams.give(token, client)
	ctx, cancel := s.readContext(r)
	sub, err := s.cfg.Watch.Subscribe(ctx, a.Realm, o.query.Filters)
	cancel()
	if err != nil {
		respondError(w, r, err)
		return
	}
	defer sub.Close()
	rc := http.NewResponseController(w)
	// The server's read and write timeouts are for requests, not streams.
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store") // as every answer that may carry a token
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	sw := &sseWriter{w: w, rc: rc}
	sw.buf = append(sw.buf, "retry: "+strconv.Itoa(eventRetry)+"\n"...)
	sw.head(watch.Snapshot, sub.SnapshotID())
	if sub.WriteSnapshot(sw.data) != nil {
		return
	}
	sw.tail()
	if sw.flush() != nil {
		return
	}
	heartbeat := time.NewTicker(s.heartbeat())
	defer heartbeat.Stop()
	recheck := time.NewTicker(s.recheck())
	defer recheck.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case batch, ok := <-sub.Events():
			if !ok {
				return // dropped, or kamreg is shutting down
			}
			for _, e := range batch {
				sw.event(e.Type, e.ID, e.Data)
			}
		case <-heartbeat.C:
			sw.buf = append(sw.buf, ": heartbeat\n\n"...)
		case <-recheck.C:
			if !s.stillAllowed(r, a.ID) {
				return
			}
			continue
		}
		if sw.flush() != nil {
			return
		}
	}
}

// stillAllowed checks a stream's token and authorization again, without
// the request rate limit: a token revoked, expired, or no longer allowed
// on the account ends the stream. A backend failure does not.
func (s *Server) stillAllowed(r *http.Request, accountID string) bool {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ReadTimeout)
	defer cancel()
	caller, err := s.cfg.Tokens.Authenticate(ctx, stateOf(r).token)
	if errors.Is(err, kamreg.ErrBadToken) {
		return false
	}
	if err != nil {
		return true
	}
	ok, err := s.cfg.Accounts.MayAct(ctx, caller, accountID)
	return err != nil || ok
}

func (s *Server) heartbeat() time.Duration {
	if s.cfg.Heartbeat > 0 {
		return s.cfg.Heartbeat
	}
	return defaultHeartbeat
}

func (s *Server) recheck() time.Duration {
	if s.cfg.Recheck > 0 {
		return s.cfg.Recheck
	}
	return defaultRecheck
}

// sseWriter writes Server-Sent Events into a buffer, then to the client.
type sseWriter struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	buf []byte
	// err is a write that failed before flush.
	err error
}

// sseBufMax is the most a stream's buffer takes before it is written out:
// a snapshot (a megabyte for a thousand registrations) goes to the client
// from the realm's one encoding, never copied into each of a thousand
// streams' buffers. sseBufKeep is the most a buffer keeps between writes,
// so that an idle stream holds little.
const (
	sseBufMax  = 16 << 10
	sseBufKeep = 2 << 10
)

// event appends one event; data is one line of JSON.
func (sw *sseWriter) event(typ string, id uint64, data []byte) {
	sw.head(typ, id)
	_ = sw.data(data)
	sw.tail()
}

// head starts an event: its type, its id and its data line's prefix.
func (sw *sseWriter) head(typ string, id uint64) {
	sw.buf = append(sw.buf, "event: "...)
	sw.buf = append(sw.buf, typ...)
	sw.buf = append(sw.buf, "\nid: "...)
	sw.buf = strconv.AppendUint(sw.buf, id, 10)
	sw.buf = append(sw.buf, "\ndata: "...)
}

// data appends a piece of the event's data line, writing what the buffer
// holds first when the piece would take it past sseBufMax, and a large
// piece straight from where it is. It returns the first write that
// failed, which flush returns too.
func (sw *sseWriter) data(b []byte) error {
	if len(sw.buf)+len(b) > sseBufMax {
		sw.err = errors.Join(sw.err, sw.write(sw.buf))
		sw.buf = sw.buf[:0]
		if len(b) > sseBufMax {
			sw.err = errors.Join(sw.err, sw.write(b))
			return sw.err
		}
	}
	sw.buf = append(sw.buf, b...)
	return sw.err
}

// tail ends an event.
func (sw *sseWriter) tail() { sw.buf = append(sw.buf, "\n\n"...) }

func (sw *sseWriter) write(b []byte) error {
	_ = sw.rc.SetWriteDeadline(time.Now().Add(eventWriteWait))
	_, err := sw.w.Write(b)
	return err
}

// flush sends what was appended, within eventWriteWait.
func (sw *sseWriter) flush() error {
	err := errors.Join(sw.err, sw.write(sw.buf))
	if err == nil {
		err = sw.rc.Flush()
	}
	sw.err = nil
	if cap(sw.buf) > sseBufKeep {
		sw.buf = nil
	}
	sw.buf = sw.buf[:0]
	return err
}

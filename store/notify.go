package store

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// flushChannel is the PostgreSQL channel a flush (Flushes.Record) and a
// change of accounts or devices (directorySender) notify, and every
// replica listens on (Listener).
const flushChannel = "kamreg_flushes"

// listenerName is the application_name of the Listener's connection, as
// pg_stat_activity shows it.
const listenerName = "kamreg flush listener"

// maxRealm bounds the realm a notification names: PostgreSQL refuses
// payloads of 8000 bytes or more. A longer realm is sent as "", which
// tells every replica that any realm may have been flushed.
const maxRealm = 4000

// directorySender is the sender of the notifications that an account or
// its devices changed: every replica reads that realm's directory again,
// as it reads its flush records again after a flush (a change of an
// account's realm names every realm, "").
const directorySender = "directory"

// notifyDirectory notifies that the devices of the account $4 changed:
// the payload $2 followed by the account's realm, in lower case ("" when
// longer than $3, maxRealm).
const notifyDirectory = `
	SELECT pg_notify($1, $2 || CASE WHEN length(realm) > $3 THEN '' ELSE lower(realm) END)
	FROM kamreg_accounts WHERE id = $4`

// payload is "<sender> <seq> <realm>", the realm in lower case.
func payload(sender string, seq uint64, realm string) string {
	realm = strings.ToLower(realm)
	if len(realm) > maxRealm {
		realm = ""
	}
	return sender + " " + strconv.FormatUint(seq, 10) + " " + realm
}

// parsePayload returns the sender, number and realm of a notification; a
// payload of another form names no sender and every realm.
func parsePayload(p string) (sender string, seq uint64, realm string) {
	sender, rest, ok := strings.Cut(p, " ")
	n, realm, ok2 := strings.Cut(rest, " ")
	seq, err := strconv.ParseUint(n, 10, 64)
	if !ok || !ok2 || err != nil {
		return "", 0, ""
	}
	return sender, seq, realm
}

// Listener holds one connection of its own (outside the pool) that
// LISTENs on flushChannel, and tells of every flush another replica
// notifies. When the connection is lost it reconnects with a backoff;
// between OnLost and OnListening notifications may have been missed.
//
// A flush notifies at its commit, before it is answered; a replica's next
// read after that answer calls Sync, which hears it first.
type Listener struct {
	Pool *pgxpool.Pool
	// Self names this replica in the notifications its Flushes send:
	// its own are not told.
	Self string
	// OnFlushed hears the realm of each flush of another replica; "" means
	// any realm.
	OnFlushed func(realm string)
	// OnChanged, when set, hears of the accounts or devices of a realm
	// that changed ("" for every realm; directorySender), instead of
	// OnFlushed.
	OnChanged func(realm string)
	// OnListening is called each time LISTEN is in force, the first time
	// and after every reconnection; OnLost when the connection is lost.
	OnListening, OnLost func()
	// OnError, when set, hears why a connection failed.
	OnError func(err error)
	// Backoff is the first wait before a reconnection, doubled up to
	// MaxBackoff (defaults 100 ms and 5 s).
	Backoff, MaxBackoff time.Duration
	// Check is how long the connection may be silent before it is pinged
	// (default 15 s).
	Check time.Duration

	mu        sync.Mutex
	listening bool
	seq       uint64
	// syncs wait for the next round trip on the connection; wake ends
	// the loop's wait for a notification.
	syncs []chan bool
	wake  context.CancelFunc
}

// Sync returns true once every notification committed before it was
// called has been told to OnFlushed: it makes one round trip on the
// listening connection (shared by the callers of that moment), which
// PostgreSQL answers only after the notifications pending for it. It
// returns false when nothing listens, the round trip failed, or ctx ended
// first.
func (l *Listener) Sync(ctx context.Context) bool {
	select {
	case ok := <-l.Begin():
		return ok
	case <-ctx.Done():
		return false
	}
}

// Begin starts a Sync and returns at once: the channel gets its answer,
// so that a caller reads meanwhile.
func (l *Listener) Begin() <-chan bool {
	ch := make(chan bool, 1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.listening {
		ch <- false
		return ch
	}
	l.syncs = append(l.syncs, ch)
	if l.wake != nil {
		l.wake()
	}
	return ch
}

// endSyncs answers every sync waiting.
func (l *Listener) endSyncs(syncs []chan bool, ok bool) {
	for _, ch := range syncs {
		ch <- ok
	}
}

// next numbers a notification about to be sent.
func (l *Listener) next() uint64 {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	return l.seq
}

// setListening records whether LISTEN is in force; syncs waiting across
// a lost connection end.
func (l *Listener) setListening(on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.listening = on
	if !on {
		l.endSyncs(l.syncs, false)
		l.syncs = nil
	}
}

// Run listens until ctx ends.
func (l *Listener) Run(ctx context.Context) {
	wait := l.backoff()
	for ctx.Err() == nil {
		err := l.listen(ctx, func() { wait = l.backoff() })
		if ctx.Err() != nil {
			return
		}
		if l.OnError != nil && err != nil {
			l.OnError(err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, l.maxBackoff())
	}
}

// listen connects, LISTENs and hands on notifications until the connection
// fails or ctx ends; listening is called once LISTEN is in force.
func (l *Listener) listen(ctx context.Context, listening func()) error {
	cfg := l.Pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = listenerName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{flushChannel}.Sanitize()); err != nil {
		return err
	}
	listening()
	if l.OnListening != nil {
		l.OnListening()
	}
	l.setListening(true)
	defer func() {
		l.setListening(false)
		if l.OnLost != nil && ctx.Err() == nil {
			l.OnLost()
		}
	}()
	for {
		wctx, cancel := context.WithTimeout(ctx, l.check())
		l.mu.Lock()
		l.wake = cancel
		if len(l.syncs) > 0 {
			cancel()
		}
		l.mu.Unlock()
		n, err := conn.WaitForNotification(wctx)
		cancel()
		l.mu.Lock()
		l.wake = nil
		l.mu.Unlock()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err == nil:
			l.told(n.Payload)
		case conn.IsClosed():
			return err
		default:
			// Woken for a sync, or silent for too long: a round trip,
			// then the notifications it brought.
			if err := l.roundTrip(ctx, conn); err != nil {
				return err
			}
		}
	}
}

// roundTrip pings the connection for the syncs waiting, tells the
// notifications that came before the answer, then answers the syncs.
func (l *Listener) roundTrip(ctx context.Context, conn *pgx.Conn) error {
	l.mu.Lock()
	syncs := l.syncs
	l.syncs = nil
	l.mu.Unlock()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := conn.Ping(pctx)
	cancel()
	if err != nil {
		l.endSyncs(syncs, false)
		return err
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	for {
		n, err := conn.WaitForNotification(done) // only those already received
		if err != nil || n == nil {
			break
		}
		l.told(n.Payload)
	}
	l.endSyncs(syncs, true)
	return nil
}

// told hands on another replica's flush; this replica's own come back
// too and are left out.
func (l *Listener) told(p string) {
	sender, _, realm := parsePayload(p)
	switch {
	case sender == directorySender && l.OnChanged != nil:
		l.OnChanged(realm)
	case (sender == "" || sender != l.Self) && l.OnFlushed != nil:
		l.OnFlushed(realm)
	}
}

func (l *Listener) backoff() time.Duration {
	if l.Backoff > 0 {
		return l.Backoff
	}
	return 100 * time.Millisecond
}

func (l *Listener) maxBackoff() time.Duration {
	if l.MaxBackoff > 0 {
		return l.MaxBackoff
	}
	return 5 * time.Second
}

func (l *Listener) check() time.Duration {
	if l.Check > 0 {
		return l.Check
	}
	return 15 * time.Second
}

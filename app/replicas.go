package app

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/sirupsen/logrus"

	"github.com/kamreg/kamreg/registry"
	"github.com/kamreg/kamreg/store"
)

// replicaID names this process in its flush notifications.
func replicaID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// hearFlushes makes l tell reg of the flushes of the other replicas
// sharing the database: each one makes reg read the realm's flush records
// again and is told to reg.OnFlushed, as a flush of reg's own is. While
// the connection is lost reg's cache serves nothing; once it is back
// every realm is read again and every watcher reads at once, since
// flushes may have been missed meanwhile.
func hearFlushes(l *store.Listener, reg *registry.Registry, log *logrus.Logger) {
	lost, failing := false, false
	reg.Cache.Sync = l.Begin
	l.OnFlushed = func(realm string) {
		reg.Cache.Invalidate(realm)
		reg.OnFlushed(realm)
	}
	// An account or device put: the realm's directory is read again
	// (watchers see it at their next poll); nothing was removed, so no
	// dump is dropped and no watcher is woken.
	l.OnChanged = reg.Cache.Invalidate
	l.OnListening = func() {
		failing = false
		reg.Cache.SetListening(true)
		reg.OnFlushed("")
		if lost {
			log.Info("listening for other replicas' flushes again; every realm's flush records are read again")
		}
	}
	l.OnLost = func() {
		lost = true
		reg.Cache.SetListening(false)
		log.Warn("lost the connection that hears other replicas' flushes; flush records are read with every request until it is back")
	}
	l.OnError = func(err error) {
		if !failing {
			ErrorEntry(log, err).Warn("cannot listen for other replicas' flushes; retrying with backoff")
		}
		failing = true
	}
}

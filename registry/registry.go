// Package registry holds the Registrations API's use cases: list and
// count (bindings from a Source, joined in Go with what kamreg's tables
// know, mapped by adapter), and flushes (the fan-out of ul.rm across every
// Kamailio node, its bounds and its report, and the flush records that
// make the next read not show what was flushed).
package registry

import (
	"context"
	"time"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
	"github.com/kamreg/kamreg/kamailio"
)

// Source reads bindings: Kamailio's location table (kamailio.Usrloc), or
// the nodes' memory for usrloc db_mode 0 (RPCSource).
type Source interface {
	// Live returns the live bindings q selects, ordered by username,
	// contact and ruid.
	Live(ctx context.Context, q kamailio.Query) ([]kamreg.Binding, error)
	// Batch is how many bindings one Live of a long list should ask for
	// (the rest in the next reads, after the last key read); 0 asks for
	// all at once, for a source that holds them all in memory anyway.
	Batch() int
	// Count returns how many bindings Live would return without a limit.
	Count(ctx context.Context, q kamailio.Query) (int, error)
	// CountHiding returns Count(q) less the bindings hides says are
	// hidden, read at one moment; only the bindings of q.Ruids are
	// offered to hides.
	CountHiding(ctx context.Context, q kamailio.Query, hides func(*kamreg.Binding) bool) (int, error)
	// AoRs returns the AoRs of the scope the source knows of, without
	// scanning any node's memory.
	AoRs(ctx context.Context, s kamreg.Scope) ([]kamreg.AoR, error)
	// States returns the bindings the AoRs have now, leaving out those
	// modified after before: read just before a flush, what it removes.
	States(ctx context.Context, aors []kamreg.AoR, before time.Time) ([]kamreg.FlushRecord, error)
}

// Directory reads what kamreg's tables know of a realm ("" for all): its
// accounts and devices, and the flush records that still hide rows
// (store.Directory).
type Directory interface {
	// Read returns both in one round trip.
	Read(ctx context.Context, realm string) (*kamreg.Directory, []kamreg.FlushRecord, error)
	// Accounts returns the accounts and devices alone.
	Accounts(ctx context.Context, realm string) (*kamreg.Directory, error)
	// FlushRecords returns the flush records alone.
	FlushRecords(ctx context.Context, realm string) ([]kamreg.FlushRecord, error)
}

// Devices answers what an account's device records say (store.Devices).
type Devices interface {
	Exists(ctx context.Context, accountID, username string) (bool, error)
	Usernames(ctx context.Context, accountID string) ([]string, error)
}

// Recorder keeps flush records and tells every replica that the realm
// was flushed (store.Flushes).
type Recorder interface {
	Record(ctx context.Context, realm string, recs []kamreg.FlushRecord) error
}

// Node is one Kamailio node as a flush uses it (kamailio.Client).
type Node interface {
	Node() kamailio.Node
	Remove(ctx context.Context, table, aor string) error
	Lookup(ctx context.Context, table, aor string) ([]kamailio.Contact, error)
}

// Registry is the Registrations service (kamreg.RegistrationService).
type Registry struct {
	Source    Source
	Directory Directory
	Devices   Devices
	Flushes   Recorder
	Nodes     []Node
	Table     string
	// Advertise, Registrars and OnWildcard go to every mapping (see
	// adapter.Context).
	Advertise  adapter.Advertise
	Registrars map[int]kamreg.Registrar
	OnWildcard func(socket string)
	// ChannelVars, when set, keeps parsed channel vars across reads.
	ChannelVars *adapter.ChannelVarsCache
	// Entries, when set, keeps each binding's registration while it is
	// unchanged (adapter.EntryCache).
	Entries *adapter.EntryCache
	// PerNode bounds the ul.rm calls in flight on one node.
	PerNode int
	// Sweep, when set, follows each realm flush (usrloc db_mode 2); nil
	// for a source whose nodes write no row late (rpc, db_mode 1 or 3).
	Sweep *Sweep
	// ReadTimeout bounds each read of the source (a long list is many);
	// zero means 15 s.
	ReadTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Cache, when set, keeps the flush records, accounts and devices of
	// the realms read; nil reads them with every request.
	Cache *FlushCache
	// OnFlushed, when set, hears the realm of every flush that removed
	// something, once the flush is recorded: what keeps reads of the realm
	// (dumps, watchers) drops or reads them again.
	OnFlushed func(realm string)
}

var _ kamreg.RegistrationService = (*Registry)(nil)

// ErrNoNodes is the cause of a flush with no Kamailio node configured.
var ErrNoNodes = kamreg.Errorf(kamreg.EUNAVAILABLE, "no Kamailio JSON-RPC node is configured (KAMREG_KAMAILIO_RPC)")

func (r *Registry) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

package registry

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/kamailio"
)

// fakeNode is a Kamailio node: removeFn decides each ul.rm, held says how
// many contacts ul.lookup finds.
type fakeNode struct {
	name     string
	held     map[string]int
	removeFn func(aor string) error
	mu       sync.Mutex
	removed  []string
}

func (n *fakeNode) Node() kamailio.Node { return kamailio.Node{Name: n.name} }

func (n *fakeNode) Remove(_ context.Context, _, aor string) error {
	if n.removeFn != nil {
		if err := n.removeFn(aor); err != nil {
			return err
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.removed = append(n.removed, aor)
	return nil
}

func (n *fakeNode) Lookup(_ context.Context, _, aor string) ([]kamailio.Contact, error) {
	return make([]kamailio.Contact, n.held[aor]), nil
}

func (n *fakeNode) sortedRemoved() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := append([]string(nil), n.removed...)
	sort.Strings(out)
	return out
}

// fakeSource holds bindings in memory and answers queries as the usrloc
// reader does (kamailio.Query.Selects), counting its calls.
type fakeSource struct {
	bindings []kamreg.Binding
	aors     map[kamreg.Scope][]kamreg.AoR
	err      error
	queries  []kamailio.Query
	counts   int
	// batch is what Batch returns; failAt, when above 0, makes that Live
	// call (1 for the first) and every later one fail with err.
	batch, failAt int
}

func (f *fakeSource) Batch() int { return f.batch }

func (f *fakeSource) Live(_ context.Context, q kamailio.Query) ([]kamreg.Binding, error) {
	f.queries = append(f.queries, q)
	if f.err != nil && (f.failAt == 0 || len(f.queries) >= f.failAt) {
		return nil, f.err
	}
	bs := append([]kamreg.Binding(nil), f.bindings...)
	sort.Slice(bs, func(i, j int) bool { return bs[i].KeyOf().Less(bs[j].KeyOf()) })
	var out []kamreg.Binding
	for i := range bs {
		if q.Selects(&bs[i]) {
			out = append(out, bs[i])
		}
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

func (f *fakeSource) Count(ctx context.Context, q kamailio.Query) (int, error) {
	f.counts++
	q.Limit = 0
	bs, err := f.Live(ctx, q)
	f.queries = f.queries[:len(f.queries)-1]
	return len(bs), err
}

func (f *fakeSource) CountHiding(ctx context.Context, q kamailio.Query, hides func(*kamreg.Binding) bool) (int, error) {
	f.counts++
	ruids := q.Ruids
	q.Ruids, q.Limit = nil, 0
	bs, err := f.Live(ctx, q)
	f.queries = f.queries[:len(f.queries)-1]
	return countVisible(bs, ruids, hides), err
}

func (f *fakeSource) AoRs(_ context.Context, s kamreg.Scope) ([]kamreg.AoR, error) {
	return f.aors[s], f.err
}

// States returns a record for each binding of the AoRs not modified after
// before.
func (f *fakeSource) States(_ context.Context, aors []kamreg.AoR, before time.Time) ([]kamreg.FlushRecord, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []kamreg.FlushRecord
	for _, a := range aors {
		for _, b := range f.bindings {
			if b.Username == a.Username && strings.EqualFold(b.Domain, a.Domain) && !b.LastModified.After(before) {
				out = append(out, kamreg.FlushRecord{Ruid: b.Ruid, Username: b.Username, Domain: b.Domain,
					CallID: b.CallID, CSeq: b.CSeq, LastModified: b.LastModified})
			}
		}
	}
	return out, nil
}

// fakeDirectory is kamreg's tables: a directory and flush records. It
// counts its round trips and the realms notified of a flush.
type fakeDirectory struct {
	dir      *kamreg.Directory
	records  []kamreg.FlushRecord
	err      error
	reads    int
	notified []string
}

func (f *fakeDirectory) Read(_ context.Context, _ string) (*kamreg.Directory, []kamreg.FlushRecord, error) {
	f.reads++
	return f.dir, f.records, f.err
}

func (f *fakeDirectory) Accounts(_ context.Context, _ string) (*kamreg.Directory, error) {
	f.reads++
	return f.dir, f.err
}

func (f *fakeDirectory) FlushRecords(_ context.Context, _ string) ([]kamreg.FlushRecord, error) {
	f.reads++
	return f.records, f.err
}

func (f *fakeDirectory) Record(_ context.Context, realm string, recs []kamreg.FlushRecord) error {
	if f.err != nil {
		return f.err
	}
	f.records = append(f.records, recs...)
	f.notified = append(f.notified, realm)
	return nil
}

type devices map[string]bool

func (d devices) Exists(_ context.Context, _, username string) (bool, error) {
	return d[strings.ToLower(username)], nil
}

func (d devices) Usernames(context.Context, string) ([]string, error) {
	var out []string
	for u := range d {
		out = append(out, u)
	}
	sort.Strings(out)
	return out, nil
}

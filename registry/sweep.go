package registry

import (
	"context"
	"errors"
	"time"

	"github.com/kamreg/kamreg"
)

// Sweep outcomes, the closed set OnSweep is told of.
const (
	// SweepClean is a sweep that found no row written late.
	SweepClean = "clean"
	// SweepRemoved is a sweep that removed the AoRs written late on
	// every node.
	SweepRemoved = "removed"
	// SweepFailed is a sweep that could not read the rows again or that a
	// node did not acknowledge.
	SweepFailed = "failed"
)

// Sweep is the second pass of a realm flush under usrloc db_mode 2
// (write-back). A phone that registered a moment before the flush may be
// only in a node's memory: the first pass cannot know its AoR, and the
// node's timer writes its row up to one timer interval later. The realm
// flush therefore records a realm-wide flush record (kamreg.RealmFlush),
// which hides such rows on every replica at once, and one Delay later
// reads the realm's AoRs again and removes, on every node, those whose
// rows were last modified before the flush began and that the first pass
// did not remove.
type Sweep struct {
	// Delay is how long after the first pass the sweep runs: the nodes'
	// usrloc timer_interval plus a margin.
	Delay time.Duration
	// After waits for d; nil means time.After. Tests inject their clock.
	After func(d time.Duration) <-chan time.Time
	// OnSweep, when set, is told of each sweep's outcome (SweepClean,
	// SweepRemoved, SweepFailed) and of how many AoRs it removed.
	OnSweep func(outcome string, removed int)
}

func (s *Sweep) after(d time.Duration) <-chan time.Time {
	if s.After != nil {
		return s.After(d)
	}
	return time.After(d)
}

func (s *Sweep) done(outcome string, removed int) {
	if s.OnSweep != nil {
		s.OnSweep(outcome, removed)
	}
}

// sweep follows a complete first pass of a realm flush that began at
// began and removed first, and returns the report of both passes. It runs
// to its end even when the caller leaves: the realm's phones must go.
func (r *Registry) sweep(ctx context.Context, realm string, began time.Time, first *aorSet,
	report kamreg.FlushReport) (kamreg.FlushReport, error) {
	ctx = context.WithoutCancel(ctx)
	if err := r.Flushes.Record(ctx, realm, []kamreg.FlushRecord{kamreg.RealmFlush(realm, began)}); err != nil {
		r.Sweep.done(SweepFailed, 0)
		return report, kamreg.Wrap(kamreg.EUNAVAILABLE, err,
			"the flush reached every node but could not be recorded: %s", kamreg.ErrorMessage(err))
	}
	r.flushed(realm)
	<-r.Sweep.after(r.Sweep.Delay)
	late, err := r.writtenLate(ctx, realm, began, first)
	if err != nil {
		r.Sweep.done(SweepFailed, 0)
		return report, &kamreg.FlushError{Report: report, Cause: kamreg.Wrap(kamreg.EUNAVAILABLE, err,
			"the realm could not be read again one usrloc timer interval after the flush: %s", kamreg.ErrorMessage(err))}
	}
	if len(late) == 0 {
		r.Sweep.done(SweepClean, 0)
		return report, nil
	}
	swept, err := r.flush(ctx, realm, late)
	report.Flushed = append(report.Flushed, swept.Flushed...)
	report.Failed = append(report.Failed, swept.Failed...)
	report.Nodes = append(report.Nodes, swept.Nodes...)
	if err != nil {
		r.Sweep.done(SweepFailed, len(swept.Flushed))
		var fe *kamreg.FlushError
		if errors.As(err, &fe) {
			return report, &kamreg.FlushError{Report: report, Cause: fe.Cause}
		}
		return report, err
	}
	r.Sweep.done(SweepRemoved, len(swept.Flushed))
	return report, nil
}

// writtenLate returns the realm's AoRs, read again, that the first pass
// did not remove and that have a row last modified no later than began:
// rows of phones that registered before the flush, written by the node's
// timer after it. A phone that registered again since has a later row
// and is left alone.
func (r *Registry) writtenLate(ctx context.Context, realm string, began time.Time, first *aorSet) ([]kamreg.AoR, error) {
	rows, err := r.Source.AoRs(ctx, kamreg.Scope{Realm: realm})
	if err != nil {
		return nil, err
	}
	var unseen []kamreg.AoR
	for _, a := range rows {
		if !first.seen[a] {
			unseen = append(unseen, a)
		}
	}
	if len(unseen) == 0 {
		return nil, nil
	}
	states, err := r.Source.States(ctx, unseen, began)
	if err != nil {
		return nil, err
	}
	late := newAoRSet()
	for _, f := range states {
		late.add(kamreg.AoR{Username: f.Username, Domain: f.Domain})
	}
	return late.list(), nil
}

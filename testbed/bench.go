package testbed

import (
	"context"
	"io"
	"path/filepath"
)

// Bench is the set-up the benchmarks share: the testbed's programs
// checked, a throwaway PostgreSQL with Kamailio's schema, and kamreg's
// migrations applied by the binary the benchmark measures. A benchmark
// starts its Kamailio node itself, after preloading rows if it does.
type Bench struct {
	PG     *Postgres
	Kamreg Kamreg
}

// StartBench checks the programs, starts PostgreSQL and runs `kamreg
// migrate` with the binary at bin.
func StartBench(ctx context.Context, bin string) (*Bench, error) {
	if err := Check(); err != nil {
		return nil, err
	}
	bin, err := filepath.Abs(bin)
	if err != nil {
		return nil, err
	}
	pg, err := StartPostgres(ctx, io.Discard)
	if err != nil {
		return nil, err
	}
	b := &Bench{PG: pg, Kamreg: Kamreg{Bin: bin, DBURL: pg.URL}}
	if _, err := b.Kamreg.Run("migrate"); err != nil {
		pg.Close()
		return nil, err
	}
	return b, nil
}

// Close stops PostgreSQL.
func (b *Bench) Close() { b.PG.Close() }

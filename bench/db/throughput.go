package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kamreg/kamreg/bench/thin/query"
	"github.com/kamreg/kamreg/testbed"
)

// The targets of the list and count of one realm (1,000 entries) at 8
// connections, as ratios of kamreg's requests per second to the thin
// service's, and of kamreg's peak resident set over those runs.
const (
	listTarget   = 1.5
	countTarget  = 0.9
	peakTargetKB = 96 * 1024
)

// loaded is what the throughput runs load: kamreg, the thin service and
// PostgreSQL itself.
type loaded struct {
	rows      int // in location
	pg        *testbed.Postgres
	kamreg    string // the account's registrations URL
	token     string
	kamregPID int
	thin      *thinService
	dir       string // where the pgbench scripts go
}

// throughput measures the list and count of the realm through kamreg, the
// thin service and pgbench, with 1 and 8 connections, each for dur, then
// both services' peak RSS and non-2xx answers; it prints them and returns
// the targets missed.
func throughput(l loaded, dur time.Duration) ([]string, error) {
	listFile, countFile := filepath.Join(l.dir, "list.sql"), filepath.Join(l.dir, "count.sql")
	for file, sql := range map[string]string{listFile: query.List, countFile: query.Count} {
		if err := os.WriteFile(file, []byte(query.Pgbench(sql)), 0o644); err != nil {
			return nil, err
		}
	}

	fmt.Printf("\nthroughput at %d rows, %s each: kamreg and the thin service (bench/thin) through wrk, the plain read through pgbench -M prepared:\n", l.rows, dur)
	fmt.Printf("  %-6s %5s %12s %10s %10s %11s %8s %12s %10s %16s\n",
		"query", "conns", "kamreg req/s", "thin req/s", "plain tps", "kamreg/thin", "target", "kamreg/plain", "thin/plain", "CPU ms/req k, t")
	var misses []string
	non2xx, thinNon2xx := 0, 0
	for _, c := range []struct {
		name, path, thinPath, file string
		target                     float64
	}{
		{"list", "", "/list?realm=" + realm, listFile, listTarget},
		{"count", "/count", "/count?realm=" + realm, countFile, countTarget},
	} {
		for _, conns := range []int{1, 8} {
			k, kCPU, err := measured(l.kamregPID, func() (wrkResult, error) { return runWrk(l.kamreg+c.path, l.token, conns, dur) })
			if err != nil {
				return nil, err
			}
			t, tCPU, err := measured(l.thin.pid(), func() (wrkResult, error) { return runWrk(l.thin.base+c.thinPath, "", conns, dur) })
			if err != nil {
				return nil, err
			}
			non2xx += k.non2xx
			thinNon2xx += t.non2xx
			tps, err := runPgbench(l.pg, c.file, realm, conns, dur)
			if err != nil {
				return nil, err
			}
			target := "-"
			if conns == 8 {
				met := k.rps >= c.target*t.rps
				target = fmt.Sprintf(">=%.1f %s", c.target, check(met))
				if !met {
					misses = append(misses, fmt.Sprintf("%s at 8 connections: %.2fx the thin service, target %.1fx", c.name, k.rps/t.rps, c.target))
				}
			}
			fmt.Printf("  %-6s %5d %12.0f %10.0f %10.0f %11.2f %8s %12.2f %10.2f %7.3f, %.3f\n", c.name, conns, k.rps, t.rps, tps,
				k.rps/t.rps, target, k.rps/tps, t.rps/tps, ms(perRequest(kCPU, k)), ms(perRequest(tCPU, t)))
		}
	}
	kMem, err := readMemory(l.kamregPID)
	if err != nil {
		return nil, err
	}
	tMem, err := readMemory(l.thin.pid())
	if err != nil {
		return nil, err
	}
	fmt.Printf("\nkamreg peak RSS: %.1f MB (target <= 96: %s); thin service peak RSS: %.1f MB\n",
		mb(kMem.peakKB), mark(kMem.peakKB <= peakTargetKB), mb(tMem.peakKB))
	if kMem.peakKB > peakTargetKB {
		misses = append(misses, fmt.Sprintf("kamreg peak RSS %.1f MB, target <= 96", mb(kMem.peakKB)))
	}
	fmt.Printf("kamreg non-2xx answers: %d (target 0: %s); thin service non-2xx answers: %d\n", non2xx, mark(non2xx == 0), thinNon2xx)
	if non2xx != 0 {
		misses = append(misses, fmt.Sprintf("%d non-2xx answers from kamreg, target 0", non2xx))
	}
	fmt.Println("the ratios to the plain read are kept for comparison; they have no target")

	return misses, nil
}

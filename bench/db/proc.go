package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// memory is what /proc/<pid>/status says of a process's resident set.
type memory struct {
	rssKB, peakKB int // VmRSS, VmHWM
}

var (
	vmRSSRe = regexp.MustCompile(`VmRSS:\s+(\d+) kB`)
	vmHWMRe = regexp.MustCompile(`VmHWM:\s+(\d+) kB`)
)

// readMemory reads the resident set of process pid, and its peak.
func readMemory(pid int) (memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	return parseMemory(b)
}

// parseMemory reads VmRSS and VmHWM from the text of /proc/<pid>/status.
func parseMemory(status []byte) (memory, error) {
	rss, hwm := vmRSSRe.FindSubmatch(status), vmHWMRe.FindSubmatch(status)
	if rss == nil || hwm == nil {
		return memory{}, fmt.Errorf("no VmRSS or VmHWM in /proc/<pid>/status")
	}
	var m memory
	m.rssKB, _ = strconv.Atoi(string(rss[1]))
	m.peakKB, _ = strconv.Atoi(string(hwm[1]))
	return m, nil
}

// resetPeak sets the peak resident set of process pid (VmHWM) back to its
// present resident set, so that a later VmHWM is the peak since then.
func resetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// clockTick is the unit of the CPU times in /proc/<pid>/stat (USER_HZ,
// 100 on Linux).
const clockTick = 10 * time.Millisecond

// cpuTime returns the user and system CPU process pid has used.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseCPU(string(b))
}

// parseCPU reads utime + stime from the text of /proc/<pid>/stat. The
// command name in parentheses may hold spaces, so the fields are counted
// from the last ')'.
func parseCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/<pid>/stat")
	}
	// After ") " come state (field 3) … utime (14) and stime (15).
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed /proc/<pid>/stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed /proc/<pid>/stat")
	}
	return time.Duration(utime+stime) * clockTick, nil
}

func mb(kB int) float64 { return float64(kB) / 1024 }

package app

import (
	"testing"
	"time"
)

// TestSweepDelay: the sweep waits for the slowest node's usrloc timer (a
// node's #timer, else KAMREG_USRLOC_TIMER) and a second more; no timer, no
// sweep.
func TestSweepDelay(t *testing.T) {
	tests := []struct {
		name  string
		timer time.Duration
		rpc   string
		want  time.Duration
	}{
		{"the default, no node", 5 * time.Second, "", 6 * time.Second},
		{"the default for every node", 5 * time.Second, "k1=http://127.0.0.1:1/RPC,k2=http://127.0.0.1:2/RPC", 6 * time.Second},
		{"one node's own timer is longer", 5 * time.Second, "k1=http://127.0.0.1:1/RPC#timer=60s,k2=http://127.0.0.1:2/RPC", 61 * time.Second},
		{"every node's own timer, shorter than the default", 5 * time.Second, "k1=http://127.0.0.1:1/RPC#timer=1s", 2 * time.Second},
		{"no sweep", 0, "k1=http://127.0.0.1:1/RPC", 0},
		{"no sweep but on one node", 0, "k1=http://127.0.0.1:1/RPC,k2=http://127.0.0.1:2/RPC#timer=2s", 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := serveConfig(t, "--kamailio-rpc="+tt.rpc, "--usrloc-timer="+tt.timer.String())
			if err := c.Check(true); err != nil {
				t.Fatal(err)
			}
			if got := c.sweepDelay(); got != tt.want {
				t.Errorf("sweep delay %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUsrlocTimerMustNotBeNegative(t *testing.T) {
	c := serveConfig(t, "--usrloc-timer=-1s")
	want := "KAMREG_USRLOC_TIMER -1s: must be 0 (no sweep) or positive"
	if err := c.Check(true); err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

// serveConfig is the serve configuration of the defaults and args.
func serveConfig(t *testing.T, args ...string) *Config {
	t.Helper()
	c := &Config{}
	if err := c.Flags("serve", true).Parse(append([]string{"--database-url=postgres://127.0.0.1/kamreg"}, args...)); err != nil {
		t.Fatal(err)
	}
	return c
}

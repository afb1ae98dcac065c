package app

import "testing"

func TestParsePerSecond(t *testing.T) {
	for in, want := range map[string]float64{"5/s": 5, "5": 5, "300/m": 5, "0": 0, "0.5/s": 0.5, " 3600 / h ": 1} {
		if got, err := parsePerSecond(in); err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
	}
}

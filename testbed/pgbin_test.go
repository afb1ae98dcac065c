package testbed

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPGBin(t *testing.T) {
	tests := []struct {
		name     string
		override string
		// installed are the majors with initdb and pg_ctl; partial ones
		// have initdb only (a half-removed package).
		installed, partial []string
		want               string
	}{
		{name: "Debian 12", installed: []string{"15"}, want: "15"},
		{name: "Debian 13", installed: []string{"17"}, want: "17"},
		{name: "the newest of several", installed: []string{"15", "17", "16"}, want: "17"},
		{name: "too old only", installed: []string{"13", "9.6"}},
		{name: "a half-removed newer one", installed: []string{"15"}, partial: []string{"17"}, want: "15"},
		{name: "nothing"},
		{name: "the override wins", override: "/opt/pg/bin", installed: []string{"17"}, want: "/opt/pg/bin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, v := range tt.installed {
				touch(t, filepath.Join(root, v, "bin", "initdb"), filepath.Join(root, v, "bin", "pg_ctl"))
			}
			for _, v := range tt.partial {
				touch(t, filepath.Join(root, v, "bin", "initdb"))
			}
			want := tt.want
			if want != "" && tt.override == "" {
				want = filepath.Join(root, want, "bin")
			}
			if got := pgBin(tt.override, root); got != want {
				t.Errorf("pgBin = %q, want %q", got, want)
			}
		})
	}
}

func touch(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

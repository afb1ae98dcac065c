package app

import (
	"runtime"
	"runtime/debug"
)

// BuildInfo returns the version ("dev" when empty), the VCS revision Go
// recorded in the binary ("unknown" when none) and the Go version, the
// labels of kamreg_build_info.
func BuildInfo(version string) (ver, revision, goVersion string) {
	if version == "" {
		version = "dev"
	}
	revision = "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	return version, revision, runtime.Version()
}

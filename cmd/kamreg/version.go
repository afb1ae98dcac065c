package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/kamreg/kamreg/metrics"
)

// version is stamped at build time (-ldflags "-X main.version=…") by the
// Makefile and the Dockerfile; "dev" otherwise.
var version = "dev"

// buildInfo returns the version, the VCS revision Go recorded (or
// "unknown") and the Go version.
func buildInfo() (ver, revision, goVersion string) {
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

// versionCmd prints the version.
func versionCmd(_ context.Context, _ []string, stdout io.Writer) error {
	v, rev, gov := buildInfo()
	_, err := fmt.Fprintf(stdout, "kamreg %s (revision %s, %s)\n", v, rev, gov)
	return err
}

// setBuildInfo sets kamreg_build_info.
func setBuildInfo(m *metrics.Metrics) {
	v, rev, gov := buildInfo()
	m.BuildInfo.WithLabelValues(v, rev, gov).Set(1)
}

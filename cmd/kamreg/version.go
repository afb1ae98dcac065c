package main

import (
	"context"
	"fmt"
	"io"

	"github.com/kamreg/kamreg/app"
)

// version is stamped at build time (-ldflags "-X main.version=…") by the
// Makefile and the Dockerfile; "dev" otherwise.
var version = "dev"

// versionCmd prints the version.
func versionCmd(_ context.Context, _ []string, stdout io.Writer) error {
	v, rev, gov := app.BuildInfo(version)
	_, err := fmt.Fprintf(stdout, "kamreg %s (revision %s, %s)\n", v, rev, gov)
	return err
}

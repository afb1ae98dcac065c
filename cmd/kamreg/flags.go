package main

import (
	"errors"
	"flag"
	"os"

	"github.com/peterbourgon/ff/v3"

	"github.com/kamreg/kamreg/app"
)

// errHelp is returned after -h printed the flags.
var errHelp = errors.New("help")

// usageError is a bad command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// parse reads flags, then KAMREG_* variables for flags not given.
func parse(fs *flag.FlagSet, args []string) error {
	err := ff.Parse(fs, args, ff.WithEnvVarPrefix("KAMREG"))
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(os.Stderr)
		fs.PrintDefaults()
		return errHelp
	}
	if err != nil {
		if inner := errors.Unwrap(err); inner != nil {
			err = inner // drop ff's "error parsing commandline arguments"
		}
		return usageError{err.Error()}
	}
	return nil
}

// checkConfig validates c; a missing database URL is a usage error.
func checkConfig(c *app.Config, serve bool) error {
	err := c.Check(serve)
	if errors.Is(err, app.ErrNoDatabase) {
		return usageError{err.Error()}
	}
	return err
}

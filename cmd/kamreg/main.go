// Command kamreg serves the Kazoo Crossbar Registrations API beside
// Kamailio, and manages kamreg's accounts, devices and API tokens.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/kamreg/kamreg"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: kamreg COMMAND [flags]

commands:
  serve                 run the API (applies pending migrations unless --no-migrate)
  migrate               apply pending migrations and exit
  check [--serving URL] check the configuration, PostgreSQL, the location table and each Kamailio node
  accounts put --id ID --name NAME --realm REALM [--parent ID] [--superduper]
  accounts list
  devices put --account ID --username USER --device-id ID [--owner-id ID] [--suppress-unregister-notify]
  tokens create --account ID [--description TEXT]
  tokens revoke TOKEN_ID
  version               print the version

Configuration comes from KAMREG_* environment variables or the matching
flags (kamreg serve -h lists them).
`

// command is one subcommand.
type command func(ctx context.Context, args []string, stdout io.Writer) error

// run dispatches a command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	commands := map[string]command{
		"serve":         serve,
		"migrate":       migrateCmd,
		"check":         check,
		"accounts put":  accountsPut,
		"accounts list": accountsList,
		"devices put":   devicesPut,
		"tokens create": tokensCreate,
		"tokens revoke": tokensRevoke,
		"version":       versionCmd,
	}
	var name string
	var cmd command
	for n := 1; n <= 2 && n <= len(args); n++ {
		if c, ok := commands[strings.Join(args[:n], " ")]; ok {
			name, cmd = strings.Join(args[:n], " "), c
			args = args[n:]
			break
		}
	}
	if cmd == nil {
		if len(args) > 0 && args[0] != "-h" && args[0] != "--help" && args[0] != "help" {
			fmt.Fprintf(stderr, "kamreg: unknown command %q\n", strings.Join(args, " "))
		}
		fmt.Fprint(stderr, usage)
		return 2
	}
	if err := cmd(ctx, args, stdout); err != nil {
		if err == errHelp {
			return 0
		}
		if err == errChecksFailed || err == errLogged {
			return 1
		}
		fmt.Fprintf(stderr, "kamreg %s: %s\n", name, oneLine(describe(err)))
		if _, ok := err.(usageError); ok {
			return 2
		}
		return 1
	}
	return 0
}

// describe is err's message and, in parentheses, what caused it beneath
// (what PostgreSQL or a node said), for an operator at a terminal.
func describe(err error) string {
	if cause := kamreg.ErrorCause(err); cause != "" {
		return err.Error() + " (" + cause + ")"
	}
	return err.Error()
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

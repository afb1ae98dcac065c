//go:build integration

package e2e

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCLIRefusesBadInput checks that bad input exits non-zero with one line
// on stderr, and writes nothing.
func TestCLIRefusesBadInput(t *testing.T) {
	a := newAccount(t, "CLI", "cli.kamreg.test", "", false)
	before := mustCLI(t, "accounts", "list")
	id := newID()
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"short id", []string{"accounts", "put", "--id", "abc", "--name", "x", "--realm", "x.test"},
			`kamreg accounts put: invalid account id: "abc" is not 32 lowercase hex characters`},
		{"empty realm", []string{"accounts", "put", "--id", id, "--name", "x", "--realm", ""},
			`kamreg accounts put: invalid realm: "" is not a SIP domain`},
		{"unknown parent", []string{"accounts", "put", "--id", id, "--name", "x", "--realm", "x.test", "--parent", newID()},
			"kamreg accounts put: invalid parent id: account "},
		{"realm taken, other case", []string{"accounts", "put", "--id", id, "--name", "x", "--realm", "CLI.kamreg.test"},
			`kamreg accounts put: invalid realm: "CLI.kamreg.test" already belongs to another account`},
		{"own parent", []string{"accounts", "put", "--id", a.id, "--name", "x", "--realm", a.realm, "--parent", a.id},
			"kamreg accounts put: invalid parent id: an account cannot be its own parent"},
		{"device of unknown account", []string{"devices", "put", "--account", id, "--username", "u", "--device-id", newID()},
			"kamreg devices put: invalid account id: account " + id + " does not exist"},
		{"bad device id", []string{"devices", "put", "--account", a.id, "--username", "u", "--device-id", "zz"},
			`kamreg devices put: invalid device id: "zz" is not 32 lowercase hex characters`},
		{"token for unknown account", []string{"tokens", "create", "--account", id},
			"kamreg tokens create: invalid account id: account " + id + " does not exist"},
		{"unknown flag", []string{"accounts", "list", "--bogus"},
			"kamreg accounts list: flag provided but not defined: -bogus"},
		{"unknown command", []string{"accounts", "delete"}, `kamreg: unknown command "accounts delete"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cli(t, tt.args...)
			if code == 0 {
				t.Errorf("exit 0, stdout %q", out)
			}
			first, _, _ := strings.Cut(errOut, "\n")
			if !strings.HasPrefix(first, tt.stderr) {
				t.Errorf("stderr %q, want it to start with %q", errOut, tt.stderr)
			}
		})
	}
	if diff := cmp.Diff(before, mustCLI(t, "accounts", "list")); diff != "" {
		t.Errorf("bad input wrote something (-before +after):\n%s", diff)
	}
}

// TestCLIAccountsUpsert checks that accounts put updates in place.
func TestCLIAccountsUpsert(t *testing.T) {
	a := newAccount(t, "Before", "upsert.kamreg.test", "", false)
	mustCLI(t, "accounts", "put", "--id", a.id, "--name", "After", "--realm", "upsert.kamreg.test")
	list := mustCLI(t, "accounts", "list")
	if !strings.Contains(list, a.id+"  After ") || strings.Contains(list, "Before") {
		t.Errorf("accounts list after the update:\n%s", list)
	}
}

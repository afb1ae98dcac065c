package testbed

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestScenario checks the REGISTERs a sipp scenario sends and the answers
// it expects: with credentials, each REGISTER is challenged first and sent
// again with them, one CSeq up.
func TestScenario(t *testing.T) {
	step := regexp.MustCompile(`CSeq: (\d+) REGISTER|\[authentication\]|<recv response="(\d+)"( auth="true")?/>`)
	for _, c := range []struct {
		name string
		run  Run
		auth bool
		want []string
	}{
		{"open", Run{}, false, []string{"CSeq 1", "200"}},
		{"open refresh", Run{Refresh: time.Second}, false, []string{"CSeq 1", "200", "CSeq 2", "200"}},
		{"auth", Run{}, true, []string{"CSeq 1", "401 challenge", "CSeq 2", "credentials", "200"}},
		{"auth refresh", Run{Refresh: time.Second}, true, []string{
			"CSeq 1", "401 challenge", "CSeq 2", "credentials", "200",
			"CSeq 3", "401 challenge", "CSeq 4", "credentials", "200"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, m := range step.FindAllStringSubmatch(scenario(c.run, c.auth), -1) {
				switch {
				case m[1] != "":
					got = append(got, "CSeq "+m[1])
				case strings.HasPrefix(m[0], "[authentication"):
					got = append(got, "credentials")
				case m[3] != "":
					got = append(got, m[2]+" challenge")
				default:
					got = append(got, m[2])
				}
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("scenario steps (-want +got):\n%s", diff)
			}
		})
	}
}

// A run's phones all answer challenges or none does: sipp takes one set of
// credentials per run, so a mixed group is refused before any is sent.
func TestRegisterWithMixedPasswords(t *testing.T) {
	_, err := RegisterWith(t.Context(), Run{Target: "127.0.0.1:9"}, []Phone{
		{User: "alice", Domain: "mixed.test", Password: "secret"},
		{User: "bob", Domain: "mixed.test"},
	})
	if err == nil || !strings.Contains(err.Error(), "either all have a password or none has") {
		t.Errorf("mixed passwords: %v", err)
	}
}

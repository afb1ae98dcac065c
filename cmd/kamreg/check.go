package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/kamreg/kamreg/kamailio"
	"github.com/kamreg/kamreg/store"
)

// errChecksFailed is returned when a check failed; the lines said which.
var errChecksFailed = errors.New("some checks failed")

// check validates the configuration and reaches PostgreSQL, the location
// table and each Kamailio node, printing one line per check. With
// --serving URL it only checks that a running kamreg at URL is ready (for
// container health checks).
func check(ctx context.Context, args []string, stdout io.Writer) error {
	var c config
	fs := newFlags("check", &c, true)
	serving := fs.String("serving", "", "only check that the kamreg serving at this base URL is ready")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *serving != "" {
		return checkServing(ctx, *serving, stdout)
	}
	failed := false
	line := func(what string, err error) bool {
		if err != nil {
			failed = true
			fmt.Fprintf(stdout, "FAIL %s: %s\n", what, oneLine(err.Error()))
			return false
		}
		fmt.Fprintf(stdout, "ok   %s\n", what)
		return true
	}
	if !line("configuration", c.check(true)) {
		return errChecksFailed
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	pool, err := store.Open(cctx, c.DatabaseURL)
	if line("PostgreSQL answers", err) {
		defer pool.Close()
		pending, err := store.PendingMigrations(cctx, pool)
		if err == nil && pending {
			err = errors.New("pending: run kamreg migrate (kamreg serve does it unless --no-migrate)")
		}
		line("kamreg's migrations applied", err)
		if c.Source == "db" {
			line(fmt.Sprintf("usrloc table %q present and indexed", c.LocationTable),
				store.EnsureLocationIndex(cctx, pool, c.LocationTable))
		}
	}
	if len(c.nodes) == 0 {
		fmt.Fprintln(stdout, "warn no Kamailio node configured (KAMREG_KAMAILIO_RPC): flushes will answer 503")
	}
	for _, n := range c.nodes {
		client := kamailio.NewClient(n, c.RPCTimeout, kamailio.DefaultMaxReply)
		line(fmt.Sprintf("Kamailio node %s (%s) answers", n.Name, n.URL), client.Ping(cctx))
		line(fmt.Sprintf("Kamailio node %s has usrloc table %q", n.Name, c.LocationTable),
			usrlocAnswers(cctx, client, c.LocationTable))
	}
	if failed {
		return errChecksFailed
	}
	return nil
}

// usrlocAnswers looks up an AoR no phone has: "not found" proves that
// usrloc's RPC and the table are there.
func usrlocAnswers(ctx context.Context, c *kamailio.Client, table string) error {
	_, err := c.Lookup(ctx, table, "kamreg-check@kamreg.invalid")
	return err
}

func checkServing(ctx context.Context, base string, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s/readyz: %d %s", base, resp.StatusCode, body)
	}
	fmt.Fprintf(stdout, "ok   %s/readyz: %s\n", base, body)
	return nil
}

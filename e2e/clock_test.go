//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kamreg/kamreg/app"
	"github.com/kamreg/kamreg/testbed"
)

// TestExpiresCountsFromTheClock pins kamreg's clock 123 s before a phone's
// registration ends, as its location row says in Kamailio's time zone:
// the API answers expires 123 exactly, and 0 once the clock is past it.
func TestExpiresCountsFromTheClock(t *testing.T) {
	a := newAccount(t, "Clock", "clock.kamreg.test", "", false)
	register(t, testbed.Phone{User: "tick", Domain: a.realm, ContactPort: 5070})
	waitCount(t, env.main, a, 1)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, env.pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// A timestamp without time zone comes back as wall-clock time in UTC;
	// Kamailio wrote it in its own zone.
	var wall time.Time
	if err := conn.QueryRow(ctx, `SELECT expires FROM location WHERE username = 'tick' AND domain = $1`, a.realm).Scan(&wall); err != nil {
		t.Fatal(err)
	}
	zone, err := time.LoadLocation(kamailioTZ)
	if err != nil {
		t.Fatal(err)
	}
	ends := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, zone)

	for _, tt := range []struct {
		now  time.Time
		want int64
	}{
		{ends.Add(-123 * time.Second), 123},
		{ends.Add(-122600 * time.Millisecond), 123}, // a second begun counts whole
		{ends.Add(time.Second), 0},
	} {
		now := tt.now
		s, err := startKamregWith(app.Options{Now: func() time.Time { return now }}, "main="+env.kam.RPCURL())
		if err != nil {
			t.Fatal(err)
		}
		r := call(t, "GET", s.Base+"/v2/accounts/"+a.id+"/registrations", a.token)
		s.Close()
		var got struct{ Data []registration }
		if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 || len(got.Data) != 1 {
			t.Fatalf("clock %s: %d %s", now, r.status, r.body)
		}
		if got.Data[0].Expires != tt.want {
			t.Errorf("clock %s before the end: expires %d, want %d", ends.Sub(now), got.Data[0].Expires, tt.want)
		}
	}
}

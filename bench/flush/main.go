// Command flush measures a realm flush of many AoRs spread over two
// Kamailio nodes: kamreg's DELETE …/registrations against a sequential loop
// that sends ul.rm for each AoR to each node over one kept-alive HTTP
// connection per node. Both run in the same process run, on the same
// throwaway PostgreSQL and Kamailio nodes, on loopback.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/kamreg/kamreg/testbed"
)

const accountID = "00000000000000000000000000f1a500"

func main() {
	bin := flag.String("kamreg", "bin/kamreg", "the kamreg binary")
	aors := flag.Int("aors", 2000, "AoRs to flush, half on each node")
	rounds := flag.Int("rounds", 3, "rounds of each")
	flag.Parse()
	if err := run(*bin, *aors, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "flush bench:", err)
		os.Exit(1)
	}
}

type bed struct {
	pg     *testbed.Postgres
	nodes  []*testbed.Kamailio
	phones [][]testbed.Phone
	dbURL  string
}

func run(bin string, n, rounds int) error {
	ctx := context.Background()
	if err := testbed.Check(); err != nil {
		return err
	}
	bin, _ = filepath.Abs(bin)
	pg, err := testbed.StartPostgres(ctx, io.Discard)
	if err != nil {
		return err
	}
	defer pg.Close()
	b := &bed{pg: pg, dbURL: pg.URL}
	for i := 0; i < 2; i++ {
		k, err := testbed.StartKamailio(ctx, testbed.KamailioOptions{DBURL: pg.URL, DBMode: 1, ServerID: 21 + i, ServerIDFilter: true})
		if err != nil {
			return err
		}
		defer k.Close()
		b.nodes = append(b.nodes, k)
		var ph []testbed.Phone
		for j := i; j < n; j += 2 {
			ph = append(ph, testbed.Phone{User: fmt.Sprintf("u%05d", j), Domain: "flush.bench.test", ContactPort: 5070, Expires: 3600})
		}
		b.phones = append(b.phones, ph)
	}
	kr := testbed.Kamreg{Bin: bin, DBURL: pg.URL}
	for _, args := range [][]string{{"migrate"}, {"accounts", "put", "--id", accountID, "--name", "Bench", "--realm", "flush.bench.test"}} {
		if _, err := kr.Run(args...); err != nil {
			return err
		}
	}
	token, err := kr.Run("tokens", "create", "--account", accountID)
	if err != nil {
		return err
	}
	served, err := kr.Serve("KAMREG_LOG_LEVEL=warn", "KAMREG_RATE_LIMIT=0",
		"KAMREG_KAMAILIO_RPC=one="+b.nodes[0].RPCURL()+",two="+b.nodes[1].RPCURL())
	if err != nil {
		return err
	}
	defer served.Close()
	defer os.Remove(served.LogPath)
	base := served.Base

	var seq, par []time.Duration
	for r := 0; r < rounds; r++ {
		if err := b.register(ctx); err != nil {
			return err
		}
		d, err := b.sequential(n)
		if err != nil {
			return err
		}
		seq = append(seq, d)
		if err := b.register(ctx); err != nil {
			return err
		}
		d, err = kamregFlush(base, token)
		if err != nil {
			return err
		}
		par = append(par, d)
		fmt.Printf("round %d: sequential loop %v, kamreg %v\n", r+1, seq[r].Round(time.Millisecond), par[r].Round(time.Millisecond))
	}
	ms, mp := median(seq), median(par)
	fmt.Printf("\nflush of %d AoRs over 2 nodes (median of %d rounds)\n", n, rounds)
	fmt.Printf("  sequential ul.rm loop, one kept-alive connection per node: %v\n", ms.Round(time.Millisecond))
	fmt.Printf("  kamreg DELETE /v2/accounts/{id}/registrations:             %v\n", mp.Round(time.Millisecond))
	fmt.Printf("  speed-up: %.2fx\n", float64(ms)/float64(mp))
	return nil
}

// register registers every phone on its node.
func (b *bed) register(ctx context.Context) error {
	for i, k := range b.nodes {
		if _, err := testbed.Register(ctx, k, b.phones[i]); err != nil {
			return err
		}
	}
	return nil
}

// sequential sends ul.rm for every AoR to every node, one at a time, over
// one kept-alive connection per node.
func (b *bed) sequential(n int) (time.Duration, error) {
	start := time.Now()
	for _, k := range b.nodes {
		client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}
		for j := 0; j < n; j++ {
			body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "ul.rm", "id": j,
				"params": []string{"location", fmt.Sprintf("u%05d@flush.bench.test", j)}})
			resp, err := client.Post(k.RPCURL(), "application/json", bytes.NewReader(body))
			if err != nil {
				return 0, err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	return time.Since(start), nil
}

func kamregFlush(base, token string) (time.Duration, error) {
	req, _ := http.NewRequest(http.MethodDelete, base+"/v2/accounts/"+accountID+"/registrations", nil)
	req.Header.Set("X-Auth-Token", token)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("kamreg flush: %d %s", resp.StatusCode, body)
	}
	return took, nil
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// measured runs load and returns its result with the CPU process pid
// used meanwhile.
func measured(pid int, load func() (wrkResult, error)) (wrkResult, time.Duration, error) {
	before, err := cpuTime(pid)
	if err != nil {
		return wrkResult{}, 0, err
	}
	r, err := load()
	if err != nil {
		return r, 0, err
	}
	after, err := cpuTime(pid)
	return r, after - before, err
}

// perRequest is cpu shared over the requests of r.
func perRequest(cpu time.Duration, r wrkResult) time.Duration {
	if r.requests == 0 {
		return 0
	}
	return cpu / time.Duration(r.requests)
}

// sameEntries checks that kamreg (base, with token) and the thin service
// (thin) count want entries in the realm and that the thin service lists
// them, so that both serve the same read.
func sameEntries(base, token, thin string, want int) error {
	var k, t struct {
		Data struct {
			Count int `json:"count"`
		} `json:"data"`
		Count int `json:"count"`
	}
	if err := getJSON(base+"/count", token, &k); err != nil {
		return err
	}
	if err := getJSON(thin+"/count?realm="+realm, "", &t); err != nil {
		return err
	}
	var list []map[string]any
	if err := getJSON(thin+"/list?realm="+realm, "", &list); err != nil {
		return err
	}
	if k.Data.Count != want || t.Count != want || len(list) != want {
		return fmt.Errorf("entries of %s: kamreg counts %d, the thin service counts %d and lists %d; want %d",
			realm, k.Data.Count, t.Count, len(list), want)
	}
	return nil
}

// getJSON decodes the answer to GET url (with token as X-Auth-Token unless
// it is empty) into v; any answer but 200 is an error.
func getJSON(url, token string, v any) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// mark says whether a target was met.
func mark(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}

// check is mark in a table's narrow column.
func check(met bool) string {
	if met {
		return "ok"
	}
	return "MISS"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Command thin is bench/db's yardstick: the thinnest honest HTTP service
// over the read kamreg serves. It has no authentication and no enrichment:
// GET /list?realm=R runs query.List and writes the rows as a JSON array of
// objects (column → value, see row) with encoding/json; GET /count?realm=R runs
// query.Count and writes {"count":N}. Its pool holds as many PostgreSQL
// connections as kamreg's, and its collector the settings kamreg gives
// its own (see sameGC). Once it listens it prints "listening on
// ADDR" on stdout.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamreg/kamreg/bench/thin/query"
	"github.com/kamreg/kamreg/store"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	dbURL := flag.String("database-url", os.Getenv("KAMREG_DATABASE_URL"), "PostgreSQL URL of the database holding location")
	conns := flag.Int("pool", int(store.DefaultMaxConns()), "PostgreSQL connections in the pool (kamreg's default)")
	flag.Parse()
	sameGC()
	if err := run(*listen, *dbURL, int32(*conns)); err != nil {
		fmt.Fprintln(os.Stderr, "thin:", err)
		os.Exit(1)
	}
}

// sameGC gives the collector the settings `kamreg serve` gives its own
// (GOGC 400 within a soft limit of 76 MB, unless GOGC or GOMEMLIMIT is
// set), so that the yardstick and kamreg trade memory for CPU alike. With
// Go's defaults a list took 13 to 16 ms of CPU instead of 7 to 12 (smoke
// runs at 10,000 rows, bench/README.md).
func sameGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(76 << 20)
	}
}

func run(listen, dbURL string, conns int32) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return err
	}
	cfg.MaxConns = conns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: routes(pool), ReadHeaderTimeout: 10 * time.Second}
	fmt.Println("listening on", l.Addr())
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// routes serves the list and the count of a realm.
func routes(pool *pgxpool.Pool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /list", func(w http.ResponseWriter, r *http.Request) {
		realm, ok := realmOf(w, r)
		if !ok {
			return
		}
		rows, _ := pool.Query(r.Context(), query.List, realm)
		list, err := pgx.CollectRows(rows, pgx.RowToStructByName[row])
		if err != nil {
			failed(w, err)
			return
		}
		if list == nil {
			list = []row{}
		}
		writeJSON(w, list)
	})
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, r *http.Request) {
		realm, ok := realmOf(w, r)
		if !ok {
			return
		}
		var n int64
		if err := pool.QueryRow(r.Context(), query.Count, realm).Scan(&n); err != nil {
			failed(w, err)
			return
		}
		writeJSON(w, struct {
			Count int64 `json:"count"`
		}{n})
	})
	return mux
}

// realmOf returns the realm parameter, or answers 400 when there is none.
func realmOf(w http.ResponseWriter, r *http.Request) (string, bool) {
	realm := r.URL.Query().Get("realm")
	if realm == "" {
		http.Error(w, "realm missing", http.StatusBadRequest)
		return "", false
	}
	return realm, true
}

// failed answers 503 for a failed read, and logs the error.
func failed(w http.ResponseWriter, err error) {
	log.Printf("read: %v", err)
	http.Error(w, "database error", http.StatusServiceUnavailable)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.Printf("write: %v", err)
	}
}

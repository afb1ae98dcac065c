package testbed

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is a throwaway PostgreSQL 15 cluster on 127.0.0.1 with a
// "kamailio" database holding Kamailio's own usrloc schema.
type Postgres struct {
	Dir  string
	Port int
	// URL reaches the kamailio database as its owner, the kamailio role
	// (password kamailio).
	URL string
	// Log receives pg_ctl's output.
	Log io.Writer
}

// StartPostgres initialises a cluster in a new temporary directory, starts
// it on a free port, creates the kamailio role and database and loads
// Kamailio's standard-create.sql and usrloc-create.sql.
func StartPostgres(ctx context.Context, log io.Writer) (*Postgres, error) {
	if log == nil {
		log = io.Discard
	}
	dir, err := os.MkdirTemp("", "kamreg-pg-")
	if err != nil {
		return nil, err
	}
	if err := chownPostgres(dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p := &Postgres{Dir: dir, Port: port, Log: log,
		URL: fmt.Sprintf("postgres://kamailio:kamailio@127.0.0.1:%d/kamailio?sslmode=disable", port)}
	if err := p.pg(ctx, PGBin+"/initdb", "-D", p.data(), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		p.Close()
		return nil, err
	}
	if err := p.Start(ctx); err != nil {
		p.Close()
		return nil, err
	}
	if err := p.load(ctx); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *Postgres) data() string { return filepath.Join(p.Dir, "data") }

// pg runs a PostgreSQL program as the postgres user.
func (p *Postgres) pg(ctx context.Context, prog string, args ...string) error {
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Stdout, cmd.Stderr = p.Log, p.Log
	cmd.Dir = p.Dir
	if err := asPostgresUser(cmd); err != nil {
		return err
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(prog), err)
	}
	return nil
}

// Start starts (or restarts) the server and waits until it accepts
// connections.
func (p *Postgres) Start(ctx context.Context) error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
		p.Port, p.Dir)
	return p.pg(ctx, PGBin+"/pg_ctl", "-D", p.data(), "-l", filepath.Join(p.Dir, "postgres.log"), "-w", "-t", "60", "-o", opts, "start")
}

// Stop stops the server ("fast": open connections are cut).
func (p *Postgres) Stop(ctx context.Context) error {
	return p.pg(ctx, PGBin+"/pg_ctl", "-D", p.data(), "-m", "fast", "-w", "stop")
}

// AdminURL reaches the postgres database as the superuser.
func (p *Postgres) AdminURL() string {
	return "postgres://postgres@127.0.0.1:" + strconv.Itoa(p.Port) + "/postgres?sslmode=disable"
}

func (p *Postgres) load(ctx context.Context) error {
	admin, err := pgx.Connect(ctx, p.AdminURL())
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `CREATE ROLE kamailio LOGIN PASSWORD 'kamailio'`); err != nil {
		return err
	}
	_, err = p.CreateDatabase(ctx, "kamailio")
	return err
}

// CreateDatabase creates another database owned by the kamailio role, loads
// Kamailio's usrloc schema into it and returns its URL.
func (p *Postgres) CreateDatabase(ctx context.Context, name string) (string, error) {
	admin, err := pgx.Connect(ctx, p.AdminURL())
	if err != nil {
		return "", err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()+` OWNER kamailio`); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	url := fmt.Sprintf("postgres://kamailio:kamailio@127.0.0.1:%d/%s?sslmode=disable", p.Port, name)
	return url, loadSchema(ctx, url)
}

// loadSchema loads Kamailio's own standard, usrloc and auth_db (subscriber)
// schema into the database at url.
func loadSchema(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, f := range []string{"standard-create.sql", "usrloc-create.sql", "auth_db-create.sql"} {
		sql, err := os.ReadFile(filepath.Join(schemaDir, f))
		if err != nil {
			return err
		}
		if _, err := conn.Exec(ctx, string(sql)); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	return nil
}

// Close stops the server at once and removes its directory.
func (p *Postgres) Close() {
	if _, err := os.Stat(filepath.Join(p.data(), "postmaster.pid")); err == nil {
		_ = p.pg(context.Background(), PGBin+"/pg_ctl", "-D", p.data(), "-m", "immediate", "-w", "stop")
	}
	os.RemoveAll(p.Dir)
}

// RunWithPostgres runs a package's tests (m.Run) with a throwaway
// PostgreSQL in *pg, after checking the testbed's programs, and returns
// the exit status for os.Exit: 1 when something is missing or PostgreSQL
// does not start.
func RunWithPostgres(m *testing.M, pg **Postgres) int {
	if err := Check(); err != nil {
		fmt.Fprintln(os.Stderr, "integration tests:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	if *pg, err = StartPostgres(ctx, nil); err != nil {
		fmt.Fprintln(os.Stderr, "postgres:", err)
		return 1
	}
	defer (*pg).Close()
	return m.Run()
}

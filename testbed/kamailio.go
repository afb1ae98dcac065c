package testbed

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kamreg/kamreg/kamailio"
)

// KamailioOptions tune the reference kamailio.cfg through its defines.
type KamailioOptions struct {
	// DBURL is the PostgreSQL URL Kamailio's usrloc writes to.
	DBURL string
	// DBMode is usrloc's db_mode; 0 means 2 (write-back).
	DBMode int
	// TimerInterval is usrloc's timer in seconds; 0 means 1.
	TimerInterval int
	// ServerID is Kamailio's server_id; 0 means 1.
	ServerID int
	// TZ is the time zone Kamailio runs in (and writes timestamps in);
	// empty means UTC.
	TZ string
	// ServerIDFilter makes usrloc load and clean only rows of its own
	// server_id, so that several nodes can share one table.
	ServerIDFilter bool
	// MemoryOnly runs usrloc with db_mode 0 and no database.
	MemoryOnly bool
	// DgramSocket adds jsonrpcs's unix datagram socket (see DgramPath).
	DgramSocket bool
	// SharedMemMB and PkgMemMB size Kamailio's shared and per-process
	// memory; 0 means 128 and 16. A node preloaded with 200,000 contacts
	// needs about 2048 shared.
	SharedMemMB, PkgMemMB int
	// StartTimeout bounds the wait for JSON-RPC to answer; 0 means 20 s.
	// A node preloading many rows from the table answers only after.
	StartTimeout time.Duration
	// SIPTCP adds a SIP listener over TCP on SIPPort, beside UDP.
	SIPTCP bool
	// Auth turns on the reference cfg's digest authentication of
	// REGISTERs (subscriber rows: AddSubscriber). Without it the node is an
	// open registrar (the cfg's NO_AUTH), as most tests need.
	Auth bool
	// FloodLimit, when positive, turns on the cfg's per-source limit (pike):
	// at most this many requests from one address in 2 seconds. Zero turns
	// it off (NO_PIKE), so that tests may register many phones at once.
	FloodLimit int
}

// Kamailio is a running Kamailio (the host's, or kamailioImage's) on 127.0.0.1: SIP over UDP and
// JSON-RPC over HTTP, on free ports.
type Kamailio struct {
	Dir     string
	SIPPort int
	RPCPort int
	Opts    KamailioOptions

	cmd  *exec.Cmd
	done chan struct{}
	// container is the Docker container Kamailio runs in (kamailioImage),
	// or empty.
	container string
}

// RPCURL is the node's JSON-RPC endpoint.
func (k *Kamailio) RPCURL() string { return fmt.Sprintf("http://127.0.0.1:%d/RPC", k.RPCPort) }

// DgramPath is the node's jsonrpcs unix datagram socket, when enabled.
func (k *Kamailio) DgramPath() string { return filepath.Join(k.Dir, "kamailio_rpc.sock") }

// SIPAddr is where phones register.
func (k *Kamailio) SIPAddr() string { return fmt.Sprintf("127.0.0.1:%d", k.SIPPort) }

// Client returns a JSON-RPC client for the node.
func (k *Kamailio) Client() *kamailio.Client {
	return kamailio.NewClient(kamailio.Node{Name: "kamailio-" + strconv.Itoa(k.SIPPort), URL: k.RPCURL()}, 10*time.Second, 0)
}

// StartKamailio writes the reference configuration to a new directory and
// starts Kamailio with it.
func StartKamailio(ctx context.Context, o KamailioOptions) (*Kamailio, error) {
	if o.DBMode == 0 && !o.MemoryOnly {
		o.DBMode = 2
	}
	if o.TimerInterval == 0 {
		o.TimerInterval = 1
	}
	if o.ServerID == 0 {
		o.ServerID = 1
	}
	if o.TZ == "" {
		o.TZ = "UTC"
	}
	dir, err := os.MkdirTemp("", "kamreg-kamailio-")
	if err != nil {
		return nil, err
	}
	k := &Kamailio{Dir: dir, Opts: o}
	if k.SIPPort, err = FreePort(); err == nil {
		k.RPCPort, err = FreePort()
	}
	if err == nil {
		err = os.WriteFile(k.cfg(), kamailio.ReferenceConfig, 0o644)
	}
	if err == nil {
		if err = k.Start(ctx); err != nil {
			// Close removes the log: say what it holds first.
			err = fmt.Errorf("%w\n%s", err, k.logTail(2000))
		}
	}
	if err != nil {
		k.Close()
		return nil, err
	}
	return k, nil
}

// logTail returns the last n bytes of Kamailio's log, its errors first.
func (k *Kamailio) logTail(n int) string {
	b, err := os.ReadFile(k.LogPath())
	if err != nil {
		return ""
	}
	var errs []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "ERROR") || strings.Contains(line, "CRITICAL") {
			errs = append(errs, line)
		}
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return "kamailio's errors:\n" + strings.Join(errs, "\n") + "\nthe end of its log:\n" + string(b)
}

func (k *Kamailio) cfg() string { return filepath.Join(k.Dir, "kamailio.cfg") }

// LogPath is Kamailio's log file.
func (k *Kamailio) LogPath() string { return filepath.Join(k.Dir, "kamailio.log") }

// Start starts Kamailio (again, on the same ports) and waits until its
// JSON-RPC answers.
func (k *Kamailio) Start(ctx context.Context) error {
	log, err := os.OpenFile(k.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	o := k.Opts
	shm, pkg := cmp.Or(o.SharedMemMB, 128), cmp.Or(o.PkgMemMB, 16)
	args := []string{"-DD", "-E", "-f", k.cfg(), "-Y", k.Dir, "-w", k.Dir, "-m", strconv.Itoa(shm), "-M", strconv.Itoa(pkg),
		"-A", fmt.Sprintf("SIP_LISTEN=udp:127.0.0.1:%d", k.SIPPort),
		"-A", fmt.Sprintf("RPC_LISTEN=tcp:127.0.0.1:%d", k.RPCPort),
		"-A", fmt.Sprintf("DB_MODE=%d", o.DBMode),
		"-A", fmt.Sprintf("TIMER_INTERVAL=%d", o.TimerInterval),
		"-A", fmt.Sprintf("SERVER_ID=%d", o.ServerID),
		"-A", "WITH_CHANNEL_VARS_HEADER"}
	if o.MemoryOnly {
		args = append(args, "-A", "NO_DB")
	} else {
		args = append(args, "-A", fmt.Sprintf("DBURL=\"%s\"", kamailioDBURL(o.DBURL)))
	}
	if o.ServerIDFilter {
		args = append(args, "-A", "SERVER_ID_FILTER=1")
	}
	if o.DgramSocket {
		args = append(args, "-A", fmt.Sprintf("RPC_DGRAM_SOCKET=\"%s\"", k.DgramPath()))
	}
	if o.SIPTCP {
		args = append(args, "-A", fmt.Sprintf("SIP_LISTEN_TCP=tcp:127.0.0.1:%d", k.SIPPort))
	}
	if !o.Auth {
		args = append(args, "-A", "NO_AUTH")
	}
	if o.FloodLimit > 0 {
		args = append(args, "-A", fmt.Sprintf("PIKE_DENSITY=%d", o.FloodLimit))
	} else {
		args = append(args, "-A", "NO_PIKE")
	}
	cmd, container := kamailioCommand(args, []string{"TZ=" + o.TZ})
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("kamailio: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	k.cmd, k.done, k.container = cmd, done, container
	client := k.Client()
	return waitFor(cmp.Or(o.StartTimeout, 20*time.Second), "kamailio (see "+k.LogPath()+")", func() error {
		select {
		case <-done:
			return fmt.Errorf("kamailio exited")
		default:
		}
		return client.Ping(ctx)
	})
}

// Stop stops Kamailio and every child it forked.
func (k *Kamailio) Stop() {
	if k.cmd != nil {
		if k.container != "" {
			stopContainer(k.container, 10*time.Second)
		}
		stopGroup(k.cmd, k.done, 10*time.Second)
		k.cmd = nil
	}
}

// Kill ends Kamailio and its children at once (SIGKILL), as a crash
// would: usrloc gets no chance to write its memory to the database.
func (k *Kamailio) Kill() {
	if k.cmd != nil {
		if k.container != "" {
			stopContainer(k.container, 0)
		}
		killGroup(k.cmd, k.done)
		k.cmd = nil
	}
}

// Close stops Kamailio and removes its directory.
func (k *Kamailio) Close() {
	k.Stop()
	os.RemoveAll(k.Dir)
}

// SubscriberSQL adds or replaces a phone's credentials in Kamailio's
// subscriber table, from the psql variables user, domain and password: the
// ha1 column holds md5(user:domain:password), never the password. The
// README gives the same statement for the compose stack and the demo.
const SubscriberSQL = `INSERT INTO subscriber (username, domain, ha1)
VALUES (:'user', :'domain', md5(:'user' || ':' || :'domain' || ':' || :'password'))
ON CONFLICT (username, domain) DO UPDATE SET ha1 = EXCLUDED.ha1;`

// AddSubscriber adds or replaces the credentials of user@domain in the
// subscriber table of the database at url, as SubscriberSQL does.
func AddSubscriber(ctx context.Context, url, user, domain, password string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `INSERT INTO subscriber (username, domain, ha1)
		VALUES ($1::text, $2::text, md5($1::text || ':' || $2::text || ':' || $3::text))
		ON CONFLICT (username, domain) DO UPDATE SET ha1 = EXCLUDED.ha1`, user, domain, password)
	if err != nil {
		return fmt.Errorf("subscriber %s@%s: %w", user, domain, err)
	}
	return nil
}

// kamailioDBURL drops the query string, which db_postgres does not take.
func kamailioDBURL(url string) string {
	for i := 0; i < len(url); i++ {
		if url[i] == '?' {
			return url[:i]
		}
	}
	return url
}

package db

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultBinDir is where Debian's `postgresql` package installs the
// PostgreSQL 15 server binaries.
const DefaultBinDir = "/usr/lib/postgresql/15/bin"

// DefaultDatabase is the database borderid's service uses.
const DefaultDatabase = "borderid"

// outsideBase holds clusters of homes the postgres user cannot reach (root only).
const outsideBase = "/var/lib/borderid"

// Bounded timeouts for the external programs (seconds for pg_ctl's -t).
const (
	initdbTimeout  = 120 * time.Second
	pgctlWaitSecs  = 30
	pgctlTimeout   = (pgctlWaitSecs + 10) * time.Second
	statusTimeout  = 10 * time.Second
	lockTimeout    = 60 * time.Second
	maxSocketPath  = 107 // sizeof(sun_path) - 1 on Linux
	secretsDirName = "secrets"
)

// ErrNoPostgres is returned when the PostgreSQL server binaries are missing.
var ErrNoPostgres = errors.New("PostgreSQL 15 server binaries not found (Debian: apt-get install postgresql)")

// ErrNotInitialised is returned when a home folder has no cluster yet.
var ErrNotInitialised = errors.New("no database cluster for this home yet (run `borderid db start`)")

// Role is one of the two database roles borderid uses.
type Role int

const (
	// Owner owns every object and runs migrations (the cluster's bootstrap role).
	Owner Role = iota + 1
	// App is the role the service connects as: no privilege beyond explicit grants.
	App
	// Rotator is the role of `borderid keys rotate` only: it reads every
	// office's biometric rows and rewraps their data keys, nothing else
	// (migration 0008). Its password is not the service's.
	Rotator
)

// String returns the PostgreSQL role name.
func (r Role) String() string {
	switch r {
	case Owner:
		return "borderid_owner"
	case App:
		return "borderid_app"
	case Rotator:
		return "borderid_rotator"
	}
	return "Role(" + strconv.Itoa(int(r)) + ")"
}

// secretFile is the file under <home>/secrets holding the role's password.
func (r Role) secretFile() string {
	switch r {
	case Owner:
		return "pg-owner"
	case App:
		return "pg-app"
	case Rotator:
		return "pg-rotator"
	}
	return ""
}

// Options tune [EnsureWith]; the zero value is what `borderid` uses.
type Options struct {
	// BinDir holds initdb and pg_ctl; empty means DefaultBinDir.
	BinDir string
	// Database is created and migrated; empty means DefaultDatabase.
	Database string
	// Ephemeral trades durability for speed (initdb --no-sync, fsync=off,
	// synchronous_commit=off, full_page_writes=off): for test clusters only.
	Ephemeral bool
}

// Cluster is a private PostgreSQL cluster belonging to one home folder.
// Its fields describe it; they are not meant to be changed.
type Cluster struct {
	Home     string // the borderid home folder
	DataDir  string // the cluster's data folder
	Outside  bool   // DataDir is outside Home (root, and Home unreachable by postgres)
	Port     int    // TCP port on 127.0.0.1
	Database string // database Open connects to
	BinDir   string
	runAs    string // OS user running initdb/pg_ctl ("" = ourselves)
}

// Addr is the cluster's TCP address.
func (c *Cluster) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)) }

// WithDatabase returns a copy of c that connects to database name.
func (c *Cluster) WithDatabase(name string) *Cluster {
	d := *c
	d.Database = name
	return &d
}

// Status is what pg_ctl and postmaster.pid say about a cluster.
type Status struct {
	Running bool
	PID     int
}

func binDirOf(o Options) string {
	if o.BinDir != "" {
		return o.BinDir
	}
	return DefaultBinDir
}

// checkBinaries fails with ErrNoPostgres naming the Debian package.
func checkBinaries(dir string) error {
	for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
		p := filepath.Join(dir, b)
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			return fmt.Errorf("%w: %s missing", ErrNoPostgres, p)
		}
	}
	return nil
}

// runAsUser is the OS user that must run initdb and pg_ctl.
func runAsUser() string {
	if os.Geteuid() == 0 {
		return "postgres"
	}
	return ""
}

// outsideDir is where a root-run home's cluster goes when postgres cannot reach home.
func outsideDir(home string) string {
	sum := sha256.Sum256([]byte(home))
	return filepath.Join(outsideBase, "pg-"+hex.EncodeToString(sum[:6]))
}

func hasCluster(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "PG_VERSION"))
	return err == nil
}

// Locate returns the cluster of home without changing anything: where it
// is, its port and whether it lies outside home. It returns
// ErrNotInitialised when there is none yet.
func Locate(home string, o Options) (*Cluster, error) {
	home, err := filepath.Abs(home)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Home: home, BinDir: binDirOf(o), Database: o.Database, runAs: runAsUser()}
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	switch {
	case hasCluster(filepath.Join(home, "pg")):
		c.DataDir = filepath.Join(home, "pg")
	case c.runAs != "" && hasCluster(outsideDir(home)):
		c.DataDir, c.Outside = outsideDir(home), true
	default:
		return nil, fmt.Errorf("%s: %w", home, ErrNotInitialised)
	}
	port, err := configuredPort(c.DataDir)
	if err != nil {
		return nil, err
	}
	c.Port = port
	return c, nil
}

// Ensure is EnsureWith with default options.
func Ensure(ctx context.Context, home string) (*Cluster, error) {
	return EnsureWith(ctx, home, Options{})
}

// EnsureWith makes home's cluster exist and run, then its roles, its
// database and the migrations. It creates the cluster once (initdb), starts
// it when it is not running and attaches to it when it is, never starting it
// twice; it never overwrites a secret.
func EnsureWith(ctx context.Context, home string, o Options) (*Cluster, error) {
	bin := binDirOf(o)
	if err := checkBinaries(bin); err != nil {
		return nil, err
	}
	home, err := filepath.Abs(home)
	if err != nil {
		return nil, err
	}
	// 0755: as root, the postgres user must be able to traverse home to reach <home>/pg.
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, fmt.Errorf("db: home: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(home, "pg.lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()

	c, err := Locate(home, o)
	switch {
	case errors.Is(err, ErrNotInitialised):
		if c, err = initCluster(ctx, home, o); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	if err := c.bootstrap(ctx); err != nil {
		return nil, err
	}
	if err := c.EnsureDatabase(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// initCluster runs initdb for home, with the secrets and borderid's settings.
func initCluster(ctx context.Context, home string, o Options) (*Cluster, error) {
	c := &Cluster{Home: home, BinDir: binDirOf(o), Database: o.Database, runAs: runAsUser()}
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	ownerPW, err := ensureSecret(home, Owner)
	if err != nil {
		return nil, err
	}
	if _, err := ensureSecret(home, App); err != nil {
		return nil, err
	}
	uid, gid := -1, -1
	c.DataDir = filepath.Join(home, "pg")
	if c.runAs != "" {
		u, err := user.Lookup(c.runAs)
		if err != nil {
			return nil, fmt.Errorf("db: running as root needs the %q OS user (Debian package postgresql): %w", c.runAs, err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		if !c.reachable(ctx, home) {
			c.DataDir, c.Outside = outsideDir(home), true
			if err := os.MkdirAll(outsideBase, 0o755); err != nil {
				return nil, fmt.Errorf("db: %w", err)
			}
		}
	}
	if err := os.Mkdir(c.DataDir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("db: %w", err)
	}
	if uid >= 0 {
		if err := os.Chown(c.DataDir, uid, gid); err != nil {
			return nil, fmt.Errorf("db: %w", err)
		}
	}
	// initdb reads the bootstrap password from a file the postgres user can
	// read: a short-lived 0600 file beside the data folder.
	pwf, err := os.CreateTemp(filepath.Dir(c.DataDir), ".pwfile-*")
	if err != nil {
		return nil, fmt.Errorf("db: %w", err)
	}
	defer os.Remove(pwf.Name())
	_, werr := pwf.WriteString(ownerPW + "\n")
	if cerr := pwf.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil && uid >= 0 {
		werr = os.Chown(pwf.Name(), uid, gid)
	}
	if werr != nil {
		return nil, fmt.Errorf("db: %w", werr)
	}
	args := []string{
		"-D", c.DataDir, "--username=" + Owner.String(), "--pwfile=" + pwf.Name(),
		"--auth=scram-sha-256", "--encoding=UTF8", "--no-locale", "--no-instructions",
	}
	if o.Ephemeral {
		args = append(args, "--no-sync")
	}
	ictx, cancel := context.WithTimeout(ctx, initdbTimeout)
	defer cancel()
	if out, err := c.pgCommand(ictx, "initdb", args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("db: initdb %s: %w\n%s", c.DataDir, err, bytes.TrimSpace(out))
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	c.Port = port
	sock := c.DataDir
	if len(sock)+len("/.s.PGSQL.65535.lock") > maxSocketPath {
		sock = "" // too long for a socket name: TCP only
	}
	conf := fmt.Sprintf(`
# borderid: written once at initdb time (package db)
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = '%s'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
max_connections = 60
`, port, strings.ReplaceAll(sock, "'", "''"))
	if o.Ephemeral {
		conf += "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nshared_buffers = 16MB\n"
	}
	f, err := os.OpenFile(filepath.Join(c.DataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("db: %w", err)
	}
	_, werr = f.WriteString(conf)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("db: postgresql.conf: %w", werr)
	}
	return c, nil
}

// reachable reports whether the postgres user can traverse home.
func (c *Cluster) reachable(ctx context.Context, home string) bool {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "runuser", "-u", c.runAs, "--", "test", "-x", home)
	cmd.Dir = "/"
	return cmd.Run() == nil
}

// pgCommand prepares one of the PostgreSQL programs, as the postgres user when root.
func (c *Cluster) pgCommand(ctx context.Context, prog string, args ...string) *exec.Cmd {
	bin := filepath.Join(c.BinDir, prog)
	var cmd *exec.Cmd
	if c.runAs != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.runAs, "--", bin}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, bin, args...)
	}
	cmd.Dir = "/" // the postgres user may not be able to enter our working folder
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "TZ=UTC"}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// Status asks pg_ctl whether the cluster runs (exit 0 running, 3 not running).
func (c *Cluster) Status(ctx context.Context) (Status, error) {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	out, err := c.pgCommand(ctx, "pg_ctl", "status", "-D", c.DataDir).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return Status{Running: true, PID: pidFromFile(c.DataDir)}, nil
	case errors.As(err, &ee) && ee.ExitCode() == 3:
		return Status{}, nil
	}
	return Status{}, fmt.Errorf("db: pg_ctl status %s: %w\n%s", c.DataDir, err, bytes.TrimSpace(out))
}

// Start starts the cluster unless it already runs (then it attaches).
func (c *Cluster) Start(ctx context.Context) error {
	st, err := c.Status(ctx)
	if err != nil || st.Running {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, pgctlTimeout)
	defer cancel()
	logf := filepath.Join(c.DataDir, "server.log")
	out, err := c.pgCommand(sctx, "pg_ctl", "start", "-D", c.DataDir, "-w", "-t", strconv.Itoa(pgctlWaitSecs), "-l", logf).CombinedOutput()
	if err != nil {
		// Someone else may have started it meanwhile: attach.
		if st, serr := c.Status(ctx); serr == nil && st.Running {
			return nil
		}
		return fmt.Errorf("db: pg_ctl start %s (port %d): %w\n%s\n%s", c.DataDir, c.Port, err, bytes.TrimSpace(out), logTail(logf))
	}
	return nil
}

// Stop stops the cluster (fast shutdown: sessions are ended, data kept).
func (c *Cluster) Stop(ctx context.Context) error { return c.stop(ctx, "fast") }

// StopImmediate stops without a checkpoint: for throwaway test clusters.
func (c *Cluster) StopImmediate(ctx context.Context) error { return c.stop(ctx, "immediate") }

func (c *Cluster) stop(ctx context.Context, mode string) error {
	st, err := c.Status(ctx)
	if err != nil || !st.Running {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, pgctlTimeout)
	defer cancel()
	out, err := c.pgCommand(sctx, "pg_ctl", "stop", "-D", c.DataDir, "-m", mode, "-w", "-t", strconv.Itoa(pgctlWaitSecs)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("db: pg_ctl stop %s: %w\n%s", c.DataDir, err, bytes.TrimSpace(out))
	}
	return nil
}

// logTail is the end of the server log, for error messages.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "server log " + path + ":\n" + string(bytes.TrimSpace(b))
}

// pidFromFile reads the postmaster PID (first line of postmaster.pid).
func pidFromFile(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	pid, _ := strconv.Atoi(string(bytes.TrimSpace(line)))
	return pid
}

// configuredPort reads the last `port = N` of postgresql.conf.
func configuredPort(dir string) (int, error) {
	f, err := os.Open(filepath.Join(dir, "postgresql.conf"))
	if err != nil {
		return 0, fmt.Errorf("db: %w", err)
	}
	defer f.Close()
	port := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || strings.TrimSpace(k) != "port" {
			continue
		}
		v, _, _ = strings.Cut(v, "#")
		if p, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && p > 0 && p < 65536 {
			port = p
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("db: postgresql.conf: %w", err)
	}
	if port == 0 {
		return 0, fmt.Errorf("db: %s has no borderid port setting: an interrupted init? remove the folder and run again", dir)
	}
	return port, nil
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("db: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ensureSecret returns the role's password from <home>/secrets, creating it
// (0600, O_EXCL) only when absent: a secret is never overwritten.
func ensureSecret(home string, r Role) (string, error) {
	dir := filepath.Join(home, secretsDirName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("db: secrets: %w", err)
	}
	p := filepath.Join(dir, r.secretFile())
	if pw, err := readSecret(home, r); err == nil {
		return pw, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	pw := base64.RawURLEncoding.EncodeToString(raw[:])
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("db: secret %s: %w", p, err)
	}
	_, werr := f.WriteString(pw + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return "", fmt.Errorf("db: secret %s: %w", p, werr)
	}
	return pw, nil
}

// readSecret reads a role's password from <home>/secrets.
func readSecret(home string, r Role) (string, error) {
	p := filepath.Join(home, secretsDirName, r.secretFile())
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("db: secret for %s: %w", r, err)
	}
	pw := strings.TrimSpace(string(b))
	if pw == "" {
		return "", fmt.Errorf("db: secret %s is empty", p)
	}
	return pw, nil
}

// lockFile takes an exclusive flock on path, polling until ctx or lockTimeout.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("db: lock: %w", err)
	}
	deadline := time.Now().Add(lockTimeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("db: lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

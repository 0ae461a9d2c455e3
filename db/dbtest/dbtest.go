// Package dbtest gives tests a real PostgreSQL database: one private cluster
// per test binary (that is, per `go test` package run) under a temp folder,
// started on first use, one database per test package (named after the
// binary), every migration applied, and all of it torn down at the end.
//
// A package using it has
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
//
// and in its tests
//
//	pool := dbtest.Pool(t, db.App)   // closed when the test ends
//
// Missing PostgreSQL binaries make the test fail (not skip) with a message
// naming `apt-get install postgresql`: the real database is part of what is
// tested (DESIGN.md, "Real components").
//
// The cluster is Ephemeral (no fsync). As root, the temp folder is made
// traversable (0755) so the postgres user reaches the data folder; the
// secrets inside stay 0600. A watchdog process stops the cluster and removes
// the folder if the test binary dies without running Main's teardown (a
// timeout panic, a kill), so no postmaster outlives its test run.
//
// The state below is per test process by design (the brief's sync.Once): it
// is the one place in borderid with package-level mutable state.
package dbtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"borderid/db"

	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	startTimeout    = 120 * time.Second
	teardownTimeout = 60 * time.Second
)

var (
	once    sync.Once
	mu      sync.Mutex
	shared  *db.Cluster
	tmpRoot string
	initErr error
)

// Main runs the package's tests and then stops and removes the cluster, if
// one was started. Call it from TestMain; it does not return.
func Main(m *testing.M) {
	code := m.Run()
	if err := teardown(); err != nil {
		fmt.Fprintln(os.Stderr, "dbtest:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Cluster returns the test run's cluster, connected to this package's
// database, starting it on first use. It fails the test when it cannot.
func Cluster(t testing.TB) *db.Cluster {
	t.Helper()
	once.Do(func() { shared, initErr = start() })
	if initErr != nil {
		t.Fatalf("dbtest: %v", initErr)
	}
	return shared
}

// Pool opens a pool to the package's database as role; it is closed when
// the test ends.
func Pool(t testing.TB, role db.Role) *pgxpool.Pool {
	t.Helper()
	c := Cluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := db.Open(ctx, c, role)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// DatabaseName is the database this test binary uses: "test_" and the
// binary's name (go test names it after the package) folded to [a-z0-9_].
func DatabaseName() string {
	base := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	base = regexp.MustCompile(`[^a-z0-9_]+`).ReplaceAllString(strings.ToLower(base), "_")
	if len(base) > 50 {
		base = base[:50]
	}
	return "test_" + base
}

func start() (*db.Cluster, error) {
	if _, err := os.Stat(filepath.Join(db.DefaultBinDir, "initdb")); err != nil {
		return nil, fmt.Errorf("%w (looked for %s)", db.ErrNoPostgres, filepath.Join(db.DefaultBinDir, "initdb"))
	}
	dir, err := os.MkdirTemp("", "borderid-pg-")
	if err != nil {
		return nil, err
	}
	mu.Lock()
	tmpRoot = dir
	mu.Unlock()
	if os.Geteuid() == 0 {
		// The postgres user must traverse the folder to reach <dir>/home/pg.
		if err := os.Chmod(dir, 0o755); err != nil {
			return nil, err
		}
	}
	home := filepath.Join(dir, "home")
	if err := watchdog(dir, home); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c, err := db.EnsureWith(ctx, home, db.Options{Ephemeral: true, Database: DatabaseName()})
	if err != nil {
		return nil, err
	}
	if c.Outside {
		return nil, fmt.Errorf("test cluster went outside its temp folder (%s): temp folder not reachable by postgres", c.DataDir)
	}
	return c, nil
}

// watchdog starts a detached shell that waits for this process to end, then
// stops the cluster (immediate mode) and removes dir. After a normal
// teardown it finds nothing left to do.
func watchdog(dir, home string) error {
	pgctl := filepath.Join(db.DefaultBinDir, "pg_ctl")
	stop := fmt.Sprintf("%s stop -D %s/pg -m immediate -w -t 20", shellQuote(pgctl), shellQuote(home))
	if os.Geteuid() == 0 {
		stop = "runuser -u postgres -- " + stop
	}
	script := fmt.Sprintf(`while kill -0 %d 2>/dev/null; do sleep 1; done
if [ -f %s/pg/postmaster.pid ]; then (cd / && %s) >/dev/null 2>&1; fi
rm -rf %s`, os.Getpid(), shellQuote(home), stop, shellQuote(dir))
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // survives a Ctrl-C to our group
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("watchdog: %w", err)
	}
	go cmd.Wait() //nolint:errcheck // reaped if we outlive it; it outlives us otherwise
	return nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func teardown() error {
	mu.Lock()
	dir := tmpRoot
	mu.Unlock()
	if dir == "" {
		return nil
	}
	var err error
	if shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), teardownTimeout)
		err = shared.StopImmediate(ctx)
		cancel()
	}
	if rerr := os.RemoveAll(dir); err == nil && rerr != nil {
		err = rerr
	}
	return err
}

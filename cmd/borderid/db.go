package main

import (
	"context"
	"errors"
	"fmt"

	"borderid/db"

	"github.com/jackc/pgx/v5/pgxpool"
)

const dbUsage = `db start|stop|status [--home DIR]

start   creates the home's private PostgreSQL cluster when there is none
        (initdb, generated secrets in <home>/secrets), starts it or attaches to
        it when it already runs, and applies the migrations
stop    stops it (fast shutdown); nothing to do when it is not running
status  says where it is, its port and whether it runs: exit 0 running,
        1 stopped or not created yet`

// cmdDB is `borderid db start|stop|status` (issue 5, item 6).
func cmdDB(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintf(e.stderr, "usage: borderid %s\n", dbUsage)
		return usagef("a db subcommand is needed: start, stop or status")
	}
	sub := args[0]
	switch sub {
	case "start", "stop", "status":
	case "-h", "--help", "help":
		fmt.Fprintf(e.stderr, "usage: borderid %s\n", dbUsage)
		return nil
	default:
		fmt.Fprintf(e.stderr, "usage: borderid %s\n", dbUsage)
		return usagef("unknown db subcommand %q", sub)
	}
	fs := newFlagSet(e, "db "+sub, dbUsage)
	homeF := homeFlag(fs)
	home, err := parseHome(e, fs, homeF, args[1:])
	if err != nil {
		return err
	}
	switch sub {
	case "start":
		before, _ := db.Locate(home, db.Options{})
		wasRunning := false
		if before != nil {
			if st, err := before.Status(ctx); err == nil {
				wasRunning = st.Running
			}
		}
		c, err := db.Ensure(ctx, home)
		if err != nil {
			return err
		}
		state := "started"
		if wasRunning {
			state = "already running (attached)"
		}
		printCluster(e, c, state)
		return nil
	case "stop":
		c, err := db.Locate(home, db.Options{})
		if errors.Is(err, db.ErrNotInitialised) {
			fmt.Fprintf(e.stdout, "no cluster for %s: nothing to stop\n", home)
			return nil
		}
		if err != nil {
			return err
		}
		st, err := c.Status(ctx)
		if err != nil {
			return err
		}
		if !st.Running {
			printCluster(e, c, "not running")
			return nil
		}
		if err := c.Stop(ctx); err != nil {
			return err
		}
		printCluster(e, c, "stopped")
		return nil
	default: // status
		c, err := db.Locate(home, db.Options{})
		if err != nil {
			return err
		}
		st, err := c.Status(ctx)
		if err != nil {
			return err
		}
		if !st.Running {
			printCluster(e, c, "stopped")
			return errors.New("the cluster is not running")
		}
		printCluster(e, c, fmt.Sprintf("running (pid %d)", st.PID))
		return nil
	}
}

// printCluster says where the cluster is (CONTRACTS.md: borderid says so
// when it lies outside the home folder), its address and its state.
func printCluster(e *env, c *db.Cluster, state string) {
	fmt.Fprintf(e.stdout, "cluster:  %s\n", c.DataDir)
	if c.Outside {
		fmt.Fprintf(e.stdout, "          (outside %s: the postgres user cannot reach it)\n", c.Home)
	}
	fmt.Fprintf(e.stdout, "address:  %s\n", c.Addr())
	fmt.Fprintf(e.stdout, "database: %s\n", c.Database)
	fmt.Fprintf(e.stdout, "state:    %s\n", state)
}

// openPool starts the home's cluster (or attaches to it), migrated, and
// opens a pool as role: the app role for reads and the service's writes,
// the owner for trust anchors and the partner registry.
func openPool(ctx context.Context, home string, role db.Role) (*pgxpool.Pool, error) {
	c, err := db.Ensure(ctx, home)
	if err != nil {
		return nil, err
	}
	return db.Open(ctx, c, role)
}

package main

import (
	"bytes"
	"context"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"borderid/db"
	"borderid/hardware/pcsc"
	"borderid/hardware/vpcd"
	"borderid/inspect/inspecttest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"borderid": func() {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
			stop()
			os.Exit(code)
		},
	})
}

// TestScripts runs the CLI scenarios in testdata/script as a user types
// them. Scenarios that need a reader take one with `lease`, which sets
// $VPCD (host:port for `chip serve --vpcd`) and $READER (its PC/SC name).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("BORDERID_HOME", env.WorkDir+"/home")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"lease": scriptLease,
			// dbpurge HOME: remove HOME's stopped cluster when it lives
			// outside HOME (root, HOME unreachable by postgres).
			"dbpurge": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: dbpurge HOME")
				}
				c, err := db.Locate(ts.MkAbs(args[0]), db.Options{})
				if err != nil {
					ts.Fatalf("dbpurge: %v", err)
				}
				if c.Outside {
					if err := os.RemoveAll(c.DataDir); err != nil {
						ts.Fatalf("dbpurge: %v", err)
					}
				}
			},
			"waitempty": scriptWaitEmpty,
			// validreport FILE: FILE is an inspection report valid against docs/report.schema.json.
			"validreport": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: validreport FILE")
				}
				err := inspecttest.Validate([]byte(ts.ReadFile(args[0])))
				if (err != nil) != neg {
					ts.Fatalf("validreport %s: %v", args[0], err)
				}
			},
		},
		RequireExplicitExec: false,
	})
}

// scriptLease is the testscript command `lease`: take a free virtual
// reader for the script, set $VPCD (host:port for `chip serve --vpcd`) and
// $READER (its PC/SC name), after waiting until it holds no card.
func scriptLease(ts *testscript.TestScript, neg bool, args []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := vpcd.Lease(ctx)
	if err != nil {
		ts.Fatalf("lease a virtual reader: %v", err)
	}
	ts.Defer(func() { l.Release() })
	waitEmpty(ts, l.Reader)
	ts.Setenv("VPCD", l.Addr)
	ts.Setenv("READER", l.Reader)
}

// scriptWaitEmpty is the testscript command `waitempty`: wait until
// $READER holds no card (after a chip was stopped).
func scriptWaitEmpty(ts *testscript.TestScript, neg bool, args []string) {
	waitEmpty(ts, ts.Getenv("READER"))
}

// waitEmpty waits until reader holds no card. pcscd notices that a chip
// left only at its next poll (~400 ms); a chip served before that would be
// taken for the old one.
func waitEmpty(ts *testscript.TestScript, reader string) {
	pc, err := pcsc.EstablishContext()
	if err != nil {
		ts.Fatalf("pcscd: %v", err)
	}
	defer pc.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := pc.WaitForRemoval(ctx, reader); err != nil {
		ts.Fatalf("reader %q keeps a card: %v", reader, err)
	}
}

// Exit codes are a contract (0 read, 1 not read, 2 usage); testscript's
// `!` only says "non-zero", so the usage errors are checked here exactly.
func TestUsageExitCodes(t *testing.T) {
	tests := []struct {
		args   []string
		stdin  string
		code   int
		stderr string
	}{
		{nil, "", exitUsage, "usage: borderid"},
		{[]string{"frobnicate"}, "", exitUsage, `unknown command "frobnicate"`},
		{[]string{"version"}, "", exitOK, ""},
		{[]string{"read"}, "", exitUsage, "access key is missing"},
		{[]string{"read", "--doc", "L898902C3"}, "", exitUsage, "go together"},
		{[]string{"read", "--doc", "L898902C3", "--dob", "741312", "--exp", "340811"}, "", exitUsage, "date"},
		{[]string{"read", "--doc", "L898902C3", "--dob", "740812", "--exp", "340811", "--mrz", "-"}, "", exitUsage, "not both"},
		{[]string{"read", "--mrz", "-"}, "P<UTO\n", exitUsage, "MRZ cannot be used"},
		{[]string{"read", "--bogus"}, "", exitUsage, "flag provided but not defined"},
		{[]string{"read", "--doc", "L898902C3", "--dob", "740812", "--exp", "340811", "--reader", "Virtual PCD 00 01"}, "", exitUsage, "--allow-virtual"},
		{[]string{"read", "--doc", "L898902C3", "--dob", "740812", "--exp", "340811", "extra"}, "", exitUsage, "unexpected argument"},
		{[]string{"chip"}, "", exitUsage, "serve, specimen or mrz"},
		{[]string{"chip", "burn"}, "", exitUsage, "unknown chip subcommand"},
		{[]string{"chip", "serve"}, "", exitUsage, "exactly one of"},
		{[]string{"chip", "serve", "--specimen", "--faults", "melt=1"}, "", exitUsage, `unknown fault "melt"`},
		{[]string{"chip", "serve", "--specimen", "--faults", "tear_after=x"}, "", exitUsage, "positive count"},
		{[]string{"chip", "specimen"}, "", exitUsage, "--out DIR is required"},
		{[]string{"chip", "specimen", "--out", t.TempDir(), "--face-bytes", "10"}, "", exitUsage, "--face-bytes"},
		{[]string{"chip", "mrz", "--identity", t.TempDir()}, "", exitFail, "DG1"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(tt.stdin), &out, &errb, func(string) string { return "" })
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errb.String())
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr %q does not say %q", errb.String(), tt.stderr)
			}
		})
	}
}

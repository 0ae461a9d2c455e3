// Command borderid is the one binary of borderid, with subcommands:
//
//	borderid read        read a passport chip on a PC/SC reader and print the inspection report
//	borderid verify      re-verify offline the files `read --out` wrote
//	borderid chip serve  put a software passport chip into a virtual reader (vpcd)
//	borderid chip specimen  write a specimen chip identity (synthetic data) to a folder
//	borderid db start|stop|status  the private PostgreSQL cluster under <home>
//	borderid trust import|list|export  the trust store (CSCAs, link certificates, CRLs) in PostgreSQL
//	borderid init        make a working state in <home>: HSM keys, certificates, database
//	borderid serve       the enrolment service (HTTPS, mutual TLS)
//	borderid keys rotate rewrap every data key under a new key-encryption key
//	borderid audit verify  check the audit log's hash chain and signed checkpoints
//	borderid partner add|list|remove  the partner registry of the cross-border status service
//	borderid status query  ask the issuing state's registry for a document's status (signed answer)
//
// Exit codes (CONTRACTS.md): 0 the chip was read (whatever the verdict),
// 1 it could not be read (or the command failed), 2 usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// env is what a subcommand may touch of the outside world; tests replace it.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	log            *slog.Logger
}

// usageError is returned for bad flags or arguments: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

type command struct {
	name, summary string
	run           func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"read", "read a passport chip on a PC/SC reader and print the inspection report", cmdRead},
		{"verify", "re-verify offline the files read --out wrote (passive authentication, hashes, MRZ, expiry)", cmdVerify},
		{"chip", "software chip: `chip serve` puts one into a virtual reader, `chip specimen` writes one", cmdChip},
		{"db", "private PostgreSQL cluster: `db start|stop|status [--home DIR]`", cmdDB},
		{"trust", "trust store: `trust import FILE... [--ml-root CERT]...`, `trust list [--json]`, `trust export --out FILE` [--home DIR]", cmdTrust},
		{"init", "make a working state in <home>: `init --state CODE` (HSM keys, certificates, database)", cmdInit},
		{"serve", "the enrolment service: `serve [--listen 127.0.0.1:8443]` (HTTPS, mutual TLS)", cmdServe},
		{"staff", "staff certificates: `staff issue NAME --roles ROLES [--office OFFICE]` (signed by the HSM's TLS CA key)", cmdStaff},
		{"enrol", "enrolment material: `enrol sample --out DIR` writes a synthetic face and finger records", cmdEnrol},
		{"partner", "partner registry: `partner add --state CODE ...`, `partner list [--json]`, `partner remove --state CODE`", cmdPartner},
		{"status", "document status: `status query --issuing-state CODE --doc N --dob YYMMDD --exp YYMMDD` asks the issuing state's registry", cmdStatus},
		{"keys", "keys: `keys rotate` rewraps every data key under a new key-encryption key", cmdKeys},
		{"audit", "audit log: `audit verify` checks the hash chain and the signed checkpoints", cmdAudit},
		{"version", "print the version", cmdVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	level := slog.LevelWarn
	if getenv("BORDERID_DEBUG") != "" {
		level = slog.LevelDebug
	}
	e := &env{
		stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv,
		log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "borderid %s: %v\n", c.name, err)
			return exitUsage
		}
		fmt.Fprintf(stderr, "borderid %s: %v\n", c.name, err)
		return exitFail
	}
	fmt.Fprintf(stderr, "borderid: unknown command %q\n\n", args[0])
	printUsage(stderr)
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: borderid <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run `borderid <command> -h` for the flags of a command.")
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: borderid %s\n\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

var version = "dev"

func cmdVersion(_ context.Context, e *env, _ []string) error {
	fmt.Fprintf(e.stdout, "borderid %s\n", version)
	return nil
}

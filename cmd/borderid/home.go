package main

import (
	"flag"
	"path/filepath"
)

// homeFlag registers --home; resolve with homeDir. CONTRACTS.md: --home DIR,
// else $BORDERID_HOME, else ./var.
func homeFlag(fs *flag.FlagSet) *string {
	return fs.String("home", "", "borderid home folder (default $BORDERID_HOME, else ./var)")
}

func homeDir(e *env, flagValue string) (string, error) {
	h := flagValue
	if h == "" {
		h = e.getenv("BORDERID_HOME")
	}
	if h == "" {
		h = "var"
	}
	return filepath.Abs(h)
}

// parseHome parses args into fs (which registered --home as homeF),
// refuses positional arguments, and resolves the home folder: the start of
// every command that takes only flags.
func parseHome(e *env, fs *flag.FlagSet, homeF *string, args []string) (string, error) {
	if err := parseFlags(fs, args); err != nil {
		return "", err
	}
	if fs.NArg() != 0 {
		return "", usagef("unexpected arguments: %v", fs.Args())
	}
	return homeDir(e, *homeF)
}

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

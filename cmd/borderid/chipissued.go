package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing/fstest"

	"borderid/enrol/chipstore"
	"borderid/hardware/chipsim"
	"borderid/internal/hsm"
)

// issuedFiles decrypts an issued chip identity of <home>/chips with the
// key-encryption key in the home's HSM.
func issuedFiles(ctx context.Context, home, chipID string) (map[string][]byte, error) {
	tok, err := hsm.Open(ctx, home)
	if err != nil {
		return nil, err
	}
	defer tok.Close()
	files, err := chipstore.Load(ctx, home, chipID, tok.KeyWrapper())
	if err != nil {
		return nil, fmt.Errorf("issued chip %s: %w", chipID, err)
	}
	return files, nil
}

// loadIssuedChip is the chip identity of an issued chip, in memory only.
func loadIssuedChip(ctx context.Context, home, chipID string) (*chipsim.Identity, error) {
	files, err := issuedFiles(ctx, home, chipID)
	if err != nil {
		return nil, err
	}
	m := fstest.MapFS{}
	for name, b := range files {
		m[name] = &fstest.MapFile{Data: b, Mode: 0o600}
	}
	return chipsim.LoadIdentityFS(m)
}

// chipExport is `borderid chip export ID --out DIR` (issue 5, item 3).
func chipExport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "chip export", chipUsage)
	out := fs.String("out", "", "write the clear chip identity to `DIR` (created 0700, must not exist or be empty)")
	homeF := homeFlag(fs)
	var id string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		id, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	} else if fs.NArg() != 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	if id == "" || *out == "" {
		return usagef("chip export ID --out DIR")
	}
	home, err := homeDir(e, *homeF)
	if err != nil {
		return err
	}
	if entries, err := os.ReadDir(*out); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s exists and is not empty: export writes only into a new or empty folder", *out)
	}
	files, err := issuedFiles(ctx, home, id)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := writeNew(filepath.Join(*out, n), files[n], 0o600); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stderr, "warning: %s now holds this chip's biometric data (face, fingerprints) and private keys in clear; delete it when done\n", *out)
	fmt.Fprintf(e.stdout, "exported chip %s to %s (%d files)\n", id, *out, len(names))
	return nil
}

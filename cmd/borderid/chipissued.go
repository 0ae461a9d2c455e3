package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"borderid/db"
	"borderid/enrol/chipstore"
	"borderid/hardware/chipsim"
	"borderid/internal/hsm"
)

// issuedFiles decrypts an issued chip identity of <home>/chips with the
// key-encryption key in the home's HSM, after writing the audit row of the
// read (action, the operator, the purpose, the application as subject):
// an issued identity holds the face and fingerprints, and every read of a
// biometric is audited with its purpose (DESIGN.md, security model).
func issuedFiles(ctx context.Context, home, chipID, action, purpose string) (map[string][]byte, error) {
	if !chipstore.ValidID(chipID) {
		return nil, fmt.Errorf("issued chip %q: %w", chipID, chipstore.ErrInvalidID)
	}
	if err := auditChipRead(ctx, home, chipID, action, purpose); err != nil {
		return nil, err
	}
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

// auditChipRead writes the audit row of a read of an issued chip identity
// in the home's database and advances the audit head. The operator acts
// with the issuer's scope (the only national role that sees every office's
// documents); the actor names the OS user.
func auditChipRead(ctx context.Context, home, chipID, action, purpose string) error {
	pool, err := openPool(ctx, home, db.App)
	if err != nil {
		return err
	}
	defer pool.Close()
	actor := "borderid " + action + " (" + importer() + ")"
	var seq int64
	var hash []byte
	err = db.WithScope(ctx, pool, db.Scope{Actor: actor, Role: db.RoleIssuer}, func(tx pgx.Tx) error {
		d, err := db.DocumentOfChip(ctx, tx, chipID)
		if err != nil {
			return fmt.Errorf("issued chip %s: no document of this state was issued with it: %w", chipID, err)
		}
		seq, hash, err = db.InsertAuditReturning(ctx, tx, db.AuditEntry{Actor: actor, Role: db.RoleIssuer, Action: action,
			Purpose: purpose, Subject: d.ApplicationID, Outcome: db.OutcomeOK, Detail: "chip=" + chipID})
		return err
	})
	if err != nil {
		return err
	}
	return db.AdvanceHead(filepath.Join(home, "audit", "checkpoints"), seq, hash)
}

// loadIssuedChip is the chip identity of an issued chip, in memory only.
func loadIssuedChip(ctx context.Context, home, chipID, purpose string) (*chipsim.Identity, error) {
	files, err := issuedFiles(ctx, home, chipID, "chip.serve", purpose)
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
	purpose := fs.String("purpose", "", "why the clear copy is needed (`TEXT`, required: audited with the read)")
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
	if id == "" || *out == "" || strings.TrimSpace(*purpose) == "" {
		return usagef("chip export ID --out DIR --purpose TEXT")
	}
	home, err := homeDir(e, *homeF)
	if err != nil {
		return err
	}
	if entries, err := os.ReadDir(*out); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s exists and is not empty: export writes only into a new or empty folder", *out)
	}
	files, err := issuedFiles(ctx, home, id, "chip.export", strings.TrimSpace(*purpose))
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

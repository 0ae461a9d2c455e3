package db

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/jackc/pgx/v5"
)

// HeadFile is the file, in the checkpoint folder, that records outside the
// database the newest chain head a writer saw committed: seq and hash.
//
// Checkpoints protect the rows up to the newest one; a tail of rows after
// it could be deleted by someone with owner rights in the database and the
// remaining chain would still verify. Every writer therefore advances this
// file after each commit (AdvanceHead: under a file lock, only forward), and
// VerifyAudit requires the table to still hold that row with that hash. It
// is not signed — it only has to outlive the rows; whoever can rewrite it
// can also delete the exported checkpoints, which the folder's permissions
// (0700, the service's user) guard alike.
const HeadFile = "head"

// Head is the content of HeadFile.
type Head struct {
	Seq  int64    `json:"seq"`
	Hash hexBytes `json:"hash"`
}

// InsertAuditReturning is InsertAudit that also returns the seq and hash
// the chain trigger gave the row (for AdvanceHead after the commit). Not
// RETURNING: that needs SELECT on audit_log, which only the auditor has;
// audit_head() reads the chain's head, which is this row as long as the
// transaction holds the chain lock the insert took.
func InsertAuditReturning(ctx context.Context, tx pgx.Tx, e AuditEntry) (seq int64, hash []byte, err error) {
	if err := InsertAudit(ctx, tx, e); err != nil {
		return 0, nil, err
	}
	err = tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head()`).Scan(&seq, &hash)
	return seq, hash, mapErr("audit head", err)
}

// AdvanceHead records (seq, hash) in dir/HeadFile unless it already holds a
// later row. Writers in several processes serialise on dir/head.lock.
func AdvanceHead(dir string, seq int64, hash []byte) error {
	if dir == "" || seq <= 0 {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("db: audit head: %w", err)
	}
	lf, err := os.OpenFile(filepath.Join(dir, HeadFile+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("db: audit head: %w", err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("db: audit head: %w", err)
	}
	defer syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)
	// A head left empty or torn by a crash (the file is not synced: one
	// fsync per audited request was judged too dear) is replaced, not a
	// reason to fail every request; audit verify reports it.
	cur, err := ReadHead(dir)
	if err != nil && !errors.Is(err, ErrHeadMalformed) {
		return err
	}
	if cur != nil && cur.Seq >= seq {
		return nil
	}
	b, err := json.Marshal(Head{Seq: seq, Hash: hash})
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, HeadFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("db: audit head: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, HeadFile)); err != nil {
		return fmt.Errorf("db: audit head: %w", err)
	}
	return nil
}

// ErrHeadMalformed: the head file does not hold a head (a crash between
// write and rename can leave it empty).
var ErrHeadMalformed = errors.New("db: audit head file malformed")

// ReadHead reads dir/HeadFile; nil without error when there is none.
func ReadHead(dir string) (*Head, error) {
	b, err := os.ReadFile(filepath.Join(dir, HeadFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("db: audit head: %w", err)
	}
	h, err := parseHead(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, filepath.Join(dir, HeadFile))
	}
	return h, nil
}

// parseHead decodes the head file strictly: one JSON object with seq > 0
// and a 32-byte hash, nothing else.
func parseHead(b []byte) (*Head, error) {
	var h Head
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil || h.Seq <= 0 || len(h.Hash) != 32 || dec.More() {
		return nil, ErrHeadMalformed
	}
	return &h, nil
}

package db

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// This file is the enrolment audit of issue 5, item 5 (migration 0004).
//
// # The chain
//
// audit_log is append-only: the app role holds INSERT (on the content
// columns only) and SELECT (the auditor's scope, under RLS); UPDATE, DELETE
// and TRUNCATE are refused by missing grants and, for every role, by
// triggers; the app role cannot disable a trigger because it owns nothing.
// The database is the one serialised writer: a BEFORE INSERT trigger
// (SECURITY DEFINER, owned by borderid_owner) takes the advisory lock
// 0x62646175, reads the newest row and sets
//
//	seq       = previous seq + 1 (the first row is 1: no gaps)
//	at        = clock_timestamp() (microseconds)
//	prev_hash = the previous row's hash (32 zero bytes for seq 1)
//	hash      = SHA-256(prev_hash || Canonical(row))
//
// Canonical(row) is, byte for byte ([AuditRow.Canonical] and the SQL
// function audit_canonical):
//
//	"borderid/audit/v1"                       17 ASCII bytes
//	seq                                       int64, 8 bytes big-endian
//	at                                        Unix microseconds, int64, 8 bytes big-endian
//	actor, role, office, action, purpose,     each: uint32 length, 4 bytes big-endian,
//	subject, outcome, detail                  then its UTF-8 bytes
//
// The lock is held until the inserting transaction ends, so audited
// transactions serialise from their audit insert to their commit: callers
// write the audit row last. Transactions must be READ COMMITTED (WithScope's
// default): the trigger's read after the lock must see the previous
// writer's commit.
//
// # Checkpoints and what verification guarantees
//
// [WriteCheckpoint] signs SHA-256(seq as 8 bytes big-endian || hash) of the
// newest row with a crypto.Signer (the HSM's audit-signer key), inserts it
// into audit_checkpoints (a trigger checks it names a row of the chain with
// that hash) and writes it as JSON to a folder outside the database
// (<home>/audit/checkpoints/<seq, 20 digits>.json). package enrol writes one
// every N audit rows, on every verification and on shutdown.
//
// [VerifyAudit] recomputes the whole chain from seq 1 and reports:
//   - a changed row, a gap in seq (a row deleted in the middle), a broken
//     prev_hash link: the chain no longer matches itself;
//   - a changed or deleted row whose chain an attacker with the owner's
//     rights recomputed: every checkpoint at or after that row (in the table
//     or in the folder) no longer matches the recomputed chain, and a
//     forged checkpoint fails its signature without the HSM key;
//   - a deleted tail: the newest exported checkpoint names a seq beyond the
//     table's last row (or a hash that differs there);
//   - a checkpoint missing from the folder or from the table.
//
// The exact guarantee: every row up to the newest checkpoint exported to
// the folder is protected against change and deletion, provided the folder
// is beyond the database attacker's reach (another host, WORM storage).
// Rows after it are protected by the chain only: changing one is caught
// unless the attacker recomputes the chain from there, and deleting the
// tail after the newest checkpoint is not detectable by anything the
// database holds. package enrol keeps that window to fewer than N rows
// (and none after a clean shutdown or a verification).

// auditLockKey is the advisory lock of the chain writer ("bdau"), the same
// number as in migration 0004.
const auditLockKey = 0x62646175

// auditTag starts the canonical encoding of a row.
const auditTag = "borderid/audit/v1"

// Audit outcomes.
const (
	OutcomeOK     = "ok"
	OutcomeDenied = "denied"
)

// AuditEntry is what a caller writes; the database adds seq, at and the
// hashes.
type AuditEntry struct {
	Actor, Role, Office string
	Action, Purpose     string
	Subject             string // an application id, never a document number
	Outcome             string // OutcomeOK or OutcomeDenied
	Detail              string // an error code, a kind/position: no personal data
}

// AuditRow is a row of audit_log.
type AuditRow struct {
	Seq int64
	At  time.Time
	AuditEntry
	PrevHash, Hash []byte
}

// Canonical is the row's canonical encoding (see the file comment); the
// chain hashes prev_hash || Canonical.
func (r *AuditRow) Canonical() []byte {
	b := make([]byte, 0, 128)
	b = append(b, auditTag...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Seq))
	b = binary.BigEndian.AppendUint64(b, uint64(r.At.UnixMicro()))
	for _, s := range []string{r.Actor, r.Role, r.Office, r.Action, r.Purpose, r.Subject, r.Outcome, r.Detail} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// ChainHash is SHA-256(prev || r.Canonical()).
func ChainHash(prev []byte, r *AuditRow) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(r.Canonical())
	return h.Sum(nil)
}

// InsertAudit appends e in tx (whose scope actor must be e.Actor: RLS).
// It takes the chain's lock until tx ends: write it last.
func InsertAudit(ctx context.Context, tx pgx.Tx, e AuditEntry) error {
	if e.Outcome != OutcomeOK && e.Outcome != OutcomeDenied {
		return fmt.Errorf("db: audit outcome %q", e.Outcome)
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (actor, role, office, action, purpose, subject, outcome, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		e.Actor, e.Role, e.Office, e.Action, e.Purpose, e.Subject, e.Outcome, e.Detail)
	return mapErr("audit", err)
}

// AuditHead returns the newest row's seq and hash (0 and nil when the log
// is empty), whatever the scope: it reveals no content.
func AuditHead(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int64, []byte, error) {
	var seq *int64
	var hash []byte
	if err := q.QueryRow(ctx, `SELECT seq, hash FROM audit_head()`).Scan(&seq, &hash); err != nil {
		return 0, nil, mapErr("audit head", err)
	}
	if seq == nil {
		return 0, nil, nil
	}
	return *seq, hash, nil
}

const auditColumns = `seq, at, actor, role, office, action, purpose, subject, outcome, detail, prev_hash, hash`

func scanAudit(r pgx.CollectableRow) (AuditRow, error) {
	var a AuditRow
	err := r.Scan(&a.Seq, &a.At, &a.Actor, &a.Role, &a.Office, &a.Action, &a.Purpose, &a.Subject, &a.Outcome,
		&a.Detail, &a.PrevHash, &a.Hash)
	return a, err
}

// AuditBySubject returns the rows about subject in order (scope RoleAuditor).
func AuditBySubject(ctx context.Context, tx pgx.Tx, subject string) ([]AuditRow, error) {
	rows, err := tx.Query(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE subject = $1 ORDER BY seq`, subject)
	if err != nil {
		return nil, mapErr("audit by subject", err)
	}
	out, err := pgx.CollectRows(rows, scanAudit)
	return out, mapErr("audit by subject", err)
}

// Checkpoint is a signed checkpoint of the chain; its JSON is the exported
// file's format.
type Checkpoint struct {
	Seq       int64     `json:"seq"`
	Hash      hexBytes  `json:"hash"`
	At        time.Time `json:"at"`
	Signature []byte    `json:"signature"` // base64 in JSON: ASN.1 ECDSA (or PKCS #1 v1.5) signature
	Signer    string    `json:"signer"`    // hex SHA-256 of the signer's SubjectPublicKeyInfo
}

// hexBytes is []byte written as hex in JSON.
type hexBytes []byte

func (h hexBytes) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h)) }
func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := hex.DecodeString(s)
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// CheckpointDigest is SHA-256(seq as 8 bytes big-endian || hash): what a
// checkpoint's signature signs.
func CheckpointDigest(seq int64, hash []byte) []byte {
	h := sha256.New()
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(seq)))
	h.Write(hash)
	return h.Sum(nil)
}

// SignerID is the hex SHA-256 of pub's SubjectPublicKeyInfo.
func SignerID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("db: audit signer: %w", err)
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}

// CheckpointFile is the file name of the checkpoint at seq in the export
// folder: 20 digits, so names sort by seq.
func CheckpointFile(seq int64) string { return fmt.Sprintf("%020d.json", seq) }

// WriteCheckpoint signs the newest row of the chain, records the checkpoint
// in audit_checkpoints and exports it to dir (created 0700 when absent;
// files 0600, written to a temporary name and renamed). It returns nil, nil
// when the log is empty or its newest row already has a checkpoint. b may
// be the app pool (any scope may checkpoint) or the owner's.
func WriteCheckpoint(ctx context.Context, b Beginner, s Scope, signer crypto.Signer, dir string, now time.Time) (*Checkpoint, error) {
	if signer == nil || dir == "" {
		return nil, errors.New("db: checkpoint: no signer or no folder")
	}
	id, err := SignerID(signer.Public())
	if err != nil {
		return nil, err
	}
	var cp *Checkpoint
	err = WithScope(ctx, b, s, func(tx pgx.Tx) error {
		seq, hash, err := AuditHead(ctx, tx)
		if err != nil || seq == 0 {
			return err
		}
		// Done when a row at this seq carries a valid signature of our
		// key; rows of anyone else (any scope may add one) are ignored
		// here and reported by VerifyAudit (migration 0007).
		rows, err := tx.Query(ctx, `SELECT signature, signer FROM audit_checkpoints WHERE seq = $1`, seq)
		if err != nil {
			return mapErr("checkpoint", err)
		}
		type sigRow struct {
			sig    []byte
			signer string
		}
		existing, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sigRow, error) {
			var x sigRow
			err := r.Scan(&x.sig, &x.signer)
			return x, err
		})
		if err != nil {
			return mapErr("checkpoint", err)
		}
		for _, x := range existing {
			if x.signer == id && verifySig(signer.Public(), CheckpointDigest(seq, hash), x.sig) {
				return nil
			}
		}
		sig, err := signer.Sign(rand.Reader, CheckpointDigest(seq, hash), crypto.SHA256)
		if err != nil {
			return fmt.Errorf("db: checkpoint: sign: %w", err)
		}
		c := &Checkpoint{Seq: seq, Hash: hash, At: now.UTC().Truncate(time.Microsecond), Signature: sig, Signer: id}
		if _, err := tx.Exec(ctx, `INSERT INTO audit_checkpoints (seq, hash, at, signature, signer) VALUES ($1, $2, $3, $4, $5)`,
			c.Seq, []byte(c.Hash), c.At, c.Signature, c.Signer); err != nil {
			if errors.Is(mapErr("", err), ErrDuplicate) {
				return nil // a concurrent writer checkpointed the same row
			}
			return mapErr("checkpoint", err)
		}
		// Exported before the commit: a failed export rolls the row back.
		if err := exportCheckpoint(dir, c); err != nil {
			return err
		}
		cp = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cp, nil
}

func exportCheckpoint(dir string, c *Checkpoint) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("db: checkpoint export: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".checkpoint-*")
	if err != nil {
		return fmt.Errorf("db: checkpoint export: %w", err)
	}
	defer os.Remove(f.Name())
	_, werr := f.Write(append(b, '\n'))
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(f.Name(), 0o600)
	}
	if werr == nil {
		werr = os.Rename(f.Name(), filepath.Join(dir, CheckpointFile(c.Seq)))
	}
	if werr != nil {
		return fmt.Errorf("db: checkpoint export: %w", werr)
	}
	return nil
}

// ReadCheckpoints reads the exported checkpoints in dir in seq order (none
// when dir does not exist). A file that does not parse, or whose name does
// not match its seq, is an error.
func ReadCheckpoints(dir string) ([]Checkpoint, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("db: checkpoints: %w", err)
	}
	var out []Checkpoint
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".json") || strings.HasPrefix(n, ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, fmt.Errorf("db: checkpoint %s: %w", n, err)
		}
		var c Checkpoint
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("db: checkpoint %s: %w", n, err)
		}
		if CheckpointFile(c.Seq) != n {
			return nil, fmt.Errorf("db: checkpoint %s holds seq %d", n, c.Seq)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

// VerifyReport is the outcome of VerifyAudit.
type VerifyReport struct {
	Rows        int64    // rows in audit_log
	LastSeq     int64    // the newest seq (0: empty)
	Checkpoints int      // checkpoints in the table
	Exported    int      // checkpoint files in the folder
	Head        int64    // the seq recorded outside the database (HeadFile); 0: none
	OK          bool     // no problem found
	Problems    []string // one sentence each, first maxProblems
}

const maxProblems = 100

func (r *VerifyReport) problem(format string, args ...any) {
	r.OK = false
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	} else if len(r.Problems) == maxProblems {
		r.Problems = append(r.Problems, "more problems not listed")
	}
}

// VerifyAudit recomputes the chain and checks every checkpoint, in the
// table and exported in dir, against it and against pub (the audit signer's
// public key). s must be able to read audit_log (RoleAuditor; the owner
// pool reads it in any scope). An error means verification could not run;
// problems found are in the report.
func VerifyAudit(ctx context.Context, b Beginner, s Scope, pub crypto.PublicKey, dir string) (*VerifyReport, error) {
	rep := &VerifyReport{OK: true}
	signer, err := SignerID(pub)
	if err != nil {
		return nil, err
	}
	files, err := ReadCheckpoints(dir)
	if err != nil {
		return nil, err
	}
	rep.Exported = len(files)
	head, err := ReadHead(dir)
	headMalformed := errors.Is(err, ErrHeadMalformed)
	if err != nil && !headMalformed {
		return nil, err
	}
	var table []Checkpoint
	// chain[seq] for every checkpointed seq, as recomputed.
	want := map[int64][]byte{}
	err = WithScope(ctx, b, s, func(tx pgx.Tx) error {
		// Checkpoints first: every row they name was committed before
		// them, so the rows query (a later snapshot) sees it.
		rows, err := tx.Query(ctx, `SELECT seq, hash, at, signature, signer FROM audit_checkpoints ORDER BY seq`)
		if err != nil {
			return mapErr("verify", err)
		}
		table, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Checkpoint, error) {
			var c Checkpoint
			var h []byte
			err := r.Scan(&c.Seq, &h, &c.At, &c.Signature, &c.Signer)
			c.Hash = h
			return c, err
		})
		if err != nil {
			return mapErr("verify", err)
		}
		for _, c := range table {
			want[c.Seq] = nil
		}
		for _, c := range files {
			want[c.Seq] = nil
		}
		if head != nil {
			want[head.Seq] = nil
		}
		rows, err = tx.Query(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq`)
		if err != nil {
			return mapErr("verify", err)
		}
		defer rows.Close()
		prev := make([]byte, sha256.Size)
		next := int64(1)
		for rows.Next() {
			r, err := scanAudit(rows)
			if err != nil {
				return mapErr("verify", err)
			}
			rep.Rows++
			if r.Seq != next {
				rep.problem("row %d follows row %d: rows %d..%d are missing", r.Seq, next-1, next, r.Seq-1)
			}
			if !bytes.Equal(r.PrevHash, prev) {
				rep.problem("row %d: prev_hash does not match the chain", r.Seq)
			}
			h := ChainHash(prev, &r)
			if !bytes.Equal(h, r.Hash) {
				rep.problem("row %d: hash does not match its content (row changed)", r.Seq)
			}
			if _, ok := want[r.Seq]; ok {
				want[r.Seq] = h
			}
			prev, next = h, r.Seq+1
			rep.LastSeq = r.Seq
		}
		return mapErr("verify", rows.Err())
	})
	if err != nil {
		return nil, err
	}
	rep.Checkpoints = len(table)
	if headMalformed {
		rep.problem("the head recorded outside the database (%s) is unreadable: a crash, or someone changed it", HeadFile)
	}
	if head != nil {
		rep.Head = head.Seq
		switch h := want[head.Seq]; {
		case head.Seq > rep.LastSeq:
			rep.problem("the log reached row %d (recorded outside the database in %s) but ends at row %d: rows deleted", head.Seq, HeadFile, rep.LastSeq)
		case h == nil:
			rep.problem("row %d, recorded outside the database in %s, is missing", head.Seq, HeadFile)
		case !bytes.Equal(h, head.Hash):
			rep.problem("row %d does not match the hash recorded outside the database in %s: rows up to %d changed", head.Seq, HeadFile, head.Seq)
		}
	}
	check := func(where string, c Checkpoint) {
		h := want[c.Seq]
		switch {
		case c.Seq > rep.LastSeq:
			rep.problem("%s checkpoint %d is beyond the last row %d: rows deleted", where, c.Seq, rep.LastSeq)
		case h == nil:
			rep.problem("%s checkpoint %d names a missing row", where, c.Seq)
		case !bytes.Equal(h, c.Hash):
			rep.problem("%s checkpoint %d does not match the recomputed chain: rows up to %d changed", where, c.Seq, c.Seq)
		}
		if c.Signer != signer {
			rep.problem("%s checkpoint %d: signed by %.16s..., not the audit signer %.16s...", where, c.Seq, c.Signer, signer)
		} else if !verifySig(pub, CheckpointDigest(c.Seq, c.Hash), c.Signature) {
			rep.problem("%s checkpoint %d: bad signature", where, c.Seq)
		}
	}
	inTable := map[int64]Checkpoint{}
	for _, c := range table {
		check("table", c)
		inTable[c.Seq] = c
	}
	inFiles := map[int64]bool{}
	for _, c := range files {
		inFiles[c.Seq] = true
		check("exported", c)
		if t, ok := inTable[c.Seq]; !ok {
			rep.problem("exported checkpoint %d is missing from the table", c.Seq)
		} else if !bytes.Equal(t.Hash, c.Hash) {
			rep.problem("checkpoint %d differs between the table and the export", c.Seq)
		}
	}
	for _, c := range table {
		if !inFiles[c.Seq] {
			rep.problem("checkpoint %d is missing from the export folder %s", c.Seq, dir)
		}
	}
	return rep, nil
}

func verifySig(pub crypto.PublicKey, digest, sig []byte) bool {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, digest, sig)
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, digest, sig) == nil
	}
	return false
}

// String summarises a report in one line.
func (r *VerifyReport) String() string {
	ok := "OK"
	if !r.OK {
		ok = strconv.Itoa(len(r.Problems)) + " problem(s)"
	}
	return fmt.Sprintf("%d rows, last seq %d, %d checkpoints (%d exported): %s", r.Rows, r.LastSeq, r.Checkpoints, r.Exported, ok)
}

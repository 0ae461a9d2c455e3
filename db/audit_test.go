package db_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"borderid/db"
	"borderid/db/dbtest"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// freshDB gives a test its own migrated database, so tampering with its
// audit log does not disturb the other tests; app and owner pools to it.
func freshDB(t *testing.T) (app, owner *pgxpool.Pool) {
	t.Helper()
	c := dbtest.Cluster(t)
	ctx := ctxT(t)
	name := "test_" + strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name()))
	if len(name) > 60 {
		name = name[:60]
	}
	fc := c.WithDatabase(name)
	if err := fc.EnsureDatabase(ctx); err != nil {
		t.Fatal(err)
	}
	var err error
	if app, err = db.Open(ctx, fc, db.App); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	if owner, err = db.Open(ctx, fc, db.Owner); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(owner.Close)
	return app, owner
}

func audit(ctx context.Context, pool *pgxpool.Pool, s db.Scope, action, subject string) error {
	return db.WithScope(ctx, pool, s, func(tx pgx.Tx) error {
		return db.InsertAudit(ctx, tx, db.AuditEntry{Actor: s.Actor, Role: s.Role, Office: s.Office, Action: action,
			Purpose: "test", Subject: subject, Outcome: db.OutcomeOK, Detail: "détail ✓"})
	})
}

func newSigner(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func verifyChain(t *testing.T, ctx context.Context, pool *pgxpool.Pool, k *ecdsa.PrivateKey, dir string) *db.VerifyReport {
	t.Helper()
	rep, err := db.VerifyAudit(ctx, pool, auditor, &k.PublicKey, dir)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func wantProblem(t *testing.T, rep *db.VerifyReport, substr string) {
	t.Helper()
	if rep.OK {
		t.Fatalf("verify OK, want a problem %q: %s", substr, rep)
	}
	for _, p := range rep.Problems {
		if strings.Contains(p, substr) {
			return
		}
	}
	t.Errorf("problems %q lack %q", rep.Problems, substr)
}

func TestAuditAppendOnlyForTheAppRole(t *testing.T) {
	app := dbtest.Pool(t, db.App)
	owner := dbtest.Pool(t, db.Owner)
	ctx := ctxT(t)
	if err := audit(ctx, app, clerk1, "create", "x"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, sql, want string }{
		{"update", `UPDATE audit_log SET detail = 'evil'`, "42501"},
		{"delete", `DELETE FROM audit_log`, "42501"},
		{"truncate", `TRUNCATE audit_log`, "42501"},
		{"disable trigger", `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete`, "42501"},
		{"disable all triggers", `ALTER TABLE audit_log DISABLE TRIGGER ALL`, "42501"},
		{"no force rls", `ALTER TABLE audit_log NO FORCE ROW LEVEL SECURITY`, "42501"},
		{"drop trigger", `DROP TRIGGER audit_log_chain ON audit_log`, "42501"},
		{"choose seq", `INSERT INTO audit_log (seq, actor, action, outcome) VALUES (1000000, 'auditor', 'x', 'ok')`, "42501"},
		{"choose hash", `INSERT INTO audit_log (actor, action, outcome, hash) VALUES ('auditor', 'x', 'ok', '\x00')`, "42501"},
		{"in another's name", `INSERT INTO audit_log (actor, action, outcome) VALUES ('someone-else', 'x', 'ok')`, "42501"},
		{"update checkpoint", `UPDATE audit_checkpoints SET signer = 'x'`, "42501"},
		{"delete checkpoint", `DELETE FROM audit_checkpoints`, "42501"},
		{"truncate checkpoints", `TRUNCATE audit_checkpoints`, "42501"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := db.WithScope(ctx, app, auditor, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, tc.sql); return err })
			if got := sqlState(err); got != tc.want {
				t.Errorf("got %v (SQLSTATE %q), want %s", err, got, tc.want)
			}
		})
	}
	// Only the auditor reads the log.
	for _, s := range []db.Scope{clerk1, approver1, issuer} {
		if n := visible(t, ctx, app, &s, `SELECT count(*) FROM audit_log`); n != 0 {
			t.Errorf("%s reads %d audit rows", s.Role, n)
		}
	}
	if n := visible(t, ctx, app, &auditor, `SELECT count(*) FROM audit_log`); n == 0 {
		t.Error("the auditor reads no audit rows")
	}
	// The triggers hold for the owner too (TRUNCATE is not subject to RLS).
	if _, err := owner.Exec(ctx, `TRUNCATE audit_log`); sqlState(err) != "BD004" {
		t.Errorf("owner TRUNCATE: %v, want BD004", err)
	}
	if _, err := owner.Exec(ctx, `TRUNCATE audit_checkpoints`); sqlState(err) != "BD004" {
		t.Errorf("owner TRUNCATE checkpoints: %v, want BD004", err)
	}
}

func TestAuditChainCanonicalEncoding(t *testing.T) {
	app, _ := freshDB(t)
	ctx := ctxT(t)
	for i := 0; i < 5; i++ {
		if err := audit(ctx, app, approver1, fmt.Sprintf("action-%d", i), "subject"); err != nil {
			t.Fatal(err)
		}
	}
	var rows []db.AuditRow
	if err := db.WithScope(ctx, app, auditor, func(tx pgx.Tx) error {
		var err error
		rows, err = db.AuditBySubject(ctx, tx, "subject")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows", len(rows))
	}
	prev := make([]byte, 32)
	for i, r := range rows {
		if r.Seq != int64(i+1) || !bytes.Equal(r.PrevHash, prev) || r.Actor != approver1.Actor || r.Office != "office1" || r.Detail != "détail ✓" {
			t.Errorf("row %d = %+v", i, r)
		}
		if h := db.ChainHash(prev, &r); !bytes.Equal(h, r.Hash) {
			t.Errorf("row %d: Go hash %x, database %x", r.Seq, h, r.Hash)
		}
		prev = r.Hash
	}
	// The canonical encoding, byte for byte, for one fixed row.
	r := db.AuditRow{Seq: 1, At: time.UnixMicro(1700000000123456), AuditEntry: db.AuditEntry{Actor: "a", Action: "bc", Outcome: "ok"}}
	want := []byte("borderid/audit/v1\x00\x00\x00\x00\x00\x00\x00\x01\x00\x06\x0a\x24\x18\x20\x22\x40" +
		"\x00\x00\x00\x01a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02bc\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02ok\x00\x00\x00\x00")
	if got := r.Canonical(); !bytes.Equal(got, want) {
		t.Errorf("Canonical = %x\nwant        %x", got, want)
	}
	var dbEnc []byte
	if err := app.QueryRow(ctx, `SELECT audit_canonical(1, to_timestamp(0) + interval '1700000000.123456 seconds', 'a', '', '', 'bc', '', '', 'ok', '')`).Scan(&dbEnc); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dbEnc, want) {
		t.Errorf("audit_canonical = %x\nwant              %x", dbEnc, want)
	}
	k := newSigner(t)
	dir := t.TempDir()
	if rep := verifyChain(t, ctx, app, k, dir); !rep.OK || rep.Rows != 5 || rep.LastSeq != 5 {
		t.Errorf("verify: %s %q", rep, rep.Problems)
	}
}

func TestAuditCheckpoints(t *testing.T) {
	app, owner := freshDB(t)
	ctx := ctxT(t)
	k := newSigner(t)
	dir := filepath.Join(t.TempDir(), "audit", "checkpoints")
	if cp, err := db.WriteCheckpoint(ctx, app, auditor, k, dir, time.Now()); err != nil || cp != nil {
		t.Fatalf("checkpoint of an empty log: %v %v", cp, err)
	}
	for i := 0; i < 3; i++ {
		if err := audit(ctx, app, clerk1, "create", "s"); err != nil {
			t.Fatal(err)
		}
	}
	cp, err := db.WriteCheckpoint(ctx, app, clerk1, k, dir, time.Now())
	if err != nil || cp == nil || cp.Seq != 3 {
		t.Fatalf("checkpoint: %+v %v", cp, err)
	}
	if again, err := db.WriteCheckpoint(ctx, app, clerk1, k, dir, time.Now()); err != nil || again != nil {
		t.Errorf("second checkpoint of the same row: %+v %v", again, err)
	}
	fi, err := os.Stat(filepath.Join(dir, db.CheckpointFile(3)))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("exported file: %v %v", fi, err)
	}
	files, err := db.ReadCheckpoints(dir)
	if err != nil || len(files) != 1 || files[0].Seq != 3 || !bytes.Equal(files[0].Hash, cp.Hash) || !bytes.Equal(files[0].Signature, cp.Signature) {
		t.Errorf("ReadCheckpoints = %+v %v", files, err)
	}
	// A checkpoint that does not match the chain is refused by the database.
	if _, err := owner.Exec(ctx, `INSERT INTO audit_checkpoints (seq, hash, signature, signer) VALUES (2, $1, '\x01', 'x')`, make([]byte, 32)); sqlState(err) != "BD005" {
		t.Errorf("checkpoint with a wrong hash: %v, want BD005", err)
	}
	if rep := verifyChain(t, ctx, app, k, dir); !rep.OK || rep.Checkpoints != 1 || rep.Exported != 1 {
		t.Errorf("verify: %s %q", rep, rep.Problems)
	}
	// Another key's view: every checkpoint fails.
	wantProblem(t, verifyChain(t, ctx, app, newSigner(t), dir), "not the audit signer")
	// A junk checkpoint row at the head, added by any app-role scope (the
	// database cannot check an ECDSA signature), no longer blocks the
	// signed one; verify reports the junk row.
	if err := audit(ctx, app, clerk1, "create", "s"); err != nil {
		t.Fatal(err)
	}
	if err := db.WithScope(ctx, app, clerk1, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO audit_checkpoints (seq, hash, signature, signer)
			SELECT seq, hash, '\x00', 'junk' FROM audit_head()`)
		return err
	}); err != nil {
		t.Fatalf("junk checkpoint: %v", err)
	}
	if cp4, err := db.WriteCheckpoint(ctx, app, clerk1, k, dir, time.Now()); err != nil || cp4 == nil || cp4.Seq != 4 {
		t.Fatalf("checkpoint beside a junk row: %+v %v", cp4, err)
	}
	rep := verifyChain(t, ctx, app, k, dir)
	wantProblem(t, rep, "checkpoint 4: signed by junk")
	if _, err := os.Stat(filepath.Join(dir, db.CheckpointFile(4))); err != nil {
		t.Errorf("the signed checkpoint beside the junk row was not exported: %v", err)
	}
}

// tamper runs statements as the owner with the append-only defences lifted,
// as an attacker with the owner's rights would.
func tamper(t *testing.T, ctx context.Context, owner *pgxpool.Pool, stmts ...string) {
	t.Helper()
	err := pgx.BeginFunc(ctx, owner, func(tx pgx.Tx) error {
		for _, q := range append([]string{
			`ALTER TABLE audit_log NO FORCE ROW LEVEL SECURITY`,
			`ALTER TABLE audit_log DISABLE TRIGGER USER`,
			`ALTER TABLE audit_checkpoints NO FORCE ROW LEVEL SECURITY`,
			`ALTER TABLE audit_checkpoints DISABLE TRIGGER USER`,
		}, append(stmts,
			`ALTER TABLE audit_log ENABLE TRIGGER USER`,
			`ALTER TABLE audit_log FORCE ROW LEVEL SECURITY`,
			`ALTER TABLE audit_checkpoints ENABLE TRIGGER USER`,
			`ALTER TABLE audit_checkpoints FORCE ROW LEVEL SECURITY`)...) {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// recomputeChain rewrites prev_hash and hash of every row from seq 1, in SQL
// with the database's own function: a forger with owner rights.
const recomputeChain = `DO $$
DECLARE r record; prev bytea := decode(repeat('00', 32), 'hex'); h bytea;
BEGIN
	FOR r IN SELECT * FROM audit_log ORDER BY seq LOOP
		h := sha256(prev || audit_canonical(r.seq, r.at, r.actor, r.role, r.office, r.action, r.purpose, r.subject, r.outcome, r.detail));
		UPDATE audit_log SET prev_hash = prev, hash = h WHERE seq = r.seq;
		prev := h;
	END LOOP;
END $$`

func TestAuditTamperingIsCaught(t *testing.T) {
	setup := func(t *testing.T) (*pgxpool.Pool, *pgxpool.Pool, *ecdsa.PrivateKey, string) {
		app, owner := freshDB(t)
		ctx := ctxT(t)
		k := newSigner(t)
		dir := t.TempDir()
		for i := 1; i <= 10; i++ {
			if err := audit(ctx, app, approver1, "get_face", fmt.Sprintf("app-%d", i)); err != nil {
				t.Fatal(err)
			}
			if i == 4 || i == 8 {
				if _, err := db.WriteCheckpoint(ctx, app, approver1, k, dir, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
		}
		if rep := verifyChain(t, ctx, app, k, dir); !rep.OK || rep.Rows != 10 || rep.Checkpoints != 2 {
			t.Fatalf("before tampering: %s %q", rep, rep.Problems)
		}
		return app, owner, k, dir
	}
	t.Run("changed row", func(t *testing.T) {
		app, owner, k, dir := setup(t)
		ctx := ctxT(t)
		tamper(t, ctx, owner, `UPDATE audit_log SET purpose = 'innocent' WHERE seq = 3`)
		wantProblem(t, verifyChain(t, ctx, app, k, dir), "row 3: hash does not match")
	})
	t.Run("changed row, chain recomputed", func(t *testing.T) {
		app, owner, k, dir := setup(t)
		ctx := ctxT(t)
		tamper(t, ctx, owner, `UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3`, recomputeChain)
		rep := verifyChain(t, ctx, app, k, dir)
		wantProblem(t, rep, "table checkpoint 4 does not match the recomputed chain")
		wantProblem(t, rep, "exported checkpoint 4 does not match")
	})
	t.Run("changed row, chain and checkpoints recomputed", func(t *testing.T) {
		app, owner, k, dir := setup(t)
		ctx := ctxT(t)
		tamper(t, ctx, owner, `UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3`, recomputeChain,
			`UPDATE audit_checkpoints c SET hash = l.hash FROM audit_log l WHERE l.seq = c.seq`)
		rep := verifyChain(t, ctx, app, k, dir)
		wantProblem(t, rep, "table checkpoint 4: bad signature")
		wantProblem(t, rep, "exported checkpoint 4 does not match")
	})
	t.Run("deleted row in the middle, chain recomputed", func(t *testing.T) {
		app, owner, k, dir := setup(t)
		ctx := ctxT(t)
		tamper(t, ctx, owner, `DELETE FROM audit_log WHERE seq = 6`, `UPDATE audit_log SET seq = seq - 1 WHERE seq > 6`, recomputeChain)
		wantProblem(t, verifyChain(t, ctx, app, k, dir), "checkpoint 8 does not match the recomputed chain")
	})
	t.Run("deleted tail past a checkpoint", func(t *testing.T) {
		app, owner, k, dir := setup(t)
		ctx := ctxT(t)
		// Rows 6..10 and the checkpoint at 8 removed from the database:
		// the exported file outlives them.
		tamper(t, ctx, owner, `DELETE FROM audit_log WHERE seq >= 6`, `DELETE FROM audit_checkpoints WHERE seq >= 6`)
		rep := verifyChain(t, ctx, app, k, dir)
		wantProblem(t, rep, "exported checkpoint 8 is beyond the last row 5: rows deleted")
		wantProblem(t, rep, "exported checkpoint 8 is missing from the table")
	})
	t.Run("deleted tail after the last checkpoint is caught once checkpointed", func(t *testing.T) {
		app, owner, k, dir := setup(t)
		ctx := ctxT(t)
		// A checkpoint on verify/shutdown covers row 10; deleting 9..10 then shows.
		if _, err := db.WriteCheckpoint(ctx, app, auditor, k, dir, time.Now()); err != nil {
			t.Fatal(err)
		}
		tamper(t, ctx, owner, `DELETE FROM audit_log WHERE seq >= 9`, `DELETE FROM audit_checkpoints WHERE seq >= 9`)
		wantProblem(t, verifyChain(t, ctx, app, k, dir), "exported checkpoint 10 is beyond the last row 8")
	})
	t.Run("head file catches a deleted tail after the last checkpoint", func(t *testing.T) {
		app, owner, k, dir := setup(t)
		ctx := ctxT(t)
		// Writers record each committed row outside the database (as
		// enrol.Core does): rows 9 and 10 come after the last checkpoint (8).
		var seq int64
		var hash []byte
		for i := 0; i < 2; i++ {
			err := db.WithScope(ctx, app, approver1, func(tx pgx.Tx) error {
				var err error
				seq, hash, err = db.InsertAuditReturning(ctx, tx, db.AuditEntry{Actor: approver1.Actor, Role: approver1.Role,
					Office: approver1.Office, Action: "get_face", Purpose: "test", Outcome: db.OutcomeOK})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.AdvanceHead(dir, seq, hash); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.AdvanceHead(dir, seq-1, hash); err != nil { // never backwards
			t.Fatal(err)
		}
		if h, err := db.ReadHead(dir); err != nil || h.Seq != 12 {
			t.Fatalf("head %+v, %v; want seq 12", h, err)
		}
		if rep := verifyChain(t, ctx, app, k, dir); !rep.OK || rep.Head != 12 {
			t.Fatalf("before tampering: %s %q", rep, rep.Problems)
		}
		tamper(t, ctx, owner, `DELETE FROM audit_log WHERE seq >= 11`)
		wantProblem(t, verifyChain(t, ctx, app, k, dir), "the log reached row 12 (recorded outside the database in head) but ends at row 10: rows deleted")
		// A head torn by a crash is reported, and the next writer replaces it.
		if err := os.WriteFile(filepath.Join(dir, db.HeadFile), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		wantProblem(t, verifyChain(t, ctx, app, k, dir), "is unreadable")
		if err := db.AdvanceHead(dir, 10, hash); err != nil {
			t.Fatalf("a writer after a torn head: %v", err)
		}
		if h, err := db.ReadHead(dir); err != nil || h.Seq != 10 {
			t.Errorf("head after repair: %+v %v", h, err)
		}
	})
	t.Run("exported checkpoint removed", func(t *testing.T) {
		app, _, k, dir := setup(t)
		ctx := ctxT(t)
		if err := os.Remove(filepath.Join(dir, db.CheckpointFile(8))); err != nil {
			t.Fatal(err)
		}
		wantProblem(t, verifyChain(t, ctx, app, k, dir), "checkpoint 8 is missing from the export folder")
	})
}

func TestAuditConcurrentWritersOneChain(t *testing.T) {
	app, _ := freshDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const writers, each = 32, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s := db.Scope{Actor: fmt.Sprintf("writer-%d", w), Role: db.RoleClerk, Office: "office1"}
			for i := 0; i < each; i++ {
				if err := audit(ctx, app, s, "create", fmt.Sprintf("%d-%d", w, i)); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	k := newSigner(t)
	rep := verifyChain(t, ctx, app, k, t.TempDir())
	if !rep.OK || rep.Rows != writers*each || rep.LastSeq != writers*each {
		t.Errorf("after %d concurrent writers: %s %q", writers, rep, rep.Problems)
	}
}

// FuzzReadCheckpoints: an exported checkpoint file is parsed without panic
// and, when accepted, names the seq its file name says.
func FuzzReadCheckpoints(f *testing.F) {
	f.Add([]byte(`{"seq":3,"hash":"00","at":"2026-01-01T00:00:00Z","signature":"AQ==","signer":"ab"}`))
	f.Add([]byte(`{"seq":-1,"hash":"zz"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, db.CheckpointFile(3)), b, 0o600); err != nil {
			t.Fatal(err)
		}
		cps, err := db.ReadCheckpoints(dir)
		if err == nil && (len(cps) != 1 || cps[0].Seq != 3) {
			t.Errorf("accepted %q as %+v", b, cps)
		}
	})
}

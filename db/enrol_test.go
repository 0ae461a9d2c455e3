package db_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"borderid/db"
	"borderid/db/dbtest"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	clerk1    = db.Scope{Actor: "clerk-office1", Role: db.RoleClerk, Office: "office1"}
	approver1 = db.Scope{Actor: "approver-office1", Role: db.RoleApprover, Office: "office1"}
	clerk2    = db.Scope{Actor: "clerk-office2", Role: db.RoleClerk, Office: "office2"}
	approver2 = db.Scope{Actor: "approver-office2", Role: db.RoleApprover, Office: "office2"}
	issuer    = db.Scope{Actor: "issuer", Role: db.RoleIssuer}
	auditor   = db.Scope{Actor: "auditor", Role: db.RoleAuditor}
	rotator   = db.Scope{Actor: "keys-rotate", Role: db.RoleRotator}
)

// newUUID is a random (version 4) UUID; crypto/rand.Read never fails.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexd = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexd[c>>4], hexd[c&15])
	}
	return string(out)
}

func newApp(t *testing.T, ctx context.Context, pool *pgxpool.Pool, s db.Scope) string {
	t.Helper()
	var id string
	err := db.WithScope(ctx, pool, s, func(tx pgx.Tx) error {
		var err error
		id, err = db.CreateApplication(ctx, tx, &db.Application{Office: s.Office, Surname: "ERIKSSON", GivenNames: "ANNA MARIA",
			Sex: "F", DateOfBirth: time.Date(1974, 8, 12, 0, 0, 0, 0, time.UTC), Nationality: "UTO", DocumentType: "P", CreatedBy: s.Actor})
		return err
	})
	if err != nil {
		t.Fatalf("create application: %v", err)
	}
	return id
}

func putBio(ctx context.Context, pool *pgxpool.Pool, s db.Scope, appID, kind string, pos int, ct []byte) error {
	return db.WithScope(ctx, pool, s, func(tx pgx.Tx) error {
		return db.PutBiometric(ctx, tx, &db.Biometric{ID: newUUID(), ApplicationID: appID, Office: s.Office, Kind: kind, Position: pos,
			Format: "image/jpeg", Bytes: len(ct), KEKVersion: 1, WrappedKey: []byte("wrapped"), Nonce: make([]byte, 24), Ciphertext: ct, CreatedBy: s.Actor})
	})
}

func advance(ctx context.Context, pool *pgxpool.Pool, s db.Scope, id, from, to string) error {
	return db.WithScope(ctx, pool, s, func(tx pgx.Tx) error {
		return db.AdvanceApplication(ctx, tx, id, from, to, s.Actor, time.Now())
	})
}

func visible(t *testing.T, ctx context.Context, pool *pgxpool.Pool, s *db.Scope, q string, args ...any) int {
	t.Helper()
	var n int
	run := func(tx pgx.Tx) error { return tx.QueryRow(ctx, q, args...).Scan(&n) }
	var err error
	if s == nil {
		err = pgx.BeginFunc(ctx, pool, run)
	} else {
		err = db.WithScope(ctx, pool, *s, run)
	}
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestScopeIsTransactionLocal(t *testing.T) {
	app := dbtest.Pool(t, db.App)
	ctx := ctxT(t)
	conn, err := app.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	var inside string
	if err := db.WithScope(ctx, conn, clerk1, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT current_setting('borderid.office', true) || '/' || current_setting('borderid.role', true) || '/' || current_setting('borderid.actor', true)`).Scan(&inside)
	}); err != nil {
		t.Fatal(err)
	}
	if inside != "office1/clerk/clerk-office1" {
		t.Errorf("inside the transaction: %q", inside)
	}
	// The same pooled connection after commit carries nothing.
	var after *string
	if err := conn.QueryRow(ctx, `SELECT nullif(coalesce(current_setting('borderid.office', true), '') || coalesce(current_setting('borderid.role', true), '') || coalesce(current_setting('borderid.actor', true), ''), '')`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != nil {
		t.Errorf("after commit the connection still has %q", *after)
	}
	// A rolled-back scope leaves nothing either.
	_ = db.WithScope(ctx, conn, approver1, func(tx pgx.Tx) error { return errors.New("roll back") })
	if err := conn.QueryRow(ctx, `SELECT nullif(coalesce(current_setting('borderid.role', true), ''), '')`).Scan(&after); err != nil || after != nil {
		t.Errorf("after rollback: %v %v", after, err)
	}
	for _, s := range []db.Scope{{Role: db.RoleClerk, Office: "office1"}, {Actor: "x", Role: "admin"}, {Actor: "x", Role: "CLERK"}} {
		if err := db.WithScope(ctx, app, s, func(pgx.Tx) error { return nil }); !errors.Is(err, db.ErrScope) {
			t.Errorf("WithScope(%+v) = %v, want ErrScope", s, err)
		}
	}
}

func TestForceRLSOnEnrolmentTables(t *testing.T) {
	owner := dbtest.Pool(t, db.Owner)
	ctx := ctxT(t)
	for _, table := range []string{"applications", "biometrics", "documents", "audit_log", "audit_checkpoints"} {
		var rls, force bool
		var own string
		if err := owner.QueryRow(ctx, `SELECT relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner) FROM pg_class
			WHERE oid = ('public.' || $1)::regclass`, table).Scan(&rls, &force, &own); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if !rls || !force || own != db.Owner.String() {
			t.Errorf("%s: relrowsecurity=%v relforcerowsecurity=%v owner=%s", table, rls, force, own)
		}
		var del, trunc bool
		if err := owner.QueryRow(ctx, `SELECT has_table_privilege($1, $2, 'DELETE'), has_table_privilege($1, $2, 'TRUNCATE')`,
			db.App.String(), table).Scan(&del, &trunc); err != nil || del || trunc {
			t.Errorf("%s: app role DELETE=%v TRUNCATE=%v (%v)", table, del, trunc, err)
		}
	}
}

func TestEnrolmentRLSByOfficeAndRole(t *testing.T) {
	app := dbtest.Pool(t, db.App)
	ctx := ctxT(t)
	id := newApp(t, ctx, app, clerk1)
	if err := putBio(ctx, app, clerk1, id, "face", 0, []byte("ciphertext")); err != nil {
		t.Fatal(err)
	}
	qa := `SELECT count(*) FROM applications WHERE id = $1::uuid`
	qb := `SELECT count(*) FROM biometrics WHERE application_id = $1::uuid`
	for _, tc := range []struct {
		name       string
		s          *db.Scope
		apps, bios int
	}{
		{"no scope", nil, 0, 0},
		{"clerk office1", &clerk1, 1, 1},
		{"approver office1", &approver1, 1, 1},
		{"clerk office2", &clerk2, 0, 0},
		{"approver office2", &approver2, 0, 0},
		{"issuer before approval", &issuer, 0, 0},
		{"auditor", &auditor, 0, 0},
		{"border", &db.Scope{Actor: "border-post1", Role: db.RoleBorder}, 0, 0},
		{"clerk with office1 but role border", &db.Scope{Actor: "x", Role: db.RoleBorder, Office: "office1"}, 0, 0},
	} {
		if n := visible(t, ctx, app, tc.s, qa, id); n != tc.apps {
			t.Errorf("%s sees %d applications, want %d", tc.name, n, tc.apps)
		}
		if n := visible(t, ctx, app, tc.s, qb, id); n != tc.bios {
			t.Errorf("%s sees %d biometrics, want %d", tc.name, n, tc.bios)
		}
	}
	// Without a scope nothing at all is visible, whatever the table.
	for _, q := range []string{`SELECT count(*) FROM applications`, `SELECT count(*) FROM biometrics`,
		`SELECT count(*) FROM documents`, `SELECT count(*) FROM audit_log`, `SELECT count(*) FROM audit_checkpoints`} {
		if n := visible(t, ctx, app, nil, q); n != 0 {
			t.Errorf("no scope: %s = %d", q, n)
		}
	}
	// Another office can neither write its own rows into office1's
	// application nor advance it.
	if err := putBio(ctx, app, clerk2, id, "finger", 1, []byte("x")); !errors.Is(err, db.ErrDenied) {
		t.Errorf("clerk office2 adds a biometric to office1: %v, want ErrDenied", err)
	}
	if err := advance(ctx, app, clerk2, id, db.StateDraft, db.StateFinalized); !errors.Is(err, db.ErrWrongState) {
		t.Errorf("clerk office2 finalizes office1: %v, want no row (ErrWrongState)", err)
	}
	// A clerk cannot create for another office than its scope's.
	err := db.WithScope(ctx, app, clerk2, func(tx pgx.Tx) error {
		_, err := db.CreateApplication(ctx, tx, &db.Application{Office: "office1", Surname: "X", Sex: "M",
			DateOfBirth: time.Now(), Nationality: "UTO", DocumentType: "P", CreatedBy: clerk2.Actor})
		return err
	})
	if !errors.Is(err, db.ErrDenied) {
		t.Errorf("clerk office2 creates in office1: %v, want ErrDenied", err)
	}
	// An approver cannot create at all.
	err = db.WithScope(ctx, app, approver1, func(tx pgx.Tx) error {
		_, err := db.CreateApplication(ctx, tx, &db.Application{Office: "office1", Surname: "X", Sex: "M",
			DateOfBirth: time.Now(), Nationality: "UTO", DocumentType: "P", CreatedBy: approver1.Actor})
		return err
	})
	if !errors.Is(err, db.ErrDenied) {
		t.Errorf("approver creates: %v, want ErrDenied", err)
	}
	// The issuer sees it once approved.
	if err := advance(ctx, app, clerk1, id, db.StateDraft, db.StateFinalized); err != nil {
		t.Fatal(err)
	}
	if err := advance(ctx, app, approver1, id, db.StateFinalized, db.StateApproved); err != nil {
		t.Fatal(err)
	}
	if n := visible(t, ctx, app, &issuer, qa, id); n != 1 {
		t.Errorf("issuer sees %d approved applications, want 1", n)
	}
	if n := visible(t, ctx, app, &issuer, qb, id); n != 1 {
		t.Errorf("issuer sees %d biometrics of an approved application, want 1", n)
	}
	if n := visible(t, ctx, app, &clerk2, qa, id); n != 0 {
		t.Errorf("clerk office2 sees the approved application")
	}
}

func TestApplicationStateMachine(t *testing.T) {
	app := dbtest.Pool(t, db.App)
	ctx := ctxT(t)
	id := newApp(t, ctx, app, clerk1)
	// Skipping a state, or the wrong role for a transition, is refused.
	if err := advance(ctx, app, approver1, id, db.StateDraft, db.StateApproved); !errors.Is(err, db.ErrWrongState) {
		t.Errorf("draft -> approved: %v", err)
	}
	if err := advance(ctx, app, approver1, id, db.StateDraft, db.StateFinalized); !errors.Is(err, db.ErrWrongState) {
		t.Errorf("approver finalizes: %v", err)
	}
	// The recorded actor must be the scope's actor.
	err := db.WithScope(ctx, app, clerk1, func(tx pgx.Tx) error {
		return db.AdvanceApplication(ctx, tx, id, db.StateDraft, db.StateFinalized, "someone-else", time.Now())
	})
	if !errors.Is(err, db.ErrWrongState) {
		t.Errorf("finalize in another's name: %v", err)
	}
	if err := advance(ctx, app, clerk1, id, db.StateDraft, db.StateFinalized); err != nil {
		t.Fatal(err)
	}
	// Biometrics only while draft.
	if err := putBio(ctx, app, clerk1, id, "face", 0, []byte("late")); !errors.Is(err, db.ErrDenied) {
		t.Errorf("biometric after finalize: %v, want ErrDenied", err)
	}
	// No self-approval, enforced by the database too: the finalizer acting
	// as approver (the clerk-approver-office1 certificate).
	self := db.Scope{Actor: clerk1.Actor, Role: db.RoleApprover, Office: "office1"}
	if err := advance(ctx, app, self, id, db.StateFinalized, db.StateApproved); !errors.Is(err, db.ErrSelfApproval) {
		t.Errorf("self-approval: %v, want ErrSelfApproval", err)
	}
	// The app role may not touch demographics at all (no column grant).
	err = db.WithScope(ctx, app, clerk1, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE applications SET surname = 'MALLORY' WHERE id = $1::uuid`, id)
		return err
	})
	if sqlState(err) != "42501" {
		t.Errorf("update demographics: %v, want 42501", err)
	}
	err = db.WithScope(ctx, app, clerk1, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM applications WHERE id = $1::uuid`, id)
		return err
	})
	if sqlState(err) != "42501" {
		t.Errorf("delete application: %v, want 42501", err)
	}
	if err := advance(ctx, app, approver1, id, db.StateFinalized, db.StateApproved); err != nil {
		t.Fatal(err)
	}
	// Back to draft is refused.
	err = db.WithScope(ctx, app, approver1, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE applications SET state = 'draft', approved_by = NULL, approved_at = NULL, finalized_by = NULL, finalized_at = NULL WHERE id = $1::uuid`, id)
		return err
	})
	if sqlState(err) != "BD001" {
		t.Errorf("approved -> draft: %v, want BD001", err)
	}
	// Actors change only with their state: the approver cannot rewrite
	// who approved (or finalized) without a state change.
	for _, q := range []string{
		`UPDATE applications SET approved_by = 'someone-else' WHERE id = $1::uuid`,
		`UPDATE applications SET finalized_by = 'someone-else' WHERE id = $1::uuid`,
	} {
		err = db.WithScope(ctx, app, approver1, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, q, id); return err })
		if sqlState(err) != "BD001" {
			t.Errorf("%s: %v, want BD001", q, err)
		}
	}
	var a *db.Application
	if err := db.WithScope(ctx, app, approver1, func(tx pgx.Tx) error {
		var err error
		a, err = db.GetApplication(ctx, tx, id, false)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if a.State != db.StateApproved || a.CreatedBy != clerk1.Actor || a.FinalizedBy != clerk1.Actor || a.ApprovedBy != approver1.Actor ||
		a.Surname != "ERIKSSON" || !a.DateOfBirth.Equal(time.Date(1974, 8, 12, 0, 0, 0, 0, time.UTC)) || a.ApprovedAt.IsZero() {
		t.Errorf("application = %+v", a)
	}
	// Not a UUID, or absent: not found.
	for _, bad := range []string{"nope", newUUID()} {
		err := db.WithScope(ctx, app, approver1, func(tx pgx.Tx) error { _, err := db.GetApplication(ctx, tx, bad, false); return err })
		if !errors.Is(err, db.ErrNotFound) {
			t.Errorf("GetApplication(%q) = %v, want ErrNotFound", bad, err)
		}
	}
}

func TestBiometricsReplaceEraseRewrap(t *testing.T) {
	app := dbtest.Pool(t, db.App)
	ctx := ctxT(t)
	id := newApp(t, ctx, app, clerk1)
	if err := putBio(ctx, app, clerk1, id, "finger", 3, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := putBio(ctx, app, clerk1, id, "finger", 3, []byte("second")); err != nil {
		t.Fatal(err)
	}
	var list []db.Biometric
	if err := db.WithScope(ctx, app, clerk1, func(tx pgx.Tx) error {
		var err error
		list, err = db.ListBiometrics(ctx, tx, id, true)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || string(list[0].Ciphertext) != "second" || list[0].Position != 3 {
		t.Fatalf("live records = %+v", list)
	}
	owner := dbtest.Pool(t, db.Owner)
	_ = owner
	if n := visible(t, ctx, app, &clerk1, `SELECT count(*) FROM biometrics WHERE application_id = $1::uuid AND erased_at IS NOT NULL AND wrapped_key IS NULL`, id); n != 1 {
		t.Errorf("%d erased records (wrapped key destroyed), want 1", n)
	}
	// An erased record stays erased: its erasure cannot be redone or undone.
	err := db.WithScope(ctx, app, clerk1, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE biometrics SET erased_at = now() WHERE erased_at IS NOT NULL AND application_id = $1::uuid`, id)
		return err
	})
	if sqlState(err) != "BD001" {
		t.Errorf("touching an erased record: %v, want BD001", err)
	}
	for _, q := range []string{
		`UPDATE biometrics SET ciphertext = '\x00' WHERE application_id = $1::uuid`,
		`UPDATE biometrics SET office = 'office2' WHERE application_id = $1::uuid`,
		`DELETE FROM biometrics WHERE application_id = $1::uuid`,
	} {
		err := db.WithScope(ctx, app, clerk1, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, q, id); return err })
		if sqlState(err) != "42501" {
			t.Errorf("%s: %v, want 42501", q, err)
		}
	}
	// Rotation: the rotator scope rewraps; the version only goes up; an
	// office role cannot rewrap.
	bid := list[0].ID
	err = db.WithScope(ctx, app, clerk1, func(tx pgx.Tx) error { return db.RewrapBiometric(ctx, tx, bid, 1, 2, []byte("w2")) })
	if !errors.Is(err, db.ErrWrongState) && !errors.Is(err, db.ErrDenied) {
		t.Errorf("clerk rewraps: %v", err)
	}
	// The rotator scope claimed by the app role (a compromised service
	// connection) reads and changes nothing (migration 0008).
	if n := visible(t, ctx, app, &rotator, `SELECT count(*) FROM biometrics`); n != 0 {
		t.Errorf("app role in the rotator scope sees %d biometric rows, want 0", n)
	}
	err = db.WithScope(ctx, app, rotator, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE biometrics SET wrapped_key = '\x00', kek_version = 2147483647 WHERE erased_at IS NULL`)
		if err == nil && tag.RowsAffected() != 0 {
			return fmt.Errorf("%d rows wrecked", tag.RowsAffected())
		}
		return err
	})
	if err != nil && sqlState(err) != "42501" {
		t.Errorf("app role as rotator: %v", err)
	}
	rot := dbtest.Pool(t, db.Rotator)
	var keys []db.BiometricKey
	if err := db.WithScope(ctx, rot, rotator, func(tx pgx.Tx) error {
		var err error
		keys, err = db.BiometricKeysBelow(ctx, tx, 2, "", 1000000)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := db.RewrapBiometric(ctx, tx, k.ID, k.KEKVersion, 2, []byte("w2")); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, k := range keys {
		found = found || k.ID == bid
	}
	if !found {
		t.Errorf("rotation did not list record %s", bid)
	}
	err = db.WithScope(ctx, rot, rotator, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE biometrics SET kek_version = 1 WHERE id = $1::uuid`, bid)
		return err
	})
	if sqlState(err) != "BD001" {
		t.Errorf("KEK version down: %v, want BD001", err)
	}
	if err := db.WithScope(ctx, rot, rotator, func(tx pgx.Tx) error {
		var err error
		keys, err = db.BiometricKeysBelow(ctx, tx, 2, "", 1000000)
		return err
	}); err != nil || len(keys) != 0 {
		t.Errorf("after rotation %d records below v2 (%v)", len(keys), err)
	}
}

func TestDocumentStatusOneWay(t *testing.T) {
	app := dbtest.Pool(t, db.App)
	ctx := ctxT(t)
	id := newApp(t, ctx, app, clerk1)
	for _, st := range [][2]string{{db.StateDraft, db.StateFinalized}, {db.StateFinalized, db.StateApproved}} {
		s := clerk1
		if st[1] == db.StateApproved {
			s = approver1
		}
		if err := advance(ctx, app, s, id, st[0], st[1]); err != nil {
			t.Fatal(err)
		}
	}
	idx := sha256.Sum256([]byte("index " + id))
	issue := func(s db.Scope) error {
		return db.WithScope(ctx, app, s, func(tx pgx.Tx) error {
			if err := db.InsertDocument(ctx, tx, &db.Document{NumberIndex: idx[:], ApplicationID: id, Office: "office1", ChipID: "chip-" + id,
				DateOfBirth: time.Date(1974, 8, 12, 0, 0, 0, 0, time.UTC), DateOfExpiry: time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC),
				DocumentType: "P", IssuedAt: time.Now(), IssuedBy: s.Actor}); err != nil {
				return err
			}
			return db.AdvanceApplication(ctx, tx, id, db.StateApproved, db.StateIssued, s.Actor, time.Now())
		})
	}
	if err := issue(approver2); !errors.Is(err, db.ErrDenied) {
		t.Errorf("approver office2 issues office1's: %v, want ErrDenied", err)
	}
	if err := issue(issuer); err != nil {
		t.Fatal(err)
	}
	set := func(s db.Scope, status string) error {
		return db.WithScope(ctx, app, s, func(tx pgx.Tx) error { return db.SetDocumentStatus(ctx, tx, idx[:], status, time.Now()) })
	}
	steps := []struct {
		s      db.Scope
		status string
		want   error
	}{
		{approver2, db.StatusLost, db.ErrNotFound}, // out of scope
		{clerk1, db.StatusLost, db.ErrNotFound},    // wrong role: no UPDATE policy
		{approver1, db.StatusValid, db.ErrStatusOneWay},
		{approver1, db.StatusLost, nil},
		{approver1, db.StatusLost, db.ErrStatusOneWay},
		{approver1, db.StatusValid, db.ErrStatusOneWay},
		{approver1, db.StatusStolen, nil},
		{approver1, db.StatusLost, db.ErrStatusOneWay},
		{approver1, db.StatusRevoked, nil},
		{approver1, db.StatusStolen, db.ErrStatusOneWay},
		{approver1, "FOUND", db.ErrStatusOneWay},
	}
	for i, st := range steps {
		err := set(st.s, st.status)
		if (st.want == nil) != (err == nil) || (st.want != nil && !errors.Is(err, st.want)) {
			t.Errorf("step %d: %s sets %s: %v, want %v", i, st.s.Actor, st.status, err, st.want)
		}
	}
	var d *db.Document
	if err := db.WithScope(ctx, app, approver1, func(tx pgx.Tx) error {
		var err error
		d, err = db.DocumentByIndex(ctx, tx, idx[:], false)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if d.Status != db.StatusRevoked || d.ApplicationID != id || d.IssuedBy != "issuer" || !bytes.Equal(d.NumberIndex, idx[:]) {
		t.Errorf("document = %+v", d)
	}
	// Nothing else of a document changes, and nobody deletes one.
	for _, q := range []string{`UPDATE documents SET chip_id = 'other' WHERE number_index = $1`, `DELETE FROM documents WHERE number_index = $1`} {
		err := db.WithScope(ctx, app, approver1, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, q, idx[:]); return err })
		if sqlState(err) != "42501" {
			t.Errorf("%s: %v, want 42501", q, err)
		}
	}
	if n := visible(t, ctx, app, &issuer, `SELECT count(*) FROM applications WHERE id = $1::uuid AND state = 'issued'`, id); n != 1 {
		t.Errorf("issued application visible to the issuer: %d", n)
	}
}

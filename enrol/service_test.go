package enrol_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"borderid/db"
	"borderid/db/dbtest"
	"borderid/enrol"
	"borderid/enrol/biometric"
	"borderid/internal/envelope/envelopetest"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var (
	clerk1         = enrol.Principal{Subject: "clerk-office1", Roles: []string{"clerk"}, Office: "office1", Country: "UT"}
	approver1      = enrol.Principal{Subject: "approver-office1", Roles: []string{"approver"}, Office: "office1", Country: "UT"}
	clerkApprover1 = enrol.Principal{Subject: "clerk-approver-office1", Roles: []string{"clerk", "approver"}, Office: "office1", Country: "UT"}
	clerk2         = enrol.Principal{Subject: "clerk-office2", Roles: []string{"clerk"}, Office: "office2", Country: "UT"}
	approver2      = enrol.Principal{Subject: "approver-office2", Roles: []string{"approver"}, Office: "office2", Country: "UT"}
	issuer         = enrol.Principal{Subject: "issuer", Roles: []string{"issuer"}, Country: "UT"}
	border         = enrol.Principal{Subject: "border-post1", Roles: []string{"border"}, Country: "UT"}
	auditor        = enrol.Principal{Subject: "auditor", Roles: []string{"auditor"}, Country: "UT"}
	// An office role without an office in its certificate.
	clerkNoOffice = enrol.Principal{Subject: "clerk-nowhere", Roles: []string{"clerk"}, Country: "UT"}
)

var person = enrol.NewApplication{Surname: "ERIKSSON", GivenNames: "ANNA MARIA", Sex: "F", DateOfBirth: "1974-08-12",
	Nationality: "UTO", DocumentType: "P"}

type env struct {
	svc    *enrol.Core
	app    *pgxpool.Pool
	owner  *pgxpool.Pool
	kw     *envelopetest.Wrapper
	key    *ecdsa.PrivateKey
	dir    string
	face   []byte
	mu     sync.Mutex
	issued []enrol.IssueRequest
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newEnvWith(t testing.TB, app, owner *pgxpool.Pool) *env { return newEnvEvery(t, app, owner, 1000) }

func newEnvEvery(t testing.TB, app, owner *pgxpool.Pool, every int) *env {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{app: app, owner: owner, kw: envelopetest.NewWrapper(t), key: key,
		dir: filepath.Join(t.TempDir(), "audit", "checkpoints"), face: biometric.SyntheticJPEG(300, 400)}
	e.svc, err = enrol.New(enrol.Config{Pool: app, Wrapper: e.kw, Indexer: envelopetest.NewIndexer(t), AuditSigner: key,
		CheckpointDir: e.dir, CheckpointEvery: every,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		IssueChip: func(ctx context.Context, r enrol.IssueRequest) (string, error) {
			e.mu.Lock()
			defer e.mu.Unlock()
			// The service zeroes the decrypted buffers once IssueChip
			// returns: keep a copy.
			f := *r.Face
			f.Image = bytes.Clone(f.Image)
			r.Face = &f
			e.issued = append(e.issued, r)
			return fmt.Sprintf("chip%04d", len(e.issued)), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func newEnv(t testing.TB) *env {
	return newEnvWith(t, dbtest.Pool(t, db.App), dbtest.Pool(t, db.Owner))
}

func finger(pos int) []byte {
	return biometric.FingerRecord(pos, 200, 250, biometric.CompressionWSQ, biometric.WSQFrame(200, 250))
}

func minutiae(pos int) []byte {
	return biometric.MinutiaeRecord(pos, 200, 250, []biometric.Minutia{{Type: 1, X: 10, Y: 20, Angle: 30, Quality: 50}, {Type: 2, X: 100, Y: 120, Angle: 60, Quality: 60}})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// at makes an office1 enrolment in state (draft with a face, finalized,
// approved, issued) by clerk1/approver1 and returns its id (and the
// document number once issued).
func (e *env) at(t testing.TB, state string) (id, number string) {
	t.Helper()
	ctx := ctxT(t)
	id, err := e.svc.Create(ctx, clerk1, person)
	must(t, err)
	must(t, e.svc.PutFace(ctx, clerk1, id, biometric.ContentTypeJPEG, e.face))
	if state == db.StateDraft {
		return id, ""
	}
	must(t, e.svc.Finalize(ctx, clerk1, id))
	if state == db.StateFinalized {
		return id, ""
	}
	must(t, e.svc.Approve(ctx, approver1, id))
	if state == db.StateApproved {
		return id, ""
	}
	r, err := e.svc.Issue(ctx, approver1, id)
	must(t, err)
	return id, r.DocumentNumber
}

// lastSeq is the newest audit seq (owner's read).
func (e *env) lastSeq(t testing.TB) int64 {
	var n int64
	must(t, e.owner.QueryRow(ctxT(t), `SELECT coalesce(max(seq), 0) FROM audit_log`).Scan(&n))
	return n
}

// rowsSince returns the audit rows after seq, as "actor action outcome detail".
func (e *env) rowsSince(t testing.TB, seq int64) []string {
	rows, err := e.owner.Query(ctxT(t), `SELECT actor || ' ' || action || ' ' || outcome || ' ' || detail || ' ' || subject FROM audit_log WHERE seq > $1 ORDER BY seq`, seq)
	must(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	must(t, err)
	return out
}

func statusOf(err error) int {
	if err == nil {
		return 0
	}
	var e *enrol.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return -1
}

func codeOf(err error) string {
	var e *enrol.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// TestRoleActionOfficeMatrix: every action x role x office: 403 for a
// role that may not, 404 outside the office (as for an absent record),
// every denial audited; the allowed ones succeed and are audited ok.
func TestRoleActionOfficeMatrix(t *testing.T) {
	e := newEnv(t)
	type action struct {
		name  string
		audit string
		state string // the office1 enrolment it needs ("" none)
		call  func(ctx context.Context, p enrol.Principal, id, number string) error
	}
	actions := []action{
		{"create", enrol.ActionCreate, "", func(ctx context.Context, p enrol.Principal, _, _ string) error {
			_, err := e.svc.Create(ctx, p, person)
			return err
		}},
		{"put_face", enrol.ActionPutFace, db.StateDraft, func(ctx context.Context, p enrol.Principal, id, _ string) error {
			return e.svc.PutFace(ctx, p, id, biometric.ContentTypeJPEG, e.face)
		}},
		{"put_finger", enrol.ActionPutFinger, db.StateDraft, func(ctx context.Context, p enrol.Principal, id, _ string) error {
			return e.svc.PutFinger(ctx, p, id, 2, biometric.ContentTypeFinger, finger(2))
		}},
		{"put_minutiae", enrol.ActionPutMinutiae, db.StateDraft, func(ctx context.Context, p enrol.Principal, id, _ string) error {
			return e.svc.PutMinutiae(ctx, p, id, 2, biometric.ContentTypeMinutiae, minutiae(2))
		}},
		{"finalize", enrol.ActionFinalize, db.StateDraft, func(ctx context.Context, p enrol.Principal, id, _ string) error {
			return e.svc.Finalize(ctx, p, id)
		}},
		{"approve", enrol.ActionApprove, db.StateFinalized, func(ctx context.Context, p enrol.Principal, id, _ string) error {
			return e.svc.Approve(ctx, p, id)
		}},
		{"issue", enrol.ActionIssue, db.StateApproved, func(ctx context.Context, p enrol.Principal, id, _ string) error {
			_, err := e.svc.Issue(ctx, p, id)
			return err
		}},
		{"get", enrol.ActionGet, db.StateDraft, func(ctx context.Context, p enrol.Principal, id, _ string) error {
			_, err := e.svc.Get(ctx, p, id)
			return err
		}},
		{"get_face", enrol.ActionGetFace, db.StateDraft, func(ctx context.Context, p enrol.Principal, id, _ string) error {
			_, _, err := e.svc.GetFace(ctx, p, id, "matrix test")
			return err
		}},
		{"set_status", enrol.ActionSetStatus, db.StateIssued, func(ctx context.Context, p enrol.Principal, _, number string) error {
			return e.svc.SetDocumentStatus(ctx, p, number, "LOST", time.Time{})
		}},
		{"access_log", enrol.ActionAccessLog, db.StateDraft, func(ctx context.Context, p enrol.Principal, id, _ string) error {
			_, err := e.svc.AccessLog(ctx, p, id)
			return err
		}},
		{"verify", enrol.ActionVerify, "", func(ctx context.Context, p enrol.Principal, _, _ string) error {
			_, err := e.svc.VerifyAudit(ctx, p)
			return err
		}},
	}
	principals := []struct {
		name string
		p    enrol.Principal
	}{
		{"clerk-office1", clerk1}, {"approver-office1", approver1}, {"clerk-office2", clerk2}, {"approver-office2", approver2},
		{"issuer", issuer}, {"border", border}, {"auditor", auditor}, {"clerk-no-office", clerkNoOffice},
	}
	// want[action][principal]: 0 allowed, 403, 404.
	want := map[string]map[string]int{
		"create":       {"clerk-office1": 0, "approver-office1": 403, "clerk-office2": 0, "approver-office2": 403, "issuer": 403, "border": 403, "auditor": 403, "clerk-no-office": 403},
		"put_face":     {"clerk-office1": 0, "approver-office1": 403, "clerk-office2": 404, "approver-office2": 403, "issuer": 403, "border": 403, "auditor": 403, "clerk-no-office": 403},
		"put_finger":   {"clerk-office1": 0, "approver-office1": 403, "clerk-office2": 404, "approver-office2": 403, "issuer": 403, "border": 403, "auditor": 403, "clerk-no-office": 403},
		"put_minutiae": {"clerk-office1": 0, "approver-office1": 403, "clerk-office2": 404, "approver-office2": 403, "issuer": 403, "border": 403, "auditor": 403, "clerk-no-office": 403},
		"finalize":     {"clerk-office1": 0, "approver-office1": 403, "clerk-office2": 404, "approver-office2": 403, "issuer": 403, "border": 403, "auditor": 403, "clerk-no-office": 403},
		"approve":      {"clerk-office1": 403, "approver-office1": 0, "clerk-office2": 403, "approver-office2": 404, "issuer": 403, "border": 403, "auditor": 403, "clerk-no-office": 403},
		"issue":        {"clerk-office1": 403, "approver-office1": 0, "clerk-office2": 403, "approver-office2": 404, "issuer": 0, "border": 403, "auditor": 403, "clerk-no-office": 403},
		// The issuer sees only approved and issued enrolments: a draft is 404.
		"get":        {"clerk-office1": 0, "approver-office1": 0, "clerk-office2": 404, "approver-office2": 404, "issuer": 404, "border": 403, "auditor": 403, "clerk-no-office": 403},
		"get_face":   {"clerk-office1": 403, "approver-office1": 0, "clerk-office2": 403, "approver-office2": 404, "issuer": 403, "border": 403, "auditor": 403, "clerk-no-office": 403},
		"set_status": {"clerk-office1": 403, "approver-office1": 0, "clerk-office2": 403, "approver-office2": 404, "issuer": 403, "border": 403, "auditor": 403, "clerk-no-office": 403},
		"access_log": {"clerk-office1": 403, "approver-office1": 403, "clerk-office2": 403, "approver-office2": 403, "issuer": 403, "border": 403, "auditor": 0, "clerk-no-office": 403},
		"verify":     {"clerk-office1": 403, "approver-office1": 403, "clerk-office2": 403, "approver-office2": 403, "issuer": 403, "border": 403, "auditor": 0, "clerk-no-office": 403},
	}
	for _, a := range actions {
		for _, pr := range principals {
			t.Run(a.name+"/"+pr.name, func(t *testing.T) {
				ctx := ctxT(t)
				var id, number string
				if a.state != "" {
					id, number = e.at(t, a.state)
				}
				before := e.lastSeq(t)
				err := a.call(ctx, pr.p, id, number)
				w := want[a.name][pr.name]
				if got := statusOf(err); got != w {
					t.Fatalf("status %d (%v), want %d", got, err, w)
				}
				rows := e.rowsSince(t, before)
				outcome := "ok"
				if w != 0 {
					outcome = "denied"
				}
				prefix := pr.p.Subject + " " + a.audit + " " + outcome
				found := false
				for _, r := range rows {
					found = found || strings.HasPrefix(r, prefix)
				}
				if !found {
					t.Errorf("no audit row %q in %q", prefix, rows)
				}
				if w == 404 && id != "" {
					// Indistinguishable from an absent record.
					err2 := a.call(ctx, pr.p, "00000000-0000-4000-8000-000000000000", "ZZZZZZZZ9")
					if statusOf(err2) != 404 || codeOf(err2) != codeOf(err) {
						t.Errorf("absent record: %v; out of scope: %v", err2, err)
					}
				}
				if w == 403 && !errors.Is(err, enrol.ErrForbidden) || w == 404 && !errors.Is(err, enrol.ErrNotFound) {
					t.Errorf("error %v does not wrap the sentinel", err)
				}
			})
		}
	}
}

func TestNoSelfApproval(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	mk := func(creator, finalizer enrol.Principal) string {
		id, err := e.svc.Create(ctx, creator, person)
		must(t, err)
		must(t, e.svc.PutFace(ctx, creator, id, biometric.ContentTypeJPEG, e.face))
		must(t, e.svc.Finalize(ctx, finalizer, id))
		return id
	}
	for _, tc := range []struct {
		name               string
		creator, finalizer enrol.Principal
	}{
		{"created and finalized by the clerk-approver", clerkApprover1, clerkApprover1},
		{"created by the clerk-approver", clerkApprover1, clerk1},
		{"finalized by the clerk-approver", clerk1, clerkApprover1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := mk(tc.creator, tc.finalizer)
			before := e.lastSeq(t)
			err := e.svc.Approve(ctx, clerkApprover1, id)
			if statusOf(err) != 403 || codeOf(err) != enrol.CodeSelfApproval {
				t.Fatalf("self-approval: %v, want 403 self_approval", err)
			}
			rows := e.rowsSince(t, before)
			if len(rows) != 1 || !strings.HasPrefix(rows[0], "clerk-approver-office1 enrollment.approve denied self_approval "+id) {
				t.Errorf("audit rows %q", rows)
			}
			a, err := e.svc.Get(ctx, clerk1, id)
			if err != nil || a.State != db.StateFinalized {
				t.Errorf("after refused approval: %+v %v", a, err)
			}
			// Someone else approves it.
			must(t, e.svc.Approve(ctx, approver1, id))
		})
	}
	// The clerk-approver approves what others created and finalized.
	id := mk(clerk1, clerk1)
	must(t, e.svc.Approve(ctx, clerkApprover1, id))

	// But not what it put a face into (security review): a colleague's
	// draft whose face the clerk-approver replaced.
	t.Run("face replaced by the clerk-approver", func(t *testing.T) {
		id, err := e.svc.Create(ctx, clerk1, person)
		must(t, err)
		must(t, e.svc.PutFace(ctx, clerk1, id, biometric.ContentTypeJPEG, e.face))
		must(t, e.svc.PutFace(ctx, clerkApprover1, id, biometric.ContentTypeJPEG, e.face))
		must(t, e.svc.Finalize(ctx, clerk1, id))
		if err := e.svc.Approve(ctx, clerkApprover1, id); statusOf(err) != 403 || codeOf(err) != enrol.CodeSelfApproval {
			t.Fatalf("approval by who entered the face: %v, want 403 self_approval", err)
		}
		// The database refuses it too, whatever Go decides.
		err = db.WithScope(ctx, e.app, db.Scope{Actor: clerkApprover1.Subject, Role: db.RoleApprover, Office: "office1"}, func(tx pgx.Tx) error {
			return db.AdvanceApplication(ctx, tx, id, db.StateFinalized, db.StateApproved, clerkApprover1.Subject, time.Now())
		})
		if !errors.Is(err, db.ErrSelfApproval) {
			t.Errorf("database: %v, want ErrSelfApproval", err)
		}
		must(t, e.svc.Approve(ctx, approver1, id))
	})
}

func TestStateMachine(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	id, err := e.svc.Create(ctx, clerk1, person)
	must(t, err)
	check := func(what string, err error, status int, code string) {
		t.Helper()
		if statusOf(err) != status || codeOf(err) != code {
			t.Errorf("%s: %v (%d %q), want %d %s", what, err, statusOf(err), codeOf(err), status, code)
		}
	}
	check("finalize without a face", e.svc.Finalize(ctx, clerk1, id), 409, enrol.CodeFaceRequired)
	check("approve a draft", e.svc.Approve(ctx, approver1, id), 409, enrol.CodeWrongState)
	_, err = e.svc.Issue(ctx, approver1, id)
	check("issue a draft", err, 409, enrol.CodeWrongState)
	must(t, e.svc.PutFace(ctx, clerk1, id, biometric.ContentTypeJPEG, e.face))
	must(t, e.svc.PutFace(ctx, clerk1, id, biometric.ContentTypeJPEG, e.face)) // a replacement
	must(t, e.svc.PutFinger(ctx, clerk1, id, 1, biometric.ContentTypeFinger, finger(1)))
	must(t, e.svc.Finalize(ctx, clerk1, id))
	check("finalize twice", e.svc.Finalize(ctx, clerk1, id), 409, enrol.CodeWrongState)
	check("face after finalize", e.svc.PutFace(ctx, clerk1, id, biometric.ContentTypeJPEG, e.face), 409, enrol.CodeWrongState)
	check("finger after finalize", e.svc.PutFinger(ctx, clerk1, id, 2, biometric.ContentTypeFinger, finger(2)), 409, enrol.CodeWrongState)
	_, err = e.svc.Issue(ctx, issuer, id)
	check("issuer issues a finalized (invisible to it)", err, 404, enrol.CodeNotFound)
	_, err = e.svc.Issue(ctx, approver1, id)
	check("issue a finalized", err, 409, enrol.CodeWrongState)
	must(t, e.svc.Approve(ctx, approver1, id))
	check("approve twice", e.svc.Approve(ctx, approver1, id), 409, enrol.CodeWrongState)
	r, err := e.svc.Issue(ctx, issuer, id)
	must(t, err)
	_, err = e.svc.Issue(ctx, approver1, id)
	check("issue twice", err, 409, enrol.CodeWrongState)
	a, err := e.svc.Get(ctx, approver1, id)
	must(t, err)
	if a.State != db.StateIssued || len(a.Biometrics) != 2 || a.Biometrics[0].Kind != "face" || a.Biometrics[0].Bytes != len(e.face) ||
		a.Biometrics[0].Format != "image/jpeg" || a.Biometrics[1].Kind != "finger" || a.Biometrics[1].Position != 1 ||
		a.Surname != person.Surname || a.DateOfBirth != person.DateOfBirth || a.Office != "office1" {
		t.Errorf("Get = %+v", a)
	}
	// The chip got the decrypted biometrics and the number.
	e.mu.Lock()
	req := e.issued[len(e.issued)-1]
	e.mu.Unlock()
	if req.DocumentNumber != r.DocumentNumber || len(r.DocumentNumber) != 9 || strings.Trim(r.DocumentNumber, "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") != "" {
		t.Errorf("document number %q (chip got %q)", r.DocumentNumber, req.DocumentNumber)
	}
	if req.Face == nil || !bytes.Equal(req.Face.Image, e.face) || req.Face.Width != 300 || len(req.Fingers) != 1 || req.Fingers[0].Position != 1 {
		t.Errorf("IssueRequest biometrics: face %v fingers %d", req.Face != nil, len(req.Fingers))
	}
	today := time.Now().UTC()
	if want := time.Date(today.Year()+10, today.Month(), today.Day()-1, 0, 0, 0, 0, time.UTC); !req.DateOfExpiry.Equal(want) {
		t.Errorf("expiry %v, want %v", req.DateOfExpiry, want)
	}
	if req.Application.ID != id || req.Application.Surname != "ERIKSSON" {
		t.Errorf("IssueRequest application %+v", req.Application)
	}
	// The number is nowhere in the database: not in the audit, not in documents.
	var n int
	must(t, e.owner.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE strpos(actor || role || office || action || purpose || subject || detail, $1) > 0`, r.DocumentNumber).Scan(&n))
	if n != 0 {
		t.Errorf("the document number is in %d audit rows", n)
	}
}

func TestGetFacePurposeAndAccessLog(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	id, _ := e.at(t, db.StateFinalized)
	for _, purpose := range []string{"", "   "} {
		if _, _, err := e.svc.GetFace(ctx, approver1, id, purpose); statusOf(err) != 422 || codeOf(err) != enrol.CodePurposeRequired {
			t.Errorf("GetFace purpose %q: %v, want 422 purpose_required", purpose, err)
		}
	}
	ct, body, err := e.svc.GetFace(ctx, approver1, id, "identity check before approval")
	must(t, err)
	if ct != biometric.ContentTypeJPEG || !bytes.Equal(body, e.face) {
		t.Errorf("GetFace = %q, %d bytes", ct, len(body))
	}
	_, _, err = e.svc.GetFace(ctx, approver2, id, "curiosity")
	if statusOf(err) != 404 {
		t.Errorf("approver office2: %v", err)
	}
	log, err := e.svc.AccessLog(ctx, auditor, id)
	must(t, err)
	var actions []string
	var faceRead *enrol.AccessEntry
	for i, a := range log {
		actions = append(actions, a.Actor+":"+a.Action+":"+a.Outcome)
		if a.Action == enrol.ActionGetFace && a.Outcome == "ok" {
			faceRead = &log[i]
		}
	}
	want := []string{"clerk-office1:enrollment.create:ok", "clerk-office1:enrollment.put_face:ok", "clerk-office1:enrollment.finalize:ok",
		"approver-office1:enrollment.get_face:ok", "approver-office2:enrollment.get_face:denied"}
	if strings.Join(actions, " ") != strings.Join(want, " ") {
		t.Errorf("access log %q\nwant       %q", actions, want)
	}
	if faceRead == nil || faceRead.Purpose != "identity check before approval" || faceRead.Role != "approver" || faceRead.Office != "office1" || faceRead.At.IsZero() {
		t.Errorf("face read entry %+v", faceRead)
	}
	// The auditor's own read is audited too (and seen next time).
	log2, err := e.svc.AccessLog(ctx, auditor, id)
	must(t, err)
	if len(log2) != len(log)+1 || log2[len(log2)-1].Action != enrol.ActionAccessLog {
		t.Errorf("second access log has %d entries, last %+v", len(log2), log2[len(log2)-1])
	}
	if _, err := e.svc.AccessLog(ctx, auditor, "not-a-uuid"); statusOf(err) != 404 {
		t.Errorf("access log of a non-id: %v", err)
	}
}

// TestCiphertextHoldsNoImage: a raw read of the biometrics table, as the
// owner with row security lifted, holds none of the face's bytes.
func TestCiphertextHoldsNoImage(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	id, _ := e.at(t, db.StateDraft)
	fr := finger(4)
	must(t, e.svc.PutFinger(ctx, clerk1, id, 4, biometric.ContentTypeFinger, fr))
	var dump []byte
	err := pgx.BeginFunc(ctx, e.owner, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `ALTER TABLE biometrics NO FORCE ROW LEVEL SECURITY`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT ciphertext || nonce || coalesce(wrapped_key, '') FROM biometrics WHERE application_id = $1::uuid`, id)
		if err != nil {
			return err
		}
		bs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			return err
		}
		if len(bs) != 2 {
			return fmt.Errorf("%d records", len(bs))
		}
		dump = bytes.Join(bs, nil)
		return errors.New("roll back the ALTER")
	})
	if dump == nil {
		t.Fatal(err)
	}
	for _, secret := range [][]byte{e.face, fr} {
		for i := 0; i+24 <= len(secret); i += 24 {
			if bytes.Contains(dump, secret[i:i+24]) {
				t.Fatalf("24 bytes of a biometric at offset %d are in the table", i)
			}
		}
	}
	for _, magic := range [][]byte{{0xFF, 0xD8, 0xFF, 0xE0}, []byte("JFIF"), []byte("FIR\x00010")} {
		if bytes.Contains(dump, magic) {
			t.Errorf("the table holds %q", magic)
		}
	}
}

func TestInvalidInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	id, _ := e.at(t, db.StateDraft)
	counts := func() string {
		var a, b, d int
		must(t, db.WithScope(ctx, e.app, db.Scope{Actor: "t", Role: db.RoleClerk, Office: "office1"}, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM applications), (SELECT count(*) FROM biometrics), (SELECT count(*) FROM documents)`).Scan(&a, &b, &d)
		}))
		return fmt.Sprint(a, b, d)
	}
	before := counts()
	bad := func(p enrol.NewApplication, f func(*enrol.NewApplication)) enrol.NewApplication { f(&p); return p }
	jpeg := e.face
	png := biometric.SyntheticPNG(300, 400)
	huge := make([]byte, 50<<20)
	copy(huge, jpeg)
	for _, tc := range []struct {
		name   string
		err    error
		status int
	}{
		{"date of birth", func() error {
			_, err := e.svc.Create(ctx, clerk1, bad(person, func(a *enrol.NewApplication) { a.DateOfBirth = "1974-13-40" }))
			return err
		}(), 422},
		{"future birth", func() error {
			_, err := e.svc.Create(ctx, clerk1, bad(person, func(a *enrol.NewApplication) { a.DateOfBirth = "2999-01-01" }))
			return err
		}(), 422},
		{"sex", func() error {
			_, err := e.svc.Create(ctx, clerk1, bad(person, func(a *enrol.NewApplication) { a.Sex = "Q" }))
			return err
		}(), 422},
		{"empty surname", func() error {
			_, err := e.svc.Create(ctx, clerk1, bad(person, func(a *enrol.NewApplication) { a.Surname = " " }))
			return err
		}(), 422},
		{"given names the MRZ cannot carry", func() error {
			_, err := e.svc.Create(ctx, clerk1, bad(person, func(a *enrol.NewApplication) { a.GivenNames = "Doc 1" }))
			return err
		}(), 422},
		{"surname in another script", func() error {
			_, err := e.svc.Create(ctx, clerk1, bad(person, func(a *enrol.NewApplication) { a.Surname = "Иванова" }))
			return err
		}(), 422},
		{"nationality", func() error {
			_, err := e.svc.Create(ctx, clerk1, bad(person, func(a *enrol.NewApplication) { a.Nationality = "utopia" }))
			return err
		}(), 422},
		{"document type", func() error {
			_, err := e.svc.Create(ctx, clerk1, bad(person, func(a *enrol.NewApplication) { a.DocumentType = "ID" }))
			return err
		}(), 422},
		{"truncated JPEG", e.svc.PutFace(ctx, clerk1, id, biometric.ContentTypeJPEG, jpeg[:len(jpeg)/2]), 422},
		{"wrong content type", e.svc.PutFace(ctx, clerk1, id, "text/plain", jpeg), 415},
		{"PNG declared as JPEG", e.svc.PutFace(ctx, clerk1, id, biometric.ContentTypeJPEG, png), 422},
		{"50 MB face", e.svc.PutFace(ctx, clerk1, id, biometric.ContentTypeJPEG, huge), 413},
		{"50 MB finger", e.svc.PutFinger(ctx, clerk1, id, 1, biometric.ContentTypeFinger, huge), 413},
		{"finger position 11", e.svc.PutFinger(ctx, clerk1, id, 11, biometric.ContentTypeFinger, finger(1)), 422},
		{"finger position mismatch", e.svc.PutFinger(ctx, clerk1, id, 3, biometric.ContentTypeFinger, finger(1)), 422},
		{"finger as a face", e.svc.PutFace(ctx, clerk1, id, biometric.ContentTypeFace, finger(1)), 422},
		{"minutiae as a finger", e.svc.PutFinger(ctx, clerk1, id, 2, biometric.ContentTypeFinger, minutiae(2)), 422},
		{"empty face", e.svc.PutFace(ctx, clerk1, id, biometric.ContentTypeJPEG, nil), 422},
		{"minutiae position 11", e.svc.PutMinutiae(ctx, clerk1, id, 11, biometric.ContentTypeMinutiae, minutiae(2)), 422},
		{"minutiae position mismatch", e.svc.PutMinutiae(ctx, clerk1, id, 3, biometric.ContentTypeMinutiae, minutiae(2)), 422},
		{"50 MB minutiae", e.svc.PutMinutiae(ctx, clerk1, id, 2, biometric.ContentTypeMinutiae, huge), 413},
		{"finger record as minutiae", e.svc.PutMinutiae(ctx, clerk1, id, 2, biometric.ContentTypeMinutiae, finger(2)), 422},
	} {
		if statusOf(tc.err) != tc.status {
			t.Errorf("%s: %v (status %d), want %d", tc.name, tc.err, statusOf(tc.err), tc.status)
		}
	}
	if after := counts(); after != before {
		t.Errorf("rows (applications biometrics documents) %s -> %s", before, after)
	}
}

func TestDocumentStatusOneWay(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	_, number := e.at(t, db.StateIssued)
	since := time.Now().Add(-time.Hour)
	steps := []struct {
		p      enrol.Principal
		number string
		status string
		want   int
		code   string
	}{
		{approver2, number, "LOST", 404, enrol.CodeNotFound},
		{approver1, "ZZZZZZZZ9", "LOST", 404, enrol.CodeNotFound},
		{approver1, "not a number!", "LOST", 422, enrol.CodeInvalidNumber},
		{approver1, number, "VALID", 422, enrol.CodeInvalidStatus},
		{approver1, number, "FOUND", 422, enrol.CodeInvalidStatus},
		{approver1, strings.ToLower(number) + "<", "LOST", 0, ""}, // normalised: case and filler
		{approver1, number, "LOST", 409, enrol.CodeStatusOneWay},
		{approver1, number, "STOLEN", 0, ""},
		{approver1, number, "LOST", 409, enrol.CodeStatusOneWay},
		{approver1, number, "REVOKED", 0, ""},
		{approver1, number, "STOLEN", 409, enrol.CodeStatusOneWay},
	}
	for i, s := range steps {
		err := e.svc.SetDocumentStatus(ctx, s.p, s.number, s.status, since)
		if statusOf(err) != s.want || codeOf(err) != s.code {
			t.Errorf("step %d (%s %s): %v, want %d %s", i, s.p.Subject, s.status, err, s.want, s.code)
		}
	}
	if err := e.svc.SetDocumentStatus(ctx, approver1, number, "REVOKED", time.Now().Add(time.Hour)); statusOf(err) != 422 {
		t.Errorf("since in the future: %v", err)
	}
}

func TestVerifyAuditWritesCheckpoint(t *testing.T) {
	e := freshEnv(t, "verify")
	ctx := ctxT(t)
	e.at(t, db.StateApproved)
	rep, err := e.svc.VerifyAudit(ctx, auditor)
	must(t, err)
	if !rep.OK || rep.Rows == 0 || rep.Checkpoints == 0 || rep.LastSeq != rep.Rows {
		t.Errorf("report %+v", rep)
	}
	ents, err := os.ReadDir(e.dir)
	if err != nil || len(ents) == 0 {
		t.Errorf("no exported checkpoint in %s: %v", e.dir, err)
	}
	// Deny from the HTTP layer: an unauthenticated caller and a document path.
	before := e.lastSeq(t)
	e.svc.Deny(ctx, enrol.Principal{}, "document.set_status", "L898902C3", "client_certificate_required")
	rows := e.rowsSince(t, before)
	if len(rows) != 1 || rows[0] != "(unauthenticated) document.set_status denied client_certificate_required " {
		t.Errorf("denial rows %q (the subject must not be a document number)", rows)
	}
}

// freshEnv is an env on a database of its own: for tests that need the
// whole audit chain or every biometric record to be theirs.
func freshEnv(t testing.TB, name string) *env {
	t.Helper()
	ctx := ctxT(t)
	fc := dbtest.Cluster(t).WithDatabase("test_enrol_" + name)
	must(t, fc.EnsureDatabase(ctx))
	app, err := db.Open(ctx, fc, db.App)
	must(t, err)
	t.Cleanup(app.Close)
	owner, err := db.Open(ctx, fc, db.Owner)
	must(t, err)
	t.Cleanup(owner.Close)
	return newEnvWith(t, app, owner)
}

// rotatorCore is the service as `borderid keys rotate` builds it: on the
// borderid_rotator role's pool (migration 0008), with e's keys.
func (e *env) rotatorCore(t *testing.T) *enrol.Core {
	t.Helper()
	ctx := ctxT(t)
	rot, err := db.Open(ctx, dbtest.Cluster(t).WithDatabase(e.app.Config().ConnConfig.Database), db.Rotator)
	must(t, err)
	t.Cleanup(rot.Close)
	svc, err := enrol.New(enrol.Config{Pool: rot, Wrapper: e.kw, Indexer: envelopetest.NewIndexer(t), AuditSigner: e.key,
		CheckpointDir: e.dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		IssueChip: func(context.Context, enrol.IssueRequest) (string, error) { return "", errors.New("not here") }})
	must(t, err)
	return svc
}

func TestRewrapAll(t *testing.T) {
	e := freshEnv(t, "rewrap")
	ctx := ctxT(t)
	id, _ := e.at(t, db.StateFinalized)
	id2, _ := e.at(t, db.StateDraft)
	must(t, e.svc.PutFinger(ctx, clerk1, id2, 5, biometric.ContentTypeFinger, finger(5)))
	e.kw.Rotate()
	// The service's own (app role) connection cannot rotate: only the
	// rotator role sees the records.
	if n, err := e.svc.LiveRecordsBelow(ctx, 2); err != nil || n != 0 {
		t.Errorf("app role: LiveRecordsBelow = %d, %v; want 0 (it sees none)", n, err)
	}
	rot := e.rotatorCore(t)
	if n, err := rot.LiveRecordsBelow(ctx, 2); err != nil || n != 1 {
		t.Errorf("LiveRecordsBelow = %d, %v; want 1 (one page)", n, err)
	}
	n, err := rot.RewrapAll(ctx, "keys-rotate")
	if err != nil || n != 3 {
		t.Fatalf("RewrapAll = %d, %v; want 3", n, err)
	}
	if n, err := rot.RewrapAll(ctx, "keys-rotate"); err != nil || n != 0 {
		t.Errorf("second RewrapAll = %d, %v", n, err)
	}
	if n, err := rot.LiveRecordsBelow(ctx, 2); err != nil || n != 0 {
		t.Errorf("after RewrapAll: LiveRecordsBelow = %d, %v", n, err)
	}
	e.kw.Destroy(1)
	_, body, err := e.svc.GetFace(ctx, approver1, id, "after rotation")
	if err != nil || !bytes.Equal(body, e.face) {
		t.Errorf("GetFace after rotation and destroying v1: %v", err)
	}
}

func TestCheckpointEveryN(t *testing.T) {
	base := freshEnv(t, "every")
	e := newEnvEvery(t, base.app, base.owner, 3)
	ctx := ctxT(t)
	for i := 0; i < 7; i++ {
		if _, err := e.svc.Create(ctx, clerk1, person); err != nil {
			t.Fatal(err)
		}
	}
	cps, err := db.ReadCheckpoints(e.dir)
	if err != nil || len(cps) != 2 || cps[0].Seq != 3 || cps[1].Seq != 6 {
		t.Fatalf("checkpoints after 7 rows, every 3: %+v %v", cps, err)
	}
	must(t, e.svc.Checkpoint(ctx)) // shutdown
	if cps, _ = db.ReadCheckpoints(e.dir); len(cps) != 3 || cps[2].Seq != 7 {
		t.Errorf("after Checkpoint: %+v", cps)
	}
	rep, err := db.VerifyAudit(ctx, e.app, db.Scope{Actor: "auditor", Role: db.RoleAuditor}, &e.key.PublicKey, e.dir)
	if err != nil || !rep.OK || rep.Checkpoints != 3 || rep.Exported != 3 {
		t.Errorf("verify: %v %v", rep, err)
	}
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	e := newEnv(t)
	full := enrol.Config{Pool: e.app, Wrapper: e.kw, Indexer: envelopetest.NewIndexer(t), AuditSigner: e.key, CheckpointDir: e.dir,
		IssueChip: func(context.Context, enrol.IssueRequest) (string, error) { return "", nil }}
	if _, err := enrol.New(full); err != nil {
		t.Fatalf("complete config: %v", err)
	}
	for name, f := range map[string]func(*enrol.Config){
		"pool":      func(c *enrol.Config) { c.Pool = nil },
		"wrapper":   func(c *enrol.Config) { c.Wrapper = nil },
		"indexer":   func(c *enrol.Config) { c.Indexer = nil },
		"signer":    func(c *enrol.Config) { c.AuditSigner = nil },
		"dir":       func(c *enrol.Config) { c.CheckpointDir = "" },
		"issuechip": func(c *enrol.Config) { c.IssueChip = nil },
	} {
		c := full
		f(&c)
		if _, err := enrol.New(c); err == nil {
			t.Errorf("New without %s succeeded", name)
		}
	}
}

func TestUnauthenticatedPrincipal(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	before := e.lastSeq(t)
	_, err := e.svc.Create(ctx, enrol.Principal{Roles: []string{"clerk"}, Office: "office1"}, person)
	if statusOf(err) != 401 || !errors.Is(err, enrol.ErrUnauthenticated) {
		t.Errorf("no subject: %v, want 401", err)
	}
	if rows := e.rowsSince(t, before); len(rows) != 1 || !strings.HasPrefix(rows[0], "(unauthenticated) enrollment.create denied") {
		t.Errorf("audit %q", rows)
	}
}

// TestConcurrentServiceOneChain: many callers at once, checkpoints taken
// on the way, and the chain still verifies whole.
func TestConcurrentServiceOneChain(t *testing.T) {
	base := freshEnv(t, "concurrent")
	e := newEnvEvery(t, base.app, base.owner, 5)
	ctx := ctxT(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 3; i++ {
				id, err := e.svc.Create(ctx, clerk1, person)
				if err == nil {
					err = e.svc.PutFinger(ctx, clerk1, id, 1+i, biometric.ContentTypeFinger, finger(1+i))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rep, err := e.svc.VerifyAudit(ctx, auditor)
	if err != nil || !rep.OK || rep.Rows != 16*3*2+1 || rep.Checkpoints < 2 {
		t.Errorf("verify after concurrent use: %+v %v", rep, err)
	}
}

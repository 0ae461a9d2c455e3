package enrol

import (
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"borderid/db"
	"borderid/enrol/biometric"
	"borderid/enrol/issue"
	"borderid/internal/envelope"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// IssueRequest is what Issue hands to Config.IssueChip: the approved
// application, the new document number, its expiry and the decrypted
// biometrics (revalidated after decryption). The callee must not keep or
// log any of it: the decrypted buffers are zeroed when IssueChip returns.
type IssueRequest struct {
	Application    Application
	DocumentNumber string
	DateOfExpiry   time.Time
	Face           *biometric.Face
	Fingers        []*biometric.Finger // in position order
}

// Config configures New. Pool, Wrapper, Indexer, AuditSigner,
// CheckpointDir and IssueChip are required.
type Config struct {
	Pool          *pgxpool.Pool       // as the app role (db.App)
	Wrapper       envelope.KeyWrapper // the HSM's KEK
	Indexer       envelope.Indexer    // the HSM's blind-index key
	AuditSigner   crypto.Signer       // the HSM's audit-signer key
	CheckpointDir string              // <home>/audit/checkpoints
	IssueChip     func(ctx context.Context, r IssueRequest) (chipID string, err error)
	// Validity of an issued document; 0 means 10 years (to the day before).
	Validity time.Duration
	// CheckpointEvery audit rows written by this service a checkpoint is
	// signed and exported; 0 means 100.
	CheckpointEvery int
	Now             func() time.Time // nil: time.Now
	Rand            io.Reader        // nil: crypto/rand.Reader
	Logger          *slog.Logger     // nil: slog.Default()
}

// Core implements Service on PostgreSQL (package db) with envelope
// encryption and the hash-chained audit.
type Core struct {
	pool      *pgxpool.Pool
	kw        envelope.KeyWrapper
	ix        envelope.Indexer
	signer    crypto.Signer
	cpDir     string
	issueChip func(context.Context, IssueRequest) (string, error)
	validity  time.Duration
	every     int64
	now       func() time.Time
	rand      io.Reader
	log       *slog.Logger

	sinceCheckpoint atomic.Int64
	cpMu            sync.Mutex
}

var _ Service = (*Core)(nil)

// New checks cfg and returns the service.
func New(cfg Config) (*Core, error) {
	switch {
	case cfg.Pool == nil:
		return nil, errors.New("enrol: Config.Pool is required")
	case cfg.Wrapper == nil || cfg.Indexer == nil:
		return nil, errors.New("enrol: Config.Wrapper and Config.Indexer are required")
	case cfg.AuditSigner == nil || cfg.CheckpointDir == "":
		return nil, errors.New("enrol: Config.AuditSigner and Config.CheckpointDir are required")
	case cfg.IssueChip == nil:
		return nil, errors.New("enrol: Config.IssueChip is required")
	}
	c := &Core{pool: cfg.Pool, kw: cfg.Wrapper, ix: cfg.Indexer, signer: cfg.AuditSigner, cpDir: cfg.CheckpointDir,
		issueChip: cfg.IssueChip, validity: cfg.Validity, every: int64(cfg.CheckpointEvery), now: cfg.Now, rand: cfg.Rand, log: cfg.Logger}
	if c.every <= 0 {
		c.every = 100
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.rand == nil {
		c.rand = rand.Reader
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c, nil
}

// Audit actions: the same names as the HTTP layer's routes, so a denial
// decided there and one decided here read alike.
const (
	ActionCreate      = "enrollment.create"
	ActionPutFace     = "enrollment.put_face"
	ActionPutFinger   = "enrollment.put_finger"
	ActionPutMinutiae = "enrollment.put_minutiae"
	ActionFinalize    = "enrollment.finalize"
	ActionApprove     = "enrollment.approve"
	ActionIssue       = "enrollment.issue"
	ActionGet         = "enrollment.get"
	ActionGetFace     = "enrollment.get_face"
	ActionSetStatus   = "document.set_status"
	ActionAccessLog   = "enrollment.access_log"
	ActionVerify      = "audit.verify"
	ActionRotate      = "keys.rotate"
)

// officeRoles act within one office; the others are national.
func officeRole(r string) bool { return r == RoleClerk || r == RoleApprover }

// op is one call: the acting scope, the action and the subject for audit.
type op struct {
	p       Principal
	scope   db.Scope
	action  string
	subject string
	// seq and hash of the audit row ok wrote, for db.AdvanceHead once
	// the transaction committed.
	seq  int64
	hash []byte
}

// begin picks the first of roles the principal holds (403 otherwise, or
// when an office role comes without an office) and builds the scope.
func (c *Core) begin(ctx context.Context, p Principal, action, subject string, roles ...string) (*op, error) {
	o := &op{p: p, action: action, subject: subject}
	if p.Subject == "" {
		err := Errorf(ErrUnauthenticated, "unauthenticated", "no authenticated caller")
		c.deny(ctx, o, "", err.Code)
		return nil, err
	}
	for _, r := range roles {
		if !p.Has(r) {
			continue
		}
		if officeRole(r) && p.Office == "" {
			continue
		}
		o.scope = db.Scope{Actor: p.Subject, Role: r}
		if officeRole(r) {
			o.scope.Office = p.Office
		}
		return o, nil
	}
	err := Errorf(ErrForbidden, CodeForbiddenRole, "this needs the role %s", strings.Join(roles, " or "))
	for _, r := range roles {
		if officeRole(r) && p.Has(r) && p.Office == "" {
			err = Errorf(ErrForbidden, CodeNoOffice, "the role %s needs an office in the certificate", r)
		}
	}
	c.deny(ctx, o, "", err.Code)
	return nil, err
}

// run executes fn in o's scope. A 401/403/404 refusal is audited as a
// denial in a transaction of its own (fn's was rolled back).
func (c *Core) run(ctx context.Context, o *op, fn func(tx pgx.Tx) error) error {
	o.seq, o.hash = 0, nil
	err := db.WithScope(ctx, c.pool, o.scope, fn)
	if err == nil {
		c.audited(ctx, o.seq, o.hash)
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Status == 401 || e.Status == 403 || e.Status == 404 {
			c.deny(ctx, o, o.scope.Role, e.Code)
		}
		return e
	}
	if errors.Is(err, db.ErrDenied) {
		// The database refused what Go allowed: a bug or an attack; say
		// 404 like an out-of-scope record, and audit it.
		c.log.LogAttrs(ctx, slog.LevelWarn, "database refused an allowed operation",
			slog.String("action", o.action), slog.String("actor", o.p.Subject), slog.String("error", err.Error()))
		c.deny(ctx, o, o.scope.Role, "database_refused")
		return notFound()
	}
	return fmt.Errorf("enrol: %s: %w", o.action, err)
}

// ok writes o's success row in tx: last, as the chain lock is held from
// here to the commit.
func (c *Core) ok(ctx context.Context, tx pgx.Tx, o *op, purpose, detail string) error {
	var err error
	o.seq, o.hash, err = db.InsertAuditReturning(ctx, tx, db.AuditEntry{Actor: o.scope.Actor, Role: o.scope.Role, Office: o.p.Office,
		Action: o.action, Purpose: purpose, Subject: o.subject, Outcome: db.OutcomeOK, Detail: detail})
	return err
}

// deny writes a denial row in its own transaction; failures are logged.
func (c *Core) deny(ctx context.Context, o *op, role, code string) {
	actor := o.p.Subject
	if actor == "" {
		actor = "(unauthenticated)"
	}
	if role == "" {
		role = strings.Join(o.p.Roles, ",")
	}
	subject := o.subject
	if !isUUID(subject) {
		subject = "" // never a document number or other caller-supplied text
	}
	s := db.Scope{Actor: actor}
	dctx := context.WithoutCancel(ctx)
	var seq int64
	var hash []byte
	err := db.WithScope(dctx, c.pool, s, func(tx pgx.Tx) error {
		var err error
		seq, hash, err = db.InsertAuditReturning(dctx, tx, db.AuditEntry{Actor: actor, Role: truncate(role, 200), Office: truncate(o.p.Office, 200),
			Action: truncate(o.action, 100), Subject: subject, Outcome: db.OutcomeDenied, Detail: truncate(code, 100)})
		return err
	})
	if err != nil {
		c.log.LogAttrs(ctx, slog.LevelError, "audit of a denial failed", slog.String("action", o.action), slog.String("error", err.Error()))
		return
	}
	c.audited(ctx, seq, hash)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// audited records a committed audit row outside the database (the head
// file: a deleted tail after the last checkpoint is caught by it) and
// checkpoints every c.every rows.
func (c *Core) audited(ctx context.Context, seq int64, hash []byte) {
	if err := db.AdvanceHead(c.cpDir, seq, hash); err != nil {
		c.log.LogAttrs(ctx, slog.LevelError, "recording the audit head failed", slog.String("error", err.Error()))
	}
	if c.sinceCheckpoint.Add(1) < c.every || !c.cpMu.TryLock() {
		return
	}
	defer c.cpMu.Unlock()
	c.sinceCheckpoint.Store(0)
	if _, err := c.checkpoint(context.WithoutCancel(ctx)); err != nil {
		c.log.LogAttrs(ctx, slog.LevelError, "audit checkpoint failed", slog.String("error", err.Error()))
	}
}

func (c *Core) checkpoint(ctx context.Context) (*db.Checkpoint, error) {
	return db.WriteCheckpoint(ctx, c.pool, db.Scope{Actor: "borderid"}, c.signer, c.cpDir, c.now())
}

// Checkpoint signs and exports a checkpoint of the audit chain now (a
// no-op when the newest row has one). Call it on shutdown: rows after the
// newest exported checkpoint are not protected against deletion.
func (c *Core) Checkpoint(ctx context.Context) error {
	c.cpMu.Lock()
	defer c.cpMu.Unlock()
	c.sinceCheckpoint.Store(0)
	_, err := c.checkpoint(ctx)
	return err
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func isUUID(s string) bool { return uuidRE.MatchString(s) }

// newID is a random (version 4) UUID from c.rand.
func (c *Core) newID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(c.rand, b[:]); err != nil {
		return "", fmt.Errorf("enrol: random id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexd = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, x := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexd[x>>4], hexd[x&15])
	}
	return string(out), nil
}

// application loads id in o's scope, locked when forUpdate; ErrNotFound
// (404) when absent, not visible, or of another office.
func (c *Core) application(ctx context.Context, tx pgx.Tx, o *op, id string, forUpdate bool) (*db.Application, error) {
	if !isUUID(id) {
		return nil, notFound()
	}
	a, err := db.GetApplication(ctx, tx, id, forUpdate)
	if errors.Is(err, db.ErrNotFound) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	// RLS already scoped the read; checked again here.
	if officeRole(o.scope.Role) && a.Office != o.scope.Office {
		return nil, notFound()
	}
	return a, nil
}

var (
	nationalityRE = regexp.MustCompile(`^[A-Z]{1,3}$`)
	docTypeRE     = regexp.MustCompile(`^P[A-Z]?$`)
)

// validName: 1..200 bytes of printable text.
func validName(s string, required bool) bool {
	if !utf8.ValidString(s) || len(s) > 200 || (required && strings.TrimSpace(s) == "") {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func (c *Core) validateNew(a NewApplication) (time.Time, error) {
	if !validName(a.Surname, true) {
		return time.Time{}, Errorf(ErrInvalid, "invalid_surname", "surname must be 1 to 200 bytes of text")
	}
	if !validName(a.GivenNames, false) {
		return time.Time{}, Errorf(ErrInvalid, "invalid_given_names", "given_names must be at most 200 bytes of text")
	}
	// A name the MRZ cannot carry would fail only at issuance (ICAO 9303-3
	// §6 transliteration): refuse it now, while the applicant is there.
	if _, err := issue.Transliterate(a.Surname); err != nil {
		return time.Time{}, Errorf(ErrInvalid, "invalid_surname", "the surname has characters the MRZ cannot carry (ICAO 9303-3 transliteration covers Latin letters, spaces, hyphens and apostrophes)")
	}
	if strings.TrimSpace(a.GivenNames) != "" {
		if _, err := issue.Transliterate(a.GivenNames); err != nil {
			return time.Time{}, Errorf(ErrInvalid, "invalid_given_names", "the given names have characters the MRZ cannot carry (ICAO 9303-3 transliteration covers Latin letters, spaces, hyphens and apostrophes)")
		}
	}
	if a.Sex != "F" && a.Sex != "M" && a.Sex != "X" {
		return time.Time{}, Errorf(ErrInvalid, "invalid_sex", "sex must be F, M or X")
	}
	dob, err := time.Parse(time.DateOnly, a.DateOfBirth)
	if err != nil || dob.Year() < 1900 || dob.After(c.now()) {
		return time.Time{}, Errorf(ErrInvalid, "invalid_date", "date_of_birth must be a past date YYYY-MM-DD")
	}
	if !nationalityRE.MatchString(a.Nationality) {
		return time.Time{}, Errorf(ErrInvalid, "invalid_nationality", "nationality must be an ICAO 9303-3 code")
	}
	if !docTypeRE.MatchString(a.DocumentType) {
		return time.Time{}, Errorf(ErrInvalid, "invalid_document_type", "document_type must be P or P and one letter")
	}
	return dob, nil
}

// Create makes a draft enrolment in the clerk's office.
func (c *Core) Create(ctx context.Context, p Principal, a NewApplication) (string, error) {
	o, err := c.begin(ctx, p, ActionCreate, "", RoleClerk)
	if err != nil {
		return "", err
	}
	dob, err := c.validateNew(a)
	if err != nil {
		return "", err
	}
	var id string
	err = c.run(ctx, o, func(tx pgx.Tx) error {
		var err error
		id, err = db.CreateApplication(ctx, tx, &db.Application{Office: p.Office, Surname: a.Surname, GivenNames: a.GivenNames,
			Sex: a.Sex, DateOfBirth: dob, Nationality: a.Nationality, DocumentType: a.DocumentType, CreatedBy: p.Subject})
		if err != nil {
			return err
		}
		o.subject = id
		return c.ok(ctx, tx, o, "", "")
	})
	if err != nil {
		return "", err
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "enrolment created", slog.String("id", id), slog.String("office", p.Office))
	return id, nil
}

// bioError maps a validation refusal of package biometric to 413/415/422.
func bioError(err error) error {
	var be *biometric.Error
	if !errors.As(err, &be) {
		return fmt.Errorf("enrol: biometric: %w", err)
	}
	switch be.Code {
	case biometric.CodeTooLarge:
		return Errorf(ErrTooLarge, be.Code, "%s", be.Message)
	case biometric.CodeUnsupportedMediaType:
		return Errorf(ErrUnsupportedMediaType, be.Code, "%s", be.Message)
	}
	return Errorf(ErrInvalid, be.Code, "%s", be.Message)
}

// PutFace stores (or replaces) the face of a draft, encrypted.
func (c *Core) PutFace(ctx context.Context, p Principal, id, contentType string, body []byte) error {
	o, err := c.begin(ctx, p, ActionPutFace, id, RoleClerk)
	if err != nil {
		return err
	}
	if len(body) > biometric.MaxFaceBytes {
		return Errorf(ErrTooLarge, CodeTooLarge, "a face is limited to %d bytes", biometric.MaxFaceBytes)
	}
	if _, err := biometric.ValidateFace(contentType, body); err != nil {
		return bioError(err)
	}
	return c.putBiometric(ctx, o, id, "face", 0, contentType, body)
}

// PutFinger stores (or replaces) a finger image record (ISO/IEC 19794-4)
// at ISO finger position 1..10 of a draft, encrypted.
func (c *Core) PutFinger(ctx context.Context, p Principal, id string, position int, contentType string, body []byte) error {
	return c.putFingerRecord(ctx, p, ActionPutFinger, "finger", "a finger record", id, position, contentType, body,
		func(ct string, pos int, b []byte) error { _, err := biometric.ValidateFinger(ct, pos, b); return err })
}

// PutMinutiae stores (or replaces) a minutiae record (ISO/IEC 19794-2) at
// ISO finger position 1..10 of a draft, encrypted.
func (c *Core) PutMinutiae(ctx context.Context, p Principal, id string, position int, contentType string, body []byte) error {
	return c.putFingerRecord(ctx, p, ActionPutMinutiae, "minutiae", "a minutiae record", id, position, contentType, body,
		func(ct string, pos int, b []byte) error { _, err := biometric.ValidateMinutiae(ct, pos, b); return err })
}

// putFingerRecord is the shape of both finger uploads: a clerk, a position
// 1..10, the finger byte cap, the record validated, then stored sealed.
func (c *Core) putFingerRecord(ctx context.Context, p Principal, action, kind, what, id string, position int, contentType string, body []byte,
	validate func(contentType string, position int, body []byte) error) error {
	o, err := c.begin(ctx, p, action, id, RoleClerk)
	if err != nil {
		return err
	}
	if position < 1 || position > 10 {
		return Errorf(ErrInvalid, CodeInvalidPosition, "the finger position must be 1 to 10")
	}
	if len(body) > biometric.MaxFingerBytes {
		return Errorf(ErrTooLarge, CodeTooLarge, "%s is limited to %d bytes", what, biometric.MaxFingerBytes)
	}
	if err := validate(contentType, position, body); err != nil {
		return bioError(err)
	}
	return c.putBiometric(ctx, o, id, kind, position, contentType, body)
}

// recordKind is the kind part of a record's associated data: "face/0",
// "finger/3".
func recordKind(kind string, position int) string { return kind + "/" + strconv.Itoa(position) }

func (c *Core) putBiometric(ctx context.Context, o *op, id, kind string, position int, contentType string, body []byte) error {
	return c.run(ctx, o, func(tx pgx.Tx) error {
		if err := db.KEKFenceShared(ctx, tx); err != nil {
			return err
		}
		a, err := c.application(ctx, tx, o, id, true)
		if err != nil {
			return err
		}
		if a.State != db.StateDraft {
			return wrongState(a.State, db.StateDraft)
		}
		rid, err := c.newID()
		if err != nil {
			return err
		}
		s, err := envelope.Seal(ctx, c.kw, body, envelope.AD(rid, recordKind(kind, position)))
		if err != nil {
			return err
		}
		mt := strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
		if err := db.PutBiometric(ctx, tx, &db.Biometric{ID: rid, ApplicationID: id, Office: a.Office, Kind: kind, Position: position,
			Format: mt, Bytes: len(body), KEKVersion: s.KEKVersion, WrappedKey: s.WrappedKey, Nonce: s.Nonce,
			Ciphertext: s.Ciphertext, CreatedBy: o.p.Subject}); err != nil {
			return err
		}
		return c.ok(ctx, tx, o, "", recordKind(kind, position))
	})
}

// Finalize closes a draft for approval; it needs a face.
func (c *Core) Finalize(ctx context.Context, p Principal, id string) error {
	o, err := c.begin(ctx, p, ActionFinalize, id, RoleClerk)
	if err != nil {
		return err
	}
	return c.run(ctx, o, func(tx pgx.Tx) error {
		a, err := c.application(ctx, tx, o, id, true)
		if err != nil {
			return err
		}
		if a.State != db.StateDraft {
			return wrongState(a.State, db.StateDraft)
		}
		bs, err := db.ListBiometrics(ctx, tx, id, false)
		if err != nil {
			return err
		}
		hasFace := false
		for _, b := range bs {
			hasFace = hasFace || b.Kind == "face"
		}
		if !hasFace {
			return Errorf(ErrConflict, CodeFaceRequired, "the enrolment has no face yet")
		}
		if err := db.AdvanceApplication(ctx, tx, id, db.StateDraft, db.StateFinalized, p.Subject, c.now()); err != nil {
			return err
		}
		return c.ok(ctx, tx, o, "", "")
	})
}

// Approve approves a finalized enrolment of the approver's office; never
// by its creator or finalizer, nor by anyone who entered any of its
// biometric data (403 self_approval), whatever roles they hold.
func (c *Core) Approve(ctx context.Context, p Principal, id string) error {
	o, err := c.begin(ctx, p, ActionApprove, id, RoleApprover)
	if err != nil {
		return err
	}
	return c.run(ctx, o, func(tx pgx.Tx) error {
		a, err := c.application(ctx, tx, o, id, true)
		if err != nil {
			return err
		}
		if a.CreatedBy == p.Subject || a.FinalizedBy == p.Subject {
			return Errorf(ErrForbidden, CodeSelfApproval, "an enrolment is never approved by who created or finalized it")
		}
		entered, err := db.BiometricsEnteredBy(ctx, tx, id, p.Subject)
		if err != nil {
			return err
		}
		if entered {
			return Errorf(ErrForbidden, CodeSelfApproval, "an enrolment is never approved by who entered its biometric data")
		}
		if a.State != db.StateFinalized {
			return wrongState(a.State, db.StateFinalized)
		}
		if err := db.AdvanceApplication(ctx, tx, id, db.StateFinalized, db.StateApproved, p.Subject, c.now()); err != nil {
			if errors.Is(err, db.ErrSelfApproval) {
				return Errorf(ErrForbidden, CodeSelfApproval, "an enrolment is never approved by who created or finalized it")
			}
			return err
		}
		return c.ok(ctx, tx, o, "", "")
	})
}

// documentAlphabet is the digits and A-Z without O and I (as
// enrol/issue.DocumentNumberAlphabet: they read as 0 and 1).
const documentAlphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// newDocumentNumber draws 9 characters uniformly over documentAlphabet by
// rejection sampling (bytes below 238 = 7 x 34 only): random, never
// sequential. The check digit is the chip's (MRZ) business.
func (c *Core) newDocumentNumber() (string, error) {
	const n = len(documentAlphabet)
	const limit = 256 / n * n
	out := make([]byte, 0, 9)
	var buf [16]byte
	for len(out) < 9 {
		if _, err := io.ReadFull(c.rand, buf[:]); err != nil {
			return "", fmt.Errorf("enrol: document number: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < 9 {
				out = append(out, documentAlphabet[int(b)%n])
			}
		}
	}
	return string(out), nil
}

// normaliseNumber is the form the blind index is computed over: upper
// case, without spaces and '<' fillers.
func normaliseNumber(s string) string { return db.NormaliseDocumentNumber(s) }

var numberRE = regexp.MustCompile(`^[0-9A-Z]{1,9}$`)

const indexPurposeDocumentNumber = db.IndexPurposeDocumentNumber

func (c *Core) expiry(now time.Time) time.Time {
	d := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if c.validity <= 0 {
		return d.AddDate(10, 0, -1)
	}
	e := now.Add(c.validity)
	return time.Date(e.Year(), e.Month(), e.Day(), 0, 0, 0, 0, time.UTC)
}

// Issue issues the document of an approved enrolment: a random document
// number (found later by its blind index only), the decrypted biometrics
// handed to Config.IssueChip, the document recorded VALID.
func (c *Core) Issue(ctx context.Context, p Principal, id string) (IssueResult, error) {
	o, err := c.begin(ctx, p, ActionIssue, id, RoleApprover, RoleIssuer)
	if err != nil {
		return IssueResult{}, err
	}
	var res IssueResult
	err = c.run(ctx, o, func(tx pgx.Tx) error {
		if err := db.KEKFenceShared(ctx, tx); err != nil {
			return err
		}
		a, err := c.application(ctx, tx, o, id, true)
		if err != nil {
			return err
		}
		if a.State != db.StateApproved {
			return wrongState(a.State, db.StateApproved)
		}
		bs, err := db.ListBiometrics(ctx, tx, id, true)
		if err != nil {
			return err
		}
		req := IssueRequest{Application: toApplication(a, bs)}
		var plain [][]byte
		defer func() {
			for _, b := range plain {
				clear(b)
			}
		}()
		for _, b := range bs {
			pt, err := envelope.Open(ctx, c.kw, envelope.Sealed{KEKVersion: b.KEKVersion, WrappedKey: b.WrappedKey, Nonce: b.Nonce,
				Ciphertext: b.Ciphertext}, envelope.AD(b.ID, recordKind(b.Kind, b.Position)))
			if err != nil {
				return fmt.Errorf("biometric record %s: %w", b.ID, err)
			}
			plain = append(plain, pt)
			switch b.Kind {
			case "face":
				if req.Face, err = biometric.ValidateFace(b.Format, pt); err != nil {
					return fmt.Errorf("stored face %s: %w", b.ID, err)
				}
			case "finger":
				f, err := biometric.ValidateFinger(b.Format, b.Position, pt)
				if err != nil {
					return fmt.Errorf("stored finger %s: %w", b.ID, err)
				}
				req.Fingers = append(req.Fingers, f)
			}
		}
		if req.Face == nil {
			return Errorf(ErrConflict, CodeFaceRequired, "the enrolment has no face")
		}
		number, err := c.newDocumentNumber()
		if err != nil {
			return err
		}
		idx, err := c.ix.Index(ctx, indexPurposeDocumentNumber, []byte(normaliseNumber(number)))
		if err != nil {
			return fmt.Errorf("blind index: %w", err)
		}
		now := c.now()
		req.DocumentNumber, req.DateOfExpiry = number, c.expiry(now)
		chipID, err := c.issueChip(ctx, req)
		if err != nil {
			return fmt.Errorf("issue chip: %w", err)
		}
		if err := db.InsertDocument(ctx, tx, &db.Document{NumberIndex: idx, ApplicationID: id, Office: a.Office, ChipID: chipID,
			DateOfBirth: a.DateOfBirth, DateOfExpiry: req.DateOfExpiry, DocumentType: a.DocumentType, IssuedAt: now, IssuedBy: p.Subject}); err != nil {
			// A number collision (1 in 34^9 per issued document) leaves
			// an unused chip folder: the caller retries.
			return fmt.Errorf("record document (chip %s unused): %w", chipID, err)
		}
		if err := db.AdvanceApplication(ctx, tx, id, db.StateApproved, db.StateIssued, p.Subject, now); err != nil {
			return err
		}
		res = IssueResult{DocumentNumber: number, ChipID: chipID}
		return c.ok(ctx, tx, o, "", "chip="+chipID)
	})
	if err != nil {
		return IssueResult{}, err
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "document issued", slog.String("id", id), slog.String("chip_id", res.ChipID))
	return res, nil
}

func toApplication(a *db.Application, bs []db.Biometric) Application {
	out := Application{ID: a.ID, Office: a.Office, State: a.State, CreatedAt: a.CreatedAt,
		NewApplication: NewApplication{Surname: a.Surname, GivenNames: a.GivenNames, Sex: a.Sex,
			DateOfBirth: a.DateOfBirth.Format(time.DateOnly), Nationality: a.Nationality, DocumentType: a.DocumentType},
		Biometrics: make([]BiometricSummary, 0, len(bs))}
	for _, b := range bs {
		out.Biometrics = append(out.Biometrics, BiometricSummary{Kind: b.Kind, Position: b.Position, Format: b.Format, Bytes: b.Bytes})
	}
	return out
}

// Get returns an enrolment's demographics and biometric summary (no
// biometric bytes); the read is audited.
func (c *Core) Get(ctx context.Context, p Principal, id string) (*Application, error) {
	o, err := c.begin(ctx, p, ActionGet, id, RoleClerk, RoleApprover, RoleIssuer)
	if err != nil {
		return nil, err
	}
	var out Application
	err = c.run(ctx, o, func(tx pgx.Tx) error {
		a, err := c.application(ctx, tx, o, id, false)
		if err != nil {
			return err
		}
		bs, err := db.ListBiometrics(ctx, tx, id, false)
		if err != nil {
			return err
		}
		out = toApplication(a, bs)
		return c.ok(ctx, tx, o, "", "")
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

const maxPurposeBytes = 512

// GetFace decrypts an enrolment's face for an approver of its office. The
// purpose is mandatory and is written with the read to the audit in the
// same transaction: no read without its audit row.
func (c *Core) GetFace(ctx context.Context, p Principal, id, purpose string) (string, []byte, error) {
	o, err := c.begin(ctx, p, ActionGetFace, id, RoleApprover)
	if err != nil {
		return "", nil, err
	}
	purpose = strings.TrimSpace(purpose)
	if purpose == "" {
		return "", nil, Errorf(ErrInvalid, CodePurposeRequired, "a purpose is required to read a face")
	}
	if len(purpose) > maxPurposeBytes || !validName(purpose, true) {
		return "", nil, Errorf(ErrInvalid, "invalid_purpose", "the purpose must be at most %d bytes of text", maxPurposeBytes)
	}
	var ct string
	var body []byte
	err = c.run(ctx, o, func(tx pgx.Tx) error {
		if _, err := c.application(ctx, tx, o, id, false); err != nil {
			return err
		}
		b, err := db.GetBiometric(ctx, tx, id, "face", 0)
		if errors.Is(err, db.ErrNotFound) {
			return Errorf(ErrNotFound, "no_face", "the enrolment has no face")
		}
		if err != nil {
			return err
		}
		pt, err := envelope.Open(ctx, c.kw, envelope.Sealed{KEKVersion: b.KEKVersion, WrappedKey: b.WrappedKey, Nonce: b.Nonce,
			Ciphertext: b.Ciphertext}, envelope.AD(b.ID, recordKind("face", 0)))
		if err != nil {
			return fmt.Errorf("face record %s: %w", b.ID, err)
		}
		if err := c.ok(ctx, tx, o, purpose, "face/0"); err != nil {
			clear(pt)
			return err
		}
		ct, body = b.Format, pt
		return nil
	})
	if err != nil {
		clear(body)
		return "", nil, err
	}
	return ct, body, nil
}

// SetDocumentStatus marks a document of the approver's office LOST,
// STOLEN or REVOKED, one-way (409 status_one_way otherwise). The number is
// looked up by its blind index and never logged or audited.
func (c *Core) SetDocumentStatus(ctx context.Context, p Principal, number, status string, since time.Time) error {
	o, err := c.begin(ctx, p, ActionSetStatus, "", RoleApprover)
	if err != nil {
		return err
	}
	if status != db.StatusLost && status != db.StatusStolen && status != db.StatusRevoked {
		return Errorf(ErrInvalid, CodeInvalidStatus, "status must be LOST, STOLEN or REVOKED")
	}
	now := c.now()
	if since.IsZero() {
		since = now
	}
	if since.After(now.Add(5 * time.Minute)) {
		return Errorf(ErrInvalid, CodeInvalidSince, "since must not be in the future")
	}
	n := normaliseNumber(number)
	if !numberRE.MatchString(n) {
		return Errorf(ErrInvalid, CodeInvalidNumber, "a document number is 1 to 9 characters 0-9 A-Z")
	}
	idx, err := c.ix.Index(ctx, indexPurposeDocumentNumber, []byte(n))
	if err != nil {
		return fmt.Errorf("enrol: blind index: %w", err)
	}
	return c.run(ctx, o, func(tx pgx.Tx) error {
		d, err := db.DocumentByIndex(ctx, tx, idx, true)
		if errors.Is(err, db.ErrNotFound) || (err == nil && d.Office != o.scope.Office) {
			return Errorf(ErrNotFound, CodeNotFound, "no such document")
		}
		if err != nil {
			return err
		}
		o.subject = d.ApplicationID
		if db.StatusRank(status) <= db.StatusRank(d.Status) {
			return Errorf(ErrConflict, CodeStatusOneWay, "the document is %s and cannot become %s", d.Status, status)
		}
		if err := db.SetDocumentStatus(ctx, tx, idx, status, since); err != nil {
			if errors.Is(err, db.ErrStatusOneWay) {
				return Errorf(ErrConflict, CodeStatusOneWay, "the document status is one-way")
			}
			return err
		}
		return c.ok(ctx, tx, o, "", d.Status+"->"+status)
	})
}

// AccessLog lists, for an auditor, every audit row about an enrolment:
// who did or read what, when and why (Convention 108 subject access). The
// auditor's own read is audited after the list is taken.
func (c *Core) AccessLog(ctx context.Context, p Principal, id string) ([]AccessEntry, error) {
	o, err := c.begin(ctx, p, ActionAccessLog, id, RoleAuditor)
	if err != nil {
		return nil, err
	}
	if !isUUID(id) {
		c.deny(ctx, o, RoleAuditor, CodeNotFound)
		return nil, notFound()
	}
	var out []AccessEntry
	err = c.run(ctx, o, func(tx pgx.Tx) error {
		rows, err := db.AuditBySubject(ctx, tx, id)
		if err != nil {
			return err
		}
		out = make([]AccessEntry, 0, len(rows))
		for _, r := range rows {
			out = append(out, AccessEntry{At: r.At, Actor: r.Actor, Role: r.Role, Office: r.Office, Action: r.Action,
				Purpose: r.Purpose, Outcome: r.Outcome})
		}
		return c.ok(ctx, tx, o, "", "")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// VerifyAudit audits the request, checkpoints the chain and verifies it
// whole (db.VerifyAudit).
func (c *Core) VerifyAudit(ctx context.Context, p Principal) (*AuditReport, error) {
	o, err := c.begin(ctx, p, ActionVerify, "", RoleAuditor)
	if err != nil {
		return nil, err
	}
	if err := c.run(ctx, o, func(tx pgx.Tx) error { return c.ok(ctx, tx, o, "", "") }); err != nil {
		return nil, err
	}
	if err := c.Checkpoint(ctx); err != nil {
		return nil, fmt.Errorf("enrol: verify: %w", err)
	}
	rep, err := db.VerifyAudit(ctx, c.pool, o.scope, c.signer.Public(), c.cpDir)
	if err != nil {
		return nil, fmt.Errorf("enrol: verify: %w", err)
	}
	if !rep.OK {
		c.log.LogAttrs(ctx, slog.LevelError, "audit verification failed", slog.Int("problems", len(rep.Problems)))
	}
	return &AuditReport{Rows: rep.Rows, Checkpoints: rep.Checkpoints, OK: rep.OK, Problems: rep.Problems, LastSeq: rep.LastSeq}, nil
}

// Deny audits a denial decided outside the service.
func (c *Core) Deny(ctx context.Context, p Principal, action, subject, code string) {
	c.deny(ctx, &op{p: p, action: action, subject: subject}, "", code)
}

// LiveRecordsBelow counts the live biometric records whose data key is
// still wrapped under a KEK version below version (rotation scope): a
// rotation destroys older versions only when it is zero.
func (c *Core) LiveRecordsBelow(ctx context.Context, version int) (int, error) {
	n := 0
	err := db.WithScope(ctx, c.pool, db.Scope{Actor: "borderid keys rotate", Role: db.RoleRotator}, func(tx pgx.Tx) error {
		page, err := db.BiometricKeysBelow(ctx, tx, version, "", 1)
		n = len(page)
		return err
	})
	return n, err
}

// RewrapAll moves every live biometric record's data key to the
// wrapper's newest KEK version (`borderid keys rotate`), in pages of one
// transaction each, audited under actor; the ciphertexts are untouched.
// It returns how many records it rewrapped. Once it has run, older KEK
// versions may be destroyed: only then are erased records, dead tuples,
// WAL and backups that still hold old wrapped keys unreadable.
func (c *Core) RewrapAll(ctx context.Context, actor string) (int, error) {
	probe := make([]byte, envelope.DEKSize)
	latest, _, err := c.kw.Wrap(ctx, probe, envelope.AD("probe", "probe"))
	if err != nil {
		return 0, fmt.Errorf("enrol: rotate: %w", err)
	}
	o := &op{p: Principal{Subject: actor}, scope: db.Scope{Actor: actor, Role: db.RoleRotator}, action: ActionRotate}
	total, after := 0, ""
	for {
		var page []db.BiometricKey
		n := 0
		err := c.run(ctx, o, func(tx pgx.Tx) error {
			var err error
			n = 0
			page, err = db.BiometricKeysBelow(ctx, tx, latest, after, 100)
			if err != nil || len(page) == 0 {
				return err
			}
			for _, k := range page {
				b, err := db.GetBiometricByID(ctx, tx, k.ID)
				if err != nil {
					return err
				}
				s, err := envelope.Rewrap(ctx, c.kw, envelope.Sealed{KEKVersion: b.KEKVersion, WrappedKey: b.WrappedKey,
					Nonce: b.Nonce, Ciphertext: b.Ciphertext}, envelope.AD(b.ID, recordKind(b.Kind, b.Position)))
				if err != nil {
					return fmt.Errorf("record %s: %w", b.ID, err)
				}
				if err := db.RewrapBiometric(ctx, tx, b.ID, b.KEKVersion, s.KEKVersion, s.WrappedKey); err != nil {
					return err
				}
				n++
			}
			return c.ok(ctx, tx, o, "", fmt.Sprintf("rewrapped=%d kek=%d", n, latest))
		})
		if err != nil {
			return total, err
		}
		total += n
		if len(page) == 0 {
			return total, nil
		}
		after = page[len(page)-1].ID
	}
}

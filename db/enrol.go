package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// This file is the enrolment data of issue 5 (migration 0003): applications,
// envelope-encrypted biometrics and issued documents, always read and
// written inside WithScope, so PostgreSQL's row-level security sees who is
// asking. The functions take the scoped transaction; they check nothing the
// database does not also check (package enrol checks roles first, in Go).

// Scope is who acts in a transaction: the three settings the RLS policies of
// migrations 0003 and 0004 read.
type Scope struct {
	Actor  string // the person or system: certificate CN
	Role   string // the one role acted as (RoleClerk, ...)
	Office string // certificate OU; "" for national roles
}

// The roles a Scope may act as: the staff roles of CONTRACTS.md and
// RoleRotator, the key-rotation scope of `borderid keys rotate` (it may
// read and rewrap every biometric record's key, nothing else).
const (
	RoleClerk    = "clerk"
	RoleApprover = "approver"
	RoleIssuer   = "issuer"
	RoleBorder   = "border"
	RoleAuditor  = "auditor"
	RoleRotator  = "rotator"
)

// ErrScope is returned by WithScope for a scope without actor or with an
// unknown role. An empty role is allowed: such a scope sees nothing and may
// only append audit rows in its actor's name (the denial of a caller who
// holds no role at all) and checkpoints.
var ErrScope = errors.New("db: invalid scope")

// Sentinel errors of the enrolment functions; callers use errors.Is.
var (
	// ErrNotFound: no such row, or not visible in the scope (RLS makes the
	// two indistinguishable, on purpose).
	ErrNotFound = errors.New("db: not found")
	// ErrWrongState: the database refused a state change (trigger BD001,
	// or the row was no longer in the expected state).
	ErrWrongState = errors.New("db: wrong state")
	// ErrImmutable: a column that never changes was changed (BD002).
	ErrImmutable = errors.New("db: immutable column")
	// ErrStatusOneWay: a document status change that does not go up
	// VALID < LOST < STOLEN < REVOKED (BD003).
	ErrStatusOneWay = errors.New("db: document status is one-way")
	// ErrSelfApproval: approved_by equals created_by or finalized_by.
	ErrSelfApproval = errors.New("db: self-approval")
	// ErrDuplicate: a unique key is taken (a document number's blind index).
	ErrDuplicate = errors.New("db: duplicate")
	// ErrDenied: the database refused the statement for this role
	// (privilege or row-level security, SQLSTATE 42501).
	ErrDenied = errors.New("db: permission denied")
)

// WithScope runs fn in a transaction whose scope settings
// (borderid.actor, borderid.role, borderid.office) are set with
// set_config(name, value, true): transaction-local, so a pooled connection
// carries nothing over to its next user. fn's error rolls back; nil commits.
// The transaction is READ COMMITTED, which the audit chain writer relies on.
func WithScope(ctx context.Context, b Beginner, s Scope, fn func(pgx.Tx) error) error {
	if s.Actor == "" {
		return fmt.Errorf("%w: no actor", ErrScope)
	}
	switch s.Role {
	case "", RoleClerk, RoleApprover, RoleIssuer, RoleBorder, RoleAuditor, RoleRotator:
	default:
		return fmt.Errorf("%w: role %q", ErrScope, s.Role)
	}
	return pgx.BeginFunc(ctx, b, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('borderid.actor', $1, true),
			set_config('borderid.role', $2, true), set_config('borderid.office', $3, true)`,
			s.Actor, s.Role, s.Office); err != nil {
			return fmt.Errorf("db: set scope: %w", err)
		}
		return fn(tx)
	})
}

// mapErr turns the database's refusals into the sentinels above.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("db: %s: %w", op, ErrNotFound)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		var s error
		switch {
		case pe.Code == "BD001":
			s = ErrWrongState
		case pe.Code == "BD002":
			s = ErrImmutable
		case pe.Code == "BD003":
			s = ErrStatusOneWay
		case pe.Code == "23514" && pe.ConstraintName == "applications_no_self_approval",
			pe.Code == "BD006": // the approver entered biometric data (migration 0006)
			s = ErrSelfApproval
		case pe.Code == "23505":
			s = ErrDuplicate
		case pe.Code == "42501":
			s = ErrDenied
		case pe.Code == "22P02": // invalid text representation: not a UUID
			s = ErrNotFound
		}
		if s != nil {
			return fmt.Errorf("db: %s: %w: %w", op, s, err)
		}
	}
	return fmt.Errorf("db: %s: %w", op, err)
}

// Application states.
const (
	StateDraft     = "draft"
	StateFinalized = "finalized"
	StateApproved  = "approved"
	StateIssued    = "issued"
)

// Application is a row of applications.
type Application struct {
	ID, Office, State                 string
	Surname, GivenNames, Sex          string
	DateOfBirth                       time.Time // a date (UTC midnight)
	Nationality, DocumentType         string
	CreatedBy                         string
	CreatedAt                         time.Time
	FinalizedBy, ApprovedBy, IssuedBy string    // "" until that state
	FinalizedAt, ApprovedAt, IssuedAt time.Time // zero until that state
}

const applicationColumns = `id::text, office, state, surname, given_names, sex, date_of_birth, nationality, document_type,
	created_by, created_at, coalesce(finalized_by, ''), finalized_at, coalesce(approved_by, ''), approved_at,
	coalesce(issued_by, ''), issued_at`

func scanApplication(row pgx.Row) (*Application, error) {
	var a Application
	var fin, appr, iss *time.Time
	if err := row.Scan(&a.ID, &a.Office, &a.State, &a.Surname, &a.GivenNames, &a.Sex, &a.DateOfBirth, &a.Nationality,
		&a.DocumentType, &a.CreatedBy, &a.CreatedAt, &a.FinalizedBy, &fin, &a.ApprovedBy, &appr, &a.IssuedBy, &iss); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		src *time.Time
		dst *time.Time
	}{{fin, &a.FinalizedAt}, {appr, &a.ApprovedAt}, {iss, &a.IssuedAt}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	return &a, nil
}

// CreateApplication inserts a draft of a.Office created by a.CreatedBy
// (both must match the scope: RLS) and returns its new id.
func CreateApplication(ctx context.Context, tx pgx.Tx, a *Application) (string, error) {
	var id string
	err := tx.QueryRow(ctx, `INSERT INTO applications
		(office, surname, given_names, sex, date_of_birth, nationality, document_type, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id::text`,
		a.Office, a.Surname, a.GivenNames, a.Sex, pgDate(a.DateOfBirth), a.Nationality, a.DocumentType, a.CreatedBy).Scan(&id)
	if err != nil {
		return "", mapErr("create application", err)
	}
	return id, nil
}

// pgDate passes a date as text so no time zone shifts it.
func pgDate(t time.Time) string { return t.Format(time.DateOnly) }

// GetApplication reads application id as the scope sees it: ErrNotFound
// when absent, out of scope, or id is not a UUID. forUpdate locks the row
// until the transaction ends (state changes are serialised per application).
func GetApplication(ctx context.Context, tx pgx.Tx, id string, forUpdate bool) (*Application, error) {
	q := `SELECT ` + applicationColumns + ` FROM applications WHERE id = $1::text::uuid`
	if forUpdate {
		q += ` FOR UPDATE`
	}
	a, err := scanApplication(tx.QueryRow(ctx, q, id))
	if err != nil {
		return nil, mapErr("get application", err)
	}
	return a, nil
}

// AdvanceApplication moves application id from state from to state to,
// recording actor and at in the columns of the new state (finalized_*,
// approved_* or issued_*). The database checks the transition, the role
// and the actor again (trigger applications_guard) and the no-self-approval
// constraint. ErrWrongState when the row was not in state from.
func AdvanceApplication(ctx context.Context, tx pgx.Tx, id, from, to, actor string, at time.Time) error {
	var col string
	switch to {
	case StateFinalized:
		col = "finalized"
	case StateApproved:
		col = "approved"
	case StateIssued:
		col = "issued"
	default:
		return fmt.Errorf("db: advance application to %q: %w", to, ErrWrongState)
	}
	tag, err := tx.Exec(ctx, `UPDATE applications SET state = $3, `+col+`_by = $4, `+col+`_at = $5
		WHERE id = $1::text::uuid AND state = $2`, id, from, to, actor, at)
	if err != nil {
		return mapErr("advance application", err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("db: advance application %s -> %s: %w", from, to, ErrWrongState)
	}
	return nil
}

// Biometric is a row of biometrics: one envelope-encrypted record.
type Biometric struct {
	ID, ApplicationID, Office string
	Kind                      string // face | finger | minutiae
	Position                  int    // 0 for the face, ISO finger position 1..10
	Format                    string // the declared content type of the upload
	Bytes                     int    // plaintext length
	KEKVersion                int
	WrappedKey, Nonce         []byte
	Ciphertext                []byte // nil from ListBiometrics(withData=false)
	CreatedBy                 string
	CreatedAt                 time.Time
}

// PutBiometric stores b as the live record of its (application, kind,
// position): a live record already there is erased first (its wrapped key
// destroyed), then b is inserted. b.ID is generated by the caller (it is
// bound into the ciphertext's associated data). RLS: a clerk of the office,
// the application in draft.
func PutBiometric(ctx context.Context, tx pgx.Tx, b *Biometric) error {
	if _, err := tx.Exec(ctx, `UPDATE biometrics SET wrapped_key = NULL, erased_at = now()
		WHERE application_id = $1::text::uuid AND kind = $2 AND position = $3 AND erased_at IS NULL`,
		b.ApplicationID, b.Kind, b.Position); err != nil {
		return mapErr("replace biometric", err)
	}
	_, err := tx.Exec(ctx, `INSERT INTO biometrics (id, application_id, office, kind, position, format, bytes,
		kek_version, wrapped_key, nonce, ciphertext, created_by)
		VALUES ($1::text::uuid, $2::text::uuid, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		b.ID, b.ApplicationID, b.Office, b.Kind, b.Position, b.Format, b.Bytes,
		b.KEKVersion, b.WrappedKey, b.Nonce, b.Ciphertext, b.CreatedBy)
	return mapErr("put biometric", err)
}

// ListBiometrics returns the live records of an application in (kind,
// position) order, with the ciphertext when withData.
func ListBiometrics(ctx context.Context, tx pgx.Tx, applicationID string, withData bool) ([]Biometric, error) {
	data := "NULL::bytea"
	if withData {
		data = "ciphertext"
	}
	rows, err := tx.Query(ctx, `SELECT id::text, application_id::text, office, kind, position, format, bytes,
		kek_version, wrapped_key, nonce, `+data+`, created_by, created_at
		FROM biometrics WHERE application_id = $1::text::uuid AND erased_at IS NULL
		ORDER BY kind, position`, applicationID)
	if err != nil {
		return nil, mapErr("list biometrics", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Biometric, error) {
		var b Biometric
		err := r.Scan(&b.ID, &b.ApplicationID, &b.Office, &b.Kind, &b.Position, &b.Format, &b.Bytes,
			&b.KEKVersion, &b.WrappedKey, &b.Nonce, &b.Ciphertext, &b.CreatedBy, &b.CreatedAt)
		return b, err
	})
	if err != nil {
		return nil, mapErr("list biometrics", err)
	}
	return out, nil
}

// BiometricsEnteredBy reports whether actor uploaded any biometric record
// of the application, live or since replaced (no self-approval, 0006).
func BiometricsEnteredBy(ctx context.Context, tx pgx.Tx, applicationID, actor string) (bool, error) {
	var ok bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM biometrics WHERE application_id = $1::text::uuid AND created_by = $2)`,
		applicationID, actor).Scan(&ok)
	return ok, mapErr("biometrics entered by", err)
}

// GetBiometric returns the live record of (application, kind, position)
// with its ciphertext, or ErrNotFound.
func GetBiometric(ctx context.Context, tx pgx.Tx, applicationID, kind string, position int) (*Biometric, error) {
	var b Biometric
	err := tx.QueryRow(ctx, `SELECT id::text, application_id::text, office, kind, position, format, bytes,
		kek_version, wrapped_key, nonce, ciphertext, created_by, created_at
		FROM biometrics WHERE application_id = $1::text::uuid AND kind = $2 AND position = $3 AND erased_at IS NULL`,
		applicationID, kind, position).Scan(&b.ID, &b.ApplicationID, &b.Office, &b.Kind, &b.Position, &b.Format, &b.Bytes,
		&b.KEKVersion, &b.WrappedKey, &b.Nonce, &b.Ciphertext, &b.CreatedBy, &b.CreatedAt)
	if err != nil {
		return nil, mapErr("get biometric", err)
	}
	return &b, nil
}

// GetBiometricByID returns a live record by its id with its ciphertext
// (the rotator's read), or ErrNotFound.
func GetBiometricByID(ctx context.Context, tx pgx.Tx, id string) (*Biometric, error) {
	var b Biometric
	err := tx.QueryRow(ctx, `SELECT id::text, application_id::text, office, kind, position, format, bytes,
		kek_version, wrapped_key, nonce, ciphertext, created_by, created_at
		FROM biometrics WHERE id = $1::text::uuid AND erased_at IS NULL`, id).Scan(&b.ID, &b.ApplicationID, &b.Office,
		&b.Kind, &b.Position, &b.Format, &b.Bytes, &b.KEKVersion, &b.WrappedKey, &b.Nonce, &b.Ciphertext, &b.CreatedBy, &b.CreatedAt)
	if err != nil {
		return nil, mapErr("get biometric", err)
	}
	return &b, nil
}

// BiometricKey is what key rotation needs of a record: no ciphertext.
type BiometricKey struct {
	ID, Kind   string
	Position   int
	KEKVersion int
	WrappedKey []byte
}

// BiometricKeysBelow returns up to limit live records whose KEK version is
// below version, in id order after afterID ("" to start): the pages of a
// rotation. Scope RoleRotator.
func BiometricKeysBelow(ctx context.Context, tx pgx.Tx, version int, afterID string, limit int) ([]BiometricKey, error) {
	if afterID == "" {
		afterID = "00000000-0000-0000-0000-000000000000"
	}
	rows, err := tx.Query(ctx, `SELECT id::text, kind, position, kek_version, wrapped_key FROM biometrics
		WHERE erased_at IS NULL AND kek_version < $1 AND id > $2::text::uuid ORDER BY id LIMIT $3`, version, afterID, limit)
	if err != nil {
		return nil, mapErr("biometric keys", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (BiometricKey, error) {
		var k BiometricKey
		err := r.Scan(&k.ID, &k.Kind, &k.Position, &k.KEKVersion, &k.WrappedKey)
		return k, err
	})
	return out, mapErr("biometric keys", err)
}

// RewrapBiometric replaces a live record's wrapped key, from KEK version
// oldVersion to newVersion; the ciphertext is untouched. ErrWrongState when
// the record changed meanwhile (erased, or rewrapped by someone else).
func RewrapBiometric(ctx context.Context, tx pgx.Tx, id string, oldVersion, newVersion int, wrapped []byte) error {
	tag, err := tx.Exec(ctx, `UPDATE biometrics SET kek_version = $3, wrapped_key = $4
		WHERE id = $1::text::uuid AND kek_version = $2 AND erased_at IS NULL`, id, oldVersion, newVersion, wrapped)
	if err != nil {
		return mapErr("rewrap biometric", err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("db: rewrap biometric %s: %w", id, ErrWrongState)
	}
	return nil
}

// Document statuses, in their one-way order.
const (
	StatusValid   = "VALID"
	StatusLost    = "LOST"
	StatusStolen  = "STOLEN"
	StatusRevoked = "REVOKED"
)

// StatusRank is a status's place in the one-way order VALID(0) < LOST(1) <
// STOLEN(2) < REVOKED(3), -1 for an unknown status. A change must go
// strictly up (migration 0003, documents_guard).
func StatusRank(s string) int {
	switch s {
	case StatusValid:
		return 0
	case StatusLost:
		return 1
	case StatusStolen:
		return 2
	case StatusRevoked:
		return 3
	}
	return -1
}

// Document is a row of documents. The document number itself is not
// stored, only its blind index.
type Document struct {
	NumberIndex               []byte
	ApplicationID, Office     string
	ChipID                    string
	DateOfBirth, DateOfExpiry time.Time
	DocumentType, Status      string
	StatusSince, IssuedAt     time.Time
	IssuedBy                  string
}

// InsertDocument records an issued document (status VALID) of an approved
// application; ErrDuplicate when the number's index is taken.
func InsertDocument(ctx context.Context, tx pgx.Tx, d *Document) error {
	_, err := tx.Exec(ctx, `INSERT INTO documents (number_index, application_id, office, chip_id, date_of_birth,
		date_of_expiry, document_type, status, status_since, issued_at, issued_by)
		VALUES ($1, $2::text::uuid, $3, $4, $5::text::date, $6::text::date, $7, 'VALID', $8, $8, $9)`,
		d.NumberIndex, d.ApplicationID, d.Office, d.ChipID, pgDate(d.DateOfBirth), pgDate(d.DateOfExpiry),
		d.DocumentType, d.IssuedAt, d.IssuedBy)
	return mapErr("insert document", err)
}

const documentColumns = `number_index, application_id::text, office, chip_id, date_of_birth, date_of_expiry,
	document_type, status, status_since, issued_at, issued_by`

func scanDocument(row pgx.Row) (*Document, error) {
	var d Document
	err := row.Scan(&d.NumberIndex, &d.ApplicationID, &d.Office, &d.ChipID, &d.DateOfBirth, &d.DateOfExpiry,
		&d.DocumentType, &d.Status, &d.StatusSince, &d.IssuedAt, &d.IssuedBy)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// DocumentByIndex finds a document by the blind index of its number.
func DocumentByIndex(ctx context.Context, tx pgx.Tx, index []byte, forUpdate bool) (*Document, error) {
	q := `SELECT ` + documentColumns + ` FROM documents WHERE number_index = $1`
	if forUpdate {
		q += ` FOR UPDATE`
	}
	d, err := scanDocument(tx.QueryRow(ctx, q, index))
	return d, mapErr("document", err)
}

// DocumentOfChip finds the document issued with chip chipID.
func DocumentOfChip(ctx context.Context, tx pgx.Tx, chipID string) (*Document, error) {
	d, err := scanDocument(tx.QueryRow(ctx, `SELECT `+documentColumns+` FROM documents WHERE chip_id = $1`, chipID))
	return d, mapErr("document of chip", err)
}

// DocumentOfApplication finds the document issued for an application.
func DocumentOfApplication(ctx context.Context, tx pgx.Tx, applicationID string) (*Document, error) {
	d, err := scanDocument(tx.QueryRow(ctx, `SELECT `+documentColumns+` FROM documents WHERE application_id = $1::text::uuid`, applicationID))
	return d, mapErr("document of application", err)
}

// SetDocumentStatus changes a document's status (one-way: ErrStatusOneWay
// unless it goes up). RLS: an approver of the document's office.
func SetDocumentStatus(ctx context.Context, tx pgx.Tx, index []byte, status string, since time.Time) error {
	if StatusRank(status) < 0 {
		return fmt.Errorf("db: document status %q: %w", status, ErrStatusOneWay)
	}
	tag, err := tx.Exec(ctx, `UPDATE documents SET status = $2, status_since = $3 WHERE number_index = $1`, index, status, since)
	if err != nil {
		return mapErr("document status", err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("db: document status: %w", ErrNotFound)
	}
	return nil
}

package enrol

import (
	"context"
	"slices"
	"time"
)

// Roles (CONTRACTS.md, "Client certificates"). Office roles have an office
// (OU); national roles have none.
const (
	RoleClerk    = "clerk"
	RoleApprover = "approver"
	RoleIssuer   = "issuer"
	RoleBorder   = "border"
	RoleAuditor  = "auditor"
)

// Principal is the authenticated caller, from its client certificate.
type Principal struct {
	Subject string   // CN
	Roles   []string // SAN URIs urn:borderid:role:<role>
	Office  string   // OU; "" for national roles
	Country string   // O, two-letter
}

// Has reports whether p holds role.
func (p Principal) Has(role string) bool { return slices.Contains(p.Roles, role) }

// NewApplication is the body of POST /v1/enrollments.
type NewApplication struct {
	Surname      string `json:"surname"`
	GivenNames   string `json:"given_names"`
	Sex          string `json:"sex"`           // F, M or X
	DateOfBirth  string `json:"date_of_birth"` // YYYY-MM-DD
	Nationality  string `json:"nationality"`   // ICAO 9303-3 code: UTO, D
	DocumentType string `json:"document_type"` // P, or P and one letter
}

// Application is an enrolment as Get returns it: demographics, state and
// what biometrics it holds (never their bytes).
type Application struct {
	ID     string
	Office string
	State  string // draft | finalized | approved | issued
	NewApplication
	CreatedAt  time.Time
	Biometrics []BiometricSummary
}

// BiometricSummary describes one stored biometric record.
type BiometricSummary struct {
	Kind     string // face | finger | minutiae
	Position int    // 0 for the face, ISO finger position 1..10
	Format   string // the content type it was uploaded as
	Bytes    int
}

// IssueResult is what Issue returns: the new document's number (given to
// the caller once, stored only as a blind index) and its chip's id.
type IssueResult struct {
	DocumentNumber string
	ChipID         string
}

// AccessEntry is one audit row about an enrolment: who, when, why.
type AccessEntry struct {
	At                  time.Time
	Actor, Role, Office string
	Action, Purpose     string
	Outcome             string // ok | denied
}

// AuditReport is the outcome of VerifyAudit.
type AuditReport struct {
	Rows        int64
	Checkpoints int
	OK          bool
	Problems    []string
	LastSeq     int64
}

// Service is what the HTTP layer (enrol/api) calls. Every method checks
// the caller's role and office itself; *Core implements it.
type Service interface {
	Create(ctx context.Context, p Principal, a NewApplication) (id string, err error)
	PutFace(ctx context.Context, p Principal, id, contentType string, body []byte) error
	PutFinger(ctx context.Context, p Principal, id string, position int, contentType string, body []byte) error
	PutMinutiae(ctx context.Context, p Principal, id string, position int, contentType string, body []byte) error
	Finalize(ctx context.Context, p Principal, id string) error
	Approve(ctx context.Context, p Principal, id string) error
	Issue(ctx context.Context, p Principal, id string) (IssueResult, error)
	Get(ctx context.Context, p Principal, id string) (*Application, error)
	GetFace(ctx context.Context, p Principal, id, purpose string) (contentType string, body []byte, err error)
	SetDocumentStatus(ctx context.Context, p Principal, number, status string, since time.Time) error
	AccessLog(ctx context.Context, p Principal, id string) ([]AccessEntry, error)
	VerifyAudit(ctx context.Context, p Principal) (*AuditReport, error)
	// Deny audits a denial decided outside the service (401/403 in the
	// HTTP layer). It never fails the caller: errors are logged.
	Deny(ctx context.Context, p Principal, action, subject, code string)
}

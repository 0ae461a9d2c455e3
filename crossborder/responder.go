package crossborder

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"borderid/db"
	"borderid/internal/envelope"
)

// Caller roles: who may ask the responder.
const (
	RolePartner = "partner" // a registered partner state's system
	RoleBorder  = "border"  // one of this state's border stations (staff role border)
	RoleStaff   = "staff"   // other staff of this state (the trust lists only)
)

// Caller is the authenticated client of a request, put into its context by
// the HTTP layer that verified the client certificate (enrol/api).
type Caller struct {
	Role    string // RolePartner, RoleBorder or RoleStaff
	Actor   string // the audit's actor: a partner's alpha-3 state code, a station's certificate CN
	Subject string // the client certificate's CN
}

type callerKey struct{}

// WithCaller returns ctx carrying c; the responder and the trust-list
// handlers serve only requests whose context carries a Caller.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the Caller of ctx.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok && c.Actor != "" && (c.Role == RolePartner || c.Role == RoleBorder || c.Role == RoleStaff)
}

// Registry finds a registered partner by its alpha-3 state code; it
// returns an error wrapping db.ErrNotFound when there is none.
// enrol/api's PartnerRegistry (a short cache over db.ListPartners) is one.
type Registry interface {
	Partner(ctx context.Context, state string) (*db.Partner, error)
}

// Defaults of ResponderConfig.
const (
	DefaultMaxBody         = 256 << 10 // a full batch of MaxQueries is about 150 KiB
	DefaultBorderRate      = 200.0     // requests per second per border station
	DefaultCheckpointEvery = 1000
	// JWSType is the typ header of every answer (RFC 8725 §3.11 explicit typing).
	JWSType = "borderid-status+json"
	// ActionStatus is the audit action of an answered request.
	ActionStatus = "crossborder.status"
)

// ResponderConfig configures NewResponder.
type ResponderConfig struct {
	// Pool is the app role's pool (documents are read in the status scope).
	Pool db.Beginner
	// Indexer is the HSM's blind-index key (the one issuance used).
	Indexer envelope.Indexer
	// Signer is the status-signer key (HSM key "status-signer", EC P-256);
	// SignerCert its certificate (DER, pki/status-signer.crt: extended key
	// usage OCSPSigning), sent as x5c.
	Signer     crypto.Signer
	SignerCert []byte
	// State is this state's alpha-3 code: the responder, and the only
	// issuing state it knows documents of.
	State string
	// Registry gives each partner's limits; required.
	Registry Registry
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Logger; nil: discard.
	Logger *slog.Logger
	// BorderRatePerSec limits each border station (by certificate CN);
	// 0: DefaultBorderRate. BorderQuotaPerDay: 0 means no daily quota.
	BorderRatePerSec  float64
	BorderQuotaPerDay int
	// MaxBody caps the request body; 0: DefaultMaxBody.
	MaxBody int64
	// Checkpoint, if set, is called after every CheckpointEvery audit rows
	// the responder writes (0: DefaultCheckpointEvery), so that its rows do
	// not widen the window after the newest signed audit checkpoint (see
	// db/audit.go); serve passes enrol.Core.Checkpoint.
	Checkpoint      func(context.Context) error
	CheckpointEvery int
	// AuditHeadDir is the folder of the audit head file (db.HeadFile; the
	// service's checkpoint folder): every answered request advances it, so
	// a deleted tail of status rows is caught. Empty: not recorded.
	AuditHeadDir string
}

// Responder answers POST /v1/crossborder/status. It is an http.Handler
// that expects the Caller in the request's context (WithCaller); it is safe
// for concurrent use.
type Responder struct {
	pool       db.Beginner
	ix         envelope.Indexer
	jws        *jwsSigner
	state      string
	reg        Registry
	now        func() time.Time
	log        *slog.Logger
	borderRate float64
	borderQ    int
	maxBody    int64
	limits     *limits
	checkpoint func(context.Context) error
	every      int64
	headDir    string
	audited    atomic.Int64
	cpMu       sync.Mutex
}

// NewResponder checks cfg: the signer certificate must hold the signer's
// public key (ECDSA P-256) and the extended key usage OCSPSigning.
func NewResponder(cfg ResponderConfig) (*Responder, error) {
	switch {
	case cfg.Pool == nil:
		return nil, errors.New("crossborder: ResponderConfig.Pool is required")
	case cfg.Indexer == nil:
		return nil, errors.New("crossborder: ResponderConfig.Indexer is required")
	case cfg.Signer == nil || len(cfg.SignerCert) == 0:
		return nil, errors.New("crossborder: ResponderConfig.Signer and SignerCert are required")
	case cfg.Registry == nil:
		return nil, errors.New("crossborder: ResponderConfig.Registry is required")
	case !stateCode(cfg.State):
		return nil, fmt.Errorf("crossborder: ResponderConfig.State %q is not an alpha-3 code", cfg.State)
	case cfg.BorderRatePerSec < 0 || cfg.BorderQuotaPerDay < 0 || cfg.MaxBody < 0 || cfg.CheckpointEvery < 0:
		return nil, errors.New("crossborder: negative limits")
	}
	c, err := x509.ParseCertificate(cfg.SignerCert)
	if err != nil {
		return nil, fmt.Errorf("crossborder: status-signer certificate: %w", err)
	}
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, errors.New("crossborder: the status-signer certificate's key is not ECDSA P-256")
	}
	if sk, ok := cfg.Signer.Public().(*ecdsa.PublicKey); !ok || !sk.Equal(pub) {
		return nil, errors.New("crossborder: the status-signer certificate does not hold the signer's key")
	}
	hasEKU := false
	for _, u := range c.ExtKeyUsage {
		hasEKU = hasEKU || u == x509.ExtKeyUsageOCSPSigning
	}
	if !hasEKU {
		return nil, errors.New("crossborder: the status-signer certificate lacks the extended key usage OCSPSigning")
	}
	js, err := newJWSSigner(cfg.Signer, cfg.SignerCert)
	if err != nil {
		return nil, err
	}
	r := &Responder{
		pool: cfg.Pool, ix: cfg.Indexer, jws: js, state: cfg.State, reg: cfg.Registry, now: cfg.Now, log: cfg.Logger,
		borderRate: cfg.BorderRatePerSec, borderQ: cfg.BorderQuotaPerDay, maxBody: cfg.MaxBody,
		limits: newLimits(), checkpoint: cfg.Checkpoint, every: int64(cfg.CheckpointEvery), headDir: cfg.AuditHeadDir,
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.borderRate == 0 {
		r.borderRate = DefaultBorderRate
	}
	if r.maxBody == 0 {
		r.maxBody = DefaultMaxBody
	}
	if r.every == 0 {
		r.every = DefaultCheckpointEvery
	}
	return r, nil
}

// Error codes of the responder (CONTRACTS.md "HTTP": {"code", "message"}).
const (
	CodeCertificateRequired = "client_certificate_required" // 401
	CodePartnerUnregistered = "partner_not_registered"      // 401
	CodeForbiddenRole       = "forbidden_role"              // 403
	CodeMethodNotAllowed    = "method_not_allowed"          // 405
	CodeUnsupportedMedia    = "unsupported_media_type"      // 415
	CodeBodyTooLarge        = "body_too_large"              // 413
	CodeTooManyQueries      = "too_many_queries"            // 413
	CodeRateLimited         = "rate_limited"                // 429
	CodeInternal            = "internal"                    // 500
)

// httpError is a refusal: status, code and a message that never holds
// request data.
type httpError struct {
	status        int
	code, message string
	retryAfter    time.Duration
}

func (e *httpError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message) }

func refuse(status int, code, format string, args ...any) *httpError {
	return &httpError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, e *httpError) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(e.retryAfter.Seconds()))))
	}
	b, _ := json.Marshal(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{e.code, e.message})
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
}

// ServeHTTP answers one POST /v1/crossborder/status.
func (r *Responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	jws, n, err := r.serve(w, req)
	if err != nil {
		var he *httpError
		if !errors.As(err, &he) {
			lvl := slog.LevelError
			if errors.Is(err, context.Canceled) {
				lvl = slog.LevelInfo
			}
			r.log.LogAttrs(req.Context(), lvl, "crossborder status failed", slog.String("error", err.Error()))
			he = refuse(http.StatusInternalServerError, CodeInternal, "internal error")
		}
		writeError(w, he)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ContentTypeJOSE)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(jws))
	r.log.LogAttrs(req.Context(), slog.LevelDebug, "crossborder status answered",
		slog.Int("queries", n), slog.Duration("duration", time.Since(start)))
}

func (r *Responder) serve(w http.ResponseWriter, req *http.Request) (string, int, error) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return "", 0, refuse(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "this method is not allowed here")
	}
	ctx := req.Context()
	caller, ok := CallerFrom(ctx)
	if !ok {
		return "", 0, refuse(http.StatusUnauthorized, CodeCertificateRequired, "a client certificate is required")
	}
	if caller.Role != RolePartner && caller.Role != RoleBorder {
		return "", 0, refuse(http.StatusForbidden, CodeForbiddenRole, "this operation needs the role border or a registered partner")
	}
	now := r.now()
	// The limits of this caller: a partner's from the registry, a station's the border default.
	rps, quota := r.borderRate, r.borderQ
	key := "border:" + caller.Actor
	if caller.Role == RolePartner {
		p, err := r.reg.Partner(ctx, caller.Actor)
		if errors.Is(err, db.ErrNotFound) {
			return "", 0, refuse(http.StatusUnauthorized, CodePartnerUnregistered, "the partner state is not registered")
		}
		if err != nil {
			return "", 0, err
		}
		rps, quota, key = p.RatePerSec, p.QuotaPerDay, "partner:"+p.State
	}
	// Rate first, before a byte of the body is read.
	if ok, retry := r.limits.allow(key, rps, now); !ok {
		return "", 0, &httpError{status: http.StatusTooManyRequests, code: CodeRateLimited,
			message: "too many requests: retry later", retryAfter: retry}
	}
	body, err := readBody(w, req, r.maxBody)
	if err != nil {
		return "", 0, err
	}
	rq, err := DecodeRequest(body)
	if err != nil {
		return "", 0, err
	}
	if ok, retry := r.limits.spend(key, len(rq.Queries), quota, now); !ok {
		return "", 0, &httpError{status: http.StatusTooManyRequests, code: CodeRateLimited,
			message: "the daily query quota is spent: retry after 00:00 UTC", retryAfter: retry}
	}
	answers, err := r.answer(ctx, caller, rq.Queries, now)
	if err != nil {
		return "", 0, err
	}
	payload, err := json.Marshal(Payload{Responder: r.state, Nonce: rq.Nonce, Time: now.UTC().Format(time.RFC3339), Answers: answers})
	if err != nil {
		return "", 0, fmt.Errorf("crossborder: payload: %w", err)
	}
	jws, err := r.jws.sign(payload)
	if err != nil {
		return "", 0, err
	}
	return jws, len(rq.Queries), nil
}

// readBody checks the media type (application/json, charset utf-8 if any)
// and reads at most limit bytes.
func readBody(w http.ResponseWriter, req *http.Request, limit int64) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, refuse(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "the body must be application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, refuse(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "the only charset accepted is utf-8")
	}
	if req.ContentLength > limit {
		return nil, refuse(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "the body exceeds %d bytes", limit)
	}
	if req.ContentLength == 0 {
		return nil, refuse(http.StatusUnprocessableEntity, CodeEmptyBody, "the body is empty")
	}
	var buf bytes.Buffer
	if req.ContentLength > 0 {
		buf.Grow(int(req.ContentLength))
	}
	_, err = buf.ReadFrom(http.MaxBytesReader(w, req.Body, limit))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, refuse(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "the body exceeds %d bytes", limit)
	case err != nil:
		return nil, refuse(http.StatusBadRequest, CodeIncompleteBody, "the body could not be read completely")
	case buf.Len() == 0:
		return nil, refuse(http.StatusUnprocessableEntity, CodeEmptyBody, "the body is empty")
	}
	return buf.Bytes(), nil
}

// answer looks the queries up and writes the audit row, in one transaction
// of the status scope: no answer leaves without its audit row.
func (r *Responder) answer(ctx context.Context, caller Caller, qs []Query, now time.Time) ([]Answer, error) {
	idx := make([][]byte, len(qs))
	for i, q := range qs {
		ix, err := r.ix.Index(ctx, db.IndexPurposeDocumentNumber, []byte(db.NormaliseDocumentNumber(q.DocumentNumber)))
		if err != nil {
			return nil, fmt.Errorf("crossborder: blind index: %w", err)
		}
		idx[i] = ix
	}
	var lookup [][]byte
	for i, q := range qs {
		if q.IssuingState == r.state {
			lookup = append(lookup, idx[i])
		}
	}
	answers := make([]Answer, len(qs))
	var seq int64
	var hash []byte
	err := db.WithStatusScope(ctx, r.pool, caller.Actor, func(tx pgx.Tx) error {
		docs, err := db.DocumentStatuses(ctx, tx, lookup)
		if err != nil {
			return err
		}
		today := time.Date(now.UTC().Year(), now.UTC().Month(), now.UTC().Day(), 0, 0, 0, 0, time.UTC)
		for i, q := range qs {
			a := Answer{DocumentNumber: q.DocumentNumber, Status: StatusUnknown}
			if q.IssuingState == r.state {
				if d := docs[string(idx[i])]; d != nil {
					a.Status, a.Since = statusOf(d, q, today)
					if a.Status != StatusUnknown {
						// A matched query is a read of this person's
						// data: one row with the enrolment as subject,
						// so the person's access log shows who asked.
						if err := db.InsertAudit(ctx, tx, db.AuditEntry{
							Actor: caller.Actor, Role: caller.Role, Action: ActionStatus, Outcome: db.OutcomeOK,
							Subject: d.ApplicationID, Detail: fmt.Sprintf("system=%q answered=%s", caller.Subject, a.Status),
						}); err != nil {
							return err
						}
					}
				}
			}
			answers[i] = a
		}
		seq, hash, err = db.InsertAuditReturning(ctx, tx, db.AuditEntry{
			Actor: caller.Actor, Role: caller.Role, Action: ActionStatus, Outcome: db.OutcomeOK,
			Detail: auditDetail(caller.Subject, idx),
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := db.AdvanceHead(r.headDir, seq, hash); err != nil {
		r.log.LogAttrs(ctx, slog.LevelError, "recording the audit head failed", slog.String("error", err.Error()))
	}
	r.afterAudit(ctx)
	return answers, nil
}

// auditDetail is the audit row's detail: the number of queries and the
// blind index (hex) of each queried number, in query order. Never a number.
func auditDetail(system string, idx [][]byte) string {
	var b strings.Builder
	b.Grow(32 + len(system) + len(idx)*65)
	// The asking system (its certificate's CN; the actor column holds the
	// partner's state code), so the audit says which of its systems asked.
	fmt.Fprintf(&b, "system=%q queries=%d index=", system, len(idx))
	for i, x := range idx {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(hex.EncodeToString(x))
	}
	return b.String()
}

// afterAudit takes a checkpoint every r.every rows, in the background: a
// checkpoint (a database round trip, an HSM signature, an fsynced file)
// inside the request that crosses the interval showed as a 200-300 ms
// spike in bench-crossborder.
func (r *Responder) afterAudit(ctx context.Context) {
	if r.checkpoint == nil || r.audited.Add(1) < r.every || !r.cpMu.TryLock() {
		return
	}
	r.audited.Store(0)
	cctx := context.WithoutCancel(ctx)
	go func() {
		defer r.cpMu.Unlock()
		if err := r.checkpoint(cctx); err != nil {
			r.log.LogAttrs(cctx, slog.LevelError, "audit checkpoint failed", slog.String("error", err.Error()))
		}
	}()
}

// statusOf answers one query about a document found by its number: UNKNOWN
// unless the date of birth and the date of expiry match too (compared as
// the MRZ's YYMMDD), else the status of highest precedence, STOLEN > LOST >
// REVOKED > EXPIRED > VALID, with the day it took effect.
func statusOf(d *db.DocumentStatus, q Query, today time.Time) (status, since string) {
	if d.DateOfBirth.Format("060102") != q.DateOfBirth || d.DateOfExpiry.Format("060102") != q.DateOfExpiry {
		return StatusUnknown, ""
	}
	day := func(t time.Time) string { return t.UTC().Format(time.DateOnly) }
	switch {
	case !d.StolenSince.IsZero():
		return StatusStolen, day(d.StolenSince)
	case !d.LostSince.IsZero():
		return StatusLost, day(d.LostSince)
	case !d.RevokedSince.IsZero():
		return StatusRevoked, day(d.RevokedSince)
	}
	// The status column is the truth should a day be missing (it cannot be
	// after migration 0005, which backfills and then sets them by trigger).
	if d.Status != db.StatusValid {
		return d.Status, day(d.StatusSince)
	}
	expiry := time.Date(d.DateOfExpiry.Year(), d.DateOfExpiry.Month(), d.DateOfExpiry.Day(), 0, 0, 0, 0, time.UTC)
	if expiry.Before(today) {
		// Valid through its date of expiry, expired from the next day.
		return StatusExpired, expiry.AddDate(0, 0, 1).Format(time.DateOnly)
	}
	return StatusValid, day(d.IssuedAt)
}

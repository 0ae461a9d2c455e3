package db

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// This file is the cross-border status service's data (issue 6, migration
// 0005): the partner registry, and the documents' status as the status
// responder reads it.
//
// The registry is written by the owner only (`borderid partner add` and
// `partner remove`, like `trust import`), each insert and delete audited
// by a trigger in partner_audit (append-only); the app role reads it in any
// scope. A registration is never changed in place: remove it and add it
// again.

// Defaults of a partner's limits when AddPartner is given zero.
const (
	DefaultPartnerRate  = 10.0    // requests per second
	DefaultPartnerQuota = 100_000 // queries per UTC day
)

// Partner is a registered partner state.
type Partner struct {
	State            string   // ICAO 9303-3 alpha-3 code (D for Germany)
	ClientCA         [][]byte // DER: the CA certificate(s) that issue its client certificates
	StatusSignerRoot []byte   // DER: the root its status answers (x5c) chain to
	ServerCA         []byte   // DER, optional: the CA of its HTTPS server
	CSCA             []byte   // DER, optional: its CSCA, the root of its master list and CRL
	URL              string   // https:// base URL of its status service
	RatePerSec       float64  // requests per second it may send us (token bucket)
	QuotaPerDay      int      // queries per UTC day it may send us
	AddedAt          time.Time
	AddedBy          string
}

// AddPartner registers p, run as the owner (the app role may not: RLS,
// ErrDenied). Zero RatePerSec and QuotaPerDay take DefaultPartnerRate and
// DefaultPartnerQuota; AddedBy defaults to the OS user. ErrDuplicate when
// p.State is registered already.
func AddPartner(ctx context.Context, b Beginner, p Partner) error {
	if !validPartnerState(p.State) {
		return fmt.Errorf("db: add partner: %q is not an ICAO 9303-3 state code", p.State)
	}
	if len(p.ClientCA) == 0 || len(p.StatusSignerRoot) == 0 {
		return errors.New("db: add partner: a client CA and a status-signer root are required")
	}
	var ca []byte
	for i, c := range p.ClientCA {
		if parts, err := splitDER(c); err != nil || len(parts) != 1 {
			return fmt.Errorf("db: add partner: client CA %d is not one DER certificate", i)
		}
		ca = append(ca, c...)
	}
	if p.RatePerSec == 0 {
		p.RatePerSec = DefaultPartnerRate
	}
	if p.QuotaPerDay == 0 {
		p.QuotaPerDay = DefaultPartnerQuota
	}
	if p.AddedBy == "" {
		p.AddedBy = osUser()
	}
	tx, err := b.Begin(ctx)
	if err != nil {
		return fmt.Errorf("db: add partner: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, `INSERT INTO partners (state, client_ca, status_signer_root, server_ca, csca, url,
		rate_per_sec, quota_per_day, added_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		p.State, ca, p.StatusSignerRoot, nilIfEmpty(p.ServerCA), nilIfEmpty(p.CSCA), p.URL,
		p.RatePerSec, p.QuotaPerDay, p.AddedBy); err != nil {
		return mapErr("add partner", err)
	}
	return mapErr("add partner", tx.Commit(ctx))
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// RemovePartner removes the registration of state, run as the owner; the
// audit row names the OS user. ErrNotFound when state is not registered.
func RemovePartner(ctx context.Context, b Beginner, state string) error {
	tx, err := b.Begin(ctx)
	if err != nil {
		return fmt.Errorf("db: remove partner: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, `SELECT set_config('borderid.actor', $1, true)`, osUser()); err != nil {
		return mapErr("remove partner", err)
	}
	tag, err := tx.Exec(ctx, `DELETE FROM partners WHERE state = $1`, state)
	if err != nil {
		return mapErr("remove partner", err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("db: remove partner %s: %w", state, ErrNotFound)
	}
	return mapErr("remove partner", tx.Commit(ctx))
}

const partnerColumns = `state, client_ca, status_signer_root, server_ca, csca, url, rate_per_sec, quota_per_day, added_at, added_by`

func scanPartner(row pgx.Row) (*Partner, error) {
	var p Partner
	var ca []byte
	if err := row.Scan(&p.State, &ca, &p.StatusSignerRoot, &p.ServerCA, &p.CSCA, &p.URL, &p.RatePerSec, &p.QuotaPerDay,
		&p.AddedAt, &p.AddedBy); err != nil {
		return nil, err
	}
	var err error
	if p.ClientCA, err = splitDER(ca); err != nil {
		return nil, fmt.Errorf("db: partner %s: client_ca: %w", p.State, err)
	}
	return &p, nil
}

// ListPartners returns every registered partner, ordered by state. Either
// role may read, in any scope.
func ListPartners(ctx context.Context, b Beginner) ([]Partner, error) {
	var out []Partner
	err := pgx.BeginFunc(ctx, b, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+partnerColumns+` FROM partners ORDER BY state`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanPartner(rows)
			if err != nil {
				return err
			}
			out = append(out, *p)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, mapErr("list partners", err)
	}
	return out, nil
}

// PartnerByState returns the registration of state; ErrNotFound when there
// is none.
func PartnerByState(ctx context.Context, b Beginner, state string) (*Partner, error) {
	var p *Partner
	err := pgx.BeginFunc(ctx, b, func(tx pgx.Tx) error {
		var err error
		p, err = scanPartner(tx.QueryRow(ctx, `SELECT `+partnerColumns+` FROM partners WHERE state = $1`, state))
		return err
	})
	if err != nil {
		return nil, mapErr("partner "+state, err)
	}
	return p, nil
}

// splitDER splits concatenated DER elements (certificates) into their
// parts; empty input gives none.
func splitDER(b []byte) ([][]byte, error) {
	var out [][]byte
	s := cryptobyte.String(b)
	for !s.Empty() {
		var el cryptobyte.String
		if !s.ReadASN1Element(&el, cbasn1.SEQUENCE) {
			return nil, errors.New("not a sequence of DER certificates")
		}
		out = append(out, []byte(el))
	}
	return out, nil
}

func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

// RoleStatus is the scope of the status responder (package crossborder):
// it reads the documents of every office (migration 0005's
// documents_status_read) and appends audit rows, nothing else. It is not a
// staff role and WithScope refuses it: only WithStatusScope sets it.
const RoleStatus = "status"

// WithStatusScope runs fn in a transaction in the status responder's scope
// (role RoleStatus, no office) acting for actor: the asking partner's state
// code or the border station's certificate CN. Like WithScope, the settings
// are transaction-local.
func WithStatusScope(ctx context.Context, b Beginner, actor string, fn func(pgx.Tx) error) error {
	if actor == "" {
		return fmt.Errorf("%w: no actor", ErrScope)
	}
	return pgx.BeginFunc(ctx, b, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('borderid.actor', $1, true),
			set_config('borderid.role', $2, true), set_config('borderid.office', '', true)`, actor, RoleStatus); err != nil {
			return fmt.Errorf("db: set scope: %w", err)
		}
		return fn(tx)
	})
}

// DocumentStatus is what the status responder reads of a document: the
// dates it matches a query on, and when each status took effect (zero: the
// document never had it). Status is the highest by the one-way rank; the
// answer's precedence (STOLEN > LOST > REVOKED) is the caller's.
type DocumentStatus struct {
	NumberIndex               []byte
	ApplicationID             string    // the enrolment: the audit subject of a matched query
	DateOfBirth, DateOfExpiry time.Time // dates (UTC midnight)
	DocumentType, Status      string
	StatusSince, IssuedAt     time.Time
	LostSince, StolenSince    time.Time
	RevokedSince              time.Time
}

// DocumentStatuses looks up the documents whose number indexes are in
// indexes, in one statement, keyed by string(index); absent (or invisible
// to the scope) ones are not in the map. RLS: the status scope sees every
// office.
func DocumentStatuses(ctx context.Context, tx pgx.Tx, indexes [][]byte) (map[string]*DocumentStatus, error) {
	out := make(map[string]*DocumentStatus, len(indexes))
	if len(indexes) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, `SELECT number_index, application_id::text, date_of_birth, date_of_expiry, document_type, status, status_since, issued_at,
		lost_since, stolen_since, revoked_since FROM documents WHERE number_index = ANY($1)`, indexes)
	if err != nil {
		return nil, mapErr("document statuses", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d DocumentStatus
		var lost, stolen, revoked *time.Time
		if err := rows.Scan(&d.NumberIndex, &d.ApplicationID, &d.DateOfBirth, &d.DateOfExpiry, &d.DocumentType, &d.Status, &d.StatusSince, &d.IssuedAt,
			&lost, &stolen, &revoked); err != nil {
			return nil, mapErr("document statuses", err)
		}
		for _, p := range []struct {
			src *time.Time
			dst *time.Time
		}{{lost, &d.LostSince}, {stolen, &d.StolenSince}, {revoked, &d.RevokedSince}} {
			if p.src != nil {
				*p.dst = *p.src
			}
		}
		out[string(d.NumberIndex)] = &d
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr("document statuses", err)
	}
	return out, nil
}

// validPartnerState is the check of the state column, for callers that
// want to refuse early: three letters A-Z, or D.
func validPartnerState(s string) bool {
	return s == "D" || (len(s) == 3 && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "")
}

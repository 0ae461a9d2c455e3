package db

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"borderid/internal/cert"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// This file is the trust store of issue 4, item 3: CSCAs, link
// certificates, DSCs seen and CRLs in the tables of migration 0001, with
// provenance, and an audit row per insert (migration 0002: triggers write
// trust_audit in the inserting transaction, append-only).
//
// Importing is idempotent by SHA-256 of the DER: importing the same
// certificate again inserts nothing and reports a duplicate. Rows are never
// changed in place. Whether a certificate is a trust anchor (kind csca) is
// the importer's decision, made by signature (verify.MemoryStore.Add's
// rule), never by name; this package stores what it is told.

// TrustKind is the kind of a trust store entry; its String is the value of
// the kind column and of `borderid trust list --json`.
type TrustKind uint8

const (
	KindCSCA TrustKind = iota + 1 // self-signed by signature: a trust anchor
	KindLink                      // a CA certificate between a DSC and a CSCA
	KindDSC                       // a Document Signer certificate seen
	KindCRL                       // a certificate revocation list
)

func (k TrustKind) String() string {
	switch k {
	case KindCSCA:
		return "csca"
	case KindLink:
		return "link"
	case KindDSC:
		return "dsc"
	case KindCRL:
		return "crl"
	}
	return fmt.Sprintf("TrustKind(%d)", uint8(k))
}

// ErrTrustKind is returned for a kind a table cannot hold (KindCRL to
// ImportCertificate, an unknown kind).
var ErrTrustKind = errors.New("db: invalid trust store kind")

// Beginner starts a transaction: *pgxpool.Pool, *pgx.Conn, or a pgx.Tx
// (then a savepoint). Importers pass one transaction per file so a whole
// master list is one commit; each entry is its own savepoint inside it.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// TrustStore reads the trust store. Its methods have the shape of
// verify.TrustStore (CSCAs, Links, CRLs by ISO 3166-1 alpha-2 country of the
// subject, of the issuer for CRLs), so a *TrustStore is one.
type TrustStore struct {
	pool *pgxpool.Pool
}

// NewTrustStore reads through pool (either role: both may read).
func NewTrustStore(pool *pgxpool.Pool) *TrustStore { return &TrustStore{pool: pool} }

// TrustEntry is one row of List.
type TrustEntry struct {
	Kind     TrustKind
	Country  string    // as stored: the two-letter C= of the subject (issuer for a CRL)
	Subject  string    // the subject (issuer for a CRL) as text
	NotAfter time.Time // a CRL's nextUpdate; zero when the CRL has none
	SHA256   [32]byte
	Source   string // the file it was imported from
}

// CSCAs returns the trust anchors of country2.
func (s *TrustStore) CSCAs(ctx context.Context, country2 string) ([]*cert.Certificate, error) {
	return s.certificates(ctx, KindCSCA, country2)
}

// Links returns the link (and other intermediate CA) certificates of
// country2.
func (s *TrustStore) Links(ctx context.Context, country2 string) ([]*cert.Certificate, error) {
	return s.certificates(ctx, KindLink, country2)
}

func (s *TrustStore) certificates(ctx context.Context, kind TrustKind, country2 string) ([]*cert.Certificate, error) {
	rows, err := s.pool.Query(ctx,
		"SELECT der FROM trust_certificates WHERE kind = $1 AND country = $2 ORDER BY id", kind.String(), country2)
	if err != nil {
		return nil, fmt.Errorf("db: trust store %s of %q: %w", kind, country2, err)
	}
	ders, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("db: trust store %s of %q: %w", kind, country2, err)
	}
	out := make([]*cert.Certificate, 0, len(ders))
	for _, der := range ders {
		c, err := cert.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("db: trust store %s of %q, sha256 %x: %w", kind, country2, sha256.Sum256(der), err)
		}
		out = append(out, c)
	}
	return out, nil
}

// CRLs returns the revocation lists issued in country2.
func (s *TrustStore) CRLs(ctx context.Context, country2 string) ([]*cert.RevocationList, error) {
	rows, err := s.pool.Query(ctx, "SELECT der FROM trust_crls WHERE country = $1 ORDER BY id", country2)
	if err != nil {
		return nil, fmt.Errorf("db: trust store CRLs of %q: %w", country2, err)
	}
	ders, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("db: trust store CRLs of %q: %w", country2, err)
	}
	out := make([]*cert.RevocationList, 0, len(ders))
	for _, der := range ders {
		l, err := cert.ParseRevocationList(der)
		if err != nil {
			return nil, fmt.Errorf("db: trust store CRL of %q, sha256 %x: %w", country2, sha256.Sum256(der), err)
		}
		out = append(out, l)
	}
	return out, nil
}

// Anchors returns the DER of every CSCA and link certificate, and of every
// CRL, each in import order: what a master list published by this state
// (borderid trust export, issue 4) carries.
func (s *TrustStore) Anchors(ctx context.Context) (certs, crls [][]byte, err error) {
	rows, err := s.pool.Query(ctx, "SELECT der FROM trust_certificates WHERE kind IN ('csca', 'link') ORDER BY id")
	if err != nil {
		return nil, nil, fmt.Errorf("db: trust store anchors: %w", err)
	}
	if certs, err = pgx.CollectRows(rows, pgx.RowTo[[]byte]); err != nil {
		return nil, nil, fmt.Errorf("db: trust store anchors: %w", err)
	}
	rows, err = s.pool.Query(ctx, "SELECT der FROM trust_crls ORDER BY id")
	if err != nil {
		return nil, nil, fmt.Errorf("db: trust store CRLs: %w", err)
	}
	if crls, err = pgx.CollectRows(rows, pgx.RowTo[[]byte]); err != nil {
		return nil, nil, fmt.Errorf("db: trust store CRLs: %w", err)
	}
	return certs, crls, nil
}

// List returns every certificate and CRL, certificates first, each in
// import order.
func (s *TrustStore) List(ctx context.Context) ([]TrustEntry, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT kind, country, subject, not_after, sha256, source_file, 0 AS part, id FROM trust_certificates
		UNION ALL
		SELECT 'crl', country, issuer, next_update, sha256, source_file, 1, id FROM trust_crls
		ORDER BY part, id`)
	if err != nil {
		return nil, fmt.Errorf("db: trust store list: %w", err)
	}
	defer rows.Close()
	var out []TrustEntry
	for rows.Next() {
		var (
			kind, country, subject, source string
			notAfter                       *time.Time
			sum                            []byte
			part, id                       int64
		)
		if err := rows.Scan(&kind, &country, &subject, &notAfter, &sum, &source, &part, &id); err != nil {
			return nil, fmt.Errorf("db: trust store list: %w", err)
		}
		e := TrustEntry{Country: country, Subject: subject, Source: source}
		switch kind {
		case "csca":
			e.Kind = KindCSCA
		case "link":
			e.Kind = KindLink
		case "dsc":
			e.Kind = KindDSC
		case "crl":
			e.Kind = KindCRL
		default:
			return nil, fmt.Errorf("%w: %q in the database", ErrTrustKind, kind)
		}
		if notAfter != nil {
			e.NotAfter = notAfter.UTC()
		}
		if len(sum) != len(e.SHA256) {
			return nil, fmt.Errorf("db: trust store list: sha256 of %d bytes", len(sum))
		}
		copy(e.SHA256[:], sum)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: trust store list: %w", err)
	}
	return out, nil
}

// ImportCertificate inserts a certificate's DER with its kind (csca, link
// or dsc), country, subject, notAfter and provenance. It reports
// inserted=false, with no error, when a certificate with the same SHA-256
// is already there (whatever its kind: a row is never changed). The audit
// row is written in the same transaction by migration 0002's trigger.
//
// b is where the insert runs: an owner pool for CSCAs and links (the app
// role may only add DSCs: RLS refuses the rest with 42501), or a transaction
// of one, in which case the insert is a savepoint of it.
func ImportCertificate(ctx context.Context, b Beginner, der []byte, kind TrustKind, country, subject string, notAfter time.Time, source, importedBy string) (inserted bool, err error) {
	if kind != KindCSCA && kind != KindLink && kind != KindDSC {
		return false, fmt.Errorf("%w: %s for a certificate", ErrTrustKind, kind)
	}
	if len(der) == 0 {
		return false, errors.New("db: import certificate: empty DER")
	}
	sum := sha256.Sum256(der)
	return insertOnce(ctx, b, `
		INSERT INTO trust_certificates (kind, country, subject, not_after, sha256, der, source_file, imported_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (sha256) DO NOTHING`,
		kind.String(), country, subject, notAfter, sum[:], der, source, importedBy)
}

// ImportCRL inserts a CRL's DER with its issuer's country and name, its
// thisUpdate and nextUpdate (zero: absent) and provenance, idempotent by
// SHA-256 like ImportCertificate. Only the owner may insert CRLs.
func ImportCRL(ctx context.Context, b Beginner, der []byte, country, issuer string, thisUpdate, nextUpdate time.Time, source, importedBy string) (inserted bool, err error) {
	if len(der) == 0 {
		return false, errors.New("db: import CRL: empty DER")
	}
	sum := sha256.Sum256(der)
	var next *time.Time
	if !nextUpdate.IsZero() {
		next = &nextUpdate
	}
	return insertOnce(ctx, b, `
		INSERT INTO trust_crls (country, issuer, this_update, next_update, sha256, der, source_file, imported_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (sha256) DO NOTHING`,
		country, issuer, thisUpdate, next, sum[:], der, source, importedBy)
}

// insertOnce runs one INSERT ... ON CONFLICT DO NOTHING in its own
// transaction (or savepoint), so a refused row leaves the caller's outer
// transaction usable.
func insertOnce(ctx context.Context, b Beginner, q string, args ...any) (bool, error) {
	tx, err := b.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("db: trust import: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	tag, err := tx.Exec(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("db: trust import: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("db: trust import: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

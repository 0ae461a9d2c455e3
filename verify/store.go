package verify

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"

	"borderid/internal/cert"
)

// TrustStore is where Passive Authentication finds trust anchors,
// intermediate certificates and revocation lists. Keys are ISO 3166-1
// alpha-2 codes as in X.509 C= (upper case; "UT" for the ICAO specimen
// state), the country of the certificate's subject (of the issuer for a
// CRL).
//
// CSCAs are trust anchors: the store vouches that each was imported from a
// trusted source (a verified master list, a bilateral exchange). Links are
// CA certificates that may sit between a DSC and a CSCA: link
// certificates (an old CSCA key certifying a new one, 9303-12 §5.5.1) and
// anything else the importer could not prove to be an anchor. Holding a
// certificate as a link confers no trust: a path must still end at one of
// CSCAs, decided by signatures.
//
// A PostgreSQL-backed store implements the same interface (package db,
// a later step); the context carries its deadline. Errors are reported as
// not_done, never as a pass or a fail.
type TrustStore interface {
	CSCAs(ctx context.Context, country2 string) ([]*cert.Certificate, error)
	Links(ctx context.Context, country2 string) ([]*cert.Certificate, error)
	CRLs(ctx context.Context, country2 string) ([]*cert.RevocationList, error)
}

// ErrNotCA is returned by MemoryStore.Add for a certificate that is
// neither a CSCA nor a link certificate (not a CA).
var ErrNotCA = errors.New("verify: not a CA certificate")

// MemoryStore is a TrustStore held in memory, safe for concurrent use.
// The zero value is not usable; use NewMemoryStore.
type MemoryStore struct {
	mu    sync.RWMutex
	cscas map[string][]*cert.Certificate
	links map[string][]*cert.Certificate
	crls  map[string][]*cert.RevocationList
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		cscas: map[string][]*cert.Certificate{},
		links: map[string][]*cert.Certificate{},
		crls:  map[string][]*cert.RevocationList{},
	}
}

func countryKey(c string) string { return strings.ToUpper(strings.TrimSpace(c)) }

// mayIssue reports whether c may be a CSCA or link certificate: a CA by
// basicConstraints, or (leniently, as 8 certificates of the German master
// list of 2026 need: basicConstraints without cA, keyUsage keyCertSign) a
// certificate whose key usage allows keyCertSign, or one with neither
// extension (version 1 CSCAs).
func mayIssue(c *cert.Certificate) bool {
	return c.IsCA || c.KeyUsage&x509.KeyUsageCertSign != 0 || (!c.BasicConstraintsValid && c.KeyUsage == 0)
}

// Add files each certificate by its subject's country: a CA certificate
// whose own key verifies its signature is a CSCA (trust anchor), any other
// CA certificate a link. That the caller hands it over is what makes a
// self-signed certificate trusted, so Add must only be given certificates
// from a trusted source (a master list verified with VerifyMasterList, a
// file an operator imported). Duplicates (same DER) are ignored. A
// certificate that may not issue certificates (mayIssue) is refused
// with ErrNotCA; the others are
// still added.
func (s *MemoryStore) Add(certs ...*cert.Certificate) error {
	var errs []error
	for _, c := range certs {
		if c == nil {
			continue
		}
		if !mayIssue(c) {
			errs = append(errs, fmt.Errorf("%w: %s", ErrNotCA, c.Subject.CommonName))
			continue
		}
		if c.CheckSignatureFrom(c) == nil {
			s.AddCSCA(c)
		} else {
			s.AddLink(c)
		}
	}
	return errors.Join(errs...)
}

// AddCSCA adds c as a trust anchor whatever its signature (a CSCA
// distributed without a self-signed certificate of its own).
func (s *MemoryStore) AddCSCA(c *cert.Certificate) { s.add(s.cscas, c) }

// AddLink adds c as a possible intermediate (never an anchor).
func (s *MemoryStore) AddLink(c *cert.Certificate) { s.add(s.links, c) }

func (s *MemoryStore) add(m map[string][]*cert.Certificate, c *cert.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := countryKey(c.Subject.Country)
	for _, x := range m[k] {
		if bytes.Equal(x.Raw, c.Raw) {
			return
		}
	}
	m[k] = append(m[k], c)
}

// AddCRL files each CRL by its issuer's country. Its signature is checked
// when it is used, against the certificates of the path being verified.
func (s *MemoryStore) AddCRL(crls ...*cert.RevocationList) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range crls {
		if l == nil {
			continue
		}
		k := countryKey(l.Issuer.Country)
		s.crls[k] = append(s.crls[k], l)
	}
}

// CSCAs implements TrustStore.
func (s *MemoryStore) CSCAs(_ context.Context, country2 string) ([]*cert.Certificate, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]*cert.Certificate(nil), s.cscas[countryKey(country2)]...), nil
}

// Links implements TrustStore.
func (s *MemoryStore) Links(_ context.Context, country2 string) ([]*cert.Certificate, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]*cert.Certificate(nil), s.links[countryKey(country2)]...), nil
}

// CRLs implements TrustStore.
func (s *MemoryStore) CRLs(_ context.Context, country2 string) ([]*cert.RevocationList, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]*cert.RevocationList(nil), s.crls[countryKey(country2)]...), nil
}

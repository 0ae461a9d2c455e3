package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"borderid/crossborder"
	"borderid/db"
	"borderid/enrol"
	"borderid/internal/cert"
)

// RolePartner is the one role of a principal that a partner state's client certificate authenticates as
// (issue 6). It is not a staff role: a staff certificate naming urn:borderid:role:partner is refused as naming
// an unknown role, so only [PartnerAuthenticator] hands it out.
const RolePartner = "partner"

// Codes of the partner checks.
const (
	codePartnerCountryMismatch = "partner_country_mismatch" // 403
)

// DefaultPartnerCacheTTL is how long [PartnerRegistry] serves the registry it read before reading it again: a
// partner added or removed with `borderid partner add|remove` is seen by a running server within this time.
const DefaultPartnerCacheTTL = 5 * time.Second

// PartnerRegistry is a short-lived cache of the partner registry (db.ListPartners) shared by the TLS layer
// (which client CAs a handshake accepts), [PartnerAuthenticator] and the status responder (a partner's limits:
// it is a [crossborder.Registry]). When the registry cannot be read it keeps serving the last registry it read
// (none before the first read) and logs the error.
type PartnerRegistry struct {
	load func(context.Context) ([]db.Partner, error)
	ttl  time.Duration
	now  func() time.Time
	log  *slog.Logger

	mu      sync.Mutex
	snap    *partnerSnapshot
	loaded  time.Time
	loading bool // a request is reloading the registry
}

type partnerSnapshot struct {
	byState map[string]*partnerEntry
	all     []*partnerEntry
}

type partnerEntry struct {
	p     db.Partner
	roots *x509.CertPool
	cas   []*x509.Certificate
}

// NewPartnerRegistry caches what load returns for ttl (0: DefaultPartnerCacheTTL). log may be nil.
func NewPartnerRegistry(load func(context.Context) ([]db.Partner, error), ttl time.Duration, log *slog.Logger) *PartnerRegistry {
	if ttl <= 0 {
		ttl = DefaultPartnerCacheTTL
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &PartnerRegistry{load: load, ttl: ttl, now: time.Now, log: log}
}

// NewPartnerRegistryDB reads the registry from the database through b (the app role's pool).
func NewPartnerRegistryDB(b db.Beginner, ttl time.Duration, log *slog.Logger) *PartnerRegistry {
	return NewPartnerRegistry(func(ctx context.Context) ([]db.Partner, error) { return db.ListPartners(ctx, b) }, ttl, log)
}

// snapshot returns the current registry, reading it again when it is older than the TTL.
func (r *PartnerRegistry) snapshot(ctx context.Context) *partnerSnapshot {
	r.mu.Lock()
	now := r.now()
	fresh := r.snap != nil && now.Sub(r.loaded) < r.ttl && !now.Before(r.loaded)
	// While one request reloads a stale registry, the others go on with the
	// previous snapshot: a reload waits for a database connection, and
	// holding the lock through it stalled every partner request (measured:
	// a 1 s p99 every TTL under 64 connections).
	if fresh || (r.loading && r.snap != nil) {
		snap := r.snap
		r.mu.Unlock()
		return snap
	}
	r.loading = true
	r.mu.Unlock()

	s, ok := r.build(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.loading = false
	if ok {
		r.snap, r.loaded = s, now
	}
	if r.snap == nil {
		return &partnerSnapshot{byState: map[string]*partnerEntry{}}
	}
	return r.snap
}

// build reads the registry and parses each partner's client CAs; ok is
// false when the registry could not be read (the previous snapshot stays).
func (r *PartnerRegistry) build(ctx context.Context) (*partnerSnapshot, bool) {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	ps, err := r.load(lctx)
	if err != nil {
		r.log.LogAttrs(ctx, slog.LevelError, "reading the partner registry", slog.String("error", err.Error()))
		return nil, false
	}
	s := &partnerSnapshot{byState: make(map[string]*partnerEntry, len(ps))}
	for _, p := range ps {
		e := &partnerEntry{p: p, roots: x509.NewCertPool()}
		for _, der := range p.ClientCA {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				r.log.LogAttrs(ctx, slog.LevelError, "a registered partner client CA does not parse", slog.String("state", p.State),
					slog.String("error", err.Error()))
				continue
			}
			e.roots.AddCert(c)
			e.cas = append(e.cas, c)
		}
		if len(e.cas) == 0 {
			continue
		}
		s.byState[p.State] = e
		s.all = append(s.all, e)
	}
	return s, true
}

// Partner implements [crossborder.Registry]: the registration of state, or an error wrapping db.ErrNotFound.
func (r *PartnerRegistry) Partner(ctx context.Context, state string) (*db.Partner, error) {
	e := r.snapshot(ctx).byState[state]
	if e == nil {
		return nil, fmt.Errorf("api: partner %s: %w", state, db.ErrNotFound)
	}
	p := e.p
	return &p, nil
}

// TLSConfig returns a copy of base whose handshakes accept client certificates of base.ClientCAs (the staff CA)
// and of every registered partner's client CA, as the registry is at the time of the handshake (through the
// cache). Accepting them at the TLS layer grants nothing by itself: [StaffAuthenticator] verifies again against
// the staff CA alone, and [PartnerAuthenticator] against the one partner's CA and country.
func (r *PartnerRegistry) TLSConfig(base *tls.Config) *tls.Config {
	cfg := base.Clone()
	staff := base.ClientCAs
	var (
		mu     sync.Mutex
		last   *partnerSnapshot
		cached *tls.Config
	)
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		ctx := context.Background()
		if hello != nil && hello.Context() != nil {
			ctx = hello.Context()
		}
		s := r.snapshot(ctx)
		mu.Lock()
		defer mu.Unlock()
		if s != last || cached == nil {
			pool := x509.NewCertPool()
			if staff != nil {
				pool = staff.Clone()
			}
			for _, e := range s.all {
				for _, c := range e.cas {
					pool.AddCert(c)
				}
			}
			c := base.Clone()
			c.GetConfigForClient = nil
			c.ClientCAs = pool
			last, cached = s, c
		}
		return cached, nil
	}
	return cfg
}

// PartnerAuthenticator recognises this state's staff first ([StaffAuthenticator] with Staff, unchanged) and,
// when the certificate is not a staff certificate, a partner state's system by the registry (CONTRACTS.md
// "Client certificates"): the certificate must chain, at the time of the request and for client
// authentication, to the client CA registered for some partner (else 401 invalid_client_certificate), and its
// country must be the one that partner is registered as (else 403 partner_country_mismatch). The country is the
// subject's C= when it has one (exactly one, two letters), else its O= as borderid's own client certificates
// write it (exactly one O of two letters A-Z); it maps to the registry's alpha-3 code with
// cert.Alpha2ToAlpha3 (XA -> ATL). The principal is {Subject: CN (exactly one), Roles: [partner], Country:
// alpha-2}: role URIs in a partner's certificate are ignored, so a partner CA cannot mint staff roles.
type PartnerAuthenticator struct {
	Staff    Authenticator
	Partners *PartnerRegistry
	Now      func() time.Time // nil: time.Now
}

// Authenticate implements [Authenticator].
func (a PartnerAuthenticator) Authenticate(ctx context.Context, chains [][]*x509.Certificate) (enrol.Principal, error) {
	p, staffErr := a.Staff.Authenticate(ctx, chains)
	if staffErr == nil || a.Partners == nil {
		return p, staffErr
	}
	if len(chains) == 0 || len(chains[0]) == 0 {
		return enrol.Principal{}, errNoCertificate()
	}
	leaf := chains[0][0]
	inter := x509.NewCertPool()
	for _, ch := range chains {
		for _, c := range ch[1:] {
			inter.AddCert(c)
		}
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	var matched []string
	for _, e := range a.Partners.snapshot(ctx).all {
		if _, err := leaf.Verify(x509.VerifyOptions{
			Roots: e.roots, Intermediates: inter, CurrentTime: now(),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}); err == nil {
			matched = append(matched, e.p.State)
		}
	}
	if len(matched) == 0 {
		// Neither ours nor a registered partner's: the staff error says so.
		return enrol.Principal{}, staffErr
	}
	if len(matched) > 1 {
		// One CA (or CAs chaining to each other) registered for several
		// states: the certificate's own country would pick which state it
		// speaks for, so one partner could act as another. Refused.
		return enrol.Principal{}, invalidCertificate("the certificate chains to the client CAs of several partner states (" + strings.Join(matched, ", ") + ")")
	}
	cn, country, err := partnerIdentity(leaf)
	if err != nil {
		return enrol.Principal{}, err
	}
	state, ok := cert.Alpha2ToAlpha3(country)
	for _, m := range matched {
		if ok && m == state {
			return enrol.Principal{Subject: cn, Roles: []string{RolePartner}, Country: country}, nil
		}
	}
	return enrol.Principal{}, enrol.Errorf(enrol.ErrForbidden, codePartnerCountryMismatch,
		"the certificate's country %s is not the state its CA is registered for", country)
}

// partnerIdentity reads CN and the two-letter country of a partner's certificate (see PartnerAuthenticator).
func partnerIdentity(c *x509.Certificate) (cn, country string, err error) {
	var cns, cs, os []string
	for _, atv := range c.Subject.Names {
		v, ok := atv.Value.(string)
		switch {
		case atv.Type.Equal(oidCommonName):
			if !ok {
				return "", "", invalidCertificate("the certificate's CN is not a string")
			}
			cns = append(cns, v)
		case atv.Type.Equal(oidCountry):
			if !ok {
				return "", "", invalidCertificate("the certificate's C is not a string")
			}
			cs = append(cs, v)
		case atv.Type.Equal(oidOrganization):
			if ok {
				os = append(os, v)
			}
		}
	}
	if len(cns) != 1 || !printableName(cns[0]) {
		return "", "", invalidCertificate("the certificate must have exactly one CN naming its holder")
	}
	switch {
	case len(cs) == 1 && twoLetters(cs[0]):
		return cns[0], cs[0], nil
	case len(cs) == 0 && len(os) == 1 && twoLetters(os[0]):
		return cns[0], os[0], nil
	}
	return "", "", invalidCertificate("a partner's certificate must name its state: one C= (or, without C=, one O=) of two letters")
}

// CrossBorderRoutes are the handlers of issue 6's routes, served for the roles the route table names and for
// partners: the status responder ([crossborder.Responder]) and the trust lists ([crossborder.TrustLists]). They
// find the caller with crossborder.CallerFrom. A nil handler answers 404 not_found (the service is not set up).
type CrossBorderRoutes struct {
	Status       http.Handler
	MasterList   http.Handler
	CRL          http.Handler
	StatusSigner http.Handler
}

// crossBorder mounts h for the authenticated caller: a partner acts as its registered state, a station as its
// certificate's CN.
func (s *Server) crossBorder(h func(CrossBorderRoutes) http.Handler) echo.HandlerFunc {
	return func(c echo.Context) error {
		handler := h(s.cross)
		if handler == nil {
			return notFound("resource")
		}
		p := principalOf(c)
		caller := crossborder.Caller{Role: crossborder.RoleStaff, Actor: p.Subject, Subject: p.Subject}
		switch {
		case p.Has(enrol.RoleBorder):
			caller.Role = crossborder.RoleBorder
		case p.Has(RolePartner):
			state, ok := cert.Alpha2ToAlpha3(p.Country)
			if !ok {
				return invalidCertificate("the partner's country is not known")
			}
			caller = crossborder.Caller{Role: crossborder.RolePartner, Actor: state, Subject: p.Subject}
		}
		r := c.Request()
		handler.ServeHTTP(c.Response(), r.WithContext(crossborder.WithCaller(r.Context(), caller)))
		return nil
	}
}

var oidCountry = asn1.ObjectIdentifier{2, 5, 4, 6}

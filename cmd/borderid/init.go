package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"borderid/db"
	"borderid/internal/cert"
	"borderid/internal/cvc"
	"borderid/internal/hsm"
	"borderid/internal/pki"
)

const initUsage = `init --state CODE [--partners] [--home DIR]

Makes a working state in <home> on a fresh machine, and completes one that is
half made. Nothing that exists is overwritten: keys stay in the HSM, a
certificate file that exists is kept (and checked against its key).

  <home>/hsm                  SoftHSM2 token "borderid": csca, ds, mlsigner,
                              status-signer, audit-signer, cvca, dv, is,
                              tls-ca (EC P-256, sensitive, non-extractable),
                              kek-v1 (AES), blind-index (HMAC)
  <home>/pki/csca.crt         CSCA (ICAO 9303-12, explicit EC parameters)
  <home>/pki/ds-1.crt         Document Signer under the CSCA
  <home>/pki/mlsigner.crt     master-list signer under the CSCA
  <home>/pki/status-signer.crt, audit-signer.crt
  <home>/pki/cvca.cvcert, dv.cvcert, is.cvcert   EAC chain for own border posts
  <home>/terminal/            the border posts' terminal folder (certificates +
                              is.uri naming the HSM key; PIN in secrets/hsm-pin)
  <home>/pki/tls-ca.crt (key in the HSM), server.crt; secrets/server.key
  <home>/pki/clients/NAME.{crt,key}, clients/ca.crt   demo staff certificates
  <home>/pki/clients/crossborder.{crt,key}   this state's system certificate
                              for asking partner states (no role; O= the
                              state: partners know it by their registry)
  <home>/pg                   the private PostgreSQL cluster, migrated; the
                              state's CSCA in its trust store

--partners also writes demo partner states (two of UTO, ATL, LEM other than
this one) under <home>/pki/partners/<STATE>/: client-ca.crt (+ .key), the
partner's client certificate client.crt/.key for calling this state,
status-signer.crt/.key (a self-signed root with a software key: demo
material), and registers them (borderid partner list). A demo partner runs
no server: its URL is https://127.0.0.1:9/, so asking it shows the
unreachable path (document_status not_done, partner_unreachable, within 1 s).`

// demoClients are the staff certificates init writes (issue 5, item 1).
var demoClients = []pki.ClientSpec{
	{CommonName: "clerk-office1", Office: "office1", Roles: []string{"clerk"}},
	{CommonName: "approver-office1", Office: "office1", Roles: []string{"approver"}},
	{CommonName: "clerk-approver-office1", Office: "office1", Roles: []string{"clerk", "approver"}},
	{CommonName: "clerk-office2", Office: "office2", Roles: []string{"clerk"}},
	{CommonName: "approver-office2", Office: "office2", Roles: []string{"approver"}},
	{CommonName: "issuer", Roles: []string{"issuer"}},
	{CommonName: "border-post1", Roles: []string{"border"}},
	{CommonName: "auditor", Roles: []string{"auditor"}},
}

// hsmECKeys are the signing keys init keeps in the HSM.
var hsmECKeys = []string{"csca", "ds", "mlsigner", "status-signer", "audit-signer", "cvca", "dv", "is", "tls-ca"}

// cmdInit is `borderid init` (issue 5, item 1).
func cmdInit(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "init", initUsage)
	homeF := homeFlag(fs)
	stateF := fs.String("state", "", "this state's ICAO three-letter code (e.g. UTO)")
	partners := fs.Bool("partners", false, "also write demo partner states (issue 6)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	state := strings.ToUpper(strings.TrimSpace(*stateF))
	if state == "" {
		return usagef("--state is required (the ICAO three-letter code, e.g. UTO)")
	}
	c2, ok := cert.Alpha3ToAlpha2(state)
	if !ok {
		return usagef("--state %q is not an ICAO 9303-3 state code in borderid's table", *stateF)
	}
	home, err := homeDir(e, *homeF)
	if err != nil {
		return err
	}
	st := &stateInit{e: e, home: home, state: state, c2: c2, now: time.Now().UTC(), partners: *partners}
	return st.run(ctx)
}

type stateInit struct {
	e         *env
	home      string
	state, c2 string
	now       time.Time
	tok       *hsm.Token
	keys      map[string]crypto.Signer
	partners  bool // --partners: demo partner states too
}

func (s *stateInit) say(format string, a ...any) { fmt.Fprintf(s.e.stdout, format+"\n", a...) }

func (s *stateInit) run(ctx context.Context) error {
	for _, d := range []string{"", "pki", "pki/clients", "secrets", "terminal", "chips", "audit"} {
		if err := os.MkdirAll(filepath.Join(s.home, d), 0o700); err != nil {
			return err
		}
	}
	tok, err := hsm.Open(ctx, s.home)
	if err != nil {
		return err
	}
	defer tok.Close()
	s.tok = tok
	s.keys = map[string]crypto.Signer{}
	for _, label := range hsmECKeys {
		k, created, err := tok.EnsureECKey(label, elliptic.P256())
		if err != nil {
			return fmt.Errorf("HSM key %s: %w", label, err)
		}
		s.keys[label] = k
		if created {
			s.say("hsm: generated %s (EC P-256, sensitive, non-extractable)", label)
		}
	}
	versions, err := tok.KEKVersions()
	if err != nil {
		return err
	}
	if len(versions) == 0 {
		if _, err := tok.EnsureKEK(1); err != nil {
			return fmt.Errorf("HSM key-encryption key: %w", err)
		}
		s.say("hsm: generated kek-v1 (AES-256)")
	}
	if created, err := tok.EnsureIndexKey(); err != nil {
		return fmt.Errorf("HSM blind-index key: %w", err)
	} else if created {
		s.say("hsm: generated blind-index (HMAC-SHA256)")
	}

	if err := s.icaoCertificates(); err != nil {
		return err
	}
	if err := s.eacCertificates(); err != nil {
		return err
	}
	if err := s.tlsCertificates(); err != nil {
		return err
	}
	c, err := db.Ensure(ctx, s.home)
	if err != nil {
		return err
	}
	if err := s.trustOwnCSCA(ctx, c); err != nil {
		return err
	}
	if s.partners {
		if err := s.demoPartners(ctx, c); err != nil {
			return err
		}
	}
	s.say("state %s ready in %s (database %s)", s.state, s.home, c.Addr())
	s.say("next: borderid serve --home %s", s.home)
	return nil
}

// icaoCertificates issues the CSCA and the certificates under it.
func (s *stateInit) icaoCertificates() error {
	pkiDir := filepath.Join(s.home, "pki")
	org := "borderid " + s.state
	cscaDER, err := s.ensureCert(filepath.Join(pkiDir, "csca.crt"), "csca", func() ([]byte, error) {
		return pki.Issue(pki.Template{
			Kind: pki.CSCA, Country: s.c2, Organization: org, CommonName: s.state + " CSCA",
			NotBefore: s.now, NotAfter: s.now.AddDate(15, 0, 0), PrivateKeyUsageEnd: s.now.AddDate(5, 0, 0),
		}, s.keys["csca"].Public(), nil, s.keys["csca"])
	})
	if err != nil {
		return err
	}
	under := func(file, label string, t pki.Template) error {
		t.Country, t.Organization = s.c2, org
		_, err := s.ensureCert(filepath.Join(pkiDir, file), label, func() ([]byte, error) {
			return pki.Issue(t, s.keys[label].Public(), cscaDER, s.keys["csca"])
		})
		return err
	}
	if err := under("ds-1.crt", "ds", pki.Template{
		Kind: pki.DocumentSigner, CommonName: s.state + " Document Signer 1", DocumentTypes: []string{"P"},
		NotBefore: s.now, NotAfter: s.now.AddDate(11, 0, 0), PrivateKeyUsageEnd: s.now.AddDate(1, 0, 0),
	}); err != nil {
		return err
	}
	if err := under("mlsigner.crt", "mlsigner", pki.Template{
		Kind: pki.MasterListSigner, CommonName: s.state + " Master List Signer",
		NotBefore: s.now, NotAfter: s.now.AddDate(5, 0, 0),
	}); err != nil {
		return err
	}
	// The status and audit signers are self-signed with named curves: the
	// status signer's certificate travels in JWS x5c headers that partners
	// read with ordinary X.509 libraries, which refuse explicit parameters
	// (so a chain to the CSCA could not be checked by them); partners
	// register it out of band as the status-signer root (issue 6).
	selfSigned := func(file, label string, t pki.Template) error {
		t.Country, t.Organization = s.c2, org
		_, err := s.ensureCert(filepath.Join(pkiDir, file), label, func() ([]byte, error) {
			return pki.Issue(t, s.keys[label].Public(), nil, s.keys[label])
		})
		return err
	}
	if err := selfSigned("status-signer.crt", "status-signer", pki.Template{
		Kind: pki.StatusSigner, CommonName: s.state + " Document Status Signer",
		NotBefore: s.now, NotAfter: s.now.AddDate(3, 0, 0),
	}); err != nil {
		return err
	}
	return selfSigned("audit-signer.crt", "audit-signer", pki.Template{
		Kind: pki.AuditSigner, CommonName: s.state + " Audit Checkpoint Signer",
		NotBefore: s.now, NotAfter: s.now.AddDate(10, 0, 0),
	})
}

// ensureCert returns the certificate in path, issuing it with make when
// the file does not exist. An existing certificate must hold the HSM key's
// public half: a mismatch means the token and the folder are not the same
// state, which init refuses to paper over.
func (s *stateInit) ensureCert(path, label string, make func() ([]byte, error)) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil {
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%s: not a PEM certificate", path)
		}
		c, err := cert.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if !samePublic(c.PublicKey, s.keys[label].Public()) {
			return nil, fmt.Errorf("%s does not hold the public key of HSM key %q: the folder and the token are not the same state", path, label)
		}
		return blk.Bytes, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	der, err := make()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	if err := writeNew(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, err
	}
	s.say("pki: wrote %s", path)
	return der, nil
}

func samePublic(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	ea, ok := a.(equaler)
	return ok && ea.Equal(b)
}

// writeNew writes a file that must not exist yet (O_EXCL): init never
// overwrites.
func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// eacCertificates issues the CVCA -> DV -> IS chain of the state's own
// border posts (BSI TR-03110-3) and writes their terminal folder.
func (s *stateInit) eacCertificates() error {
	pkiDir := filepath.Join(s.home, "pki")
	day := time.Date(s.now.Year(), s.now.Month(), s.now.Day(), 0, 0, 0, 0, time.UTC)
	cvcaCHR := s.c2 + "CVCA00001"
	dvCHR := s.c2 + "DVCA00001"
	isCHR := s.c2 + "IS00000001"
	domain, err := cvc.DomainOf(s.keys["cvca"].Public())
	if err != nil {
		return fmt.Errorf("CVCA key: %w", err)
	}
	pub := func(label string, d *cvc.ECDomain) (*cvc.PublicKey, error) {
		return cvc.NewPublicKey(cvc.ECDSASHA256, s.keys[label].Public().(*ecdsa.PublicKey), d)
	}
	ensure := func(name string, make func() ([]byte, error)) ([]byte, error) {
		path := filepath.Join(pkiDir, name)
		if b, err := os.ReadFile(path); err == nil {
			return b, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		b, err := make()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := writeNew(path, b, 0o644); err != nil {
			return nil, err
		}
		s.say("pki: wrote %s", path)
		return b, nil
	}
	cvcaDER, err := ensure("cvca.cvcert", func() ([]byte, error) {
		p, err := pub("cvca", domain)
		if err != nil {
			return nil, err
		}
		return cvc.Create(rand.Reader, cvc.Template{CHR: cvcaCHR, Role: cvc.RoleCVCA, Rights: cvc.ReadDG3 | cvc.ReadDG4,
			PublicKey: p, Effective: day, Expiration: day.AddDate(3, 0, 0)}, cvc.Issuer{Key: s.keys["cvca"]})
	})
	if err != nil {
		return err
	}
	cvcaCert, err := cvc.Parse(cvcaDER)
	if err != nil {
		return fmt.Errorf("pki/cvca.cvcert: %w", err)
	}
	dvDER, err := ensure("dv.cvcert", func() ([]byte, error) {
		p, err := pub("dv", nil)
		if err != nil {
			return nil, err
		}
		return cvc.Create(rand.Reader, cvc.Template{CHR: dvCHR, Role: cvc.RoleDVDomestic, Rights: cvc.ReadDG3 | cvc.ReadDG4,
			PublicKey: p, Effective: day, Expiration: day.AddDate(0, 3, 0)}, cvc.Issuer{Cert: cvcaCert, Key: s.keys["cvca"]})
	})
	if err != nil {
		return err
	}
	dvCert, err := cvc.Parse(dvDER)
	if err != nil {
		return fmt.Errorf("pki/dv.cvcert: %w", err)
	}
	isDER, err := ensure("is.cvcert", func() ([]byte, error) {
		p, err := pub("is", nil)
		if err != nil {
			return nil, err
		}
		return cvc.Create(rand.Reader, cvc.Template{CHR: isCHR, Role: cvc.RoleIS, Rights: cvc.ReadDG3,
			PublicKey: p, Effective: day, Expiration: day.AddDate(0, 1, 0)}, cvc.Issuer{Cert: dvCert, Key: s.keys["dv"], Domain: domain})
	})
	if err != nil {
		return err
	}
	term := filepath.Join(s.home, "terminal")
	for name, b := range map[string][]byte{"cvca.cvcert": cvcaDER, "dv.cvcert": dvDER, "is.cvcert": isDER} {
		if err := writeIfAbsent(filepath.Join(term, name), b, 0o644); err != nil {
			return err
		}
	}
	module, err := hsm.ModulePath()
	if err != nil {
		return err
	}
	uri := "pkcs11:token=" + hsm.TokenLabel + ";object=is;type=private?module-path=" + module + "\n"
	return writeIfAbsent(filepath.Join(term, "is.uri"), []byte(uri), 0o600)
}

func writeIfAbsent(path string, b []byte, mode os.FileMode) error {
	err := writeNew(path, b, mode)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	return err
}

// tlsCertificates makes the TLS CA, the server certificate and the demo
// staff certificates. The CA's key is in the HSM (label tls-ca): whoever
// holds it can mint a certificate of any role and office. The server's and
// the staff members' keys are software keys in files (0600): they must be
// usable by the TLS stack and by people's clients.
func (s *stateInit) tlsCertificates() error {
	pkiDir := filepath.Join(s.home, "pki")
	secrets := filepath.Join(s.home, "secrets")
	ca, err := loadTLSCA(s.home, s.keys["tls-ca"])
	if errors.Is(err, os.ErrNotExist) {
		if ca, err = pki.NewTLSCAWithKey(s.c2, s.state, s.keys["tls-ca"]); err != nil {
			return err
		}
		caCrt := filepath.Join(pkiDir, "tls-ca.crt")
		if err := writeNew(caCrt, ca.CertPEM, 0o644); err != nil {
			return err
		}
		s.say("pki: wrote %s (key in the HSM)", caCrt)
	} else if err != nil {
		return err
	}
	if err := writeIfAbsent(filepath.Join(pkiDir, "clients", "ca.crt"), ca.CertPEM, 0o644); err != nil {
		return err
	}
	srvCrt := filepath.Join(pkiDir, "server.crt")
	if _, err := os.Stat(srvCrt); errors.Is(err, os.ErrNotExist) {
		c, k, err := ca.IssueServer([]string{"127.0.0.1", "localhost", "::1"})
		if err != nil {
			return err
		}
		if err := writeNew(filepath.Join(secrets, "server.key"), k, 0o600); err != nil {
			return err
		}
		if err := writeNew(srvCrt, c, 0o644); err != nil {
			return err
		}
		s.say("pki: wrote %s", srvCrt)
	}
	for _, spec := range demoClients {
		crt := filepath.Join(pkiDir, "clients", spec.CommonName+".crt")
		if _, err := os.Stat(crt); err == nil {
			continue
		}
		spec.Country = s.c2
		spec.NotAfter = s.now.AddDate(1, 0, 0)
		c, k, err := ca.IssueClient(spec)
		if err != nil {
			return fmt.Errorf("client %s: %w", spec.CommonName, err)
		}
		if err := writeNew(filepath.Join(pkiDir, "clients", spec.CommonName+".key"), k, 0o600); err != nil {
			return err
		}
		if err := writeNew(crt, c, 0o644); err != nil {
			return err
		}
		s.say("pki: wrote %s (%s)", crt, strings.Join(spec.Roles, "+"))
	}
	return s.crossborderClient(ca)
}

// crossborderClient writes pki/clients/crossborder.{crt,key}: the
// certificate this state's system presents when it asks a partner's
// status service (issue 6). No role URI: a partner recognises it by its
// registry (this state's client CA, pki/clients/ca.crt, and O= this
// state's two-letter code).
func (s *stateInit) crossborderClient(ca *pki.TLSCA) error {
	crt := filepath.Join(s.home, "pki", "clients", "crossborder.crt")
	if _, err := os.Stat(crt); err == nil {
		return nil
	}
	c, k, err := ca.IssueClient(pki.ClientSpec{CommonName: s.state + " border system", Country: s.c2, NotAfter: s.now.AddDate(1, 0, 0)})
	if err != nil {
		return fmt.Errorf("client crossborder: %w", err)
	}
	if err := writeNew(filepath.Join(s.home, "pki", "clients", "crossborder.key"), k, 0o600); err != nil {
		return err
	}
	if err := writeNew(crt, c, 0o644); err != nil {
		return err
	}
	s.say("pki: wrote %s (for asking partner states)", crt)
	return nil
}

// demoPartnerStates are the states `init --partners` may write; the first
// two other than this one are written.
var demoPartnerStates = []string{"UTO", "ATL", "LEM"}

// demoPartnerURL is where a demo partner "runs": port 9 (discard), where
// nothing listens on a test machine, so asking it shows the unreachable
// path.
const demoPartnerURL = "https://127.0.0.1:9/"

// demoPartners writes demo material for two partner states and registers
// them (issue 6, item 1). Existing files are kept, an existing
// registration too.
func (s *stateInit) demoPartners(ctx context.Context, c *db.Cluster) error {
	pool, err := db.Open(ctx, c, db.Owner)
	if err != nil {
		return err
	}
	defer pool.Close()
	n := 0
	for _, st := range demoPartnerStates {
		if st == s.state || n == 2 {
			continue
		}
		n++
		p, err := s.demoPartner(st)
		if err != nil {
			return fmt.Errorf("demo partner %s: %w", st, err)
		}
		err = db.AddPartner(ctx, pool, *p)
		switch {
		case errors.Is(err, db.ErrDuplicate):
			s.say("partner: %s is registered already (kept)", st)
		case err != nil:
			return fmt.Errorf("demo partner %s: %w", st, err)
		default:
			s.say("partner: registered demo partner %s (%s: no server, the unreachable path)", st, demoPartnerURL)
		}
	}
	return nil
}

// demoPartner writes (or reads back) pki/partners/<state>/ and returns
// the registration.
func (s *stateInit) demoPartner(state string) (*db.Partner, error) {
	a2, ok := cert.Alpha3ToAlpha2(state)
	if !ok {
		return nil, fmt.Errorf("%s is not in borderid's table", state)
	}
	dir := filepath.Join(s.home, "pki", "partners", state)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	at := func(name string) string { return filepath.Join(dir, name) }
	var ca *pki.TLSCA
	if cb, err := os.ReadFile(at("client-ca.crt")); err == nil {
		kb, err := os.ReadFile(at("client-ca.key"))
		if err != nil {
			return nil, err
		}
		if ca, err = pki.LoadTLSCA(cb, kb); err != nil {
			return nil, err
		}
	} else if errors.Is(err, os.ErrNotExist) {
		if ca, err = pki.NewTLSCA(a2, state); err != nil {
			return nil, err
		}
		kp, err := ca.KeyPEM()
		if err != nil {
			return nil, err
		}
		if err := writeNew(at("client-ca.key"), kp, 0o600); err != nil {
			return nil, err
		}
		if err := writeNew(at("client-ca.crt"), ca.CertPEM, 0o644); err != nil {
			return nil, err
		}
		s.say("pki: wrote %s", at("client-ca.crt"))
	} else {
		return nil, err
	}
	if _, err := os.Stat(at("client.crt")); errors.Is(err, os.ErrNotExist) {
		crt, key, err := ca.IssueClient(pki.ClientSpec{CommonName: state + " border system", Country: a2, NotAfter: s.now.AddDate(1, 0, 0)})
		if err != nil {
			return nil, err
		}
		if err := writeNew(at("client.key"), key, 0o600); err != nil {
			return nil, err
		}
		if err := writeNew(at("client.crt"), crt, 0o644); err != nil {
			return nil, err
		}
		s.say("pki: wrote %s (%s's system, for calling %s)", at("client.crt"), state, s.state)
	}
	var rootDER []byte
	if b, err := os.ReadFile(at("status-signer.crt")); err == nil {
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%s: not a PEM certificate", at("status-signer.crt"))
		}
		rootDER = blk.Bytes
	} else if errors.Is(err, os.ErrNotExist) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		if rootDER, err = pki.Issue(pki.Template{Kind: pki.StatusSigner, Country: a2, Organization: "borderid " + state,
			CommonName: state + " Document Status Signer", NotBefore: s.now, NotAfter: s.now.AddDate(3, 0, 0)},
			key.Public(), nil, key); err != nil {
			return nil, err
		}
		kp, err := pki.MarshalKeyPEM(key)
		if err != nil {
			return nil, err
		}
		if err := writeNew(at("status-signer.key"), kp, 0o600); err != nil {
			return nil, err
		}
		if err := writeNew(at("status-signer.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER}), 0o644); err != nil {
			return nil, err
		}
		s.say("pki: wrote %s", at("status-signer.crt"))
	} else {
		return nil, err
	}
	return &db.Partner{State: state, ClientCA: [][]byte{ca.Cert.Raw}, StatusSignerRoot: rootDER, ServerCA: ca.Cert.Raw,
		URL: demoPartnerURL, AddedBy: "borderid init --partners"}, nil
}

// trustOwnCSCA puts the state's CSCA into its own trust store, so its own
// border posts verify its documents.
func (s *stateInit) trustOwnCSCA(ctx context.Context, c *db.Cluster) error {
	b, err := os.ReadFile(filepath.Join(s.home, "pki", "csca.crt"))
	if err != nil {
		return err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return errors.New("pki/csca.crt: not PEM")
	}
	pc, err := cert.ParseCertificate(blk.Bytes)
	if err != nil {
		return err
	}
	pool, err := db.Open(ctx, c, db.Owner)
	if err != nil {
		return err
	}
	defer pool.Close()
	ins, err := db.ImportCertificate(ctx, pool, blk.Bytes, db.KindCSCA, s.c2, pc.Subject.String(), pc.NotAfter, "init:pki/csca.crt", "borderid init")
	if err != nil {
		return err
	}
	if ins {
		s.say("trust: the state's CSCA is in the trust store")
	}
	return nil
}

// loadTLSCA reads the home's TLS CA: its certificate with the HSM key (or,
// in a home made before the key moved into the HSM, with
// secrets/tls-ca.key). os.ErrNotExist when there is no CA yet.
func loadTLSCA(home string, hsmKey crypto.Signer) (*pki.TLSCA, error) {
	cb, err := os.ReadFile(filepath.Join(home, "pki", "tls-ca.crt"))
	if err != nil {
		return nil, err
	}
	if kb, err := os.ReadFile(filepath.Join(home, "secrets", "tls-ca.key")); err == nil {
		return pki.LoadTLSCA(cb, kb)
	}
	return pki.LoadTLSCAWithKey(cb, hsmKey)
}

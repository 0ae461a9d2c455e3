package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"time"

	"borderid/internal/cert"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Errors callers branch on (errors.Is).
var (
	// ErrTemplate: the Template (or CRL or client parameters) breaks the
	// profile: no or a malformed country, an empty name, a validity that
	// ends before it starts, a serial out of range, a missing key.
	ErrTemplate = errors.New("pki: invalid template")
	// ErrUnsupportedKey: a key that is not ECDSA on P-256, P-384 or P-521
	// (RSA keys are refused: borderid's HSM keys are EC).
	ErrUnsupportedKey = errors.New("pki: unsupported key")
	// ErrIssuer: the issuer certificate is unusable for the request (does
	// not parse, is not a CA, its key is not the signing key, its country
	// differs, it lacks the key usage).
	ErrIssuer = errors.New("pki: unusable issuer")
)

// Kind is the profile of a certificate Issue writes.
type Kind int

// The kinds. The zero Kind is invalid, so that a Template must say what it
// is.
const (
	// CSCA is a Country Signing CA's self-signed root (9303-12 §7.1.1).
	CSCA Kind = iota + 1
	// Link is a CSCA link certificate: a new CSCA key certified by the old
	// one (9303-12 §5.5.1, §7.1.1.5); subject the new CSCA's name, issuer
	// the old CSCA's.
	Link
	// DocumentSigner signs EF.SOD and EF.CardSecurity.
	DocumentSigner
	// MasterListSigner signs CSCA master lists (9303-12 §8).
	MasterListSigner
	// StatusSigner signs borderid's document-status answers to partner
	// states (JWS with an x5c header): not an ICAO kind.
	StatusSigner
	// AuditSigner signs audit checkpoints: not an ICAO kind.
	AuditSigner
)

func (k Kind) String() string {
	switch k {
	case CSCA:
		return "CSCA"
	case Link:
		return "CSCA link"
	case DocumentSigner:
		return "Document Signer"
	case MasterListSigner:
		return "Master List Signer"
	case StatusSigner:
		return "status signer"
	case AuditSigner:
		return "audit signer"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// icao reports whether k is an eMRTD PKI kind (explicit EC parameters,
// ICAO alternative names).
func (k Kind) icao() bool { return k >= CSCA && k <= MasterListSigner }

// ca reports whether k certifies other keys.
func (k Kind) ca() bool { return k == CSCA || k == Link }

// Template describes the certificate Issue writes.
type Template struct {
	Kind Kind
	// Country is the two-letter code of X.509 C= (CONTRACTS.md "State
	// codes"), upper case; the issuer's must be the same (9303-12 Table
	// 5: countryName in issuer and subject must match).
	Country string
	// CommonName is mandatory (9303-12 §7.1.1.1.1); Organization,
	// OrganizationalUnit and SubjectSerial (the serialNumber attribute
	// 2.5.4.5, PrintableString, some CSCAs number their keys in it) are
	// written when not empty.
	CommonName, Organization, OrganizationalUnit, SubjectSerial string
	// SerialNumber is the certificate's serial; nil: 16 random octets,
	// positive. At most 20 octets, positive (9303-12 Table 5).
	SerialNumber *big.Int
	// NotBefore and NotAfter bound the validity; both are required, whole
	// seconds are kept.
	NotBefore, NotAfter time.Time
	// PrivateKeyUsageEnd is privateKeyUsagePeriod's notAfter (CSCA, Link,
	// DocumentSigner): the end of the signing period, after which the
	// certificate stays valid for what was signed. Zero: NotAfter.
	PrivateKeyUsageEnd time.Time
	// DocumentTypes is the DocumentTypeList of a DocumentSigner, one or
	// two letters as in the MRZ ("P", "ID"; a single letter covers every
	// type starting with it, 9303-12 §7.1.1.6). Required for a
	// DocumentSigner, refused for the other kinds.
	DocumentTypes []string
}

// issuerInfo is what a certificate needs of its issuer.
type issuerInfo struct {
	name    []byte // the issuer's subject Name, DER as received
	keyID   []byte
	country string
	altName []byte // the issuer's SubjectAltName extension value, if any
	pub     crypto.PublicKey
	parsed  *cert.Certificate // nil when self-signed
}

// Issue writes a certificate of t.Kind for the key subject, signed by
// issuerKey: self-signed when issuerDER is nil (issuerKey must then be the
// subject's key), else under the certificate issuerDER (whose key
// issuerKey must be). A CSCA is always self-signed; a Link, DocumentSigner
// and MasterListSigner need an issuer (the old CSCA for a Link, the CSCA
// or its link certificate otherwise); a StatusSigner or AuditSigner may be
// either. issuerKey may be any crypto.Signer (an HSM key): it is called
// once, with crypto/rand and the hash of the issuer's curve (SHA-256 for
// P-256, SHA-384 for P-384, SHA-512 for P-521).
//
// The result is parsed back with package internal/cert and its signature
// checked against the issuer's key before it is returned, so a signer that
// returns a wrong or malformed signature is caught here.
func Issue(t Template, subject crypto.PublicKey, issuerDER []byte, issuerKey crypto.Signer) ([]byte, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if subject == nil {
		return nil, fmt.Errorf("%w: no subject public key", ErrTemplate)
	}
	if issuerKey == nil {
		return nil, fmt.Errorf("%w: no issuer key", ErrTemplate)
	}
	subPub, subCurve, err := curveOf(subject)
	if err != nil {
		return nil, fmt.Errorf("subject key: %w", err)
	}
	_, sigCurve, err := curveOf(issuerKey.Public())
	if err != nil {
		return nil, fmt.Errorf("issuer key: %w", err)
	}
	pt, err := point(subPub)
	if err != nil {
		return nil, err
	}
	ski := keyID(pt)
	subjectName, err := encodeName([]attr{
		{attrCountry, t.Country, true},
		{attrOrganization, t.Organization, false},
		{attrOrgUnit, t.OrganizationalUnit, false},
		{attrCommonName, t.CommonName, false},
		{attrSerialNumber, t.SubjectSerial, true},
	})
	if err != nil {
		return nil, fmt.Errorf("pki: subject name: %w", err)
	}

	var iss issuerInfo
	switch {
	case issuerDER == nil:
		if t.Kind == Link || t.Kind == DocumentSigner || t.Kind == MasterListSigner {
			return nil, fmt.Errorf("%w: a %v certificate needs an issuer certificate", ErrIssuer, t.Kind)
		}
		if !sameKey(subPub, issuerKey.Public()) {
			return nil, fmt.Errorf("%w: self-signed, but the signing key is not the subject key", ErrIssuer)
		}
		iss = issuerInfo{name: subjectName, keyID: ski, country: t.Country, pub: subPub}
	default:
		if t.Kind == CSCA {
			return nil, fmt.Errorf("%w: a CSCA certificate is self-signed (a CSCA key certified by another is a Link)", ErrIssuer)
		}
		if iss, err = parseIssuer(issuerDER, issuerKey, x509.KeyUsageCertSign); err != nil {
			return nil, err
		}
		if iss.country != t.Country {
			return nil, fmt.Errorf("%w: issuer country %q, subject country %q (9303-12 Table 5: they must match)", ErrIssuer, iss.country, t.Country)
		}
		if t.Kind == Link && sameKey(subPub, iss.pub) {
			return nil, fmt.Errorf("%w: a link certificate certifies a new key, not the issuer's own", ErrIssuer)
		}
	}

	serial := t.SerialNumber
	if serial == nil {
		if serial, err = randomSerial(); err != nil {
			return nil, err
		}
	}

	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // TBSCertificate
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1Int64(2) // v3
		})
		b.AddASN1BigInt(serial)
		addAlgorithm(b, sigCurve.sigOID)
		b.AddBytes(iss.name)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			addTime(b, t.NotBefore)
			addTime(b, t.NotAfter)
		})
		b.AddBytes(subjectName)
		if err := addSPKI(b, subPub, subCurve, t.Kind.icao()); err != nil {
			b.SetError(err)
			return
		}
		b.AddASN1(cbasn1.Tag(3).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				t.addExtensions(b, ski, iss, !bytes.Equal(iss.name, subjectName))
			})
		})
	})
	tbs, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("pki: encoding the %v certificate: %w", t.Kind, err)
	}
	der, err := signTBS(tbs, issuerKey, sigCurve)
	if err != nil {
		return nil, err
	}

	// Read back what was written, as a relying party will.
	c, err := cert.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: the %v certificate written does not parse: %w", t.Kind, err)
	}
	parent := iss.parsed
	if parent == nil {
		parent = c
	}
	if err := c.CheckSignatureFrom(parent); err != nil {
		return nil, fmt.Errorf("%w: the issuer key's signature does not verify: %w", ErrIssuer, err)
	}
	return der, nil
}

// check validates a Template against the profile.
func (t *Template) check() error {
	if t.Kind < CSCA || t.Kind > AuditSigner {
		return fmt.Errorf("%w: unknown kind %d", ErrTemplate, int(t.Kind))
	}
	if err := checkCountry(t.Country); err != nil {
		return err
	}
	if t.CommonName == "" {
		return fmt.Errorf("%w: no common name (9303-12 §7.1.1.1.1: mandatory)", ErrTemplate)
	}
	for _, f := range []struct {
		what, v string
	}{{"common name", t.CommonName}, {"organization", t.Organization}, {"organizational unit", t.OrganizationalUnit}} {
		if err := checkText(f.what, f.v, 64); err != nil {
			return err
		}
	}
	if t.SubjectSerial != "" && (!isPrintableString(t.SubjectSerial) || len(t.SubjectSerial) > 64) {
		return fmt.Errorf("%w: subject serialNumber must be a PrintableString of at most 64 characters", ErrTemplate)
	}
	if t.SerialNumber != nil {
		if err := checkSerial("serial number", t.SerialNumber, false); err != nil {
			return err
		}
	}
	if t.NotBefore.IsZero() || t.NotAfter.IsZero() {
		return fmt.Errorf("%w: NotBefore and NotAfter are required", ErrTemplate)
	}
	nb, na := t.NotBefore.Truncate(time.Second), t.NotAfter.Truncate(time.Second)
	if !na.After(nb) {
		return fmt.Errorf("%w: NotAfter %s is not after NotBefore %s", ErrTemplate,
			na.UTC().Format(time.RFC3339), nb.UTC().Format(time.RFC3339))
	}
	if nb.Year() < 1950 || na.Year() > 9999 {
		return fmt.Errorf("%w: validity outside the years 1950 to 9999", ErrTemplate)
	}
	if !t.PrivateKeyUsageEnd.IsZero() {
		if !(t.Kind == CSCA || t.Kind == Link || t.Kind == DocumentSigner) {
			return fmt.Errorf("%w: PrivateKeyUsageEnd on a %v certificate (CSCA, Link and Document Signer only)", ErrTemplate, t.Kind)
		}
		e := t.PrivateKeyUsageEnd.Truncate(time.Second)
		if !e.After(nb) || e.After(na) {
			return fmt.Errorf("%w: PrivateKeyUsageEnd %s outside the validity", ErrTemplate, e.UTC().Format(time.RFC3339))
		}
	}
	switch {
	case t.Kind == DocumentSigner && len(t.DocumentTypes) == 0:
		return fmt.Errorf("%w: a Document Signer needs DocumentTypes (9303-12 §7.1.1.6)", ErrTemplate)
	case t.Kind != DocumentSigner && len(t.DocumentTypes) > 0:
		return fmt.Errorf("%w: DocumentTypes on a %v certificate", ErrTemplate, t.Kind)
	}
	for _, d := range t.DocumentTypes {
		if len(d) < 1 || len(d) > 2 || !upperLetters(d) {
			return fmt.Errorf("%w: document type %q (one or two capital letters, as in the MRZ)", ErrTemplate, d)
		}
	}
	return nil
}

func upperLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// checkCountry accepts a two-letter upper-case code the country table
// knows (cert.Alpha2ToAlpha3).
func checkCountry(c string) error {
	if len(c) != 2 || !upperLetters(c) {
		return fmt.Errorf("%w: country %q is not a two-letter upper-case code (X.509 C=, 9303-3)", ErrTemplate, c)
	}
	if _, ok := cert.Alpha2ToAlpha3(c); !ok {
		return fmt.Errorf("%w: country %q is not in the ICAO/ISO 3166 table", ErrTemplate, c)
	}
	return nil
}

// parseIssuer reads an issuer certificate and checks that key is its key
// and that its key usage allows usage.
func parseIssuer(der []byte, key crypto.Signer, usage x509.KeyUsage) (issuerInfo, error) {
	c, err := cert.ParseCertificate(der)
	if err != nil {
		return issuerInfo{}, fmt.Errorf("%w: %w", ErrIssuer, err)
	}
	if c.PublicKey == nil || !sameKey(c.PublicKey, key.Public()) {
		return issuerInfo{}, fmt.Errorf("%w: the signing key is not the key of %s", ErrIssuer, c.Subject)
	}
	if usage == x509.KeyUsageCertSign && !c.IsCA {
		return issuerInfo{}, fmt.Errorf("%w: %s is not a CA (basicConstraints)", ErrIssuer, c.Subject)
	}
	if c.KeyUsage&usage == 0 {
		return issuerInfo{}, fmt.Errorf("%w: %s lacks the key usage to sign this", ErrIssuer, c.Subject)
	}
	id := c.SubjectKeyID
	if len(id) == 0 {
		k, ok := c.PublicKey.(*ecdsa.PublicKey)
		if !ok {
			return issuerInfo{}, fmt.Errorf("%w: %s has no subject key identifier", ErrIssuer, c.Subject)
		}
		pt, err := point(k)
		if err != nil {
			return issuerInfo{}, err
		}
		id = keyID(pt)
	}
	var alt []byte
	for _, e := range c.Extensions {
		if e.ID.Equal(oidExt(extSubjectAltName)) {
			alt = e.Value
		}
	}
	return issuerInfo{name: c.RawSubject, keyID: id, country: c.Subject.Country, altName: alt, pub: c.PublicKey, parsed: c}, nil
}

// icaoAltName is the GeneralNames 9303-12 §7.1.1.2 requires in
// SubjectAltName and IssuerAltName: a directoryName holding only
// localityName = the country code as in the MRZ (alpha-3, "D" for
// Germany).
func icaoAltName(country2 string) func(*cryptobyte.Builder) {
	return func(b *cryptobyte.Builder) {
		a3, ok := cert.Alpha2ToAlpha3(country2)
		if !ok {
			b.SetError(fmt.Errorf("%w: country %q", ErrTemplate, country2))
			return
		}
		name, err := encodeName([]attr{{attrLocality, a3, true}})
		if err != nil {
			b.SetError(err)
			return
		}
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(name) })
		})
	}
}

// addExtensions writes the extensions of t.Kind (see the table in the
// package documentation), in a fixed order.
func (t *Template) addExtensions(b *cryptobyte.Builder, ski []byte, iss issuerInfo, nameChanged bool) {
	// 9303-12 Table 6: AKI optional in a self-signed CSCA, mandatory
	// elsewhere; written always (one rule, and path builders use it).
	addAKI(b, iss.keyID)
	addExtension(b, oidExt(extSubjectKeyID), false, func(b *cryptobyte.Builder) { b.AddASN1OctetString(ski) })
	usage := x509.KeyUsageDigitalSignature
	if t.Kind.ca() {
		usage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	addExtension(b, oidExt(extKeyUsage), true, func(b *cryptobyte.Builder) { addNamedBits(b, keyUsageBits(usage)...) })
	if t.Kind == CSCA || t.Kind == Link || t.Kind == DocumentSigner {
		end := t.PrivateKeyUsageEnd
		if end.IsZero() {
			end = t.NotAfter
		}
		addExtension(b, oidExt(extPrivateKeyUsage), false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(generalizedTime(t.NotBefore)) })
				b.AddASN1(cbasn1.Tag(1).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(generalizedTime(end)) })
			})
		})
	}
	if t.Kind.icao() {
		own := icaoAltName(t.Country)
		addExtension(b, oidExt(extSubjectAltName), false, own)
		if iss.altName != nil { // the issuer's own SubjectAltName, as received
			addExtension(b, oidExt(extIssuerAltName), false, func(b *cryptobyte.Builder) { b.AddBytes(iss.altName) })
		} else {
			addExtension(b, oidExt(extIssuerAltName), false, icaoAltName(iss.country))
		}
	}
	if t.Kind.ca() { // cA TRUE, pathLenConstraint 0 (9303-12 Table 6)
		addExtension(b, oidExt(extBasicConstraint), true, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Boolean(true)
				b.AddASN1Int64(0)
			})
		})
	}
	switch t.Kind {
	case MasterListSigner:
		addExtension(b, oidExt(extExtKeyUsage), true, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(cert.OIDMasterListSigner()) })
		})
	case StatusSigner:
		addExtension(b, oidExt(extExtKeyUsage), true, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(OIDOCSPSigning()) })
		})
	case DocumentSigner:
		addExtension(b, cert.OIDDocumentTypeList(), false, func(b *cryptobyte.Builder) {
			var elems [][]byte
			for _, d := range t.DocumentTypes {
				e := cryptobyte.NewBuilder(nil)
				e.AddASN1(cbasn1.PrintableString, func(e *cryptobyte.Builder) { e.AddBytes([]byte(d)) })
				enc, err := e.Bytes()
				if err != nil {
					b.SetError(err)
					return
				}
				elems = append(elems, enc)
			}
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(0) // v0
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					for _, e := range sortedSet(elems) {
						b.AddBytes(e)
					}
				})
			})
		})
	case Link:
		if nameChanged { // 9303-12 §7.1.1.5: NULL, non-critical
			addExtension(b, cert.OIDNameChange(), false, func(b *cryptobyte.Builder) { b.AddASN1NULL() })
		}
	}
}

package cert

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Extension is one certificate or CRL extension as received (RFC 5280
// §4.1.2.9); Value is the content of extnValue.
type Extension struct {
	ID       asn1.ObjectIdentifier
	Critical bool
	Value    []byte
}

// Certificate is a parsed X.509 certificate (RFC 5280 §4.1) with the
// extensions ICAO 9303-12 §7.1.1 uses.
type Certificate struct {
	// Raw is the whole certificate; RawTBS the tbsCertificate the signature
	// covers; the others are the DER elements as received.
	Raw, RawTBS, RawIssuer, RawSubject, RawSubjectPublicKeyInfo []byte

	Version         int // 1, 2 or 3
	SerialNumber    *big.Int
	Issuer, Subject Name
	NotBefore       time.Time
	NotAfter        time.Time

	// PublicKey is *rsa.PublicKey, *ecdsa.PublicKey (NIST P-224…P-521,
	// named or explicit) or *ec.PublicKey (P-192, brainpool); nil when the
	// algorithm or curve is unknown (see Quirks).
	PublicKey          crypto.PublicKey
	PublicKeyAlgorithm PublicKeyAlgorithm
	// ExplicitParameters: the EC key came with explicit domain parameters
	// (9303-12 §7.1.1), matched to a known curve when PublicKey is set.
	ExplicitParameters bool

	SignatureAlgorithm SignatureAlgorithm
	Signature          []byte

	KeyUsage              x509.KeyUsage
	KeyUsageCritical      bool
	BasicConstraintsValid bool
	IsCA                  bool
	MaxPathLen            int // -1 when absent
	SubjectKeyID          []byte
	AuthorityKeyID        []byte
	ExtKeyUsage           []asn1.ObjectIdentifier
	// PrivateKeyUsagePeriod (RFC 3280 §4.2.1.4, 9303-12 §7.1.1.3): nil
	// bounds are absent.
	PrivateKeyUsageNotBefore, PrivateKeyUsageNotAfter *time.Time
	// DocumentTypes is the ICAO DocumentTypeList (2.23.136.1.1.6.2) of a
	// Document Signer, e.g. ["P"]; nil when absent.
	DocumentTypes []string
	// UnknownCriticalExtensions lists critical extensions this package
	// does not interpret; RFC 5280 §4.2 says such a certificate must be
	// rejected, which is verify's decision.
	UnknownCriticalExtensions []asn1.ObjectIdentifier
	Extensions                []Extension

	// Quirks names every leniency the parser applied (Quirk* constants).
	Quirks []string
}

// ParseCertificate parses one DER certificate. Trailing data is an error.
func ParseCertificate(der []byte) (*Certificate, error) {
	if len(der) > MaxSize {
		return nil, ErrTooLarge
	}
	s := cryptobyte.String(der)
	c, err := parseCertificate(&s)
	if err != nil {
		return nil, err
	}
	if !s.Empty() {
		return nil, fmt.Errorf("%w: %d bytes after the certificate", ErrMalformed, len(s))
	}
	return c, nil
}

// ParseCertificates parses a concatenation of DER certificates.
func ParseCertificates(der []byte) ([]*Certificate, error) {
	if len(der) > MaxSize {
		return nil, ErrTooLarge
	}
	s := cryptobyte.String(der)
	var out []*Certificate
	for !s.Empty() {
		c, err := parseCertificate(&s)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// ParsePEMCertificates parses every "CERTIFICATE" block of a PEM file,
// ignoring other blocks and text around them (as OpenSSL writes it).
func ParsePEMCertificates(data []byte) ([]*Certificate, error) {
	if len(data) > MaxSize {
		return nil, ErrTooLarge
	}
	var out []*Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no PEM CERTIFICATE block", ErrMalformed)
	}
	return out, nil
}

func parseCertificate(s *cryptobyte.String) (*Certificate, error) {
	var raw cryptobyte.String
	if !s.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: not a DER SEQUENCE", ErrMalformed)
	}
	c := &Certificate{Raw: raw, MaxPathLen: -1}
	var q quirks
	tbs, outerAlg, alg, sigBytes, err := parseSigned(raw, "Certificate", &q)
	if err != nil {
		return nil, err
	}
	c.RawTBS, c.SignatureAlgorithm, c.Signature = tbs, alg, sigBytes

	if !tbs.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: TBSCertificate", ErrMalformed)
	}
	// version [0] EXPLICIT INTEGER DEFAULT v1
	c.Version = 1
	var vs cryptobyte.String
	var hasVersion bool
	if !tbs.ReadOptionalASN1(&vs, &hasVersion, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, fmt.Errorf("%w: version", ErrMalformed)
	}
	if hasVersion {
		var v int64
		if !vs.ReadASN1Integer(&v) || !vs.Empty() || v < 0 || v > 2 {
			return nil, fmt.Errorf("%w: version", ErrMalformed)
		}
		if v == 0 {
			q.add(QuirkVersion1Explicit)
		}
		c.Version = int(v) + 1
	}
	if c.SerialNumber, err = readInteger(&tbs, &q); err != nil {
		return nil, fmt.Errorf("serialNumber: %w", err)
	}
	switch {
	case c.SerialNumber.Sign() < 0:
		q.add(QuirkNegativeSerial)
	case c.SerialNumber.Sign() == 0:
		q.add(QuirkZeroSerial)
	}
	if len(c.SerialNumber.Bytes()) > 20 {
		q.add(QuirkLongSerial)
	}
	var innerAlg cryptobyte.String
	if !tbs.ReadASN1Element(&innerAlg, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: TBSCertificate signature", ErrMalformed)
	}
	inner, _, err := parseSigAlg(innerAlg)
	if err != nil {
		return nil, fmt.Errorf("TBSCertificate signature: %w", err)
	}
	// RFC 5280 §4.1.1.2: both must be the same algorithm. A difference in
	// encoding alone (NULL present in one) is recorded.
	if !inner.Equal(alg) {
		return nil, fmt.Errorf("%w: signatureAlgorithm %v differs from TBSCertificate signature %v", ErrMalformed, alg, inner)
	}
	if string(innerAlg) != string(outerAlg) {
		q.add(QuirkSignatureAlgorithmMismatch)
	}
	if c.Issuer, err = parseName(&tbs, &q); err != nil {
		return nil, fmt.Errorf("issuer: %w", err)
	}
	c.RawIssuer = c.Issuer.Raw
	if len(c.Issuer.Attributes) == 0 {
		q.add(QuirkEmptyIssuer)
	}
	var validity cryptobyte.String
	if !tbs.ReadASN1(&validity, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: validity", ErrMalformed)
	}
	if c.NotBefore, err = readTime(&validity, &q); err != nil {
		return nil, fmt.Errorf("notBefore: %w", err)
	}
	if c.NotAfter, err = readTime(&validity, &q); err != nil {
		return nil, fmt.Errorf("notAfter: %w", err)
	}
	if !validity.Empty() {
		return nil, fmt.Errorf("%w: validity", ErrMalformed)
	}
	if c.Subject, err = parseName(&tbs, &q); err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	c.RawSubject = c.Subject.Raw
	var spki cryptobyte.String
	if !tbs.ReadASN1Element(&spki, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: subjectPublicKeyInfo", ErrMalformed)
	}
	c.RawSubjectPublicKeyInfo = spki
	pk, err := parseSPKI(spki, &q)
	if err != nil {
		return nil, fmt.Errorf("subjectPublicKeyInfo: %w", err)
	}
	c.PublicKey, c.PublicKeyAlgorithm, c.ExplicitParameters = pk.key, pk.alg, pk.explicit
	// issuerUniqueID [1], subjectUniqueID [2]: skipped (RFC 5280 §4.1.2.8).
	for _, tag := range []cbasn1.Tag{cbasn1.Tag(1).ContextSpecific(), cbasn1.Tag(2).ContextSpecific()} {
		if !tbs.SkipOptionalASN1(tag) {
			return nil, fmt.Errorf("%w: unique identifier", ErrMalformed)
		}
	}
	var exts cryptobyte.String
	var hasExts bool
	if !tbs.ReadOptionalASN1(&exts, &hasExts, cbasn1.Tag(3).Constructed().ContextSpecific()) {
		return nil, fmt.Errorf("%w: extensions", ErrMalformed)
	}
	if !tbs.Empty() {
		return nil, fmt.Errorf("%w: data after extensions", ErrMalformed)
	}
	if hasExts {
		if c.Version != 3 {
			q.add(QuirkExtensionsInV1)
		}
		if c.Extensions, err = readExtensions(exts, &q); err != nil {
			return nil, err
		}
		if err := c.interpretExtensions(&q); err != nil {
			return nil, err
		}
	}
	c.Quirks = q
	return c, nil
}

// readExtensions reads Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
// from the content of its EXPLICIT wrapper (or of the SEQUENCE itself
// when wrapped is false).
func readExtensions(s cryptobyte.String, q *quirks) ([]Extension, error) {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, fmt.Errorf("%w: Extensions", ErrMalformed)
	}
	var out []Extension
	for !seq.Empty() {
		var e cryptobyte.String
		var ext Extension
		if !seq.ReadASN1(&e, cbasn1.SEQUENCE) || !e.ReadASN1ObjectIdentifier(&ext.ID) {
			return nil, fmt.Errorf("%w: Extension", ErrMalformed)
		}
		if e.PeekASN1Tag(cbasn1.BOOLEAN) {
			v, err := readBoolean(&e, q)
			if err != nil {
				return nil, err
			}
			if !v {
				q.add(QuirkCriticalFalseEncoded)
			}
			ext.Critical = v
		}
		var val cryptobyte.String
		if !e.ReadASN1(&val, cbasn1.OCTET_STRING) || !e.Empty() {
			return nil, fmt.Errorf("%w: Extension %v", ErrMalformed, ext.ID)
		}
		ext.Value = val
		for _, prev := range out {
			if prev.ID.Equal(ext.ID) {
				q.add(QuirkDuplicateExtension)
			}
		}
		out = append(out, ext)
	}
	return out, nil
}

func oidExt(n int) asn1.ObjectIdentifier { return asn1.ObjectIdentifier{2, 5, 29, n} }

// understoodCertExtensions are extensions whose meaning this package
// either parses or that carry no constraint path validation must enforce
// here (SAN/IAN and CRL distribution points are informative; certificate
// policies are not constrained by an initial policy set in ICAO PKI).
func understoodCertExtension(id asn1.ObjectIdentifier) bool {
	for _, n := range []int{14, 15, 16, 17, 18, 19, 31, 32, 35, 37, 46} {
		if id.Equal(oidExt(n)) {
			return true
		}
	}
	return id.Equal(OIDDocumentTypeList()) || id.Equal(OIDNameChange())
}

func (c *Certificate) interpretExtensions(q *quirks) error {
	for _, e := range c.Extensions {
		v := cryptobyte.String(e.Value)
		bad := func(what string) error { return fmt.Errorf("%w: extension %s (%v)", ErrMalformed, what, e.ID) }
		switch {
		case e.ID.Equal(oidExt(15)): // keyUsage, RFC 5280 §4.2.1.3
			var bits asn1.BitString
			if !v.ReadASN1BitString(&bits) || !v.Empty() {
				return bad("keyUsage")
			}
			var ku x509.KeyUsage
			for i := 0; i < 9; i++ {
				if bits.At(i) != 0 {
					ku |= 1 << uint(i)
				}
			}
			if n := len(bits.Bytes); n > 0 && bits.Bytes[n-1] == 0 {
				q.add(QuirkKeyUsageTrailingZeros)
			}
			c.KeyUsage, c.KeyUsageCritical = ku, e.Critical
		case e.ID.Equal(oidExt(19)): // basicConstraints, §4.2.1.9
			var seq cryptobyte.String
			if !v.ReadASN1(&seq, cbasn1.SEQUENCE) || !v.Empty() {
				return bad("basicConstraints")
			}
			if seq.PeekASN1Tag(cbasn1.BOOLEAN) {
				ca, err := readBoolean(&seq, q)
				if err != nil {
					return bad("basicConstraints")
				}
				c.IsCA = ca
			}
			if seq.PeekASN1Tag(cbasn1.INTEGER) {
				var n int64
				if !seq.ReadASN1Integer(&n) || n < 0 || n > 1<<20 {
					return bad("basicConstraints pathLen")
				}
				c.MaxPathLen = int(n)
			}
			if !seq.Empty() {
				return bad("basicConstraints")
			}
			c.BasicConstraintsValid = true
		case e.ID.Equal(oidExt(14)): // subjectKeyIdentifier, §4.2.1.2
			var id cryptobyte.String
			if !v.ReadASN1(&id, cbasn1.OCTET_STRING) || !v.Empty() {
				return bad("subjectKeyIdentifier")
			}
			c.SubjectKeyID = id
		case e.ID.Equal(oidExt(35)): // authorityKeyIdentifier, §4.2.1.1
			id, err := parseAKI(v)
			if err != nil {
				return bad("authorityKeyIdentifier")
			}
			c.AuthorityKeyID = id
		case e.ID.Equal(oidExt(37)): // extKeyUsage, §4.2.1.12
			var seq cryptobyte.String
			if !v.ReadASN1(&seq, cbasn1.SEQUENCE) || !v.Empty() {
				return bad("extKeyUsage")
			}
			for !seq.Empty() {
				var oid asn1.ObjectIdentifier
				if !seq.ReadASN1ObjectIdentifier(&oid) {
					return bad("extKeyUsage")
				}
				c.ExtKeyUsage = append(c.ExtKeyUsage, oid)
			}
		case e.ID.Equal(oidExt(16)): // privateKeyUsagePeriod, RFC 3280 §4.2.1.4
			var seq cryptobyte.String
			if !v.ReadASN1(&seq, cbasn1.SEQUENCE) || !v.Empty() {
				return bad("privateKeyUsagePeriod")
			}
			for i, dst := range []**time.Time{&c.PrivateKeyUsageNotBefore, &c.PrivateKeyUsageNotAfter} {
				var t cryptobyte.String
				var present bool
				if !seq.ReadOptionalASN1(&t, &present, cbasn1.Tag(i).ContextSpecific()) {
					return bad("privateKeyUsagePeriod")
				}
				if present {
					tt, err := parseGeneralizedTime(string(t), q)
					if err != nil {
						return bad("privateKeyUsagePeriod")
					}
					*dst = &tt
				}
			}
			if !seq.Empty() {
				return bad("privateKeyUsagePeriod")
			}
		case e.ID.Equal(OIDDocumentTypeList()): // 9303-12 §7.1.1.3
			var seq, set cryptobyte.String
			var ver int64
			if !v.ReadASN1(&seq, cbasn1.SEQUENCE) || !v.Empty() || !seq.ReadASN1Integer(&ver) ||
				!seq.ReadASN1(&set, cbasn1.SET) || !seq.Empty() {
				return bad("documentTypeList")
			}
			c.DocumentTypes = []string{}
			for !set.Empty() {
				var d cryptobyte.String
				var tag cbasn1.Tag
				if !set.ReadAnyASN1(&d, &tag) {
					return bad("documentTypeList")
				}
				str, ok := decodeString(tag, d, q)
				if !ok {
					return bad("documentTypeList")
				}
				c.DocumentTypes = append(c.DocumentTypes, str)
			}
		}
		if e.Critical && !understoodCertExtension(e.ID) {
			c.UnknownCriticalExtensions = append(c.UnknownCriticalExtensions, e.ID)
		}
	}
	return nil
}

// parseAKI returns the keyIdentifier of an AuthorityKeyIdentifier.
func parseAKI(v cryptobyte.String) ([]byte, error) {
	var seq, id cryptobyte.String
	var present bool
	if !v.ReadASN1(&seq, cbasn1.SEQUENCE) || !v.Empty() ||
		!seq.ReadOptionalASN1(&id, &present, cbasn1.Tag(0).ContextSpecific()) {
		return nil, ErrMalformed
	}
	// authorityCertIssuer [1] and authorityCertSerialNumber [2] are not used.
	if !seq.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) ||
		!seq.SkipOptionalASN1(cbasn1.Tag(2).ContextSpecific()) || !seq.Empty() {
		return nil, ErrMalformed
	}
	if !present {
		return nil, nil
	}
	return id, nil
}

// parseSigned reads the envelope RFC 5280 gives certificates (§4.1) and
// CRLs (§5.1) alike: SEQUENCE { tbs SEQUENCE, signatureAlgorithm, signature
// BIT STRING of whole octets }, with nothing after it. tbs keeps its own
// tag and length: it is what the signature covers.
// outerAlg is the raw signatureAlgorithm, to compare with the TBS's copy.
func parseSigned(raw []byte, what string, q *quirks) (tbs, outerAlg cryptobyte.String, alg SignatureAlgorithm, sig []byte, err error) {
	body := cryptobyte.String(raw)
	var bits asn1.BitString
	if !body.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1Element(&tbs, cbasn1.SEQUENCE) ||
		!body.ReadASN1Element(&outerAlg, cbasn1.SEQUENCE) || !body.ReadASN1BitString(&bits) || !body.Empty() {
		return nil, nil, alg, nil, fmt.Errorf("%w: %s", ErrMalformed, what)
	}
	if bits.BitLength%8 != 0 {
		return nil, nil, alg, nil, fmt.Errorf("%w: %s signature is not whole octets", ErrMalformed, what)
	}
	alg, aq, err := parseSigAlg(outerAlg)
	if err != nil {
		return nil, nil, alg, nil, fmt.Errorf("signatureAlgorithm: %w", err)
	}
	for _, x := range aq {
		q.add(x)
	}
	return tbs, outerAlg, alg, bits.Bytes, nil
}

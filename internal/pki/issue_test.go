package pki_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"io"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"borderid/internal/cert"
	"borderid/internal/pki"
)

const (
	oAKI        = "2.5.29.35"
	oSKI        = "2.5.29.14"
	oKU         = "2.5.29.15"
	oPKUP       = "2.5.29.16"
	oSAN        = "2.5.29.17"
	oIAN        = "2.5.29.18"
	oBC         = "2.5.29.19"
	oEKU        = "2.5.29.37"
	oDocTypes   = "2.23.136.1.1.6.2"
	oNameChange = "2.23.136.1.1.6.1"
)

// TestProfiles issues every kind and checks it as 9303-12 Table 6 and the
// package table say: which extensions, their criticality, the key usage,
// the EC parameter encoding, and who can parse it.
func TestProfiles(t *testing.T) {
	s := newPKI(t)
	now := testNow()
	newCSCAKey := newKey(t, elliptic.P256())
	link := must(pki.Issue(pki.Template{Kind: pki.Link, Country: "UT", Organization: "Utopia", CommonName: "CSCA Utopia",
		SubjectSerial: "001", NotBefore: now, NotAfter: now.AddDate(5, 0, 0)}, newCSCAKey.Public(), s.csca, s.cscaKey))
	renamed := must(pki.Issue(pki.Template{Kind: pki.Link, Country: "UT", Organization: "Utopia", CommonName: "CSCA Utopia 2",
		NotBefore: now, NotAfter: now.AddDate(5, 0, 0)}, newCSCAKey.Public(), s.csca, s.cscaKey))
	statusKey, auditKey := newKey(t, elliptic.P256()), newKey(t, elliptic.P256())
	status := must(pki.Issue(pki.Template{Kind: pki.StatusSigner, Country: "UT", Organization: "Utopia",
		CommonName: "Status Signer Utopia", NotBefore: now, NotAfter: now.AddDate(3, 0, 0)}, statusKey.Public(), nil, statusKey))
	audit := must(pki.Issue(pki.Template{Kind: pki.AuditSigner, Country: "UT", Organization: "Utopia",
		CommonName: "Audit Signer Utopia", NotBefore: now, NotAfter: now.AddDate(3, 0, 0)}, auditKey.Public(), nil, auditKey))

	cscaCert := parse(t, s.csca)
	ca := x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	for _, tc := range []struct {
		name     string
		der      []byte
		exts     map[string]bool // OID -> critical
		usage    x509.KeyUsage
		explicit bool
		isCA     bool
		eku      string
		selfSign bool
	}{
		{"CSCA", s.csca, map[string]bool{oAKI: false, oSKI: false, oKU: true, oPKUP: false, oSAN: false, oIAN: false, oBC: true}, ca, true, true, "", true},
		{"Link", link, map[string]bool{oAKI: false, oSKI: false, oKU: true, oPKUP: false, oSAN: false, oIAN: false, oBC: true}, ca, true, true, "", false},
		{"Link renamed", renamed, map[string]bool{oAKI: false, oSKI: false, oKU: true, oPKUP: false, oSAN: false, oIAN: false, oBC: true, oNameChange: false}, ca, true, true, "", false},
		{"DocumentSigner", s.ds, map[string]bool{oAKI: false, oSKI: false, oKU: true, oPKUP: false, oSAN: false, oIAN: false, oDocTypes: false}, x509.KeyUsageDigitalSignature, true, false, "", false},
		{"MasterListSigner", s.mls, map[string]bool{oAKI: false, oSKI: false, oKU: true, oSAN: false, oIAN: false, oEKU: true}, x509.KeyUsageDigitalSignature, true, false, "2.23.136.1.1.3", false},
		{"StatusSigner", status, map[string]bool{oAKI: false, oSKI: false, oKU: true, oEKU: true}, x509.KeyUsageDigitalSignature, false, false, "1.3.6.1.5.5.7.3.9", true},
		{"AuditSigner", audit, map[string]bool{oAKI: false, oSKI: false, oKU: true}, x509.KeyUsageDigitalSignature, false, false, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := parse(t, tc.der)
			if len(c.Quirks) != 0 {
				t.Errorf("quirks %v: the encoder wrote something non-DER", c.Quirks)
			}
			got := map[string]bool{}
			for _, e := range c.Extensions {
				if _, dup := got[e.ID.String()]; dup {
					t.Errorf("extension %v twice", e.ID)
				}
				got[e.ID.String()] = e.Critical
			}
			if !equalMaps(got, tc.exts) {
				t.Errorf("extensions %v, want %v", got, tc.exts)
			}
			if c.Version != 3 || c.KeyUsage != tc.usage || !c.KeyUsageCritical {
				t.Errorf("version %d key usage %#x critical %v, want 3 %#x true", c.Version, c.KeyUsage, c.KeyUsageCritical, tc.usage)
			}
			if c.ExplicitParameters != tc.explicit || c.PublicKeyAlgorithm != cert.ECDSAKey {
				t.Errorf("explicit parameters %v (%v), want %v", c.ExplicitParameters, c.PublicKeyAlgorithm, tc.explicit)
			}
			if c.IsCA != tc.isCA || c.BasicConstraintsValid != tc.isCA || (tc.isCA && c.MaxPathLen != 0) {
				t.Errorf("CA %v valid %v pathLen %d", c.IsCA, c.BasicConstraintsValid, c.MaxPathLen)
			}
			var ekus []string
			for _, o := range c.ExtKeyUsage {
				ekus = append(ekus, o.String())
			}
			if strings.Join(ekus, ",") != tc.eku {
				t.Errorf("extended key usage %v, want %q", ekus, tc.eku)
			}
			if len(c.UnknownCriticalExtensions) != 0 {
				t.Errorf("unknown critical extensions %v", c.UnknownCriticalExtensions)
			}
			// SKI is method 1; AKI is the issuer's SKI (its own when self-signed).
			k := c.PublicKey.(*ecdsa.PublicKey)
			pt := must(k.Bytes())
			sum := sha1.Sum(pt)
			if !bytes.Equal(c.SubjectKeyID, sum[:]) {
				t.Errorf("SKI %x, want %x", c.SubjectKeyID, sum)
			}
			parent := cscaCert
			if tc.selfSign {
				parent = c
			}
			if !bytes.Equal(c.AuthorityKeyID, parent.SubjectKeyID) {
				t.Errorf("AKI %x, want %x", c.AuthorityKeyID, parent.SubjectKeyID)
			}
			if err := c.CheckSignatureFrom(parent); err != nil {
				t.Errorf("signature: %v", err)
			}
			if c.SignatureAlgorithm.Hash != crypto.SHA256 || c.SignatureAlgorithm.OID.String() != "1.2.840.10045.4.3.2" {
				t.Errorf("signature algorithm %v", c.SignatureAlgorithm)
			}
			if c.Subject.Country != "UT" || c.Issuer.Country != "UT" || c.Subject.Organization != "Utopia" {
				t.Errorf("subject %s issuer %s", c.Subject, c.Issuer)
			}
			// C= is a PrintableString (tag 0x13), 9303-12 Table 5.
			if !bytes.Contains(c.RawSubject, []byte{0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 'U', 'T'}) {
				t.Errorf("C= is not PrintableString UT: %x", c.RawSubject)
			}
			if c.SerialNumber.Sign() <= 0 || len(c.SerialNumber.Bytes()) != 16 {
				t.Errorf("serial %x: want 16 random octets, positive", c.SerialNumber)
			}
			// crypto/x509 refuses explicit parameters and reads the named ones.
			xc, err := x509.ParseCertificate(tc.der)
			if tc.explicit && err == nil {
				t.Errorf("crypto/x509 parsed an explicit-parameter certificate")
			}
			if !tc.explicit {
				if err != nil {
					t.Fatalf("crypto/x509: %v", err)
				}
				if !xc.PublicKey.(*ecdsa.PublicKey).Equal(k) {
					t.Errorf("crypto/x509 read another key")
				}
			}
		})
	}

	// The specific values.
	ds := parse(t, s.ds)
	if !slices.Equal(ds.DocumentTypes, []string{"P", "ID"}) { // DER SET OF order: 13 01 50 < 13 02 49 44
		t.Errorf("DocumentTypes %v", ds.DocumentTypes)
	}
	if ds.PrivateKeyUsageNotBefore == nil || !ds.PrivateKeyUsageNotBefore.Equal(dsTemplate().NotBefore) ||
		ds.PrivateKeyUsageNotAfter == nil || !ds.PrivateKeyUsageNotAfter.Equal(dsTemplate().PrivateKeyUsageEnd) {
		t.Errorf("DS privateKeyUsagePeriod %v %v", ds.PrivateKeyUsageNotBefore, ds.PrivateKeyUsageNotAfter)
	}
	if !ds.NotBefore.Equal(dsTemplate().NotBefore) || !ds.NotAfter.Equal(dsTemplate().NotAfter) {
		t.Errorf("DS validity %v %v", ds.NotBefore, ds.NotAfter)
	}
	if !bytes.Equal(ds.RawIssuer, cscaCert.RawSubject) {
		t.Errorf("DS issuer %s, want %s", ds.Issuer, cscaCert.Subject)
	}
	if cscaCert.Subject.SerialNumber != "001" || cscaCert.Subject.CommonName != "CSCA Utopia" || !bytes.Equal(cscaCert.RawIssuer, cscaCert.RawSubject) {
		t.Errorf("CSCA subject %s issuer %s", cscaCert.Subject, cscaCert.Issuer)
	}
	l := parse(t, link)
	if !bytes.Equal(l.RawIssuer, cscaCert.RawSubject) || !bytes.Equal(l.RawSubject, cscaCert.RawSubject) {
		t.Errorf("link: issuer %s subject %s", l.Issuer, l.Subject)
	}
	if l.PrivateKeyUsageNotAfter == nil || !l.PrivateKeyUsageNotAfter.Equal(l.NotAfter) {
		t.Errorf("link privateKeyUsagePeriod end %v, want NotAfter %v", l.PrivateKeyUsageNotAfter, l.NotAfter)
	}
	if r := parse(t, renamed); r.Subject.CommonName != "CSCA Utopia 2" || r.Issuer.CommonName != "CSCA Utopia" {
		t.Errorf("renamed link: issuer %s subject %s", r.Issuer, r.Subject)
	}
	// SubjectAltName: directoryName L=UTO (9303-12 §7.1.1.2); the DS's
	// IssuerAltName is the CSCA's SubjectAltName, byte for byte.
	wantSAN := []byte{0x30, 0x12, 0xa4, 0x10, 0x30, 0x0e, 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x07, 0x13, 0x03, 'U', 'T', 'O'}
	for _, c := range []*cert.Certificate{cscaCert, ds} {
		for _, e := range c.Extensions {
			if (e.ID.String() == oSAN || e.ID.String() == oIAN) && !bytes.Equal(e.Value, wantSAN) {
				t.Errorf("%s %v = %x, want %x", c.Subject.CommonName, e.ID, e.Value, wantSAN)
			}
		}
	}
	for _, e := range parse(t, renamed).Extensions {
		if e.ID.String() == oNameChange && !bytes.Equal(e.Value, []byte{0x05, 0x00}) {
			t.Errorf("nameChange value %x, want NULL", e.Value)
		}
	}
}

func equalMaps(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestDSUnderCSCA: the DS's signature verifies with the CSCA's key, not
// with another.
func TestDSUnderCSCA(t *testing.T) {
	s := newPKI(t)
	ds, csca := parse(t, s.ds), parse(t, s.csca)
	if err := ds.CheckSignatureFrom(csca); err != nil {
		t.Fatalf("DS under CSCA: %v", err)
	}
	other := newPKI(t)
	if err := ds.CheckSignatureFrom(parse(t, other.csca)); !errors.Is(err, cert.ErrSignature) {
		t.Fatalf("DS under another CSCA: %v, want ErrSignature", err)
	}
	sc := must(pki.CMSSigner(s.ds))
	if !bytes.Equal(sc.Raw, s.ds) || !bytes.Equal(sc.RawIssuer, csca.RawSubject) || sc.SerialNumber.Cmp(ds.SerialNumber) != 0 ||
		!sc.PublicKey.(*ecdsa.PublicKey).Equal(s.dsKey.Public()) {
		t.Fatalf("CMSSigner %+v", sc)
	}
	if _, err := pki.CMSSigner([]byte{0x30, 0x00}); err == nil {
		t.Fatal("CMSSigner accepted garbage")
	}
}

// TestCurves: the issuer's curve picks the hash; P-384 and P-521 subject
// keys get their own explicit parameters.
func TestCurves(t *testing.T) {
	now := testNow()
	for _, tc := range []struct {
		curve elliptic.Curve
		hash  crypto.Hash
		oid   string
	}{
		{elliptic.P384(), crypto.SHA384, "1.2.840.10045.4.3.3"},
		{elliptic.P521(), crypto.SHA512, "1.2.840.10045.4.3.4"},
	} {
		k := newKey(t, tc.curve)
		tmpl := cscaTemplate()
		der := must(pki.Issue(tmpl, k.Public(), nil, k))
		c := parse(t, der)
		if c.SignatureAlgorithm.Hash != tc.hash || c.SignatureAlgorithm.OID.String() != tc.oid || !c.ExplicitParameters {
			t.Errorf("%s: %v explicit %v", tc.curve.Params().Name, c.SignatureAlgorithm, c.ExplicitParameters)
		}
		if !c.PublicKey.(*ecdsa.PublicKey).Equal(k.Public()) {
			t.Errorf("%s: key differs", tc.curve.Params().Name)
		}
		// A P-256 DS under a P-384 CSCA is signed with SHA-384.
		dsKey := newKey(t, elliptic.P256())
		ds := parse(t, must(pki.Issue(pki.Template{Kind: pki.DocumentSigner, Country: "UT", CommonName: "DS",
			NotBefore: now, NotAfter: now.AddDate(1, 0, 0), DocumentTypes: []string{"P"}}, dsKey.Public(), der, k)))
		if ds.SignatureAlgorithm.Hash != tc.hash || ds.CheckSignatureFrom(c) != nil {
			t.Errorf("%s: DS %v", tc.curve.Params().Name, ds.SignatureAlgorithm)
		}
	}
}

// TestTimesAndSerials: UTCTime through 2049, GeneralizedTime from 2050;
// given serials are kept, up to 20 octets.
func TestTimesAndSerials(t *testing.T) {
	k := newKey(t, elliptic.P256())
	tmpl := cscaTemplate()
	tmpl.NotBefore = time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC)
	tmpl.NotAfter = time.Date(2065, 6, 1, 12, 0, 0, 0, time.UTC)
	tmpl.PrivateKeyUsageEnd = time.Date(2055, 1, 1, 0, 0, 0, 0, time.UTC)
	tmpl.SerialNumber = bigHex(t, "7f"+strings.Repeat("ff", 19)) // 20 octets, the maximum
	der := must(pki.Issue(tmpl, k.Public(), nil, k))
	c := parse(t, der)
	if !c.NotBefore.Equal(tmpl.NotBefore) || !c.NotAfter.Equal(tmpl.NotAfter) || c.SerialNumber.Cmp(tmpl.SerialNumber) != 0 {
		t.Fatalf("validity %v..%v serial %x", c.NotBefore, c.NotAfter, c.SerialNumber)
	}
	if !bytes.Contains(c.RawTBS, []byte("\x17\x0d491231235959Z")) || !bytes.Contains(c.RawTBS, []byte("\x18\x0f20650601120000Z")) {
		t.Fatalf("validity encoding: %x", c.RawTBS)
	}
	if !bytes.Contains(c.RawTBS, []byte("\x81\x0f20550101000000Z")) {
		t.Fatal("privateKeyUsagePeriod notAfter is not [1] GeneralizedTime")
	}
	// Sub-second times are truncated, not rounded.
	tmpl.NotBefore = testNow().Add(999 * time.Millisecond)
	tmpl.NotAfter = testNow().AddDate(1, 0, 0)
	tmpl.PrivateKeyUsageEnd = time.Time{}
	tmpl.SerialNumber = big.NewInt(1)
	c = parse(t, must(pki.Issue(tmpl, k.Public(), nil, k)))
	if !c.NotBefore.Equal(testNow()) || c.SerialNumber.Int64() != 1 {
		t.Fatalf("NotBefore %v serial %v", c.NotBefore, c.SerialNumber)
	}
	// UTF-8 names are UTF8String, printable ones PrintableString.
	tmpl.Organization = "Utopía"
	c = parse(t, must(pki.Issue(tmpl, k.Public(), nil, k)))
	if c.Subject.Organization != "Utopía" || !bytes.Contains(c.RawSubject, append([]byte{0x0c, 0x07}, "Utopía"...)) {
		t.Fatalf("O= %q: %x", c.Subject.Organization, c.RawSubject)
	}
}

// badSigner returns a signature that does not verify.
type badSigner struct{ hsmKey }

func (b badSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	d2 := slices.Clone(d)
	d2[0] ^= 1
	return b.hsmKey.Sign(r, d2, o)
}

type failingSigner struct{ hsmKey }

func (failingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("token removed")
}

// TestIssueRefusals: every malformed template and every wrong issuer is
// refused with the right sentinel.
func TestIssueRefusals(t *testing.T) {
	s := newPKI(t)
	k := newKey(t, elliptic.P256())
	rsaKey := must(rsa.GenerateKey(rand.Reader, 2048))
	p224 := must(ecdsa.GenerateKey(elliptic.P224(), rand.Reader))
	now := testNow()
	csca := func(f func(*pki.Template)) pki.Template { tm := cscaTemplate(); f(&tm); return tm }
	ds := func(f func(*pki.Template)) pki.Template { tm := dsTemplate(); f(&tm); return tm }
	for _, tc := range []struct {
		name      string
		t         pki.Template
		subject   crypto.PublicKey
		issuer    []byte
		issuerKey crypto.Signer
		want      error
	}{
		{"no kind", csca(func(t *pki.Template) { t.Kind = 0 }), k.Public(), nil, k, pki.ErrTemplate},
		{"unknown kind", csca(func(t *pki.Template) { t.Kind = 99 }), k.Public(), nil, k, pki.ErrTemplate},
		{"no country", csca(func(t *pki.Template) { t.Country = "" }), k.Public(), nil, k, pki.ErrTemplate},
		{"three-letter country", csca(func(t *pki.Template) { t.Country = "UTO" }), k.Public(), nil, k, pki.ErrTemplate},
		{"lower-case country", csca(func(t *pki.Template) { t.Country = "ut" }), k.Public(), nil, k, pki.ErrTemplate},
		{"unknown country", csca(func(t *pki.Template) { t.Country = "QQ" }), k.Public(), nil, k, pki.ErrTemplate},
		{"no common name", csca(func(t *pki.Template) { t.CommonName = "" }), k.Public(), nil, k, pki.ErrTemplate},
		{"long common name", csca(func(t *pki.Template) { t.CommonName = strings.Repeat("x", 65) }), k.Public(), nil, k, pki.ErrTemplate},
		{"control character", csca(func(t *pki.Template) { t.Organization = "Uto\npia" }), k.Public(), nil, k, pki.ErrTemplate},
		{"invalid UTF-8", csca(func(t *pki.Template) { t.CommonName = "\xff" }), k.Public(), nil, k, pki.ErrTemplate},
		{"padded name", csca(func(t *pki.Template) { t.CommonName = " CSCA" }), k.Public(), nil, k, pki.ErrTemplate},
		{"non-printable serialNumber attribute", csca(func(t *pki.Template) { t.SubjectSerial = "n°1" }), k.Public(), nil, k, pki.ErrTemplate},
		{"NotAfter before NotBefore", csca(func(t *pki.Template) { t.NotAfter = t.NotBefore.Add(-time.Second) }), k.Public(), nil, k, pki.ErrTemplate},
		{"NotAfter equal to NotBefore", csca(func(t *pki.Template) { t.NotAfter = t.NotBefore }), k.Public(), nil, k, pki.ErrTemplate},
		{"no NotBefore", csca(func(t *pki.Template) { t.NotBefore = time.Time{} }), k.Public(), nil, k, pki.ErrTemplate},
		{"no NotAfter", csca(func(t *pki.Template) { t.NotAfter = time.Time{} }), k.Public(), nil, k, pki.ErrTemplate},
		{"private key usage after NotAfter", csca(func(t *pki.Template) { t.PrivateKeyUsageEnd = t.NotAfter.Add(time.Second) }), k.Public(), nil, k, pki.ErrTemplate},
		{"private key usage before NotBefore", csca(func(t *pki.Template) { t.PrivateKeyUsageEnd = t.NotBefore.Add(-time.Hour) }), k.Public(), nil, k, pki.ErrTemplate},
		{"zero serial", csca(func(t *pki.Template) { t.SerialNumber = big.NewInt(0) }), k.Public(), nil, k, pki.ErrTemplate},
		{"negative serial", csca(func(t *pki.Template) { t.SerialNumber = big.NewInt(-5) }), k.Public(), nil, k, pki.ErrTemplate},
		{"21-octet serial", csca(func(t *pki.Template) { t.SerialNumber = new(big.Int).Lsh(big.NewInt(1), 159) }), k.Public(), nil, k, pki.ErrTemplate},
		{"document types on a CSCA", csca(func(t *pki.Template) { t.DocumentTypes = []string{"P"} }), k.Public(), nil, k, pki.ErrTemplate},
		{"DS without document types", ds(func(t *pki.Template) { t.DocumentTypes = nil }), k.Public(), s.csca, s.cscaKey, pki.ErrTemplate},
		{"lower-case document type", ds(func(t *pki.Template) { t.DocumentTypes = []string{"p"} }), k.Public(), s.csca, s.cscaKey, pki.ErrTemplate},
		{"three-letter document type", ds(func(t *pki.Template) { t.DocumentTypes = []string{"PAS"} }), k.Public(), s.csca, s.cscaKey, pki.ErrTemplate},
		{"private key usage on an ML signer", pki.Template{Kind: pki.MasterListSigner, Country: "UT", CommonName: "ML", NotBefore: now, NotAfter: now.AddDate(1, 0, 0), PrivateKeyUsageEnd: now.AddDate(0, 1, 0)}, k.Public(), s.csca, s.cscaKey, pki.ErrTemplate},
		{"nil subject key", cscaTemplate(), nil, nil, k, pki.ErrTemplate},
		{"nil issuer key", cscaTemplate(), k.Public(), nil, nil, pki.ErrTemplate},
		{"RSA subject key", cscaTemplate(), &rsaKey.PublicKey, nil, k, pki.ErrUnsupportedKey},
		{"RSA issuer key", dsTemplate(), k.Public(), s.csca, rsaKey, pki.ErrUnsupportedKey},
		{"P-224 subject key", cscaTemplate(), &p224.PublicKey, nil, k, pki.ErrUnsupportedKey},
		{"self-signed with another key", cscaTemplate(), k.Public(), nil, s.cscaKey, pki.ErrIssuer},
		{"CSCA with an issuer", cscaTemplate(), k.Public(), s.csca, s.cscaKey, pki.ErrIssuer},
		{"DS without issuer", dsTemplate(), k.Public(), nil, k, pki.ErrIssuer},
		{"link without issuer", csca(func(t *pki.Template) { t.Kind = pki.Link }), k.Public(), nil, k, pki.ErrIssuer},
		{"ML signer without issuer", pki.Template{Kind: pki.MasterListSigner, Country: "UT", CommonName: "ML", NotBefore: now, NotAfter: now.AddDate(1, 0, 0)}, k.Public(), nil, k, pki.ErrIssuer},
		{"link to the issuer's own key", csca(func(t *pki.Template) { t.Kind = pki.Link }), s.cscaKey.Public(), s.csca, s.cscaKey, pki.ErrIssuer},
		{"issuer key not the issuer's", dsTemplate(), k.Public(), s.csca, k, pki.ErrIssuer},
		{"issuer not a CA", dsTemplate(), k.Public(), s.ds, s.dsKey, pki.ErrIssuer},
		{"issuer garbage", dsTemplate(), k.Public(), []byte{0x30, 0x03, 0x02, 0x01, 0x01}, s.cscaKey, pki.ErrIssuer},
		{"other country than the issuer", ds(func(t *pki.Template) { t.Country = "NL" }), k.Public(), s.csca, s.cscaKey, pki.ErrIssuer},
		{"signer returns a wrong signature", dsTemplate(), k.Public(), s.csca, badSigner{s.cscaKey}, pki.ErrIssuer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			der, err := pki.Issue(tc.t, tc.subject, tc.issuer, tc.issuerKey)
			if !errors.Is(err, tc.want) || der != nil {
				t.Fatalf("got %v (%d bytes), want %v", err, len(der), tc.want)
			}
		})
	}
	if _, err := pki.Issue(dsTemplate(), k.Public(), s.csca, failingSigner{s.cscaKey}); err == nil || !strings.Contains(err.Error(), "token removed") {
		t.Fatalf("failing signer: %v", err)
	}
}

// TestKindString: every kind names itself.
func TestKindString(t *testing.T) {
	want := []string{"Kind(0)", "CSCA", "CSCA link", "Document Signer", "Master List Signer", "status signer", "audit signer", "Kind(7)"}
	for i, w := range want {
		if got := pki.Kind(i).String(); got != w {
			t.Errorf("Kind(%d) = %q, want %q", i, got, w)
		}
	}
}

// TestOIDs: the OIDs the profile names.
func TestOIDs(t *testing.T) {
	if !pki.OIDOCSPSigning().Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 9}) {
		t.Fatal(pki.OIDOCSPSigning())
	}
}

// TestStatusSignerCryptoX509: a self-signed StatusSigner is what a partner
// state's go-jose client can verify with crypto/x509 (x5c), asking for
// OCSPSigning; serverAuth (the default) is not granted.
func TestStatusSignerCryptoX509(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	k := newKey(t, elliptic.P256())
	der := must(pki.Issue(pki.Template{Kind: pki.StatusSigner, Country: "UT", CommonName: "Status Signer Utopia",
		NotBefore: now.Add(-time.Minute), NotAfter: now.AddDate(1, 0, 0)}, k.Public(), nil, k))
	c := must(x509.ParseCertificate(der))
	roots := x509.NewCertPool()
	roots.AddCert(c)
	if _, err := c.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}}); err != nil {
		t.Fatalf("OCSPSigning: %v", err)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: roots}); err == nil {
		t.Fatal("verified for serverAuth")
	}
	// Not a CA: crypto/x509's CheckSignatureFrom refuses it as a parent,
	// but its own signature verifies.
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		t.Fatalf("crypto/x509 self-signature: %v", err)
	}
}

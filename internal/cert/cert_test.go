package cert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"borderid/internal/ec"
)

// TestRSAPSS: certificates signed by OpenSSL with RSASSA-PSS parameters
// are verified with exactly those parameters; combinations crypto/rsa
// cannot honour are refused, never verified under other parameters.
func TestRSAPSS(t *testing.T) {
	cases := []struct {
		md, mgf string
		salt    int
		want    PSSParameters
		err     error
	}{
		{"sha256", "sha256", 32, PSSParameters{crypto.SHA256, crypto.SHA256, 32, 1}, nil},
		{"sha256", "sha256", 20, PSSParameters{crypto.SHA256, crypto.SHA256, 20, 1}, nil},
		{"sha384", "sha384", 48, PSSParameters{crypto.SHA384, crypto.SHA384, 48, 1}, nil},
		{"sha512", "sha512", 64, PSSParameters{crypto.SHA512, crypto.SHA512, 64, 1}, nil},
		{"sha1", "sha1", 20, PSSParameters{crypto.SHA1, crypto.SHA1, 20, 1}, nil},
		{"sha256", "sha1", 32, PSSParameters{crypto.SHA256, crypto.SHA1, 32, 1}, ErrUnsupportedAlgorithm},
	}
	for _, tc := range cases {
		t.Run(tc.md+"-mgf1-"+tc.mgf, func(t *testing.T) {
			dir := opensslCA(t, []string{"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"},
				"-"+tc.md, "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:"+itoa(tc.salt), "-sigopt", "rsa_mgf1_md:"+tc.mgf)
			der, err := os.ReadFile(filepath.Join(dir, "ca.der"))
			must(t, err)
			c, err := ParseCertificate(der)
			must(t, err)
			a := c.SignatureAlgorithm
			if a.Scheme != RSAPSS || a.PSS == nil || *a.PSS != tc.want || a.Hash != tc.want.Hash {
				t.Fatalf("algorithm %v %+v, want %+v", a, a.PSS, tc.want)
			}
			err = c.CheckSignatureFrom(c)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("CheckSignatureFrom: %v, want %v", err, tc.err)
			}
			if tc.err != nil {
				return
			}
			// The same signature under other parameters fails.
			for _, p := range []PSSParameters{
				{tc.want.Hash, tc.want.Hash, tc.want.SaltLength + 1, 1},
				{tc.want.Hash, tc.want.Hash, tc.want.SaltLength - 1, 1},
				{tc.want.Hash, tc.want.Hash, tc.want.SaltLength, 2},
			} {
				alg := SignatureAlgorithm{Scheme: RSAPSS, Hash: p.Hash, PSS: &p, OID: oidRSASSAPSS()}
				if err := c.CheckSignature(alg, c.RawTBS, c.Signature); err == nil {
					t.Errorf("verified under %+v", p)
				}
			}
			pk := SignatureAlgorithm{Scheme: RSAPKCS1v15, Hash: tc.want.Hash}
			if err := c.CheckSignature(pk, c.RawTBS, c.Signature); !errors.Is(err, ErrSignature) {
				t.Errorf("PSS signature as PKCS#1 v1.5: %v", err)
			}
		})
	}
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// newCert makes a certificate with crypto/x509 for the tests that need
// particular extensions.
func newCert(t testing.TB, tmpl *x509.Certificate, key crypto.Signer) []byte {
	t.Helper()
	if tmpl.SerialNumber == nil {
		tmpl.SerialNumber = big.NewInt(1)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotBefore = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		tmpl.NotAfter = time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	must(t, err)
	return der
}

func TestExtensions(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	// DocumentTypeListSyntax { version 0, SET OF PrintableString {"P", "ID"} }
	dtl := []byte{0x30, 0x0c, 0x02, 0x01, 0x00, 0x31, 0x07, 0x13, 0x01, 'P', 0x13, 0x02, 'I', 'D'}
	pkup, _ := asn1.Marshal(struct {
		NB time.Time `asn1:"generalized,tag:0,optional"`
		NA time.Time `asn1:"generalized,tag:1,optional"`
	}{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)})
	unknown := asn1.ObjectIdentifier{1, 2, 3, 4, 5}
	der := newCert(t, &x509.Certificate{
		Subject:               pkix.Name{Country: []string{"UT"}, Organization: []string{"Utopia"}, CommonName: "DS 1", SerialNumber: "0042"},
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		UnknownExtKeyUsage:    []asn1.ObjectIdentifier{OIDMasterListSigner()},
		SubjectKeyId:          []byte{9, 9},
		BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true,
		ExtraExtensions: []pkix.Extension{
			{Id: OIDDocumentTypeList(), Value: dtl},
			{Id: oidExt(16), Value: pkup},
			{Id: unknown, Critical: true, Value: []byte{5, 0}},
			{Id: asn1.ObjectIdentifier{1, 2, 3, 4, 6}, Critical: false, Value: []byte{5, 0}},
		},
	}, key)
	c, err := ParseCertificate(der)
	must(t, err)
	if c.Version != 3 || c.SerialNumber.Int64() != 1 || keyName(c) != "P-256" || c.ExplicitParameters {
		t.Errorf("version %d serial %v key %s", c.Version, c.SerialNumber, keyName(c))
	}
	if got := c.Subject.String(); got != "C=UT, O=Utopia, CN=DS 1, SERIALNUMBER=0042" {
		t.Errorf("subject %q", got)
	}
	if c.Subject.Country != "UT" || c.Subject.SerialNumber != "0042" || c.Subject.CommonName != "DS 1" {
		t.Errorf("%+v", c.Subject)
	}
	if len(c.DocumentTypes) != 2 || c.DocumentTypes[0] != "P" || c.DocumentTypes[1] != "ID" {
		t.Errorf("document types %q", c.DocumentTypes)
	}
	if c.PrivateKeyUsageNotBefore == nil || c.PrivateKeyUsageNotAfter == nil ||
		!c.PrivateKeyUsageNotAfter.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("PKUP %v %v", c.PrivateKeyUsageNotBefore, c.PrivateKeyUsageNotAfter)
	}
	if len(c.UnknownCriticalExtensions) != 1 || !c.UnknownCriticalExtensions[0].Equal(unknown) {
		t.Errorf("unknown critical %v", c.UnknownCriticalExtensions)
	}
	if c.KeyUsage != x509.KeyUsageDigitalSignature || !c.KeyUsageCritical || !c.BasicConstraintsValid || !c.IsCA || c.MaxPathLen != 0 {
		t.Errorf("KU %b %v BC %v %v %d", c.KeyUsage, c.KeyUsageCritical, c.BasicConstraintsValid, c.IsCA, c.MaxPathLen)
	}
	if len(c.ExtKeyUsage) != 2 || !c.ExtKeyUsage[1].Equal(OIDMasterListSigner()) || string(c.SubjectKeyID) != "\x09\x09" {
		t.Errorf("EKU %v SKI %x", c.ExtKeyUsage, c.SubjectKeyID)
	}
	if len(c.Quirks) != 0 {
		t.Errorf("quirks %v", c.Quirks)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Error(err)
	}
	// PEM, several certificates.
	cs, err := ParsePEMCertificates(append(append(pemBlock("CERTIFICATE", der), "junk\n"...), pemBlock("CERTIFICATE", der)...))
	if err != nil || len(cs) != 2 {
		t.Errorf("PEM: %d, %v", len(cs), err)
	}
	cs, err = ParseCertificates(append(append([]byte(nil), der...), der...))
	if err != nil || len(cs) != 2 {
		t.Errorf("ParseCertificates: %d, %v", len(cs), err)
	}
}

func TestTimes(t *testing.T) {
	cases := []struct {
		in    string
		gen   bool
		want  time.Time
		quirk string
	}{
		{"260528082845Z", false, time.Date(2026, 5, 28, 8, 28, 45, 0, time.UTC), ""},
		{"491231235959Z", false, time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), ""},
		{"500101000000Z", false, time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{"2605280828Z", false, time.Date(2026, 5, 28, 8, 28, 0, 0, time.UTC), QuirkUTCTimeWithoutSeconds},
		{"260528082845+0200", false, time.Date(2026, 5, 28, 6, 28, 45, 0, time.UTC), QuirkTimeWithOffset},
		{"20500101000000Z", true, time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{"20500101000000.25Z", true, time.Date(2050, 1, 1, 0, 0, 0, 250000000, time.UTC), QuirkGeneralizedTimeFraction},
	}
	for _, c := range cases {
		var q quirks
		var got time.Time
		var err error
		if c.gen {
			got, err = parseGeneralizedTime(c.in, &q)
		} else {
			got, err = parseUTCTime(c.in, &q)
		}
		if err != nil || !got.Equal(c.want) || (c.quirk == "") != (len(q) == 0) || (c.quirk != "" && q[0] != c.quirk) {
			t.Errorf("%s: %v %v %v", c.in, got, q, err)
		}
	}
	for _, bad := range []string{"", "26", "2605280828", "260231000000Z", "261328000000Z", "26052808284Z", "260528082845z", "2605280828455Z", "260528082845+2400", "20500101000000.Z", "2050010100Z"} {
		var q quirks
		_, err1 := parseUTCTime(bad, &q)
		_, err2 := parseGeneralizedTime(bad, &q)
		if err1 == nil || (len(bad) > 13 && err2 == nil) {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestRefusals: every malformed or forged input is refused with its error,
// and no prefix or byte flip of a real certificate panics.
func TestRefusals(t *testing.T) {
	certs := parseMasterList(t)
	good := certs[0].Raw
	// Truncations.
	for i := 0; i < len(good); i++ {
		if _, err := ParseCertificate(good[:i]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("prefix %d: %v", i, err)
		}
	}
	if _, err := ParseCertificate(append(append([]byte(nil), good...), 0)); !errors.Is(err, ErrMalformed) {
		t.Errorf("trailing byte: %v", err)
	}
	if _, err := ParseCertificate(make([]byte, MaxSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized: %v", err)
	}
	if _, err := ParseRevocationList(make([]byte, MaxSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized CRL: %v", err)
	}
	// A length field claiming more than there is.
	over := append([]byte(nil), good...)
	over[3]++
	if _, err := ParseCertificate(over); !errors.Is(err, ErrMalformed) {
		t.Errorf("oversized length: %v", err)
	}
	for _, g := range [][]byte{nil, {0x30}, {0x30, 0x00}, {0x30, 0x80, 0, 0}, {0x04, 0x01, 0x00}, []byte("-----BEGIN CERTIFICATE-----")} {
		if _, err := ParseCertificate(g); !errors.Is(err, ErrMalformed) {
			t.Errorf("%x: %v", g, err)
		}
		if _, err := ParseRevocationList(g); !errors.Is(err, ErrMalformed) {
			t.Errorf("CRL %x: %v", g, err)
		}
	}
	// Wrong signatures: a flipped bit in the signature, in the TBS, and a
	// foreign key, for RSA, NIST and brainpool issuers.
	byKey := map[string]*Certificate{}
	for _, c := range certs {
		if c.CheckSignatureFrom(c) == nil {
			byKey[keyName(c)] = c
		}
	}
	for name, c := range byKey {
		sig := append([]byte(nil), c.Signature...)
		sig[len(sig)-1] ^= 1
		if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBS, sig); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: flipped signature: %v", name, err)
		}
		tbs := append([]byte(nil), c.RawTBS...)
		tbs[len(tbs)/2] ^= 1
		if err := c.CheckSignature(c.SignatureAlgorithm, tbs, c.Signature); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: flipped TBS: %v", name, err)
		}
		for other, o := range byKey {
			if other != name && c.CheckSignatureFrom(o) == nil {
				t.Errorf("%s verifies under %s", name, other)
			}
		}
	}
	// The TBS signature algorithm must be the outer one (RFC 5280
	// §4.1.1.2): sha256WithRSAEncryption inside changed to sha384.
	for _, c := range certs {
		if c.SignatureAlgorithm.Scheme != RSAPKCS1v15 || c.SignatureAlgorithm.Hash != crypto.SHA256 {
			continue
		}
		oid := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b}
		bad := append([]byte(nil), c.Raw...)
		i := indexOf(bad, oid)
		bad[i+len(oid)-1] = 0x0c
		if _, err := ParseCertificate(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("inner/outer algorithm mismatch: %v", err)
		}
		break
	}
	if err := certs[0].CheckSignatureFrom(nil); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("nil parent: %v", err)
	}
	if err := certs[0].CheckSignature(SignatureAlgorithm{OID: asn1.ObjectIdentifier{1, 2, 3}}, nil, nil); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("unknown algorithm: %v", err)
	}
}

// TestInvalidKeys: points off the curve, at infinity, RSA moduli that are
// even: refused with ErrInvalidKey. Made by editing a real SPKI.
func TestInvalidKeys(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	must(t, err)
	var q quirks
	if _, err := parseSPKI(spki, &q); err != nil {
		t.Fatal(err)
	}
	off := append([]byte(nil), spki...)
	off[len(off)-1] ^= 1 // y changed: off the curve
	if _, err := parseSPKI(off, &q); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("off-curve point: %v", err)
	}
	// SEQUENCE { AlgorithmIdentifier, BIT STRING { 00 } }: the point at infinity.
	alg := spki[2 : 2+2+int(spki[3])]
	inf := append(append([]byte{0x30, byte(len(alg) + 4)}, alg...), 0x03, 0x02, 0x00, 0x00)
	if _, err := parseSPKI(inf, &q); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("point at infinity: %v", err)
	}
	rk, _ := rsa.GenerateKey(rand.Reader, 1024)
	rk.N.SetBit(rk.N, 0, 0)
	rspki, _ := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	if _, err := parseSPKI(rspki, &q); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("even modulus: %v", err)
	}
	rk.N.SetBit(rk.N, 0, 1)
	rk.E = 2
	rspki, _ = x509.MarshalPKIXPublicKey(&rk.PublicKey)
	if _, err := parseSPKI(rspki, &q); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("exponent 2: %v", err)
	}
}

// TestShortSignatureHalves: ECDSA signatures whose r or s has a zero top
// byte (a shorter DER INTEGER) verify, on crypto/ecdsa's P-256 and on
// internal/ec's brainpoolP256r1 (fixed-length handling of both halves).
func TestShortSignatureHalves(t *testing.T) {
	msg := []byte("TBS")
	h := crypto.SHA256.New()
	h.Write(msg)
	digest := h.Sum(nil)
	alg := SignatureAlgorithm{Scheme: ECDSA, Hash: crypto.SHA256}
	tries := 3000
	if testing.Short() {
		tries = 600
	}
	pk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	bk, err := ec.GeneratePrivateKey(ec.BrainpoolP256r1(), rand.Reader)
	must(t, err)
	for _, tc := range []struct {
		name string
		pub  crypto.PublicKey
		sign func() ([]byte, error)
	}{
		{"P-256", &pk.PublicKey, func() ([]byte, error) { return ecdsa.SignASN1(rand.Reader, pk, digest) }},
		{"brainpoolP256r1", bk.PublicKey(), func() ([]byte, error) { return bk.Sign(rand.Reader, digest, crypto.SHA256) }},
	} {
		found := 0
		for i := 0; i < tries && found == 0; i++ {
			sig, err := tc.sign()
			must(t, err)
			r, s, err := parseECDSASig(sig)
			must(t, err)
			if err := checkSignature(tc.pub, alg, msg, sig); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if len(r) < 32 || len(s) < 32 {
				found++
			}
		}
		if found == 0 && !testing.Short() {
			t.Errorf("%s: no short half in %d signatures", tc.name, tries)
		}
	}
}

func TestCMSSignatureAlgorithm(t *testing.T) {
	for _, c := range []struct {
		oid    asn1.ObjectIdentifier
		params []byte
		digest crypto.Hash
		want   SignatureScheme
		err    error
	}{
		{oidRSAEncryption(), []byte{5, 0}, crypto.SHA256, RSAPKCS1v15, nil},
		{oidECPublicKey(), nil, crypto.SHA384, ECDSA, nil},
		{oidECDSASHA2(2), nil, crypto.SHA256, ECDSA, nil},
		{oidECDSASHA2(2), nil, crypto.SHA384, ECDSA, ErrMalformed},
		{oidECDSAPlain(3), nil, crypto.SHA256, ECDSAPlain, nil},
		{oidPKCS1(11), []byte{5, 0}, crypto.SHA256, RSAPKCS1v15, nil},
		{asn1.ObjectIdentifier{1, 2, 3}, nil, crypto.SHA256, UnknownScheme, ErrUnsupportedAlgorithm},
		{oidRSASSAPSS(), nil, crypto.SHA256, UnknownScheme, ErrMalformed},
	} {
		a, err := CMSSignatureAlgorithm(c.oid, c.params, c.digest)
		if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) || (err == nil && (a.Scheme != c.want || a.Hash != c.digest)) {
			t.Errorf("%v: %v %v", c.oid, a, err)
		}
	}
}

package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

const masterListPath = "/work/shared/testdata/masterlists/DE_ML_2026-05-28-08-28-45.ml"

// testSigner makes a self-signed certificate for key.
func testSigner(t testing.TB, key crypto.Signer, serial int64) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{Country: []string{"UT"}, CommonName: "Test Document Signer"},
		NotBefore:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustECKey(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSignParseRoundTrip(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signingTime := time.Date(2026, 5, 28, 8, 28, 45, 0, time.UTC)
	content := []byte("LDSSecurityObject stand-in \x00\x01\x02")
	tests := []struct {
		name   string
		key    crypto.Signer
		hash   crypto.Hash
		sigOID string
		params []byte
	}{
		{"ecdsa-p256-sha256", mustECKey(t, elliptic.P256()), crypto.SHA256, "1.2.840.10045.4.3.2", nil},
		{"ecdsa-p384-sha384", mustECKey(t, elliptic.P384()), crypto.SHA384, "1.2.840.10045.4.3.3", nil},
		{"ecdsa-p521-sha512", mustECKey(t, elliptic.P521()), crypto.SHA512, "1.2.840.10045.4.3.4", nil},
		{"rsa-sha256", rsaKey, crypto.SHA256, "1.2.840.113549.1.1.11", []byte{0x05, 0x00}},
		{"rsa-sha512", rsaKey, crypto.SHA512, "1.2.840.113549.1.1.13", []byte{0x05, 0x00}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cert := testSigner(t, tc.key, int64(1000+i))
			der, err := Sign(OIDLDSSecurityObject(), content, cert, tc.key, tc.hash, signingTime)
			if err != nil {
				t.Fatal(err)
			}
			sd, err := ParseSignedData(der)
			if err != nil {
				t.Fatal(err)
			}
			if sd.BER || sd.Version != 3 || !bytes.Equal(sd.Raw, der) {
				t.Errorf("BER=%v version=%d rawEqual=%v", sd.BER, sd.Version, bytes.Equal(sd.Raw, der))
			}
			wantDigest, _ := OIDForHash(tc.hash)
			if len(sd.DigestAlgorithms) != 1 || !sd.DigestAlgorithms[0].Algorithm.Equal(wantDigest) || sd.DigestAlgorithms[0].Parameters != nil {
				t.Errorf("digestAlgorithms = %+v", sd.DigestAlgorithms)
			}
			if sd.EContentType.String() != "2.23.136.1.1.1" || !bytes.Equal(sd.EContent, content) {
				t.Errorf("eContent %v %x", sd.EContentType, sd.EContent)
			}
			if len(sd.Certificates) != 1 || !bytes.Equal(sd.Certificates[0], cert.Raw) || len(sd.CRLs) != 0 {
				t.Errorf("certificates/crls wrong: %d %d", len(sd.Certificates), len(sd.CRLs))
			}
			if len(sd.SignerInfos) != 1 {
				t.Fatalf("%d signer infos", len(sd.SignerInfos))
			}
			si := sd.SignerInfos[0]
			if si.Version != 1 || !bytes.Equal(si.SID.IssuerRaw, cert.RawIssuer) || si.SID.SerialNumber.Int64() != int64(1000+i) || si.SID.SubjectKeyID != nil {
				t.Errorf("sid = %+v", si.SID)
			}
			if si.SignatureAlgorithm.Algorithm.String() != tc.sigOID || !bytes.Equal(si.SignatureAlgorithm.Parameters, tc.params) {
				t.Errorf("signatureAlgorithm = %v %x", si.SignatureAlgorithm.Algorithm, si.SignatureAlgorithm.Parameters)
			}
			h := tc.hash.New()
			h.Write(content)
			if !bytes.Equal(si.MessageDigest, h.Sum(nil)) || !si.ContentType.Equal(OIDLDSSecurityObject()) || !si.SigningTime.Equal(signingTime) {
				t.Errorf("attrs: md=%x ct=%v time=%v", si.MessageDigest, si.ContentType, si.SigningTime)
			}
			if len(si.SignedAttrs) != 3 || si.SignedAttrsRaw[0] != 0xa0 {
				t.Errorf("%d signed attrs, first byte %#x", len(si.SignedAttrs), si.SignedAttrsRaw[0])
			}
			// The signature covers the SET OF re-tagging, and Go's own
			// x509 verifier agrees with it.
			tbs := si.SignedAttrsForSignature()
			if tbs[0] != 0x31 || !bytes.Equal(tbs[1:], si.SignedAttrsRaw[1:]) || si.SignedAttrsRaw[0] != 0xa0 {
				t.Fatal("SignedAttrsForSignature must only change the tag, and not in place")
			}
			if err := cert.CheckSignature(x509SigAlg(tc.key, tc.hash), tbs, si.Signature); err != nil {
				t.Errorf("signature does not verify: %v", err)
			}
			tampered := append([]byte{}, tbs...)
			tampered[len(tampered)-1] ^= 1
			if err := cert.CheckSignature(x509SigAlg(tc.key, tc.hash), tampered, si.Signature); err == nil {
				t.Error("signature verified over tampered attributes")
			}
		})
	}
}

func x509SigAlg(key crypto.Signer, h crypto.Hash) x509.SignatureAlgorithm {
	_, isEC := key.Public().(*ecdsa.PublicKey)
	switch {
	case isEC && h == crypto.SHA256:
		return x509.ECDSAWithSHA256
	case isEC && h == crypto.SHA384:
		return x509.ECDSAWithSHA384
	case isEC && h == crypto.SHA512:
		return x509.ECDSAWithSHA512
	case h == crypto.SHA256:
		return x509.SHA256WithRSA
	case h == crypto.SHA512:
		return x509.SHA512WithRSA
	}
	return x509.UnknownSignatureAlgorithm
}

func TestSignedAttributesDERAndTimeEncoding(t *testing.T) {
	d := bytes.Repeat([]byte{0xAB}, 32)
	tests := []struct {
		name string
		when time.Time
		want string // hex of the signing-time value element
	}{
		{"utc-2026", time.Date(2026, 5, 28, 8, 28, 45, 0, time.UTC), "170d3236303532383038323834355a"},
		{"local-zone-normalised", time.Date(2026, 5, 28, 10, 28, 45, 0, time.FixedZone("CEST", 7200)), "170d3236303532383038323834355a"},
		{"generalized-2050", time.Date(2050, 1, 2, 3, 4, 5, 0, time.UTC), "180f32303530303130323033303430355a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			attrs, err := signedAttributes(OIDLDSSecurityObject(), d, tc.when)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(hex.EncodeToString(attrs), tc.want) {
				t.Errorf("attrs %x lack %s", attrs, tc.want)
			}
			// DER: elements in ascending order of their encodings.
			s := cryptobyte.String(attrs)
			var set cryptobyte.String
			if !s.ReadASN1(&set, cbasn1.SET) {
				t.Fatal("not a SET")
			}
			var prev []byte
			n := 0
			for !set.Empty() {
				var e cryptobyte.String
				if !set.ReadASN1Element(&e, cbasn1.SEQUENCE) {
					t.Fatal("bad element")
				}
				if prev != nil && bytes.Compare(prev, e) > 0 {
					t.Error("SET OF not in DER order")
				}
				prev = e
				n++
			}
			if n != 3 {
				t.Errorf("%d attributes", n)
			}
		})
	}
}

func TestSignRefusals(t *testing.T) {
	k := mustECKey(t, elliptic.P256())
	other := mustECKey(t, elliptic.P256())
	cert := testSigner(t, k, 7)
	now := time.Now()
	tests := []struct {
		name string
		ct   asn1.ObjectIdentifier
		cert *x509.Certificate
		key  crypto.Signer
		h    crypto.Hash
		msg  string
	}{
		{"nil-cert", OIDLDSSecurityObject(), nil, k, crypto.SHA256, "needs a certificate"},
		{"nil-key", OIDLDSSecurityObject(), cert, nil, crypto.SHA256, "needs a certificate"},
		{"empty-content-type", nil, cert, k, crypto.SHA256, "empty eContentType"},
		{"wrong-key", OIDLDSSecurityObject(), cert, other, crypto.SHA256, "does not match"},
		{"md5", OIDLDSSecurityObject(), cert, k, crypto.MD5, "unsupported hash"},
		{"unlinked-hash", OIDLDSSecurityObject(), cert, k, crypto.BLAKE2b_256, "not available"},
		{"sha1-for-ecdsa", OIDLDSSecurityObject(), cert, k, crypto.SHA1, "unsupported hash"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Sign(tc.ct, []byte("x"), tc.cert, tc.key, tc.h, now)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %q", err, tc.msg)
			}
		})
	}
}

func haveOpenSSL(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	return p
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestOpenSSLVerifiesSign checks Sign's output against an independent CMS
// implementation.
func TestOpenSSLVerifiesSign(t *testing.T) {
	openssl := haveOpenSSL(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		h    crypto.Hash
	}{
		{"ecdsa-p256-sha256", mustECKey(t, elliptic.P256()), crypto.SHA256},
		{"ecdsa-p384-sha384", mustECKey(t, elliptic.P384()), crypto.SHA384},
		{"rsa-sha256", rsaKey, crypto.SHA256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			content := []byte("hello from borderid\n")
			der, err := Sign(OIDLDSSecurityObject(), content, testSigner(t, tc.key, 42), tc.key, tc.h, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			in := filepath.Join(dir, "sd.der")
			out := filepath.Join(dir, "content")
			if err := os.WriteFile(in, der, 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(openssl, "cms", "-verify", "-noverify", "-inform", "DER", "-in", in, "-out", out, "-binary")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("openssl cms -verify: %v\n%s", err, b)
			}
			got, err := os.ReadFile(out)
			if err != nil || !bytes.Equal(got, content) {
				t.Fatalf("openssl extracted %q, %v", got, err)
			}
			// A changed byte of the eContent must make OpenSSL refuse.
			bad := bytes.Replace(der, content, []byte("hellO from borderid\n"), 1)
			if err := os.WriteFile(in, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			if b, err := exec.Command(openssl, "cms", "-verify", "-noverify", "-inform", "DER", "-in", in, "-out", out, "-binary").CombinedOutput(); err == nil {
				t.Fatalf("openssl accepted a tampered SignedData:\n%s", b)
			}
		})
	}
}

// TestParseOpenSSLSign parses SignedData made by OpenSSL, once as DER and
// once streamed (-stream writes indefinite-length BER with a chunked
// eContent OCTET STRING, the shape some real SODs have).
func TestParseOpenSSLSign(t *testing.T) {
	openssl := haveOpenSSL(t)
	key := mustECKey(t, elliptic.P256())
	cert := testSigner(t, key, 4242)
	dir := t.TempDir()
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "key.pem"), "PRIVATE KEY", keyDER)
	writePEM(t, filepath.Join(dir, "cert.pem"), "CERTIFICATE", cert.Raw)
	content := bytes.Repeat([]byte("0123456789abcdef"), 300) // > one 1 KiB stream chunk
	if err := os.WriteFile(filepath.Join(dir, "data"), content, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		extra   []string
		wantBER bool
	}{
		{"der", nil, false},
		{"stream-ber", []string{"-stream"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name+".der")
			args := append([]string{"cms", "-sign", "-binary", "-nodetach", "-outform", "DER",
				"-in", filepath.Join(dir, "data"), "-signer", filepath.Join(dir, "cert.pem"),
				"-inkey", filepath.Join(dir, "key.pem"), "-md", "sha256", "-out", out}, tc.extra...)
			if b, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
				t.Fatalf("openssl cms -sign: %v\n%s", err, b)
			}
			der, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			sd, err := ParseSignedData(der)
			if err != nil {
				t.Fatal(err)
			}
			if sd.BER != tc.wantBER {
				t.Errorf("BER = %v, want %v", sd.BER, tc.wantBER)
			}
			if sd.Version != 1 || sd.EContentType.String() != "1.2.840.113549.1.7.1" || !bytes.Equal(sd.EContent, content) {
				t.Errorf("version %d type %v content %d bytes", sd.Version, sd.EContentType, len(sd.EContent))
			}
			if len(sd.Certificates) != 1 || !bytes.Equal(sd.Certificates[0], cert.Raw) {
				t.Error("embedded certificate differs")
			}
			if len(sd.SignerInfos) != 1 {
				t.Fatalf("%d signer infos", len(sd.SignerInfos))
			}
			si := sd.SignerInfos[0]
			sum := sha256.Sum256(content)
			if !bytes.Equal(si.MessageDigest, sum[:]) || si.ContentType.String() != "1.2.840.113549.1.7.1" || si.SigningTime.IsZero() {
				t.Errorf("attrs md=%x ct=%v time=%v", si.MessageDigest, si.ContentType, si.SigningTime)
			}
			if si.SID.SerialNumber == nil || si.SID.SerialNumber.Int64() != 4242 || !bytes.Equal(si.SID.IssuerRaw, cert.RawIssuer) {
				t.Errorf("sid %+v", si.SID)
			}
			if err := cert.CheckSignature(x509.ECDSAWithSHA256, si.SignedAttrsForSignature(), si.Signature); err != nil {
				t.Errorf("OpenSSL's signature does not verify over the re-tagged attributes: %v", err)
			}
		})
	}
}

// TestParseGermanMasterList parses a real CSCA master list (9303-12 §8).
func TestParseGermanMasterList(t *testing.T) {
	der, err := os.ReadFile(masterListPath)
	if err != nil {
		t.Skipf("master list not available: %v", err)
	}
	sd, err := ParseSignedData(der)
	if err != nil {
		t.Fatal(err)
	}
	if sd.BER || sd.Version != 3 || !sd.EContentType.Equal(OIDCscaMasterList()) {
		t.Errorf("BER=%v version=%d eContentType=%v", sd.BER, sd.Version, sd.EContentType)
	}
	if len(sd.Certificates) != 2 {
		t.Errorf("%d embedded certificates, want 2 (master list signer + CSCA)", len(sd.Certificates))
	}
	if len(sd.SignerInfos) != 1 {
		t.Fatalf("%d signer infos", len(sd.SignerInfos))
	}
	si := sd.SignerInfos[0]
	if si.Version != 3 || si.SID.SubjectKeyID == nil || si.SID.IssuerRaw != nil {
		t.Errorf("signer identifier %+v", si.SID)
	}
	if got := si.SigningTime; !got.Equal(time.Date(2026, 5, 28, 6, 28, 45, 0, time.UTC)) {
		t.Errorf("signing time %v", got)
	}
	sum := sha256.Sum256(sd.EContent)
	if !bytes.Equal(sum[:], si.MessageDigest) {
		t.Errorf("message digest %x, eContent hashes to %x", si.MessageDigest, sum)
	}
	if si.SignatureAlgorithm.Algorithm.String() != "1.2.840.10045.4.3.2" || len(si.SignedAttrs) != 4 {
		t.Errorf("signature algorithm %v, %d signed attrs", si.SignatureAlgorithm.Algorithm, len(si.SignedAttrs))
	}
	// CscaMasterList ::= SEQUENCE { version, certList SET OF Certificate }.
	s := cryptobyte.String(sd.EContent)
	var ml, list cryptobyte.String
	var v int64
	if !s.ReadASN1(&ml, cbasn1.SEQUENCE) || !ml.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || !ml.ReadASN1(&list, cbasn1.SET) {
		t.Fatal("CscaMasterList does not parse")
	}
	n := 0
	for !list.Empty() {
		var c cryptobyte.String
		if !list.ReadASN1Element(&c, cbasn1.SEQUENCE) {
			t.Fatalf("certificate %d does not parse", n)
		}
		n++
	}
	if v != 0 || n != 588 {
		t.Errorf("master list version %d with %d certificates, want 0 and 588", v, n)
	}
	// The signer certificate is embedded: its subjectKeyIdentifier extension
	// (OCTET STRING in OCTET STRING) carries the SID. crypto/x509 cannot
	// parse these certificates (explicit brainpool parameters), so the
	// signature itself is checked in package verify, not here.
	found := 0
	for _, c := range sd.Certificates {
		if bytes.Contains(c, append([]byte{0x04, byte(len(si.SID.SubjectKeyID))}, si.SID.SubjectKeyID...)) {
			found++
		}
	}
	if found == 0 {
		t.Error("signer certificate not embedded")
	}
}

func TestParseRefusals(t *testing.T) {
	k := mustECKey(t, elliptic.P256())
	good, err := Sign(OIDLDSSecurityObject(), []byte("abc"), testSigner(t, k, 1), k, crypto.SHA256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// dataContentInfo: SEQUENCE { id-data, [0] { OCTET STRING "x" } }.
	idData := mustHex(t, "3012"+"06092a864886f70d010701"+"a005"+"040378797a")
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"truncated", good[:len(good)-1], ErrMalformed},
		{"trailing", append(append([]byte{}, good...), 0), ErrMalformed},
		{"not-signed-data", idData, ErrNotSignedData},
		{"too-large", make([]byte, MaxSize+1), ErrTooLarge},
		{"garbage", []byte{0x30, 0x03, 0x02, 0x01, 0x01}, ErrMalformed},
		{"indefinite-primitive", mustHex(t, "3080048000000000"), ErrMalformed},
		{"bad-version", bytes.Replace(good, []byte{0x02, 0x01, 0x03, 0x31}, []byte{0x02, 0x01, 0x09, 0x31}, 1), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sd, err := ParseSignedData(tc.in)
			if !errors.Is(err, tc.want) || sd != nil {
				t.Fatalf("got %v, %v; want %v", sd, err, tc.want)
			}
		})
	}
}

// rawSignedData builds a SignedData around a hand-made SignerInfo body
// (everything after the version), so that tests can put any shape of sid
// and signed attributes in it.
func rawSignedData(t *testing.T, siVersion int64, siRest []byte) []byte {
	t.Helper()
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidSignedData())
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(3)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					addAlgorithm(b, asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}, false)
				})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(OIDLDSSecurityObject())
				})
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1Int64(siVersion)
						b.AddBytes(siRest)
					})
				})
			})
		})
	})
	der, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// Hex building blocks for hand-made SignerInfos.
const (
	hexSKI      = "800401020304"                                    // [0] subjectKeyIdentifier
	hexIAS      = "300a3003310130" + "020300ff01"                   // issuer (empty-ish Name) + serial 0xff01
	hexSHA256   = "300b0609608648016503040201"                      // digestAlgorithm
	hexSigAlg   = "300a06082a8648ce3d040302"                        // ecdsa-with-SHA256
	hexSig      = "0402beef"                                        // signature
	hexCT       = "301506092a864886f70d010903310806066781080101 01" // content-type = LDS SO
	hexMD       = "301306092a864886f70d0109043106040401020304"      // message-digest
	hexUTC      = "301c06092a864886f70d010905310f170d3236303532383038323834355a"
	hexGenTime  = "301e06092a864886f70d010905311118 0f32303530303130323033303430355a"
	hexUnsigned = "a10930070601553102 0500"
)

func attrsHex(parts ...string) string {
	body := strings.ReplaceAll(strings.Join(parts, ""), " ", "")
	return hex.EncodeToString(appendElement(nil, []byte{0xa0}, mustHexNoT(body)))
}

func mustHexNoT(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err) // test constants only
	}
	return b
}

func TestParseSignerInfoShapes(t *testing.T) {
	tests := []struct {
		name    string
		version int64
		rest    string
		check   func(t *testing.T, si SignerInfo)
		wantErr error
	}{
		{"ski-with-generalized-time-and-unsigned", 3, hexSKI + hexSHA256 + attrsHex(hexCT, hexMD, hexGenTime) + hexSigAlg + hexSig + hexUnsigned,
			func(t *testing.T, si SignerInfo) {
				if !bytes.Equal(si.SID.SubjectKeyID, []byte{1, 2, 3, 4}) || si.SID.SerialNumber != nil {
					t.Errorf("sid %+v", si.SID)
				}
				if !si.SigningTime.Equal(time.Date(2050, 1, 2, 3, 4, 5, 0, time.UTC)) || !bytes.Equal(si.MessageDigest, []byte{1, 2, 3, 4}) {
					t.Errorf("time %v md %x", si.SigningTime, si.MessageDigest)
				}
				if hex.EncodeToString(si.UnsignedAttrsRaw) != strings.ReplaceAll(hexUnsigned, " ", "") || !bytes.Equal(si.Signature, []byte{0xbe, 0xef}) {
					t.Errorf("unsigned %x sig %x", si.UnsignedAttrsRaw, si.Signature)
				}
			}, nil},
		{"issuer-serial-no-signed-attrs", 1, hexIAS + hexSHA256 + hexSigAlg + hexSig,
			func(t *testing.T, si SignerInfo) {
				if si.SID.SerialNumber.Int64() != 0xff01 || hex.EncodeToString(si.SID.IssuerRaw) != "3003310130" {
					t.Errorf("sid %+v", si.SID)
				}
				if si.SignedAttrsRaw != nil || si.SignedAttrsForSignature() != nil || si.ContentType != nil {
					t.Error("signed attributes invented")
				}
			}, nil},
		{"unknown-attribute-kept", 1, hexIAS + hexSHA256 + attrsHex(hexCT, "30070601553102 0500") + hexSigAlg + hexSig,
			func(t *testing.T, si SignerInfo) {
				if len(si.SignedAttrs) != 2 || si.SignedAttrs[1].Type.String() != "2.5" || len(si.SignedAttrs[1].Values) != 1 {
					t.Errorf("attrs %+v", si.SignedAttrs)
				}
			}, nil},
		{"duplicate-message-digest", 1, hexIAS + hexSHA256 + attrsHex(hexMD, hexMD) + hexSigAlg + hexSig, nil, ErrMalformed},
		{"duplicate-content-type", 1, hexIAS + hexSHA256 + attrsHex(hexCT, hexMD, hexCT) + hexSigAlg + hexSig, nil, ErrMalformed},
		{"two-values", 1, hexIAS + hexSHA256 + attrsHex("301706092a864886f70d010904310a04040102030404020506") + hexSigAlg + hexSig, nil, ErrMalformed},
		{"zero-values", 1, hexIAS + hexSHA256 + attrsHex("300d06092a864886f70d0109043100") + hexSigAlg + hexSig, nil, ErrMalformed},
		{"empty-signed-attrs", 1, hexIAS + hexSHA256 + "a000" + hexSigAlg + hexSig, nil, ErrMalformed},
		{"signing-time-wrong-type", 1, hexIAS + hexSHA256 + attrsHex("301106092a864886f70d01090531040402aabb") + hexSigAlg + hexSig, nil, ErrMalformed},
		{"unknown-sid-choice", 1, "820101" + hexSHA256 + hexSigAlg + hexSig, nil, ErrMalformed},
		{"missing-signature", 1, hexIAS + hexSHA256 + hexSigAlg, nil, ErrMalformed},
		{"trailing-in-signer-info", 1, hexIAS + hexSHA256 + hexSigAlg + hexSig + "0500", nil, ErrMalformed},
		{"bad-version", 9, hexIAS + hexSHA256 + hexSigAlg + hexSig, nil, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			der := rawSignedData(t, tc.version, mustHex(t, tc.rest))
			sd, err := ParseSignedData(der)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sd.EContent != nil {
				t.Error("detached content reported as present")
			}
			tc.check(t, sd.SignerInfos[0])
		})
	}
}

func TestBERToDER(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		err  bool
	}{
		{"der-unchanged", "3006020101040100", "3006020101040100", false},
		{"indefinite-sequence", "30800201010000", "3003020101", false},
		{"nested-indefinite", "3080a08004016100000000", "3005a003040161", false},
		{"chunked-octet-string", "2480040261620401630000", "0403616263", false},
		{"definite-chunked-octet-string", "24080402616204016300", "", true}, // lengths inconsistent
		{"definite-chunked-octet-string-ok", "240704026162040163", "0403616263", false},
		{"high-tag", "bf1f03020101", "bf1f03020101", false},
		{"non-minimal-length", "3081030201 01", "3003020101", false},
		{"missing-eoc", "3080020101", "", true},
		{"constructed-bit-string", "2380030200ff0000", "", true},
		{"octet-chunk-not-octet", "248002010100 00", "", true},
		{"indefinite-primitive", "0480", "", true},
		{"stray-eoc", "0000", "0000", false},
		{"length-too-long", "3005020101", "", true},
		{"length-of-length-5", "308500000000010000", "", true},
		{"trailing", "300000", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := berToDER(mustHex(t, tc.in))
			if tc.err {
				if !errors.Is(err, ErrBER) {
					t.Fatalf("got %x, %v; want ErrBER", got, err)
				}
				return
			}
			if err != nil || hex.EncodeToString(got) != strings.ReplaceAll(tc.want, " ", "") {
				t.Fatalf("got %x, %v; want %s", got, err, tc.want)
			}
		})
	}
	// Deep nesting is refused, not recursed into without bound.
	deep := []byte{}
	for range maxBERDepth + 5 {
		deep = append(deep, 0x30, 0x80)
	}
	for range maxBERDepth + 5 {
		deep = append(deep, 0, 0)
	}
	if _, err := berToDER(deep); !errors.Is(err, ErrBER) {
		t.Fatalf("deep nesting: %v", err)
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzParseSignedData(f *testing.F) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	cert := testSigner(f, k, 99)
	good, err := Sign(OIDLDSSecurityObject(), []byte("seed"), cert, k, crypto.SHA256, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	if ml, err := os.ReadFile(masterListPath); err == nil {
		// The whole list is large for fuzzing; its signer part (the last
		// few KiB) and a truncated head keep the interesting structure.
		f.Add(ml[:4096])
		f.Add(ml[len(ml)-4096:])
	}
	// The same SignedData with an indefinite-length outer SEQUENCE (BER).
	if good[0] == 0x30 && good[1] == 0x82 {
		f.Add(append(append([]byte{0x30, 0x80}, good[4:]...), 0, 0))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := ParseSignedData(b)
		if err != nil {
			if sd != nil {
				t.Fatal("non-nil result with error")
			}
			return
		}
		for _, si := range sd.SignerInfos {
			_ = si.SignedAttrsForSignature()
		}
		// Whatever parsed once parses again from its Raw, identically.
		again, err := ParseSignedData(sd.Raw)
		if err != nil || again.BER || len(again.SignerInfos) != len(sd.SignerInfos) || !bytes.Equal(again.EContent, sd.EContent) {
			t.Fatalf("Raw does not re-parse the same: %v", err)
		}
	})
}

// FuzzBERToDER checks that the converter never panics and that its output
// is a fixed point: converting DER again changes nothing.
func FuzzBERToDER(f *testing.F) {
	for _, s := range []string{"30800201010000", "2480040261620401630000", "3080a08004016100000000", "bf1f03020101", "3006020101040100"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := berToDER(b)
		if err != nil {
			return
		}
		again, err := berToDER(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not a fixed point: %x -> %x -> %x (%v)", b, out, again, err)
		}
		if len(out) > len(b)+8*maxBERDepth {
			t.Fatalf("output grew from %d to %d bytes", len(b), len(out))
		}
	})
}

func BenchmarkParseMasterList(b *testing.B) {
	der, err := os.ReadFile(masterListPath)
	if err != nil {
		b.Skip(err)
	}
	b.SetBytes(int64(len(der)))
	for b.Loop() {
		if _, err := ParseSignedData(der); err != nil {
			b.Fatal(err)
		}
	}
}

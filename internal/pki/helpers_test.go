package pki_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"math/big"
	"testing"
	"time"

	"borderid/internal/cert"
	"borderid/internal/pki"
)

// hsmKey is a crypto.Signer that is not an *ecdsa.PrivateKey, as an HSM
// key seen through PKCS #11 is not: only Public and Sign.
type hsmKey struct{ k *ecdsa.PrivateKey }

func (h hsmKey) Public() crypto.PublicKey { return h.k.Public() }
func (h hsmKey) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	return h.k.Sign(r, d, o)
}

func newKey(t testing.TB, c elliptic.Curve) hsmKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return hsmKey{k}
}

// testNow is a fixed, whole-second time so parsed times compare equal.
func testNow() time.Time { return time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC) }

// must returns v, and panics on an error (a test setup failure).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func parse(t testing.TB, der []byte) *cert.Certificate {
	t.Helper()
	return must(cert.ParseCertificate(der))
}

// pkiSet is a small eMRTD PKI of state UT: CSCA, DS, ML signer and their
// keys.
type pkiSet struct {
	csca, ds, mls          []byte
	cscaKey, dsKey, mlsKey hsmKey
}

func cscaTemplate() pki.Template {
	now := testNow()
	return pki.Template{Kind: pki.CSCA, Country: "UT", Organization: "Utopia", CommonName: "CSCA Utopia",
		SubjectSerial: "001", NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(15, 0, 0),
		PrivateKeyUsageEnd: now.AddDate(5, 0, 0)}
}

func dsTemplate() pki.Template {
	now := testNow()
	return pki.Template{Kind: pki.DocumentSigner, Country: "UT", Organization: "Utopia", CommonName: "DS Utopia 1",
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 3, 0), PrivateKeyUsageEnd: now.AddDate(0, 3, 0),
		DocumentTypes: []string{"P", "ID"}}
}

func newPKI(t testing.TB) *pkiSet {
	t.Helper()
	s := &pkiSet{cscaKey: newKey(t, elliptic.P256()), dsKey: newKey(t, elliptic.P256()), mlsKey: newKey(t, elliptic.P256())}
	s.csca = must(pki.Issue(cscaTemplate(), s.cscaKey.Public(), nil, s.cscaKey))
	s.ds = must(pki.Issue(dsTemplate(), s.dsKey.Public(), s.csca, s.cscaKey))
	now := testNow()
	s.mls = must(pki.Issue(pki.Template{Kind: pki.MasterListSigner, Country: "UT", Organization: "Utopia",
		CommonName: "Master List Signer Utopia", NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(3, 0, 0)},
		s.mlsKey.Public(), s.csca, s.cscaKey))
	return s
}

func bigHex(t testing.TB, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		t.Fatalf("bad hex %q", s)
	}
	return n
}

package cert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"testing"
	"time"

	"borderid/internal/ec"
)

// seedCertificates: one master-list certificate of each key type and
// quirk, plus every 25th.
func seedCertificates(f *testing.F) [][]byte {
	var out [][]byte
	seen := map[string]bool{}
	for i, c := range parseMasterList(f) {
		k := keyName(c) + "|" + c.SignatureAlgorithm.String()
		for _, q := range c.Quirks {
			k += "|" + q
		}
		if !seen[k] || i%25 == 0 {
			seen[k] = true
			out = append(out, c.Raw)
		}
	}
	return out
}

func FuzzParseCertificate(f *testing.F) {
	for _, s := range seedCertificates(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		c, err := ParseCertificate(der)
		if err != nil {
			if c != nil {
				t.Fatal("certificate with an error")
			}
			return
		}
		if string(c.Raw) != string(der) || len(c.RawTBS) == 0 || c.SerialNumber == nil {
			t.Fatal("Raw is not the input")
		}
		_ = c.Subject.String() + c.Issuer.String() + c.SignatureAlgorithm.String()
		// Must not panic, whatever the key and algorithm. The generic curves
		// of internal/ec take milliseconds under coverage instrumentation,
		// so their verification is left to internal/ec's own tests and only
		// the signature decoding runs here.
		if _, slow := c.PublicKey.(*ec.PublicKey); slow {
			_, _, _ = parseECDSASig(c.Signature)
		} else {
			_ = c.CheckSignatureFrom(c)
		}
	})
}

func FuzzParseRevocationList(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCRLSign | x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true, SubjectKeyId: []byte{1}}
	caDER, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	ca, _ := x509.ParseCertificate(caDER)
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(3),
		ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(5), RevocationTime: time.Now(), ReasonCode: 1}}}, ca, key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(crl)
	for _, s := range seedCertificates(f)[:4] {
		f.Add(s) // same outer shape as a CRL
	}
	parent, _ := ParseCertificate(caDER)
	f.Fuzz(func(t *testing.T, der []byte) {
		l, err := ParseRevocationList(der)
		if err != nil {
			return
		}
		_ = l.Issuer.String()
		_ = l.CheckSignatureFrom(parent)
		for _, r := range l.Revoked {
			if _, ok := l.IsRevoked(r.Serial); !ok && r.Reason != ReasonRemoveFromCRL {
				t.Fatal("listed serial not revoked")
			}
		}
	})
}

package cert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCRLOpenSSL(t *testing.T) {
	cases := []struct {
		name     string
		key      []string
		wantKey  string
		explicit bool
	}{
		{"RSA-2048", []string{"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"}, "RSA-2048", false},
		{"P-256", []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"}, "P-256", false},
		{"brainpoolP256r1", []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:brainpoolP256r1"}, "brainpoolP256r1", false},
		{"brainpoolP256r1-explicit", []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:brainpoolP256r1", "-pkeyopt", "ec_param_enc:explicit"}, "brainpoolP256r1", true},
		{"P-256-explicit", []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-pkeyopt", "ec_param_enc:explicit"}, "P-256", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := opensslCA(t, tc.key)
			caDER, err := os.ReadFile(filepath.Join(dir, "ca.der"))
			must(t, err)
			ca, err := ParseCertificate(caDER)
			must(t, err)
			if keyName(ca) != tc.wantKey || ca.ExplicitParameters != tc.explicit {
				t.Fatalf("CA key %s explicit %v, want %s %v", keyName(ca), ca.ExplicitParameters, tc.wantKey, tc.explicit)
			}
			if err := ca.CheckSignatureFrom(ca); err != nil {
				t.Fatalf("CA self-signature: %v", err)
			}
			if ca.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign || !ca.KeyUsageCritical {
				t.Errorf("key usage %b critical %v", ca.KeyUsage, ca.KeyUsageCritical)
			}
			der := opensslCRL(t, dir, []string{"1234AB", "00FF01"})
			l, err := ParseRevocationList(der)
			must(t, err)
			if err := l.CheckSignatureFrom(ca); err != nil {
				t.Fatalf("CRL signature: %v", err)
			}
			if l.Version != 2 || l.Number == nil || l.Number.Int64() != 0x2A || string(l.AuthorityKeyID) != string(ca.SubjectKeyID) {
				t.Errorf("version %d number %v AKI %x (SKI %x)", l.Version, l.Number, l.AuthorityKeyID, ca.SubjectKeyID)
			}
			if !l.Issuer.Equal(ca.Subject) || l.Issuer.Country != "UT" {
				t.Errorf("issuer %v", l.Issuer)
			}
			if d := l.NextUpdate.Sub(l.ThisUpdate); d != 30*24*time.Hour {
				t.Errorf("nextUpdate − thisUpdate = %v", d)
			}
			r, ok := l.IsRevoked(big.NewInt(0x1234AB))
			if !ok || r.Reason != ReasonKeyCompromise || !r.Time.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) {
				t.Errorf("0x1234AB: %+v %v", r, ok)
			}
			if _, ok := l.IsRevoked(big.NewInt(0xFF01)); !ok {
				t.Error("0xFF01 not revoked")
			}
			if _, ok := l.IsRevoked(big.NewInt(0x1234AC)); ok {
				t.Error("0x1234AC revoked")
			}
			// A CRL from another CA's key, and a changed CRL, fail.
			other := opensslCA(t, tc.key)
			otherDER, _ := os.ReadFile(filepath.Join(other, "ca.der"))
			oc, err := ParseCertificate(otherDER)
			must(t, err)
			if err := l.CheckSignatureFrom(oc); !errors.Is(err, ErrSignature) {
				t.Errorf("CRL under another key: %v, want ErrSignature", err)
			}
			bad := append([]byte(nil), der...)
			i := indexOf(bad, []byte{0x12, 0x34, 0xAB})
			if i < 0 {
				t.Fatal("serial not found in the CRL")
			}
			bad[i+2] = 0xAC
			l2, err := ParseRevocationList(bad)
			must(t, err)
			if err := l2.CheckSignatureFrom(ca); !errors.Is(err, ErrSignature) {
				t.Errorf("tampered CRL: %v, want ErrSignature", err)
			}
		})
	}
}

func indexOf(b, sub []byte) int {
	for i := 0; i+len(sub) <= len(b); i++ {
		if string(b[i:i+len(sub)]) == string(sub) {
			return i
		}
	}
	return -1
}

func TestCRLCryptoX509(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{Country: []string{"UT"}, CommonName: "CSCA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
		SubjectKeyId: []byte{1, 2, 3, 4},
	}
	caDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	must(t, err)
	ca, err := ParseCertificate(caDER)
	must(t, err)
	this := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(99), ThisUpdate: this, NextUpdate: this.AddDate(0, 3, 0),
		RevokedCertificateEntries: []x509.RevocationListEntry{
			{SerialNumber: big.NewInt(42), RevocationTime: this.Add(-time.Hour), ReasonCode: 4},
			{SerialNumber: big.NewInt(43), RevocationTime: this.Add(-2 * time.Hour)},
		},
	}, mustX509(t, caDER), key)
	must(t, err)
	l, err := ParseRevocationList(crlDER)
	must(t, err)
	if err := l.CheckSignatureFrom(ca); err != nil {
		t.Fatal(err)
	}
	if l.Number.Int64() != 99 || !l.ThisUpdate.Equal(this) || !l.NextUpdate.Equal(this.AddDate(0, 3, 0)) || len(l.Revoked) != 2 {
		t.Errorf("%+v", l)
	}
	if r, ok := l.IsRevoked(big.NewInt(42)); !ok || r.Reason != ReasonSuperseded {
		t.Errorf("42: %+v %v", r, ok)
	}
	if r, ok := l.IsRevoked(big.NewInt(43)); !ok || r.Reason != ReasonUnspecified {
		t.Errorf("43: %+v %v", r, ok)
	}
	if len(l.Quirks) != 0 || len(l.UnknownCriticalExtensions) != 0 {
		t.Errorf("quirks %v, unknown critical %v", l.Quirks, l.UnknownCriticalExtensions)
	}
	if string(l.AuthorityKeyID) != "\x01\x02\x03\x04" {
		t.Errorf("AKI %x", l.AuthorityKeyID)
	}
	// Every truncation is refused.
	for i := range crlDER {
		if _, err := ParseRevocationList(crlDER[:i]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("prefix %d: %v", i, err)
		}
	}
	// An unknown critical CRL extension is recorded (RFC 5280 §5.2).
	crit, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(100), ThisUpdate: this, NextUpdate: this.AddDate(0, 3, 0),
		ExtraExtensions: []pkix.Extension{{Id: []int{1, 2, 3, 4}, Critical: true, Value: []byte{5, 0}}},
	}, mustX509(t, caDER), key)
	must(t, err)
	l, err = ParseRevocationList(crit)
	must(t, err)
	if len(l.UnknownCriticalExtensions) != 1 || l.UnknownCriticalExtensions[0].String() != "1.2.3.4" || l.CheckSignatureFrom(ca) != nil {
		t.Errorf("unknown critical: %v", l.UnknownCriticalExtensions)
	}
	// PEM is accepted too.
	if _, err := ParseRevocationList(pemBlock("X509 CRL", crlDER)); err != nil {
		t.Error(err)
	}
}

func mustX509(t *testing.T, der []byte) *x509.Certificate {
	c, err := x509.ParseCertificate(der)
	must(t, err)
	return c
}

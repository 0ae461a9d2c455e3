package cert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
)

// BenchmarkVerify measures CheckSignatureFrom on self-signed certificates:
// RSA-2048 and P-256 made here, brainpoolP256r1 (explicit parameters) from
// the German master list.
func BenchmarkVerify(b *testing.B) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	pk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	certs := map[string]*Certificate{}
	for name, k := range map[string]crypto.Signer{"RSA-2048": rk, "P-256": pk} {
		c, err := ParseCertificate(newCert(b, &x509.Certificate{Subject: pkix.Name{CommonName: name}}, k))
		must(b, err)
		certs[name] = c
	}
	for _, c := range parseMasterList(b) {
		if keyName(c) == "brainpoolP256r1" && c.CheckSignatureFrom(c) == nil {
			certs["brainpoolP256r1"] = c
			break
		}
	}
	for _, name := range []string{"RSA-2048", "P-256", "brainpoolP256r1"} {
		c := certs[name]
		if c == nil {
			b.Fatalf("no %s certificate", name)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if err := c.CheckSignatureFrom(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseCertificate(b *testing.B) {
	var raw [][]byte
	for _, c := range parseMasterList(b) {
		raw = append(raw, c.Raw)
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := ParseCertificate(raw[i%len(raw)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

package cvc

import (
	"crypto/rand"
	"testing"

	"borderid/internal/ec"
)

func BenchmarkParse(b *testing.B) {
	tc := newECChain(b, chainOpts{ec: ec.BrainpoolP256r1()})
	b.SetBytes(int64(len(tc.cvcaRaw)))
	for b.Loop() {
		if _, err := Parse(tc.cvcaRaw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthorize verifies a CVCA -> DV -> IS chain: three ECDSA
// verifications (the self-signed CVCA included) and the key checks.
func BenchmarkAuthorize(b *testing.B) {
	for _, c := range []*ec.Curve{ec.BrainpoolP256r1(), ec.P256()} {
		b.Run(c.Name(), func(b *testing.B) {
			tc := newECChain(b, chainOpts{ec: c})
			chain := []*Certificate{tc.dv, tc.is}
			for b.Loop() {
				if _, err := Authorize(tc.cvca, chain, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignTA is the terminal's Terminal Authentication signature
// (ID_IC || r_IC || Comp(PK), about 50 bytes) with an internal/ec key.
func BenchmarkSignTA(b *testing.B) {
	tc := newECChain(b, chainOpts{ec: ec.BrainpoolP256r1()})
	msg := make([]byte, 9+8+32)
	for b.Loop() {
		if _, err := Sign(rand.Reader, tc.isKey, ECDSASHA256, tc.domain, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyTA is the chip side of the same signature.
func BenchmarkVerifyTA(b *testing.B) {
	tc := newECChain(b, chainOpts{ec: ec.BrainpoolP256r1()})
	msg := make([]byte, 9+8+32)
	sig, err := Sign(rand.Reader, tc.isKey, ECDSASHA256, tc.domain, msg)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := VerifySignature(&tc.is.PublicKey, tc.domain, msg, sig); err != nil {
			b.Fatal(err)
		}
	}
}

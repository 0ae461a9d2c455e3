package pace

import (
	"crypto/rand"
	"testing"

	"borderid/internal/smcrypto"
)

// BenchmarkPRF is R(s,t) for brainpoolP256r1 and DH-2048 sizes.
func BenchmarkPRF(b *testing.B) {
	s, tn := make([]byte, 16), make([]byte, 16)
	for _, bits := range []int{256, 2048} {
		b.Run(map[int]string{256: "p256", 2048: "p2048"}[bits], func(b *testing.B) {
			for b.Loop() {
				if _, err := PRF(smcrypto.AES128, s, tn, bits); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMapping is the terminal's CPU work in each mapping, for the three
// domains BENCHMARKS.md reports, beside one raw key agreement of the same
// domain (the unit the mapping costs are measured in): GM is a key pair, an
// agreement and s·G + H; IM is R, R mod p and the point encoding (or one
// modexp).
func BenchmarkMapping(b *testing.B) {
	for _, id := range []int{13, 12, 2} {
		d := domain(b, id)
		priv, _, _ := d.GenerateKey(rand.Reader, nil)
		_, peer, _ := d.GenerateKey(rand.Reader, nil)
		s, tn := make([]byte, 16), make([]byte, 16)
		rand.Read(s)
		rand.Read(tn)
		b.Run(d.Name()+"/raw-agreement", func(b *testing.B) {
			for b.Loop() {
				if _, err := d.SharedSecret(priv, peer); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(d.Name()+"/GM", func(b *testing.B) {
			for b.Loop() {
				mp, _, err := d.GenerateKey(rand.Reader, nil)
				if err != nil {
					b.Fatal(err)
				}
				h, err := d.Agree(mp, peer)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := d.MapGeneric(s, h); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(d.Name()+"/IM", func(b *testing.B) {
			for b.Loop() {
				if _, err := IntegratedGenerator(d, smcrypto.AES128, s, tn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkToken(b *testing.B) {
	mac := hx(b, g1.ksmac)
	pk := hx(b, g1.pkIC)
	for b.Loop() {
		if _, err := Token(smcrypto.AES128, mac, oidECDHGMAES128, pk, ECDH); err != nil {
			b.Fatal(err)
		}
	}
}

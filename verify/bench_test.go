package verify

import (
	"context"
	"testing"
	"time"

	"borderid/internal/cert"
	"borderid/internal/cms"
	"borderid/reader/lds"
)

// BenchmarkPA measures a whole Passive Authentication (parse, CMS
// signature, DSC → CSCA signature, CRL signature, hashes of DG1, DG2 and
// DG14) beside the raw verification of the SOD's signature with the same
// DSC key, in the same run. The Utopian CSCA is brainpoolP256r1 with
// explicit parameters, so for the first three the difference between PA
// and the raw verify is two brainpool verifications (the DSC certificate's
// and the CRL's signatures) plus parsing.
func BenchmarkPA(b *testing.B) {
	p := getPKI(b)
	store := storeWith(b, p, "csca", "cscaNL")
	store.AddCRL(p.crl)
	ctx := context.Background()
	now := time.Now()
	for _, tc := range []struct{ name, dsc, state string }{
		{"P-256", "dsc-p256", "UTO"},
		{"brainpoolP256r1", "dsc-bp", "UTO"},
		{"RSA-2048", "dsc-rsa", "UTO"},
		// The whole chain on P-256 (CSCA NL, no CRL held): what PA costs
		// without the generic brainpool arithmetic.
		{"P-256-chain", "dsc-nl", "NLD"},
	} {
		sod := p.sods[tc.dsc]
		b.Run(tc.name+"/PA", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r := PassiveAuthentication(ctx, sod, p.files, tc.state, store, now, Policy{}); r.Outcome != Pass {
					b.Fatal(r.Reason, r.Detail)
				}
			}
		})
		parsed, err := lds.ParseSOD(sod)
		if err != nil {
			b.Fatal(err)
		}
		si := parsed.SignedData.SignerInfos[0]
		h, _ := cms.HashForOID(si.DigestAlgorithm.Algorithm)
		alg, err := cert.CMSSignatureAlgorithm(si.SignatureAlgorithm.Algorithm, si.SignatureAlgorithm.Parameters, h)
		if err != nil {
			b.Fatal(err)
		}
		signed := si.SignedAttrsForSignature()
		dsc := p.certs[tc.dsc]
		b.Run(tc.name+"/raw-verify", func(b *testing.B) {
			for b.Loop() {
				if err := dsc.CheckSignature(alg, signed, si.Signature); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package verify

import (
	"bytes"
	"context"
	"testing"
	"time"

	"borderid/internal/cert"
	"borderid/reader/lds"
)

// FuzzPassiveAuthentication feeds arbitrary EF.SODs (seeded with the
// OpenSSL ones) against a fixed store and files: it must never panic, and
// must never pass unless the input is a SOD the fixture signed (a mutation
// that keeps an input passing must leave every signed byte as it was).
// The store holds the P-256 CSCA only: under coverage instrumentation the
// generic brainpool arithmetic takes seconds per verification, which
// would leave the fuzzer doing a handful of executions.
func FuzzPassiveAuthentication(f *testing.F) {
	p := getPKI(f)
	store := storeWith(f, p, "cscaNL")
	var genuine [][]byte
	for _, n := range []string{"dsc-bp", "dsc-p256", "dsc-pss", "dsc-rsa", "dsc-link", "dsc-revoked", "dsc-nl"} {
		f.Add(p.sods[n])
		genuine = append(genuine, p.sods[n])
	}
	f.Add(p.cs)
	f.Add([]byte{0x77, 0x00})
	now := time.Now()
	f.Fuzz(func(t *testing.T, sod []byte) {
		r := PassiveAuthentication(context.Background(), sod, p.files, "NLD", store, now, Policy{})
		if r == nil {
			t.Fatal("nil result")
		}
		if r.Outcome != Pass {
			if r.Reason == ReasonNone {
				t.Fatalf("%v without a reason", r.Outcome)
			}
			return
		}
		parsed, err := lds.ParseSOD(sod)
		if err != nil {
			t.Fatalf("passed a SOD that does not parse: %v", err)
		}
		si := parsed.SignedData.SignerInfos[0]
		for _, g := range genuine {
			if bytes.Contains(g, si.Signature) && bytes.Contains(g, parsed.SecurityObject.Raw) && bytes.Contains(g, si.SignedAttrsRaw) {
				return
			}
		}
		t.Fatalf("passed a SOD whose signed parts no genuine SOD holds")
	})
}

// FuzzVerifyMasterList: never panics; never returns certificates for input
// that is not signed by the fixture.
func FuzzVerifyMasterList(f *testing.F) {
	p := getPKI(f)
	f.Add(p.cs)
	f.Add(p.sods["dsc-p256"][4:])
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	roots := []*cert.Certificate{p.certs["csca"]}
	f.Fuzz(func(t *testing.T, ml []byte) {
		certs, err := VerifyMasterList(ml, roots)
		if err == nil {
			t.Fatalf("accepted a master list with %d certificates", len(certs))
		}
	})
}

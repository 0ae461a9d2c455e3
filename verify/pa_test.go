package verify

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"borderid/internal/cert"
	"borderid/reader/lds"
)

func storeWith(t testing.TB, p *pki, names ...string) *MemoryStore {
	t.Helper()
	s := NewMemoryStore()
	for _, n := range names {
		if err := s.Add(p.certs[n]); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestPassiveAuthenticationOpenSSL(t *testing.T) {
	p := getPKI(t)
	ctx := context.Background()
	now := time.Now()
	full := storeWith(t, p, "csca", "cscaNL")
	full.AddCRL(p.crl)
	noCRL := storeWith(t, p, "csca", "cscaNL")
	linkOnly := storeWith(t, p, "csca", "link") // csca2 itself is not held

	tamperedDG2 := maps.Clone(p.files)
	dg2 := bytes.Clone(tamperedDG2[lds.FileDG2])
	dg2[100] ^= 1
	tamperedDG2[lds.FileDG2] = dg2
	extraDG := maps.Clone(p.files)
	extraDG[lds.FileDG11] = []byte{0x6b, 0x00}

	swapped := replaceElement(p.sods["dsc-rsa"], p.certs["dsc-rsa"].Raw, p.certs["dsc-pss"].Raw)
	if bytes.Equal(swapped, p.sods["dsc-rsa"]) {
		t.Fatal("certificate swap did not happen")
	}
	// A hash inside the eContent changed: the message digest no longer
	// matches (the signature over the signed attributes still would).
	badDigest := bytes.Clone(p.sods["dsc-p256"])
	h2 := sha256Of(p.files[lds.FileDG2])
	i := bytes.Index(badDigest, h2)
	if i < 0 {
		t.Fatal("DG2 hash not found in the SOD")
	}
	badDigest[i] ^= 0xff
	// The signature itself changed.
	badSig := bytes.Clone(p.sods["dsc-rsa"])
	badSig[len(badSig)-5] ^= 1
	oversized := append(bytes.Clone(p.sods["dsc-p256"]), make([]byte, 300<<10)...)

	tests := []struct {
		name    string
		sod     []byte
		files   map[lds.File][]byte
		state   string
		store   TrustStore
		now     time.Time
		policy  Policy
		outcome Outcome
		reason  Reason
		pathLen int
		warn    Reason
		quirk   Quirk
	}{
		{name: "brainpoolP256r1 explicit", sod: p.sods["dsc-bp"], outcome: Pass, pathLen: 2},
		{name: "P-256 SKI signer", sod: p.sods["dsc-p256"], outcome: Pass, pathLen: 2},
		{name: "RSA-PSS", sod: p.sods["dsc-pss"], outcome: Pass, pathLen: 2},
		{name: "RSA PKCS1v15", sod: p.sods["dsc-rsa"], outcome: Pass, pathLen: 2},
		{name: "filler in state", sod: p.sods["dsc-rsa"], state: "UTO", outcome: Pass, pathLen: 2},
		{name: "link certificate", sod: p.sods["dsc-link"], store: linkOnly, outcome: Pass, pathLen: 3, warn: ReasonNoCRL},
		{name: "no CRL is a warning", sod: p.sods["dsc-bp"], store: noCRL, outcome: Pass, warn: ReasonNoCRL, pathLen: 2},
		{name: "no CRL required", sod: p.sods["dsc-bp"], store: noCRL, policy: Policy{RequireCRL: true}, outcome: NotDone, reason: ReasonNoCRL},
		{name: "changed DG byte", sod: p.sods["dsc-bp"], files: tamperedDG2, outcome: Fail, reason: "hash_mismatch_dg2"},
		{name: "DG not in SOD", sod: p.sods["dsc-bp"], files: extraDG, outcome: Fail, reason: "not_in_sod_dg11"},
		{name: "swapped DSC", sod: swapped, outcome: Fail, reason: ReasonBadSignature, quirk: QuirkEmbeddedSignerFallback},
		{name: "bad signature", sod: badSig, outcome: Fail, reason: ReasonBadSignature},
		{name: "message digest", sod: badDigest, outcome: Fail, reason: ReasonMessageDigestMismatch},
		{name: "CSCA not in store", sod: p.sods["dsc-bp"], store: storeWith(t, p, "cscaNL", "csca2"), outcome: Fail, reason: ReasonUnknownCSCA},
		{name: "empty store", sod: p.sods["dsc-bp"], store: NewMemoryStore(), outcome: Fail, reason: ReasonUnknownCSCA},
		{name: "link beyond MaxPathLength", sod: p.sods["dsc-link"], store: linkOnly, policy: Policy{MaxPathLength: 2}, outcome: Fail, reason: ReasonUnknownCSCA},
		{name: "trust store down", sod: p.sods["dsc-bp"], store: brokenStore{}, outcome: NotDone, reason: ReasonTrustStore},
		{name: "trust store down, changed DG", sod: p.sods["dsc-bp"], files: tamperedDG2, store: brokenStore{}, outcome: Fail, reason: "hash_mismatch_dg2"},
		{name: "link without its anchor", sod: p.sods["dsc-link"], store: storeWith(t, p, "link", "cscaNL"), outcome: Fail, reason: ReasonUnknownCSCA},
		{name: "revoked DSC", sod: p.sods["dsc-revoked"], outcome: Fail, reason: ReasonDSCRevoked},
		{name: "revoked DSC, stale CRL", sod: p.sods["dsc-revoked"], now: now.AddDate(0, 2, 0), outcome: Fail, reason: ReasonDSCRevoked},
		{name: "stale CRL", sod: p.sods["dsc-bp"], now: now.AddDate(0, 2, 0), outcome: NotDone, reason: ReasonCRLStale},
		{name: "stale CRL fails by policy", sod: p.sods["dsc-bp"], now: now.AddDate(0, 2, 0), policy: Policy{FailOnStaleCRL: true}, outcome: Fail, reason: ReasonCRLStale},
		{name: "stale CRL, changed DG", sod: p.sods["dsc-bp"], files: tamperedDG2, now: now.AddDate(0, 2, 0), outcome: Fail, reason: "hash_mismatch_dg2"},
		{name: "expired at signing", sod: p.sods["dsc-expired"], outcome: Fail, reason: ReasonDSCExpiredAtSigning},
		{name: "expired now is a warning", sod: p.sods["dsc-bp"], store: noCRL, now: now.AddDate(2, 0, 0), outcome: Pass, warn: ReasonDSCExpiredNow, pathLen: 2},
		{name: "expired now fails by policy", sod: p.sods["dsc-bp"], store: noCRL, now: now.AddDate(2, 0, 0), policy: Policy{FailOnExpiredNow: true}, outcome: Fail, reason: ReasonDSCExpiredNow},
		{name: "other country's CSCA", sod: p.sods["dsc-nl"], outcome: Fail, reason: ReasonCountryMismatch},
		{name: "DG1 of another state", sod: p.sods["dsc-bp"], state: "NLD", outcome: Fail, reason: ReasonCountryMismatch},
		{name: "unknown state code", sod: p.sods["dsc-bp"], state: "ZZZ", outcome: NotDone, reason: ReasonUnknownIssuingState},
		{name: "key usage", sod: p.sods["dsc-badku"], outcome: Fail, reason: ReasonKeyUsage},
		{name: "unknown critical extension", sod: p.sods["dsc-crit"], outcome: Fail, reason: ReasonUnknownCriticalExtension},
		{name: "truncated", sod: p.sods["dsc-bp"][:len(p.sods["dsc-bp"])-40], outcome: Fail, reason: ReasonSODMalformed},
		{name: "trailing bytes", sod: append(bytes.Clone(p.sods["dsc-bp"]), 0), outcome: Fail, reason: ReasonSODMalformed},
		{name: "oversized", sod: oversized, outcome: Fail, reason: ReasonSODMalformed},
		{name: "empty", sod: nil, outcome: Fail, reason: ReasonSODMalformed},
		{name: "CardSecurity is no SOD", sod: p.cs, outcome: Fail, reason: ReasonSODMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files, state, store, at := tc.files, tc.state, tc.store, tc.now
			if files == nil {
				files = p.files
			}
			if state == "" {
				state = "UTO"
			}
			if store == nil {
				store = full
			}
			if at.IsZero() {
				at = now
			}
			r := PassiveAuthentication(ctx, tc.sod, files, state, store, at, tc.policy)
			if r.Outcome != tc.outcome || r.Reason != tc.reason {
				t.Fatalf("got %v %q (%s), want %v %q", r.Outcome, r.Reason, r.Detail, tc.outcome, tc.reason)
			}
			if tc.pathLen != 0 && len(r.Path) != tc.pathLen {
				t.Errorf("path of %d certificates, want %d", len(r.Path), tc.pathLen)
			}
			if tc.warn != "" && !slices.Contains(r.Warnings, tc.warn) {
				t.Errorf("warnings %v lack %v", r.Warnings, tc.warn)
			}
			if tc.quirk != "" && !slices.Contains(r.Quirks, tc.quirk) {
				t.Errorf("quirks %v lack %v", r.Quirks, tc.quirk)
			}
			if r.Outcome == Pass {
				if !slices.Equal(r.DataGroups, []int{1, 2, 14}) {
					t.Errorf("data groups %v", r.DataGroups)
				}
				if r.SigningTime.IsZero() || r.DSC == nil || r.CSCA == nil || r.Path[0] != r.DSC {
					t.Errorf("incomplete result %+v", r)
				}
				if tc.name == "link certificate" && !bytes.Equal(r.Path[1].Raw, p.certs["link"].Raw) {
					t.Error("the path does not go through the link certificate")
				}
			}
		})
	}
}

func sha256Of(b []byte) []byte {
	h := sha256New()
	h.Write(b)
	return h.Sum(nil)
}

func TestVerifyCardSecurity(t *testing.T) {
	p := getPKI(t)
	ctx := context.Background()
	store := storeWith(t, p, "csca")
	store.AddCRL(p.crl)
	r := VerifyCardSecurity(ctx, p.cs, "UTO", store, time.Now(), Policy{})
	if r.Outcome != Pass {
		t.Fatalf("%v %v %s", r.Outcome, r.Reason, r.Detail)
	}
	if !bytes.Equal(r.Content, []byte{0x31, 0x0f, 0x30, 0x0d, 0x06, 0x08, 0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x03, 0x02, 0x01, 0x01}) {
		t.Errorf("content % x", r.Content)
	}
	// An EF.SOD's CMS is not an EF.CardSecurity.
	sod, err := lds.ParseSOD(p.sods["dsc-p256"])
	if err != nil {
		t.Fatal(err)
	}
	r = VerifyCardSecurity(ctx, sod.SignedData.Raw, "UTO", store, time.Now(), Policy{})
	if r.Outcome != Fail || r.Reason != ReasonContentTypeMismatch {
		t.Fatalf("%v %v %s", r.Outcome, r.Reason, r.Detail)
	}
	r = VerifyCardSecurity(ctx, p.cs[:len(p.cs)-1], "UTO", store, time.Now(), Policy{})
	if r.Outcome != Fail || r.Reason != ReasonCMSMalformed {
		t.Fatalf("%v %v %s", r.Outcome, r.Reason, r.Detail)
	}
	r = VerifyCardSecurity(ctx, p.cs, "UTO", NewMemoryStore(), time.Now(), Policy{})
	if r.Outcome != Fail || r.Reason != ReasonUnknownCSCA {
		t.Fatalf("%v %v %s", r.Outcome, r.Reason, r.Detail)
	}
}

func TestMemoryStore(t *testing.T) {
	p := getPKI(t)
	s := NewMemoryStore()
	if err := s.Add(p.certs["csca"], p.certs["csca"], p.certs["link"], p.certs["cscaNL"]); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cs, _ := s.CSCAs(ctx, "ut")
	ls, _ := s.Links(ctx, "UT")
	nl, _ := s.CSCAs(ctx, "NL")
	if len(cs) != 1 || len(ls) != 1 || len(nl) != 1 {
		t.Fatalf("CSCAs %d, links %d, NL %d", len(cs), len(ls), len(nl))
	}
	// The link certificate's subject equals a CSCA's subject; it is a
	// link because its own key does not verify it.
	if !bytes.Equal(ls[0].RawSubject, cs[0].RawSubject) {
		t.Log("link subject differs from the CSCA's (fixture changed?)")
	}
	if err := s.Add(p.certs["dsc-bp"]); err == nil {
		t.Fatal("a DSC was accepted as a trust anchor")
	}
}

// brokenStore is a TrustStore whose database is unreachable.
type brokenStore struct{}

func (brokenStore) CSCAs(context.Context, string) ([]*cert.Certificate, error) {
	return nil, errors.New("connection refused")
}
func (brokenStore) Links(context.Context, string) ([]*cert.Certificate, error) {
	return nil, errors.New("connection refused")
}
func (brokenStore) CRLs(context.Context, string) ([]*cert.RevocationList, error) {
	return nil, errors.New("connection refused")
}

package pki_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/elliptic"
	"crypto/sha256"
	"errors"
	"math/big"
	"testing"
	"time"

	"borderid/internal/cert"
	"borderid/internal/cms"
	"borderid/internal/pki"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
	"borderid/verify"
)

// chipFiles returns a DG1 of the specimen MRZ (issuing state UTO), a DG2
// stand-in, and an EF.SOD over both signed by key with the DS certificate
// ds, at signing time at.
func chipFiles(t *testing.T, ds []byte, key crypto.Signer, at time.Time) (sod []byte, files map[lds.File][]byte) {
	t.Helper()
	dg1 := must(lds.EncodeDG1(specimen.DefaultMRZ()))
	dg2 := []byte("not a real DG2, only hashed")
	h1, h2 := sha256.Sum256(dg1), sha256.Sum256(dg2)
	sod = must(lds.EncodeSODAs(crypto.SHA256, map[int][]byte{1: h1[:], 2: h2[:]}, must(pki.CMSSigner(ds)), key, at))
	return sod, map[lds.File][]byte{lds.FileDG1: dg1, lds.FileDG2: dg2}
}

// TestLinkPassiveAuthentication: an old CSCA is the only anchor; a new
// CSCA key is certified by it in a link certificate; a DS issued under the
// new key signs an EF.SOD with an HSM-like signer. Passive Authentication
// builds DS -> link -> old CSCA and passes; the country, revocation and an
// unknown anchor each fail it as they should.
func TestLinkPassiveAuthentication(t *testing.T) {
	ctx := context.Background()
	now := testNow()
	old := newPKI(t)
	newKey2 := newKey(t, elliptic.P256())
	for _, renamed := range []bool{false, true} {
		name := "CSCA Utopia"
		if renamed {
			name = "CSCA Utopia 2"
		}
		link := must(pki.Issue(pki.Template{Kind: pki.Link, Country: "UT", Organization: "Utopia", CommonName: name,
			SubjectSerial: "001", NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(5, 0, 0)}, newKey2.Public(), old.csca, old.cscaKey))
		newRoot := must(pki.Issue(pki.Template{Kind: pki.CSCA, Country: "UT", Organization: "Utopia", CommonName: name,
			SubjectSerial: "001", NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(15, 0, 0)}, newKey2.Public(), nil, newKey2))
		// The DS can be issued with the new CSCA's own certificate or its
		// link certificate as the issuer: same name, same key.
		for _, issuer := range [][]byte{newRoot, link} {
			dsKey := newKey(t, elliptic.P256())
			ds := must(pki.Issue(dsTemplate(), dsKey.Public(), issuer, newKey2))
			sod, files := chipFiles(t, ds, dsKey, now)

			store := verify.NewMemoryStore()
			if err := store.Add(parse(t, old.csca), parse(t, link)); err != nil {
				t.Fatal(err)
			}
			r := verify.PassiveAuthentication(ctx, sod, files, "UTO", store, now, verify.Policy{})
			if r.Outcome != verify.Pass {
				t.Fatalf("renamed %v: %v %v: %s", renamed, r.Outcome, r.Reason, r.Detail)
			}
			if len(r.Path) != 3 || !bytes.Equal(r.Path[1].Raw, link) || !bytes.Equal(r.CSCA.Raw, old.csca) {
				t.Fatalf("path of %d, CSCA %s", len(r.Path), r.CSCA.Subject)
			}
			if len(r.DataGroups) != 2 || len(r.CertQuirks) != 0 || len(r.Quirks) != 0 {
				t.Fatalf("data groups %v quirks %v %v", r.DataGroups, r.CertQuirks, r.Quirks)
			}

			// The issuing state must be the CSCA's country.
			if r := verify.PassiveAuthentication(ctx, sod, files, "NLD", store, now, verify.Policy{}); r.Outcome != verify.Fail || r.Reason != verify.ReasonCountryMismatch {
				t.Fatalf("NLD: %v %v", r.Outcome, r.Reason)
			}
			// Without the link certificate the DS reaches no anchor.
			alone := verify.NewMemoryStore()
			if err := alone.Add(parse(t, old.csca)); err != nil {
				t.Fatal(err)
			}
			if r := verify.PassiveAuthentication(ctx, sod, files, "UTO", alone, now, verify.Policy{}); r.Outcome != verify.Fail || r.Reason != verify.ReasonUnknownCSCA {
				t.Fatalf("no link: %v %v", r.Outcome, r.Reason)
			}
			// A CRL of the new CSCA key listing the DS revokes it.
			crl := must(pki.IssueCRL(link, newKey2, big.NewInt(7), now.Add(-time.Minute), now.AddDate(0, 0, 30),
				[]pki.Revoked{{Serial: parse(t, ds).SerialNumber, At: now.Add(-time.Minute)}}))
			store.AddCRL(must(cert.ParseRevocationList(crl)))
			if r := verify.PassiveAuthentication(ctx, sod, files, "UTO", store, now, verify.Policy{}); r.Outcome != verify.Fail || r.Reason != verify.ReasonDSCRevoked {
				t.Fatalf("revoked: %v %v", r.Outcome, r.Reason)
			}
		}
	}
}

// TestPassiveAuthenticationDirect: DS under the CSCA, with a CRL that lists
// another serial: a pass with no crl warning.
func TestPassiveAuthenticationDirect(t *testing.T) {
	ctx := context.Background()
	now := testNow()
	s := newPKI(t)
	sod, files := chipFiles(t, s.ds, s.dsKey, now)
	store := verify.NewMemoryStore()
	if err := store.Add(parse(t, s.csca)); err != nil {
		t.Fatal(err)
	}
	crl := must(pki.IssueCRL(s.csca, s.cscaKey, big.NewInt(1), now.Add(-time.Minute), now.AddDate(0, 0, 30),
		[]pki.Revoked{{Serial: big.NewInt(12345), At: now.Add(-time.Minute)}}))
	store.AddCRL(must(cert.ParseRevocationList(crl)))
	r := verify.PassiveAuthentication(ctx, sod, files, "UTO", store, now, verify.Policy{RequireCRL: true, FailOnStaleCRL: true})
	if r.Outcome != verify.Pass || len(r.Warnings) != 0 || len(r.Path) != 2 {
		t.Fatalf("%v %v %s warnings %v path %d", r.Outcome, r.Reason, r.Detail, r.Warnings, len(r.Path))
	}
	// The SOD's own CMS: the DS embedded as is.
	p := must(lds.ParseSOD(sod))
	if len(p.SignedData.Certificates) != 1 || !bytes.Equal(p.SignedData.Certificates[0], s.ds) {
		t.Fatal("SOD does not embed the DS certificate")
	}
}

// TestCRL: the CRL parses with internal/cert, verifies with the CSCA's
// key, names it, carries AKI and cRLNumber, and lists the serials.
func TestCRL(t *testing.T) {
	s := newPKI(t)
	now := testNow()
	csca, ds := parse(t, s.csca), parse(t, s.ds)
	at := now.Add(-24 * time.Hour)
	der := must(pki.IssueCRL(s.csca, s.cscaKey, big.NewInt(42), now, now.AddDate(0, 0, 90),
		[]pki.Revoked{{Serial: big.NewInt(99), At: at}, {Serial: ds.SerialNumber, At: at}}))
	l := must(cert.ParseRevocationList(der))
	if err := l.CheckSignatureFrom(csca); err != nil {
		t.Fatalf("CRL signature: %v", err)
	}
	if err := l.CheckSignatureFrom(ds); err == nil {
		t.Fatal("CRL verified with the DS key")
	}
	if l.Version != 2 || l.Number.Int64() != 42 || !bytes.Equal(l.AuthorityKeyID, csca.SubjectKeyID) ||
		!bytes.Equal(l.RawIssuer, csca.RawSubject) || !l.ThisUpdate.Equal(now) || !l.NextUpdate.Equal(now.AddDate(0, 0, 90)) {
		t.Fatalf("CRL v%d number %v AKI %x issuer %s %v..%v", l.Version, l.Number, l.AuthorityKeyID, l.Issuer, l.ThisUpdate, l.NextUpdate)
	}
	if len(l.Quirks) != 0 || len(l.UnknownCriticalExtensions) != 0 {
		t.Fatalf("quirks %v critical %v", l.Quirks, l.UnknownCriticalExtensions)
	}
	for _, e := range l.Extensions {
		if e.Critical {
			t.Errorf("critical CRL extension %v", e.ID)
		}
	}
	if len(l.Extensions) != 2 {
		t.Errorf("%d CRL extensions, want 2", len(l.Extensions))
	}
	r, ok := l.IsRevoked(ds.SerialNumber)
	if !ok || !r.Time.Equal(at) || len(r.Extensions) != 0 {
		t.Fatalf("DS revoked %v %+v", ok, r)
	}
	if _, ok := l.IsRevoked(csca.SerialNumber); ok {
		t.Fatal("CSCA listed")
	}
	if l.Revoked[0].Serial.Int64() != 99 { // ascending serials
		t.Fatalf("first entry %v", l.Revoked[0].Serial)
	}

	// No revoked certificate: the field is absent (9303-12 Table 9).
	empty := must(cert.ParseRevocationList(must(pki.IssueCRL(s.csca, s.cscaKey, big.NewInt(0), now, now.Add(time.Hour), nil))))
	if len(empty.Revoked) != 0 || empty.Number.Sign() != 0 {
		t.Fatalf("empty CRL: %d entries number %v", len(empty.Revoked), empty.Number)
	}
	if !bytes.Equal(pki.CRLPEM(der)[:24], []byte("-----BEGIN X509 CRL-----")) {
		t.Fatal("CRLPEM")
	}
}

// TestCRLRefusals: each malformed CRL request is refused.
func TestCRLRefusals(t *testing.T) {
	s := newPKI(t)
	now := testNow()
	other := newKey(t, elliptic.P256())
	one := big.NewInt(1)
	for _, tc := range []struct {
		name       string
		issuer     []byte
		key        crypto.Signer
		number     *big.Int
		this, next time.Time
		revoked    []pki.Revoked
		want       error
	}{
		{"no key", s.csca, nil, one, now, now.Add(time.Hour), nil, pki.ErrTemplate},
		{"no number", s.csca, s.cscaKey, nil, now, now.Add(time.Hour), nil, pki.ErrTemplate},
		{"negative number", s.csca, s.cscaKey, big.NewInt(-1), now, now.Add(time.Hour), nil, pki.ErrTemplate},
		{"21-octet number", s.csca, s.cscaKey, new(big.Int).Lsh(one, 160), now, now.Add(time.Hour), nil, pki.ErrTemplate},
		{"nextUpdate before thisUpdate", s.csca, s.cscaKey, one, now, now.Add(-time.Hour), nil, pki.ErrTemplate},
		{"no nextUpdate", s.csca, s.cscaKey, one, now, time.Time{}, nil, pki.ErrTemplate},
		{"no thisUpdate", s.csca, s.cscaKey, one, time.Time{}, now, nil, pki.ErrTemplate},
		{"nil serial", s.csca, s.cscaKey, one, now, now.Add(time.Hour), []pki.Revoked{{At: now}}, pki.ErrTemplate},
		{"zero serial", s.csca, s.cscaKey, one, now, now.Add(time.Hour), []pki.Revoked{{Serial: big.NewInt(0), At: now}}, pki.ErrTemplate},
		{"no revocation date", s.csca, s.cscaKey, one, now, now.Add(time.Hour), []pki.Revoked{{Serial: one}}, pki.ErrTemplate},
		{"serial twice", s.csca, s.cscaKey, one, now, now.Add(time.Hour), []pki.Revoked{{Serial: one, At: now}, {Serial: big.NewInt(1), At: now}}, pki.ErrTemplate},
		{"not the CSCA's key", s.csca, other, one, now, now.Add(time.Hour), nil, pki.ErrIssuer},
		{"issuer without cRLSign", s.ds, s.dsKey, one, now, now.Add(time.Hour), nil, pki.ErrIssuer},
		{"issuer garbage", []byte("x"), s.cscaKey, one, now, now.Add(time.Hour), nil, pki.ErrIssuer},
		{"bad signature", s.csca, badSigner{s.cscaKey}, one, now, now.Add(time.Hour), nil, pki.ErrIssuer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			der, err := pki.IssueCRL(tc.issuer, tc.key, tc.number, tc.this, tc.next, tc.revoked)
			if !errors.Is(err, tc.want) || der != nil {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestMasterList: the list verifies with verify.VerifyMasterList against
// the CSCA, returns the certificates, and carries the CRL.
func TestMasterList(t *testing.T) {
	s := newPKI(t)
	now := testNow()
	newCSCAKey := newKey(t, elliptic.P256())
	link := must(pki.Issue(pki.Template{Kind: pki.Link, Country: "UT", CommonName: "CSCA Utopia",
		NotBefore: now, NotAfter: now.AddDate(5, 0, 0)}, newCSCAKey.Public(), s.csca, s.cscaKey))
	crl := must(pki.IssueCRL(s.csca, s.cscaKey, big.NewInt(1), now, now.AddDate(0, 0, 90), nil))
	ml := must(pki.MasterList([][]byte{link, s.csca, s.csca}, s.mls, s.mlsKey, now, [][]byte{crl}))

	csca := parse(t, s.csca)
	certs, err := verify.VerifyMasterList(ml, []*cert.Certificate{csca})
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 2 { // the duplicate dropped
		t.Fatalf("%d certificates", len(certs))
	}
	want := [][]byte{s.csca, link}
	if bytes.Compare(want[0], want[1]) > 0 {
		want[0], want[1] = want[1], want[0]
	}
	for i, c := range certs {
		if !bytes.Equal(c.Raw, want[i]) {
			t.Fatalf("certificate %d is not in DER SET OF order", i)
		}
	}
	sd := must(cms.ParseSignedData(ml))
	if !sd.EContentType.Equal(cms.OIDCscaMasterList()) || len(sd.CRLs) != 1 || !bytes.Equal(sd.CRLs[0], crl) ||
		len(sd.Certificates) != 1 || !bytes.Equal(sd.Certificates[0], s.mls) {
		t.Fatalf("SignedData: type %v, %d CRLs, %d certificates", sd.EContentType, len(sd.CRLs), len(sd.Certificates))
	}
	signer := parse(t, s.mls)
	if len(signer.ExtKeyUsage) != 1 || !signer.ExtKeyUsage[0].Equal(cert.OIDMasterListSigner()) {
		t.Fatalf("signer EKU %v", signer.ExtKeyUsage)
	}
	// Another root does not verify it.
	if _, err := verify.VerifyMasterList(ml, []*cert.Certificate{parse(t, newPKI(t).csca)}); !errors.Is(err, verify.ErrMasterList) {
		t.Fatalf("foreign root: %v", err)
	}
}

// TestMasterListRefusals: a signer without the EKU, a key that is not the
// signer's, a DS in the list, garbage CRLs, an empty list.
func TestMasterListRefusals(t *testing.T) {
	s := newPKI(t)
	now := testNow()
	for _, tc := range []struct {
		name   string
		certs  [][]byte
		signer []byte
		key    crypto.Signer
		at     time.Time
		crls   [][]byte
		want   error
	}{
		{"DS as signer (no EKU)", [][]byte{s.csca}, s.ds, s.dsKey, now, nil, pki.ErrIssuer},
		{"not the signer's key", [][]byte{s.csca}, s.mls, s.dsKey, now, nil, pki.ErrIssuer},
		{"signer garbage", [][]byte{s.csca}, []byte{1, 2, 3}, s.mlsKey, now, nil, pki.ErrIssuer},
		{"DS in the list", [][]byte{s.csca, s.ds}, s.mls, s.mlsKey, now, nil, pki.ErrTemplate},
		{"garbage in the list", [][]byte{{0x30, 0x00}}, s.mls, s.mlsKey, now, nil, pki.ErrTemplate},
		{"empty list", nil, s.mls, s.mlsKey, now, nil, pki.ErrTemplate},
		{"garbage CRL", [][]byte{s.csca}, s.mls, s.mlsKey, now, [][]byte{{0x30, 0x00}}, pki.ErrTemplate},
		{"no key", [][]byte{s.csca}, s.mls, nil, now, nil, pki.ErrTemplate},
		{"no signing time", [][]byte{s.csca}, s.mls, s.mlsKey, time.Time{}, nil, pki.ErrTemplate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ml, err := pki.MasterList(tc.certs, tc.signer, tc.key, tc.at, tc.crls)
			if !errors.Is(err, tc.want) || ml != nil {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

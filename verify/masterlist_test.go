package verify

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"borderid/internal/cert"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
)

const (
	deML   = "../../shared/testdata/masterlists/DE_ML_2026-05-28-08-28-45.ml"
	deRoot = "../../shared/testdata/masterlists/DE_CSCA07.cer"
)

func germanML(t testing.TB) ([]byte, *cert.Certificate) {
	t.Helper()
	ml, err := os.ReadFile(deML)
	if err != nil {
		t.Skipf("master list not available: %v", err)
	}
	rootDER, err := os.ReadFile(deRoot)
	if err != nil {
		t.Skipf("root not available: %v", err)
	}
	root, err := cert.ParseCertificate(rootDER)
	if err != nil {
		t.Fatal(err)
	}
	return ml, root
}

func TestVerifyMasterListGerman(t *testing.T) {
	ml, root := germanML(t)
	certs, err := VerifyMasterList(ml, []*cert.Certificate{root})
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 588 {
		t.Fatalf("%d certificates, want 588", len(certs))
	}
	countries := map[string]bool{}
	for _, c := range certs {
		countries[c.Subject.Country] = true
	}
	t.Logf("%d certificates from %d countries", len(certs), len(countries))

	var e *Error
	// Another root: the signer chains to nothing.
	p := getPKI(t)
	_, err = VerifyMasterList(ml, []*cert.Certificate{p.certs["csca"]})
	if !errors.As(err, &e) || e.Reason != ReasonUnknownCSCA || !errors.Is(err, ErrMasterList) {
		t.Fatalf("foreign root: %v", err)
	}
	_, err = VerifyMasterList(ml, nil)
	if !errors.As(err, &e) || e.Reason != ReasonUnknownCSCA {
		t.Fatalf("no root: %v", err)
	}
	// One changed byte inside a listed certificate breaks the message digest.
	bad := bytes.Clone(ml)
	i := bytes.Index(bad, certs[100].Raw)
	if i < 0 {
		t.Fatal("certificate not found in the list")
	}
	bad[i+len(certs[100].Raw)-3] ^= 1
	_, err = VerifyMasterList(bad, []*cert.Certificate{root})
	if !errors.As(err, &e) || e.Reason != ReasonMessageDigestMismatch {
		t.Fatalf("tampered list: %v", err)
	}
	_, err = VerifyMasterList(ml[:len(ml)-1], []*cert.Certificate{root})
	if !errors.As(err, &e) || e.Reason != ReasonCMSMalformed {
		t.Fatalf("truncated list: %v", err)
	}
}

func TestVerifyMasterListEKU(t *testing.T) {
	// An EF.SOD is signed by a DSC without the master-list-signer EKU and
	// with another eContentType.
	p := getPKI(t)
	sod, err := lds.ParseSOD(p.sods["dsc-p256"])
	if err != nil {
		t.Fatal(err)
	}
	_, err = VerifyMasterList(sod.SignedData.Raw, []*cert.Certificate{p.certs["csca"]})
	var e *Error
	if !errors.As(err, &e) || e.Reason != ReasonContentTypeMismatch {
		t.Fatalf("%v", err)
	}
	// A list signed by a DSC (no EKU) under id-icao-cscaMasterList.
	tmp := t.TempDir()
	if err := os.WriteFile(tmp+"/ml.der", []byte{0x30, 0x05, 0x02, 0x01, 0x00, 0x31, 0x00}, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := openssl(p.dir, "cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-econtent_type", "2.23.136.1.1.2",
		"-md", "sha256", "-signer", "dsc-p256.pem", "-inkey", "dsc-p256.key", "-in", tmp+"/ml.der", "-nosmimecap", "-out", tmp+"/ml.cms"); err != nil {
		t.Fatal(err)
	}
	ml, err := os.ReadFile(tmp + "/ml.cms")
	if err != nil {
		t.Fatal(err)
	}
	_, err = VerifyMasterList(ml, []*cert.Certificate{p.certs["csca"]})
	if !errors.As(err, &e) || e.Reason != ReasonMissingEKU {
		t.Fatalf("%v", err)
	}
}

func TestSpecimenSOD(t *testing.T) {
	doc, err := specimen.Generate(specimen.Options{Chip: &specimen.ChipOptions{CAParameterID: 13}})
	if err != nil {
		t.Fatal(err)
	}
	csca, err := cert.ParseCertificate(doc.CSCA.Raw)
	if err != nil {
		t.Fatal(err)
	}
	store := NewMemoryStore()
	if err := store.Add(csca); err != nil {
		t.Fatal(err)
	}
	files := map[lds.File][]byte{}
	for name, b := range doc.Files {
		f, ok := lds.FileByName(name)
		if !ok {
			t.Fatalf("file %q", name)
		}
		files[f] = b
	}
	ctx := context.Background()
	r := PassiveAuthentication(ctx, files[lds.FileSOD], files, "UTO", store, time.Now(), Policy{})
	if r.Outcome != Pass {
		t.Fatalf("%v %v %s", r.Outcome, r.Reason, r.Detail)
	}
	if !bytes.Equal(r.DSC.Raw, doc.DSC.Raw) || !bytes.Equal(r.CSCA.Raw, doc.CSCA.Raw) {
		t.Error("DSC or CSCA differ from the specimen's")
	}
	if cs, ok := files[lds.FileCardSecurity]; ok {
		r := VerifyCardSecurity(ctx, cs, "UTO", store, time.Now(), Policy{})
		if r.Outcome != Pass {
			t.Fatalf("CardSecurity: %v %v %s", r.Outcome, r.Reason, r.Detail)
		}
	} else {
		t.Error("the specimen made no EF.CardSecurity")
	}
}

// TestMemoryStoreGermanList sorts the German list by signature: 375
// certificates verify under their own key (anchors) and 213 do not (link
// certificates, 134 of them with subject == issuer as names, 129 of them
// byte for byte).
func TestMemoryStoreGermanList(t *testing.T) {
	if testing.Short() {
		t.Skip("588 signature verifications")
	}
	ml, root := germanML(t)
	certs, err := VerifyMasterList(ml, []*cert.Certificate{root})
	if err != nil {
		t.Fatal(err)
	}
	s := NewMemoryStore()
	if err := s.Add(certs...); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var anchors, links, sameName int
	seen := map[string]bool{}
	for _, c := range certs {
		k := countryKey(c.Subject.Country)
		if seen[k] {
			continue
		}
		seen[k] = true
		a, _ := s.CSCAs(ctx, k)
		l, _ := s.Links(ctx, k)
		anchors += len(a)
		links += len(l)
		for _, x := range l {
			if x.Subject.String() == x.Issuer.String() {
				sameName++
			}
		}
	}
	if anchors != 375 || links != 213 || sameName != 134 {
		t.Fatalf("anchors %d, links %d (%d with subject == issuer); want 375, 213, 134", anchors, links, sameName)
	}
	// The German CSCA root is one of the anchors of DE.
	de, _ := s.CSCAs(ctx, "DE")
	found := false
	for _, c := range de {
		found = found || bytes.Equal(c.Raw, root.Raw)
	}
	if !found {
		t.Error("DE_CSCA07 is not among the German anchors of the list")
	}
}

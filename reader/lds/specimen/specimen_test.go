package specimen

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"borderid/reader/lds"
)

var testNow = time.Date(2026, 11, 27, 9, 30, 15, 0, time.UTC)

func seeded(b byte) *rand.ChaCha8 {
	var seed [32]byte
	seed[0] = b
	return rand.NewChaCha8(seed)
}

func TestDefaultMRZ(t *testing.T) {
	// Check digits computed by hand (weights 7 3 1): document 6, birth 2,
	// expiry 3, personal number 1, composite 2.
	want := "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F3408113ZE184226B<<<<<12"
	if got := DefaultMRZ(); got != want {
		t.Errorf("DefaultMRZ\n got %q\nwant %q", got, want)
	}
}

func TestGenerateConsistent(t *testing.T) {
	doc, err := Generate(Options{Rand: seeded(1), Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"COM", "DG1", "DG2", "DG11", "DG12", "SOD"} {
		if len(doc.Files[name]) == 0 {
			t.Errorf("file %s missing", name)
		}
	}
	if len(doc.Files) != 6 {
		t.Errorf("%d files", len(doc.Files))
	}

	// EF.SOD: one hash per data group, equal to SHA-256 of the file.
	sod, err := lds.ParseSOD(doc.Files["SOD"])
	if err != nil {
		t.Fatal(err)
	}
	so := sod.SecurityObject
	if got := so.DataGroups(); len(got) != 4 || got[0] != 1 || got[1] != 2 || got[2] != 11 || got[3] != 12 {
		t.Errorf("data groups %v", got)
	}
	for n, name := range map[int]string{1: "DG1", 2: "DG2", 11: "DG11", 12: "DG12"} {
		sum := sha256.Sum256(doc.Files[name])
		if !bytes.Equal(so.DataGroupHashes[n], sum[:]) {
			t.Errorf("%s hash %x, file hashes to %x", name, so.DataGroupHashes[n], sum)
		}
	}
	// The CMS signature, checked with crypto/ecdsa directly over the
	// signed attributes re-tagged as SET OF (RFC 5652 §5.4).
	sd := sod.SignedData
	si := sd.SignerInfos[0]
	md := sha256.Sum256(sd.EContent)
	if !bytes.Equal(si.MessageDigest, md[:]) || !si.SigningTime.Equal(testNow) {
		t.Errorf("message digest %x, signing time %v", si.MessageDigest, si.SigningTime)
	}
	attrsHash := sha256.Sum256(si.SignedAttrsForSignature())
	pub, ok := doc.DSC.PublicKey.(*ecdsa.PublicKey)
	if !ok || !ecdsa.VerifyASN1(pub, attrsHash[:], si.Signature) {
		t.Error("SOD signature does not verify with the DSC key")
	}
	bad := sha256.Sum256(append(si.SignedAttrsForSignature(), 0))
	if ecdsa.VerifyASN1(pub, bad[:], si.Signature) {
		t.Error("signature verifies over other bytes")
	}
	if !bytes.Equal(sd.Certificates[0], doc.DSC.Raw) || !bytes.Equal(si.SID.IssuerRaw, doc.CSCA.RawSubject) || si.SID.SerialNumber.Cmp(doc.DSC.SerialNumber) != 0 {
		t.Error("SOD does not embed and name the DSC")
	}
	// DSC issued by the self-signed CSCA of Utopia.
	if err := doc.DSC.CheckSignatureFrom(doc.CSCA); err != nil {
		t.Errorf("DSC not signed by CSCA: %v", err)
	}
	if err := doc.CSCA.CheckSignatureFrom(doc.CSCA); err != nil {
		t.Errorf("CSCA not self-signed: %v", err)
	}
	if doc.CSCA.Subject.Country[0] != "UT" || doc.DSC.Subject.Country[0] != "UT" || !doc.CSCA.IsCA || doc.DSC.IsCA {
		t.Errorf("certificates: %v / %v", doc.CSCA.Subject, doc.DSC.Subject)
	}
	if !doc.DSC.PublicKey.(*ecdsa.PublicKey).Equal(doc.DSKey.Public()) {
		t.Error("DSKey does not match the DSC")
	}
	if doc.DSC.NotBefore.After(testNow) || doc.DSC.NotAfter.Before(testNow.AddDate(10, 0, 0)) {
		t.Errorf("DSC validity %v..%v", doc.DSC.NotBefore, doc.DSC.NotAfter)
	}

	// The data groups parse back to the specimen.
	dg1, err := lds.ParseDG1(doc.Files["DG1"])
	if err != nil {
		t.Fatal(err)
	}
	if err := dg1.MRZ.Verify(); err != nil {
		t.Errorf("MRZ check digits: %v", err)
	}
	if dg1.MRZ.DocumentNumber != "L898902C3" || dg1.MRZ.Surname != "ERIKSSON" || dg1.MRZ.GivenNames != "ANNA MARIA" ||
		dg1.MRZ.IssuingState != "UTO" || dg1.MRZ.ExpiryDate().Year != 2034 || dg1.MRZ.BirthDate(testNow).String() != "1974-08-12" {
		t.Errorf("MRZ %+v", dg1.MRZ)
	}
	dg2, err := lds.ParseDG2(doc.Files["DG2"])
	if err != nil {
		t.Fatal(err)
	}
	f := dg2.Faces[0]
	if f.Format != lds.ImageJPEG || f.Width*4 != f.Height*3 || f.Width < 60 {
		t.Errorf("face %v %dx%d", f.Format, f.Width, f.Height)
	}
	com, err := lds.ParseCOM(doc.Files["COM"])
	if err != nil {
		t.Fatal(err)
	}
	_ = com
	dg11, err := lds.ParseDG11(doc.Files["DG11"])
	if err != nil {
		t.Fatal(err)
	}
	if dg11.FullName != "ERIKSSON<<ANNA<MARIA" || dg11.FullDateOfBirth != "19740812" {
		t.Errorf("DG11 %q %q", dg11.FullName, dg11.FullDateOfBirth)
	}
	dg12, err := lds.ParseDG12(doc.Files["DG12"])
	if err != nil {
		t.Fatal(err)
	}
	if dg12.DateOfIssue != "20261127" {
		t.Errorf("DG12 date of issue %q", dg12.DateOfIssue)
	}
}

func TestGenerateFaceSize(t *testing.T) {
	for _, target := range []int{MinFaceBytes, 8_000, DefaultFaceBytes, 60_000} {
		doc, err := Generate(Options{Rand: seeded(2), Now: testNow, FaceBytes: target})
		if err != nil {
			t.Fatal(err)
		}
		dg2, err := lds.ParseDG2(doc.Files["DG2"])
		if err != nil {
			t.Fatal(err)
		}
		n := len(dg2.Faces[0].Image)
		if n*100 < target*85 || n*100 > target*115 {
			t.Errorf("target %d: face of %d bytes", target, n)
		}
		if d := len(doc.Files["DG2"]); d*100 < target*85 || d*100 > target*115 {
			t.Errorf("target %d: DG2 of %d bytes", target, d)
		}
	}
	// The default target is about 20 KB.
	doc, err := Generate(Options{Rand: seeded(3), Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(doc.Files["DG2"]); n < 17_000 || n > 23_000 {
		t.Errorf("default DG2 of %d bytes", n)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	a, err := Generate(Options{Rand: seeded(4), Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(Options{Rand: seeded(4), Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range a.Files {
		if !bytes.Equal(f, b.Files[name]) {
			t.Errorf("%s differs between runs with the same Rand", name)
		}
	}
	if !bytes.Equal(a.CSCA.Raw, b.CSCA.Raw) || !bytes.Equal(a.DSC.Raw, b.DSC.Raw) {
		t.Error("certificates differ between runs with the same Rand")
	}
	c, err := Generate(Options{Rand: seeded(5), Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Files["SOD"], c.Files["SOD"]) || bytes.Equal(a.Files["DG2"], c.Files["DG2"]) || a.DSC.SerialNumber.Cmp(c.DSC.SerialNumber) == 0 {
		t.Error("another Rand gives the same document")
	}
	if !bytes.Equal(a.Files["DG1"], c.Files["DG1"]) {
		t.Error("DG1 depends on Rand")
	}
}

func TestGenerateOptions(t *testing.T) {
	face, err := Generate(Options{Rand: seeded(6), Now: testNow, FaceBytes: 5000})
	if err != nil {
		t.Fatal(err)
	}
	dg2, err := lds.ParseDG2(face.Files["DG2"])
	if err != nil {
		t.Fatal(err)
	}
	jpg := dg2.Faces[0].Image
	td1 := "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F3408113UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
	doc, err := Generate(Options{Rand: seeded(7), Now: testNow, Face: jpg, MRZ: td1})
	if err != nil {
		t.Fatal(err)
	}
	got, err := lds.ParseDG2(doc.Files["DG2"])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Faces[0].Image, jpg) {
		t.Error("given face not used as is")
	}
	dg1, err := lds.ParseDG1(doc.Files["DG1"])
	if err != nil {
		t.Fatal(err)
	}
	if dg1.MRZ.DocumentNumber != "D23145890" || doc.MRZ != td1 {
		t.Errorf("MRZ %q", dg1.MRZ.DocumentNumber)
	}
	// Defaults: crypto/rand and the clock.
	def, err := Generate(Options{FaceBytes: MinFaceBytes})
	if err != nil {
		t.Fatal(err)
	}
	if def.DSC.NotBefore.After(time.Now()) {
		t.Error("default Now not used")
	}
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("entropy exhausted")
	}
	k := min(r.n, len(p))
	for i := range p[:k] {
		p[i] = 0x11
	}
	r.n -= k
	return k, nil
}

func TestGenerateRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		msg  string
	}{
		{"face-too-small", Options{FaceBytes: MinFaceBytes - 1}, "FaceBytes"},
		{"face-too-large", Options{FaceBytes: MaxFaceBytes + 1}, "FaceBytes"},
		{"face-not-an-image", Options{Face: []byte("GIF89a not a portrait")}, "face image"},
		{"bad-mrz", Options{MRZ: "P<UTO"}, "specimen"},
		{"no-entropy", Options{Rand: &failingReader{}}, "texture seed"},
		{"entropy-runs-out-at-keys", Options{Rand: &failingReader{n: 32}, FaceBytes: MinFaceBytes}, "key material"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Generate(tc.opts)
			if err == nil || doc != nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, %v; want error with %q", doc, err, tc.msg)
			}
		})
	}
}

package issue

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io/fs"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"borderid/enrol/biometric"
	"borderid/hardware/chipsim"
	"borderid/internal/cert"
	"borderid/internal/cms"
	"borderid/internal/pki"
	"borderid/reader"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
	"borderid/reader/mrz"
	"borderid/verify"
)

var testNow = time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC)

type chachaReader struct{ r *mrand.ChaCha8 }

func (c chachaReader) Read(p []byte) (int, error) { return c.r.Read(p) }

func seeded(n byte) chachaReader {
	var s [32]byte
	s[0] = n
	return chachaReader{mrand.NewChaCha8(s)}
}

// pkiFixture is a CSCA and a Document Signer of Utopia (C=UT), made with
// crypto/x509 (the issuing service's own DS has explicit parameters,
// internal/pki; Build takes either as a cms.SignerCert).
type pkiFixture struct {
	csca, ds *x509.Certificate
	dsKey    *ecdsa.PrivateKey
}

func newPKI(t *testing.T) *pkiFixture {
	t.Helper()
	cscaKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	dsKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	root := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{Country: []string{"UT"}, CommonName: "CSCA Utopia"},
		NotBefore: testNow.AddDate(-1, 0, 0), NotAfter: testNow.AddDate(15, 0, 0),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
		MaxPathLenZero: true,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, root, root, cscaKey.Public(), cscaKey)
	if err != nil {
		t.Fatal(err)
	}
	csca, _ := x509.ParseCertificate(rootDER)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{Country: []string{"UT"}, CommonName: "DS Utopia"},
		NotBefore: testNow.AddDate(0, -1, 0), NotAfter: testNow.AddDate(11, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	dsDER, err := x509.CreateCertificate(rand.Reader, leaf, csca, dsKey.Public(), cscaKey)
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := x509.ParseCertificate(dsDER)
	return &pkiFixture{csca: csca, ds: ds, dsKey: dsKey}
}

func (p *pkiFixture) signer() cms.SignerCert {
	return cms.SignerCert{Raw: p.ds.Raw, RawIssuer: p.ds.RawIssuer, SerialNumber: p.ds.SerialNumber, PublicKey: p.ds.PublicKey}
}

// testJPEG draws a w×h portrait-ish JPEG with some noise.
func testJPEG(t testing.TB, w, h int, seed byte) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := mrand.New(mrand.NewChaCha8([32]byte{seed}))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := uint8(100 + r.IntN(100))
			img.Set(x, y, color.RGBA{v, v - 20, v - 40, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 70}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// firRecord is an ISO/IEC 19794-4:2005 record of one finger image (8-bit
// grey JPEG at 500 ppi), as a capture station uploads it.
func firRecord(position uint8, img []byte, w, h int) []byte {
	const general, finger = 32, 14
	total := general + finger + len(img)
	b := []byte("FIR\x00010\x00")
	b = append(b, 0, 0, byte(total>>24), byte(total>>16), byte(total>>8), byte(total))
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, 31)
	b = append(b, 1, 1)
	for range 4 {
		b = binary.BigEndian.AppendUint16(b, 500)
	}
	b = append(b, 8, 3, 0, 0) // 8-bit, JPEG
	b = binary.BigEndian.AppendUint32(b, uint32(finger+len(img)))
	b = append(b, position, 1, 1, 80, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(w))
	b = binary.BigEndian.AppendUint16(b, uint16(h))
	b = append(b, 0)
	return append(b, img...)
}

type fixture struct {
	pki    *pkiFixture
	eac    *specimen.EAC
	in     Input
	face   []byte
	finger [][]byte
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	p := newPKI(t)
	eac, err := specimen.GenerateEAC(seeded(4), testNow, specimen.EACOptions{})
	if err != nil {
		t.Fatal(err)
	}
	face := testJPEG(t, 240, 320, 1)
	f := &fixture{pki: p, eac: eac, face: face}
	var fingers []*biometric.Finger
	for i := 1; i <= 2; i++ {
		rec := firRecord(uint8(i), testJPEG(t, 100, 120, byte(10+i)), 100, 120)
		f.finger = append(f.finger, rec)
		fingers = append(fingers, &biometric.Finger{Position: i, Width: 100, Height: 120, Resolution: 500, Compression: "JPEG", Record: rec})
	}
	f.in = Input{
		IssuingState: "UTO", DocumentNumber: "C4XK9P2M7", Surname: "Eriksson", GivenNames: "Anna María",
		Nationality: "UTO", Sex: "F",
		DateOfBirth:  time.Date(1974, 8, 12, 0, 0, 0, 0, time.UTC),
		DateOfExpiry: time.Date(2036, 11, 26, 0, 0, 0, 0, time.UTC),
		PlaceOfBirth: "Zenith",
		Face:         &biometric.Face{Format: "JPEG", Image: face}, // size from the JPEG
		Fingers:      fingers,
		DS:           p.signer(), DSKey: p.dsKey, CVCA: eac.CVCA, Now: testNow, Rand: seeded(5),
	}
	return f
}

func TestBuildFiles(t *testing.T) {
	f := newFixture(t)
	out, err := Build(f.in)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"COM", "CVCA", "CardAccess", "DG1", "DG11", "DG12", "DG14", "DG15", "DG2", "DG3", "SOD",
		"aa.key", "ca.key", "chip.json", "cvca.cvcert"}
	var got []string
	for n := range out.Files {
		got = append(got, n)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}

	// MRZ and DG1.
	// Check digits worked by hand (9303-3 §4.9): document number 8,
	// birth 2, expiry 9, empty personal number 0, composite 4.
	wantMRZ := "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nC4XK9P2M78UTO7408122F3611269<<<<<<<<<<<<<<04"
	if out.MRZ != wantMRZ {
		t.Errorf("MRZ\n%s\nwant\n%s", out.MRZ, wantMRZ)
	}
	if m, err := mrz.Parse(out.MRZ); err != nil || m.Verify() != nil {
		t.Fatalf("MRZ %v", err)
	}
	dg1, err := lds.ParseDG1(out.Files["DG1"])
	if err != nil {
		t.Fatal(err)
	}
	d := dg1.MRZ
	if d.Verify() != nil || d.Surname != "ERIKSSON" || d.GivenNames != "ANNA MARIA" || d.DocumentNumber != "C4XK9P2M7" ||
		d.IssuingState != "UTO" || d.Nationality != "UTO" || d.Sex != "F" || d.DateOfBirth != "740812" ||
		d.DateOfExpiry != "361126" || d.DocumentCode != "P" || d.OptionalData != "" {
		t.Errorf("DG1 MRZ %+v", d)
	}
	if d.Raw != strings.ReplaceAll(out.MRZ, "\n", "") {
		t.Error("DG1 is not Output.MRZ")
	}

	// DG2: the upload's bytes, its size.
	dg2, err := lds.ParseDG2(out.Files["DG2"])
	if err != nil {
		t.Fatal(err)
	}
	if len(dg2.Faces) != 1 || !bytes.Equal(dg2.Faces[0].Image, f.face) || dg2.Faces[0].Format != lds.ImageJPEG ||
		dg2.Faces[0].HeaderWidth != 240 || dg2.Faces[0].HeaderHeight != 320 {
		t.Errorf("DG2 %+v", dg2.Faces)
	}
	// DG3: the records as uploaded.
	dg3, err := lds.ParseDG3(out.Files["DG3"])
	if err != nil {
		t.Fatal(err)
	}
	if len(dg3.Fingers) != 2 || len(dg3.Quirks) != 0 {
		t.Fatalf("DG3 %d fingers, quirks %v", len(dg3.Fingers), dg3.Quirks)
	}
	for i, fg := range dg3.Fingers {
		if int(fg.Position) != i+1 || !bytes.Equal(fg.Image, f.finger[i][46:]) || fg.Compression != lds.FingerJPEG {
			t.Errorf("finger %d: position %d, compression %v", i, fg.Position, fg.Compression)
		}
	}
	if !bytes.Contains(out.Files["DG3"], f.finger[0]) || !bytes.Contains(out.Files["DG3"], f.finger[1]) {
		t.Error("DG3 does not hold the records byte for byte")
	}

	// DG11, DG12.
	dg11, err := lds.ParseDG11(out.Files["DG11"])
	if err != nil {
		t.Fatal(err)
	}
	if dg11.FullName != "ERIKSSON<<ANNA<MARIA" || dg11.FullDateOfBirth != "19740812" || dg11.PlaceOfBirth != "Zenith" {
		t.Errorf("DG11 %+v", dg11)
	}
	dg12, err := lds.ParseDG12(out.Files["DG12"])
	if err != nil {
		t.Fatal(err)
	}
	if dg12.IssuingAuthority != "UTO" || dg12.DateOfIssue != "20261127" {
		t.Errorf("DG12 %+v", dg12)
	}

	// EF.COM lists the data groups.
	com, err := lds.ParseCOM(out.Files["COM"])
	if err != nil {
		t.Fatal(err)
	}
	if com.LDSVersion != "0107" || com.UnicodeVersion != "040000" ||
		!slices.Equal(com.Files, []lds.File{lds.FileDG1, lds.FileDG2, lds.FileDG3, lds.FileDG11, lds.FileDG12, lds.FileDG14, lds.FileDG15}) {
		t.Errorf("EF.COM %+v", com)
	}

	// DG14 and DG15 hold the public halves of ca.key and aa.key.
	dg14, err := lds.ParseDG14(out.Files["DG14"])
	if err != nil {
		t.Fatal(err)
	}
	if len(dg14.ChipAuthentication) != 1 || dg14.ChipAuthentication[0].Protocol != lds.CAECDHAES128 ||
		len(dg14.ChipAuthenticationPublicKeys) != 1 || len(dg14.PACE) != 1 || len(dg14.TerminalAuthentication) != 1 ||
		len(dg14.ActiveAuthentication) != 1 || !dg14.ActiveAuthentication[0].SignatureAlgorithm.Equal(oidECDSAPlainSHA256) {
		t.Errorf("DG14 %+v", dg14)
	}
	keyMatches(t, "ca.key", out.Files["ca.key"], dg14.ChipAuthenticationPublicKeys[0].SubjectPublicKeyInfo)
	dg15, err := lds.ParseDG15(out.Files["DG15"])
	if err != nil {
		t.Fatal(err)
	}
	keyMatches(t, "aa.key", out.Files["aa.key"], dg15.PublicKeyInfo)
	if bytes.Equal(out.Files["ca.key"], out.Files["aa.key"]) {
		t.Error("one key for CA and AA")
	}
	ca, err := lds.ParseCardAccess(out.Files["CardAccess"])
	if err != nil || len(ca.PACE) != 1 || ca.PACE[0].Protocol != lds.PACEECDHGMAES128 || ca.PACE[0].ParameterID.Value != 12 {
		t.Errorf("EF.CardAccess %+v %v", ca, err)
	}
	cvca, err := lds.ParseCVCA(out.Files["CVCA"])
	if err != nil || len(cvca.CARs) != 1 || cvca.CARs[0] != "UTCVCA00001" {
		t.Errorf("EF.CVCA %+v %v", cvca, err)
	}
	if !bytes.Equal(out.Files["cvca.cvcert"], f.eac.CVCA) {
		t.Error("cvca.cvcert is not the CVCA")
	}
	if len(out.CAN) != 6 || strings.Trim(out.CAN, "0123456789") != "" {
		t.Errorf("CAN %q", out.CAN)
	}
	id, err := chipsim.LoadIdentityFS(MapFS(out.Files))
	if err != nil {
		t.Fatal(err)
	}
	if id.Config.CAN != out.CAN || !id.Config.ExtendedLength || id.Config.ActiveAuthentication.Hash != "SHA-256" ||
		!bytes.Equal(id.Config.ChipAuthentication.Key, out.Files["ca.key"]) || !bytes.Equal(id.Config.TerminalAuthentication.CVCA, f.eac.CVCA) {
		t.Errorf("chip.json %+v", id.Config)
	}
}

func keyMatches(t *testing.T, name string, pkcs8, spki []byte) {
	t.Helper()
	priv, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	pub, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		t.Fatalf("%s public key: %v", name, err)
	}
	k, ok := priv.(*ecdsa.PrivateKey)
	if !ok || k.Curve != elliptic.P256() || !k.PublicKey.Equal(pub) {
		t.Errorf("%s does not match its public key", name)
	}
}

func fileMap(files map[string][]byte) map[lds.File][]byte {
	m := map[lds.File][]byte{}
	for n, b := range files {
		if f, ok := lds.FileByName(n); ok {
			m[f] = b
		}
	}
	return m
}

func TestBuildPassiveAuthentication(t *testing.T) {
	f := newFixture(t)
	out, err := Build(f.in)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cert.ParseCertificate(f.pki.csca.Raw)
	if err != nil {
		t.Fatal(err)
	}
	store := verify.NewMemoryStore()
	if err := store.Add(c); err != nil {
		t.Fatal(err)
	}
	files := fileMap(out.Files)
	res := verify.PassiveAuthentication(context.Background(), out.Files["SOD"], files, "UTO", store, testNow.Add(time.Hour), verify.Policy{})
	if res.Outcome != verify.Pass || !slices.Equal(res.DataGroups, []int{1, 2, 3, 11, 12, 14, 15}) || !res.SigningTime.Equal(testNow) {
		t.Fatalf("PA %v %s %s, groups %v, signed %v", res.Outcome, res.Reason, res.Detail, res.DataGroups, res.SigningTime)
	}
	dg2 := bytes.Clone(files[lds.FileDG2])
	dg2[len(dg2)-10] ^= 1
	files[lds.FileDG2] = dg2
	res = verify.PassiveAuthentication(context.Background(), out.Files["SOD"], files, "UTO", store, testNow.Add(time.Hour), verify.Policy{})
	if res.Outcome != verify.Fail || res.Reason != "hash_mismatch_dg2" {
		t.Errorf("changed DG2: %v %s", res.Outcome, res.Reason)
	}
}

// TestBuildReadChipsim reads the issued identity as a border station
// does, through the software chip in this process: PACE with the CAN,
// Chip and Active Authentication, then Terminal Authentication with the
// CVCA's chain for DG3.
func TestBuildReadChipsim(t *testing.T) {
	f := newFixture(t)
	out, err := Build(f.in)
	if err != nil {
		t.Fatal(err)
	}
	id, err := chipsim.LoadIdentityFS(MapFS(out.Files))
	if err != nil {
		t.Fatal(err)
	}
	term, err := reader.NewTerminal([][]byte{f.eac.CVCA, f.eac.DV, f.eac.IS}, f.eac.ISKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts reader.ReadOptions
	}{
		{"CAN", reader.ReadOptions{CAN: out.CAN}},
		{"MRZ", reader.ReadOptions{BACKeyInfo: mrzKey(t, out.MRZ)}},
		{"MRZ with terminal", reader.ReadOptions{BACKeyInfo: mrzKey(t, out.MRZ), Terminal: term}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chip, err := chipsim.New(id, chipsim.WithRand(seeded(7)), chipsim.WithClock(func() time.Time { return testNow }))
			if err != nil {
				t.Fatal(err)
			}
			opts := tc.opts
			opts.Rand = seeded(8)
			opts.ATR = chip.ATR()
			res, err := reader.Read(context.Background(), chip, opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.AccessControl != "PACE-GM" {
				t.Errorf("access control %s", res.AccessControl)
			}
			if res.CA == nil || res.CAErr != nil || res.AA == nil || res.AAErr != nil {
				t.Errorf("CA %v %v, AA %v %v", res.CA, res.CAErr, res.AA, res.AAErr)
			}
			for _, name := range []string{"COM", "DG1", "DG2", "DG11", "DG12", "DG14", "DG15", "SOD"} {
				fl, _ := lds.FileByName(name)
				if !bytes.Equal(res.Files[fl], out.Files[name]) {
					t.Errorf("%s read differs", name)
				}
			}
			if tc.opts.Terminal == nil {
				if !slices.Contains(res.NotAuthorised, lds.FileDG3) {
					t.Errorf("DG3 without a terminal: not authorised %v", res.NotAuthorised)
				}
				return
			}
			if res.TA == nil || res.TAErr != nil || !bytes.Equal(res.Files[lds.FileDG3], out.Files["DG3"]) {
				t.Errorf("TA %v %v, DG3 %d bytes", res.TA, res.TAErr, len(res.Files[lds.FileDG3]))
			}
		})
	}
}

func mrzKey(t *testing.T, s string) string {
	m, err := mrz.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return m.KeySeedInfo()
}

// A 19794-5 record upload goes into DG2 as is.
func TestBuildFaceRecord(t *testing.T) {
	f := newFixture(t)
	dg2, err := lds.EncodeDG2([]lds.FaceImage{{Format: lds.ImageJPEG, Width: 240, Height: 320, Data: f.face}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := lds.ParseDG2(dg2)
	if err != nil {
		t.Fatal(err)
	}
	// The record: everything of the BDB, the image at its end.
	i := bytes.Index(dg2, []byte("FAC\x00"))
	rec := dg2[i:]
	in := f.in
	in.Face = &biometric.Face{Format: "JPEG", Width: 240, Height: 320, Image: p.Faces[0].Image, Record: rec}
	in.Fingers = nil
	out, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Files["DG2"], dg2) {
		t.Error("DG2 is not the record as uploaded")
	}
	if _, ok := out.Files["DG3"]; ok {
		t.Error("DG3 without fingers")
	}
}

func TestBuildRefusals(t *testing.T) {
	f := newFixture(t)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	day := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name string
		edit func(in *Input)
		want error
	}{
		{"unknown sex", func(in *Input) { in.Sex = "Q" }, nil},
		{"empty sex", func(in *Input) { in.Sex = "" }, nil},
		{"surname of punctuation", func(in *Input) { in.Surname = "' - ." }, nil},
		{"surname in Cyrillic", func(in *Input) { in.Surname = "Иванов" }, nil},
		{"digit in the name", func(in *Input) { in.GivenNames = "Anna 2" }, nil},
		{"DS key not the certificate's", func(in *Input) { in.DSKey = other }, ErrSigner},
		{"no DS", func(in *Input) { in.DS = cms.SignerCert{} }, ErrSigner},
		{"expiry before issue", func(in *Input) { in.DateOfExpiry = day(2026, 11, 26) }, nil},
		{"expiry on the day of issue", func(in *Input) { in.DateOfExpiry = day(2026, 11, 27) }, nil},
		{"expiry in 2070", func(in *Input) { in.DateOfExpiry = day(2070, 1, 1) }, nil},
		{"birth after issue", func(in *Input) { in.DateOfBirth = day(2026, 11, 28) }, nil},
		{"no birth date", func(in *Input) { in.DateOfBirth = time.Time{} }, nil},
		{"state of four letters", func(in *Input) { in.IssuingState = "UTOP" }, nil},
		{"nationality with a digit", func(in *Input) { in.Nationality = "U1O" }, nil},
		{"visa", func(in *Input) { in.DocumentType = "V" }, nil},
		{"document type of three letters", func(in *Input) { in.DocumentType = "PAB" }, nil},
		{"document number of ten", func(in *Input) { in.DocumentNumber = "ABCDEFGH12" }, nil},
		{"document number lower case", func(in *Input) { in.DocumentNumber = "abc" }, nil},
		{"empty document number", func(in *Input) { in.DocumentNumber = "" }, nil},
		{"no face", func(in *Input) { in.Face = nil }, nil},
		{"face record not 19794-5", func(in *Input) { in.Face = &biometric.Face{Format: "JPEG", Record: []byte("XYZ\x00")} }, nil},
		{"face format", func(in *Input) { in.Face = &biometric.Face{Format: "PNG", Width: 1, Height: 1, Image: []byte{1}} }, nil},
		{"JPEG declared JPEG 2000", func(in *Input) { in.Face = &biometric.Face{Format: "JPEG2000", Image: f.face} }, nil},
		{"truncated JPEG", func(in *Input) { in.Face = &biometric.Face{Format: "JPEG", Image: f.face[:20]} }, nil},
		{"finger not 19794-4", func(in *Input) { in.Fingers = []*biometric.Finger{{Position: 1, Record: []byte("FMR\x00")}} }, nil},
		{"eleven fingers", func(in *Input) { in.Fingers = slices.Repeat(in.Fingers[:1], 11) }, nil},
		{"CVCA not a CV certificate", func(in *Input) { in.CVCA = []byte{0x7F, 0x21, 0x00} }, ErrSigner},
		{"trust point a DV", func(in *Input) { in.CVCA = f.eac.DV }, ErrSigner},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := f.in
			tc.edit(&in)
			want := tc.want
			if want == nil {
				want = ErrInput
			}
			out, err := Build(in)
			if !errors.Is(err, want) || out != nil {
				t.Fatalf("err %v, want %v", err, want)
			}
			t.Log(err)
		})
	}
}

func TestTransliterate(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Eriksson", "ERIKSSON"},
		{"anna maría", "ANNA<MARIA"},
		{"Müller-Lüdenscheidt", "MUELLER<LUEDENSCHEIDT"},
		{"Mu\u0308ller Jose\u0301", "MUELLER<JOSE"}, // decomposed (NFD)
		{"O'Neil", "ONEIL"},
		{"d’Artagnan", "DARTAGNAN"},
		{"Straße", "STRASSE"},
		{"Ærøskøbing", "AEROESKOEBING"},
		{"Ångström", "AANGSTROEM"},
		{"Peña", "PENA"},
		{"Þórsdóttir", "THORSDOTTIR"},
		{"Łukasz Żółć", "LUKASZ<ZOLC"},
		{"Çelik İnce", "CELIK<INCE"},
		{"  Jean -  Paul  ", "JEAN<PAUL"},
		{"St. John, Jr", "ST<JOHN<JR"},
		{"Œuvre Ĳssel", "OEUVRE<IJSSEL"},
		{"", ""},
	} {
		got, err := Transliterate(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Transliterate(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"Иван", "李", "R2D2", "a@b", "x\x00", "q\u0308"} {
		if _, err := Transliterate(bad); !errors.Is(err, ErrInput) {
			t.Errorf("Transliterate(%q): %v", bad, err)
		}
	}
}

func TestMRZNames(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ surname, given, line1 string }{
		{"Eriksson", "Anna María", "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"},
		{"Madonna", "", "P<UTOMADONNA<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<"},
		// Long names are cut at the field's end (39 characters).
		{"Nilavadhanananda", "Chayapa Dejthamrong Krasuang", "P<UTONILAVADHANANANDA<<CHAYAPA<DEJTHAMRONG<KRAS"[:44]},
		{"Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaft", "Hubert", "P<UTOWOLFESCHLEGELSTEINHAUSENBERGERDORFFVORAL"[:44]},
		{"Müller", "Jürgen", "P<UTOMUELLER<<JUERGEN<<<<<<<<<<<<<<<<<<<<<<<"},
	} {
		in := f.in
		in.Surname, in.GivenNames = tc.surname, tc.given
		in.Fingers = nil
		out, err := Build(in)
		if err != nil {
			t.Fatal(err)
		}
		line1 := strings.SplitN(out.MRZ, "\n", 2)[0]
		if line1 != tc.line1 {
			t.Errorf("%s: line 1 %q, want %q", tc.surname, line1, tc.line1)
		}
		m, err := mrz.Parse(out.MRZ)
		if err != nil || m.Verify() != nil {
			t.Errorf("%s: %v %v", tc.surname, err, m.Verify())
		}
	}
}

// Check digits against ICAO 9303-4 Appendix B's specimen: Anna Maria
// Eriksson, L898902C3, born 1974-08-12, expiring 2012-04-15 (the
// specimen's personal number is left out: Build writes none).
func TestMRZCheckDigits(t *testing.T) {
	got, err := td3("P", "UTO", pad("ERIKSSON<<ANNA<MARIA", 39), "L898902C3", "UTO",
		time.Date(1974, 8, 12, 0, 0, 0, 0, time.UTC), 'F', time.Date(2012, 4, 15, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	// Document number check 6, birth 2, expiry 9 as in the specimen;
	// empty personal number check 0; composite over the rest.
	want := "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159<<<<<<<<<<<<<<08"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// The folder written to disk loads the same with LoadIdentity as the map
// with LoadIdentityFS.
func TestLoadIdentityFSMatchesDir(t *testing.T) {
	f := newFixture(t)
	out, err := Build(f.in)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, b := range out.Files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	a, err := chipsim.LoadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := chipsim.LoadIdentityFS(MapFS(out.Files))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("LoadIdentity and LoadIdentityFS differ")
	}
	// A key file chip.json names but the folder lacks refuses both.
	delete(out.Files, "aa.key")
	os.Remove(filepath.Join(dir, "aa.key"))
	_, errDir := chipsim.LoadIdentity(dir)
	_, errFS := chipsim.LoadIdentityFS(MapFS(out.Files))
	if !errors.Is(errDir, chipsim.ErrInvalidIdentity) || !errors.Is(errFS, chipsim.ErrInvalidIdentity) ||
		!errors.Is(errDir, fs.ErrNotExist) || !errors.Is(errFS, fs.ErrNotExist) {
		t.Errorf("missing aa.key: %v / %v", errDir, errFS)
	}
	if !strings.Contains(errDir.Error(), filepath.Join(dir, "aa.key")) {
		t.Errorf("LoadIdentity's message does not name the path: %v", errDir)
	}
}

func FuzzTransliterate(f *testing.F) {
	for _, s := range []string{"Anna María", "Müller-Lüdenscheidt", "O'Neil", "Иван", "ß", "  - "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Transliterate(s)
		if err != nil {
			if !errors.Is(err, ErrInput) {
				t.Fatalf("error not ErrInput: %v", err)
			}
			return
		}
		if strings.Trim(got, "ABCDEFGHIJKLMNOPQRSTUVWXYZ<") != "" || strings.HasPrefix(got, "<") ||
			strings.HasSuffix(got, "<") || strings.Contains(got, "<<") {
			t.Fatalf("Transliterate(%q) = %q", s, got)
		}
	})
}

// With the state's real profile: a CSCA and a Document Signer of
// internal/pki, explicit EC parameters that crypto/x509 cannot parse.
func TestBuildExplicitParametersDS(t *testing.T) {
	f := newFixture(t)
	cscaKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	dsKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cscaDER, err := pki.Issue(pki.Template{Kind: pki.CSCA, Country: "UT", CommonName: "CSCA Utopia",
		NotBefore: testNow.AddDate(-1, 0, 0), NotAfter: testNow.AddDate(15, 0, 0)}, cscaKey.Public(), nil, cscaKey)
	if err != nil {
		t.Fatal(err)
	}
	dsDER, err := pki.Issue(pki.Template{Kind: pki.DocumentSigner, Country: "UT", CommonName: "DS Utopia",
		NotBefore: testNow.AddDate(0, -1, 0), NotAfter: testNow.AddDate(11, 0, 0), PrivateKeyUsageEnd: testNow.AddDate(0, 3, 0),
		DocumentTypes: []string{"P"}}, dsKey.Public(), cscaDER, cscaKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParseCertificate(dsDER); err == nil {
		t.Fatal("crypto/x509 parses the DS: its EC parameters are not explicit, so this test does not test the explicit-parameter path")
	}
	ds, err := cert.ParseCertificate(dsDER)
	if err != nil {
		t.Fatal(err)
	}
	csca, err := cert.ParseCertificate(cscaDER)
	if err != nil {
		t.Fatal(err)
	}
	in := f.in
	in.DS = cms.SignerCert{Raw: ds.Raw, RawIssuer: ds.RawIssuer, SerialNumber: ds.SerialNumber, PublicKey: ds.PublicKey}
	in.DSKey = dsKey
	out, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	store := verify.NewMemoryStore()
	if err := store.Add(csca); err != nil {
		t.Fatal(err)
	}
	res := verify.PassiveAuthentication(context.Background(), out.Files["SOD"], fileMap(out.Files), "UTO", store, testNow.Add(time.Hour), verify.Policy{})
	if res.Outcome != verify.Pass || !bytes.Equal(res.DSC.Raw, dsDER) {
		t.Fatalf("PA %v %s %s", res.Outcome, res.Reason, res.Detail)
	}
	in.DSKey = f.pki.dsKey
	if _, err := Build(in); !errors.Is(err, ErrSigner) {
		t.Errorf("another key for the explicit-parameter DS: %v", err)
	}
}

// A Document Signer that would make the chip fail Passive Authentication
// is refused before anything is signed.
func TestBuildDSRefusals(t *testing.T) {
	f := newFixture(t)
	cscaKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	dsKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cscaDER, err := pki.Issue(pki.Template{Kind: pki.CSCA, Country: "UT", CommonName: "CSCA Utopia",
		NotBefore: testNow.AddDate(-5, 0, 0), NotAfter: testNow.AddDate(15, 0, 0)}, cscaKey.Public(), nil, cscaKey)
	if err != nil {
		t.Fatal(err)
	}
	base := pki.Template{Kind: pki.DocumentSigner, Country: "UT", CommonName: "DS Utopia",
		NotBefore: testNow.AddDate(0, -1, 0), NotAfter: testNow.AddDate(11, 0, 0), DocumentTypes: []string{"P"}}
	for _, tc := range []struct {
		name string
		edit func(*pki.Template)
	}{
		{"signing period over", func(tp *pki.Template) {
			tp.NotBefore, tp.PrivateKeyUsageEnd = testNow.AddDate(-1, 0, 0), testNow.AddDate(0, 0, -1)
		}},
		{"not yet valid", func(tp *pki.Template) { tp.NotBefore = testNow.AddDate(0, 0, 1) }},
		{"expired", func(tp *pki.Template) {
			tp.NotBefore, tp.NotAfter = testNow.AddDate(-3, 0, 0), testNow.AddDate(0, 0, -1)
		}},
		{"identity cards only", func(tp *pki.Template) { tp.DocumentTypes = []string{"I"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := base
			tc.edit(&tp)
			der, err := pki.Issue(tp, dsKey.Public(), cscaDER, cscaKey)
			if err != nil {
				t.Fatal(err)
			}
			ds, err := cert.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			in := f.in
			in.DS = cms.SignerCert{Raw: ds.Raw, RawIssuer: ds.RawIssuer, SerialNumber: ds.SerialNumber, PublicKey: ds.PublicKey}
			in.DSKey = dsKey
			if _, err := Build(in); !errors.Is(err, ErrSigner) {
				t.Fatalf("err %v", err)
			} else {
				t.Log(err)
			}
		})
	}
	// A DS for "P" signs a "PD" (diplomatic passport, 9303-12 §7.1.1.6:
	// one letter covers the types starting with it).
	der, err := pki.Issue(base, dsKey.Public(), cscaDER, cscaKey)
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := cert.ParseCertificate(der)
	in := f.in
	in.DS = cms.SignerCert{Raw: ds.Raw, RawIssuer: ds.RawIssuer, SerialNumber: ds.SerialNumber, PublicKey: ds.PublicKey}
	in.DSKey, in.DocumentType = dsKey, "PD"
	out, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.MRZ, "PDUTO") {
		t.Errorf("MRZ %.5s", out.MRZ)
	}
}

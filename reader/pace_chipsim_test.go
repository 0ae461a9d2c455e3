package reader_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"slices"
	"testing"
	"time"

	"borderid/hardware/chipsim"
	"borderid/internal/pace"
	"borderid/reader"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
	"borderid/reader/mrz"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Black-box PACE against the independent software chip (card side in
// hardware/chipsim, written separately): every mapping × key agreement
// family on brainpoolP256r1, P-256 and DH-2048, with the MRZ and the CAN,
// then every standardized domain, the fixed-length encodings, PACE-CAM's
// check against EF.CardSecurity and the chip's faults.

const paceTestCAN = "493817"

// paceSeed is a deterministic random source (ChaCha8).
type paceSeed struct{ r *mrand.ChaCha8 }

func (p paceSeed) Read(b []byte) (int, error) { return p.r.Read(b) }

func newPACESeed(seed uint64) paceSeed {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	s[31] = 0x9A
	return paceSeed{mrand.NewChaCha8(s)}
}

// paceDoc is the specimen data shared by the chips of one test.
type paceDoc struct {
	doc     *specimen.Document
	keySeed string
}

func newPACEDoc(t testing.TB) *paceDoc {
	t.Helper()
	doc, err := specimen.Generate(specimen.Options{FaceBytes: specimen.MinFaceBytes, Rand: newPACESeed(1)})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mrz.Parse(doc.MRZ)
	if err != nil {
		t.Fatal(err)
	}
	return &paceDoc{doc: doc, keySeed: m.KeySeedInfo()}
}

// curveOIDs names the curves of parameter ids 8-18 (RFC 5480, RFC 5639).
func curveOID(id int) asn1.ObjectIdentifier {
	bp := func(n int) asn1.ObjectIdentifier { return asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, n} }
	return map[int]asn1.ObjectIdentifier{
		8: {1, 2, 840, 10045, 3, 1, 1}, 9: bp(3), 10: {1, 3, 132, 0, 33}, 11: bp(5),
		12: {1, 2, 840, 10045, 3, 1, 7}, 13: bp(7), 14: bp(9), 15: {1, 3, 132, 0, 34},
		16: bp(11), 17: bp(13), 18: {1, 3, 132, 0, 35},
	}[id]
}

// camKey is a static chip authentication key: SEC 1 ECPrivateKey naming
// its curve (for chipsim) and the public key.
func camKey(t testing.TB, id int, rnd paceSeed) (der, pub []byte) {
	t.Helper()
	d, err := pace.DomainByParameterID(id)
	if err != nil {
		t.Fatal(err)
	}
	sk, pub, err := d.GenerateKey(rnd, nil)
	if err != nil {
		t.Fatal(err)
	}
	// chipsim reads the NIST curves crypto/x509 knows as PKCS#8 and the
	// others as SEC 1 naming the curve.
	if c, ok := map[int]elliptic.Curve{10: elliptic.P224(), 12: elliptic.P256(), 15: elliptic.P384(), 18: elliptic.P521()}[id]; ok {
		k, err := ecdsa.ParseRawPrivateKey(c, sk)
		if err != nil {
			t.Fatal(err)
		}
		if der, err = x509.MarshalPKCS8PrivateKey(k); err != nil {
			t.Fatal(err)
		}
		return der, pub
	}
	der, err = asn1.Marshal(struct {
		Version    int
		PrivateKey []byte
		Curve      asn1.ObjectIdentifier `asn1:"explicit,tag:0"`
	}{1, sk, curveOID(id)})
	if err != nil {
		t.Fatal(err)
	}
	return der, pub
}

type spkiForm int

const (
	spkiNamed   spkiForm = iota // id-ecPublicKey, named curve
	spkiParamID                 // standardizedDomainParameters, INTEGER id (TR-03110-3 A.2.1.1)
)

func camSPKI(t testing.TB, form spkiForm, id int, pub []byte) []byte {
	t.Helper()
	type algID struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue
	}
	var a algID
	switch form {
	case spkiNamed:
		p, _ := asn1.Marshal(curveOID(id))
		a = algID{asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}, asn1.RawValue{FullBytes: p}}
	case spkiParamID:
		p, _ := asn1.Marshal(id)
		a = algID{asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 2}, asn1.RawValue{FullBytes: p}}
	}
	b, err := asn1.Marshal(struct {
		Alg algID
		Key asn1.BitString
	}{a, asn1.BitString{Bytes: pub, BitLength: 8 * len(pub)}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cardSecurity signs SecurityInfos holding the chip authentication keys
// (and, as EF.CardSecurity repeats EF.CardAccess, a PACEInfo).
func (pd *paceDoc) cardSecurity(t testing.TB, keys ...lds.ChipAuthenticationPublicKeyInfo) []byte {
	t.Helper()
	infos := &lds.SecurityInfos{PACE: []lds.PACEInfo{pi(lds.PACEECDHCAMAES128, 13)}, ChipAuthenticationPublicKeys: keys}
	b, err := lds.EncodeCardSecurity(infos, pd.doc.DSC, pd.doc.DSKey, crypto.SHA256, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// paceChipSpec is one chip's PACE setup.
type paceChipSpec struct {
	infos        []lds.PACEInfo
	camID        int    // parameter id of the static key; 0 with no CAM
	cardSecurity []byte // overrides the generated one; nil with camID 0: none
	noCardSec    bool
	faults       chipsim.Faults
	chipSeed     uint64
}

// chip builds a chip and the parsed EF.CardAccess.
func (pd *paceDoc) chip(t testing.TB, sp paceChipSpec) (*chipsim.Chip, *lds.SecurityInfos) {
	t.Helper()
	files := make(map[string][]byte, len(pd.doc.Files)+2)
	for k, v := range pd.doc.Files {
		files[k] = v
	}
	ca, err := lds.EncodeSecurityInfos(&lds.SecurityInfos{PACE: sp.infos})
	if err != nil {
		t.Fatal(err)
	}
	files["CardAccess"] = ca
	cfg := chipsim.Config{CAN: paceTestCAN, ExtendedLength: true}
	if sp.camID != 0 {
		der, pub := camKey(t, sp.camID, newPACESeed(sp.chipSeed+1000))
		cfg.ChipAuthentication = &chipsim.CAConfig{Key: der}
		files["CardSecurity"] = pd.cardSecurity(t, lds.ChipAuthenticationPublicKeyInfo{
			Protocol: lds.PKECDH, SubjectPublicKeyInfo: camSPKI(t, spkiNamed, sp.camID, pub),
			KeyID: lds.OptionalInt{Value: 1, Present: true},
		})
	}
	if sp.cardSecurity != nil {
		files["CardSecurity"] = sp.cardSecurity
	}
	if sp.noCardSec {
		delete(files, "CardSecurity")
	}
	id, err := chipsim.NewIdentity(files, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := chipsim.New(id, chipsim.WithRand(newPACESeed(sp.chipSeed)), chipsim.WithFaults(sp.faults))
	if err != nil {
		t.Fatal(err)
	}
	infos, err := lds.ParseCardAccess(ca)
	if err != nil {
		t.Fatal(err)
	}
	return c, infos
}

func (pd *paceDoc) password(kind reader.PasswordType) reader.Password {
	if kind == reader.PasswordCAN {
		return reader.CANPassword(paceTestCAN)
	}
	return reader.MRZPassword(pd.keySeed)
}

func pi(p lds.Protocol, id int) lds.PACEInfo {
	return lds.PACEInfo{Protocol: p, Version: 2, ParameterID: lds.OptionalInt{Value: id, Present: true}}
}

// readDG1 proves the secure messaging PACE installed works both ways.
func (pd *paceDoc) readDG1(t testing.TB, s *reader.Session) {
	t.Helper()
	ctx := context.Background()
	if err := s.SelectApplication(ctx); err != nil {
		t.Fatalf("SELECT after PACE: %v", err)
	}
	dg1, err := s.ReadFile(ctx, lds.FileDG1)
	if err != nil {
		t.Fatalf("DG1 after PACE: %v", err)
	}
	if !bytes.Equal(dg1, pd.doc.Files["DG1"]) {
		t.Fatal("DG1 read after PACE differs")
	}
}

func TestPACEChipsimMatrix(t *testing.T) {
	pd := newPACEDoc(t)
	protos := map[string][]lds.Protocol{
		"GM-ECDH":  {lds.PACEECDHGMAES128, lds.PACEECDHGM3DES, lds.PACEECDHGMAES256, lds.PACEECDHGMAES192},
		"IM-ECDH":  {lds.PACEECDHIMAES128, lds.PACEECDHIMAES256, lds.PACEECDHIM3DES, lds.PACEECDHIMAES192},
		"CAM-ECDH": {lds.PACEECDHCAMAES128, lds.PACEECDHCAMAES256, lds.PACEECDHCAMAES192},
		"GM-DH":    {lds.PACEDHGMAES128, lds.PACEDHGM3DES, lds.PACEDHGMAES256},
		"IM-DH":    {lds.PACEDHIMAES128, lds.PACEDHIMAES192, lds.PACEDHIM3DES},
	}
	n := 0
	for _, fam := range []string{"GM-ECDH", "IM-ECDH", "CAM-ECDH", "GM-DH", "IM-DH"} {
		ids := []int{13, 12}
		if fam == "GM-DH" || fam == "IM-DH" {
			ids = []int{2}
		}
		for _, id := range ids {
			for _, pw := range []reader.PasswordType{reader.PasswordMRZ, reader.PasswordCAN} {
				n++
				p := protos[fam][n%len(protos[fam])]
				t.Run(fmt.Sprintf("%s/%d/%v/%v", fam, id, pw, p.Cipher()), func(t *testing.T) {
					sp := paceChipSpec{infos: []lds.PACEInfo{pi(p, id)}, chipSeed: uint64(n)}
					if p.Mapping() == lds.MappingCAM {
						sp.camID = id
					}
					chip, infos := pd.chip(t, sp)
					s := reader.NewSession(chip, reader.SessionOptions{})
					res, err := reader.PACE(context.Background(), s, infos, pd.password(pw), reader.PACEOptions{Rand: rand.Reader})
					if err != nil {
						t.Fatal(err)
					}
					d, _ := pace.DomainByParameterID(id)
					if res.Protocol != p || res.ParameterID != id || res.Domain != d.Name() || res.Cipher != p.Cipher() ||
						res.Mapping != p.Mapping() || res.KeyAgreement != p.KeyAgreement() || res.Password != pw {
						t.Errorf("result %+v", res)
					}
					if len(res.ChipPublicKey) != d.ElementLen() {
						t.Errorf("PK_IC of %d bytes", len(res.ChipPublicKey))
					}
					if p.Mapping() == lds.MappingCAM {
						if res.CAM != reader.CAMPassed || res.CAMReason != reader.CAMReasonPassed || len(res.CardSecurity) == 0 ||
							res.CAMKeyID != (lds.OptionalInt{Value: 1, Present: true}) {
							t.Errorf("CAM %v %q %q key %v", res.CAM, res.CAMReason, res.CAMDetail, res.CAMKeyID)
						}
					} else if res.CAM != reader.CAMNotDone || res.CardSecurity != nil {
						t.Errorf("CAM %v without CAM", res.CAM)
					}
					pd.readDG1(t, s)
				})
			}
		}
	}
}

// TestPACEChipsimDomains runs GM and IM on every standardized domain: the
// integrated mapping's point encoding (App. B) on every curve, NIST and
// brainpool, and the DH groups' fixed-length elements.
func TestPACEChipsimDomains(t *testing.T) {
	pd := newPACEDoc(t)
	for _, id := range pace.ParameterIDs() {
		d, _ := pace.DomainByParameterID(id)
		maps := []lds.Protocol{lds.PACEECDHGMAES128, lds.PACEECDHIMAES256}
		if d.KeyAgreement() == pace.DH {
			maps = []lds.Protocol{lds.PACEDHGMAES128, lds.PACEDHIMAES256}
		}
		for i, p := range maps {
			if testing.Short() && i == 1 && id%2 == 0 {
				continue
			}
			t.Run(fmt.Sprintf("%s/%v", d.Name(), p), func(t *testing.T) {
				chip, infos := pd.chip(t, paceChipSpec{infos: []lds.PACEInfo{pi(p, id)}, chipSeed: uint64(100 + id)})
				s := reader.NewSession(chip, reader.SessionOptions{})
				res, err := reader.PACE(context.Background(), s, infos, pd.password(reader.PasswordMRZ), reader.PACEOptions{Rand: rand.Reader})
				if err != nil {
					t.Fatal(err)
				}
				if res.Domain != d.Name() {
					t.Errorf("domain %q", res.Domain)
				}
				pd.readDG1(t, s)
			})
		}
	}
}

// TestPACEChipsimChoice: the chip offers several entries; the terminal
// takes the best by the rule (CAM, ECDH, larger domain, cipher) and the
// chip agrees to run it.
func TestPACEChipsimChoice(t *testing.T) {
	pd := newPACEDoc(t)
	chip, infos := pd.chip(t, paceChipSpec{
		infos: []lds.PACEInfo{pi(lds.PACEDHGMAES256, 2), pi(lds.PACEECDHGMAES128, 12), pi(lds.PACEECDHIMAES256, 12),
			pi(lds.PACEECDHCAMAES128, 13), pi(lds.PACEECDHGMAES256, 13)},
		camID: 13, chipSeed: 7,
	})
	s := reader.NewSession(chip, reader.SessionOptions{})
	res, err := reader.PACE(context.Background(), s, infos, pd.password(reader.PasswordCAN), reader.PACEOptions{Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	if res.Protocol != lds.PACEECDHCAMAES128 || res.ParameterID != 13 || res.AccessControl() != "PACE-CAM" || res.CAM != reader.CAMPassed {
		t.Errorf("chose %v/%d (%v)", res.Protocol, res.ParameterID, res.CAM)
	}
	pd.readDG1(t, s)
}

// TestPACEChipsimFixedLength forces the cases a terminal that drops
// leading zero bytes gets wrong (about 1 session in 256): a shared secret
// K whose first byte is 0. The chip's ephemeral key depends only on its
// random source and on what the terminal sent before GA3, so a first run
// gives PK_IC; the test then searches a terminal key SK_IFD with
// x(SK_IFD·PK_IC) < 2^(8(len-1)) (for DH: K < 2^(8(len-1))) and replays
// the session with it. Both tokens verify only if both sides kept the zero.
func TestPACEChipsimFixedLength(t *testing.T) {
	pd := newPACEDoc(t)
	cases := []struct {
		p  lds.Protocol
		id int
	}{
		{lds.PACEECDHGMAES128, 13}, {lds.PACEECDHIMAES128, 13}, {lds.PACEECDHGMAES256, 12},
		{lds.PACEECDHIMAES128, 12}, {lds.PACEECDHCAMAES128, 13}, {lds.PACEDHGMAES128, 0},
		{lds.PACEDHIMAES128, 0}, {lds.PACEECDHGM3DES, 18}, {lds.PACEECDHIMAES128, 9},
	}
	if testing.Short() {
		// Each search costs some 256 scalar multiplications.
		cases = append(cases[:1], cases[3], cases[5])
	} else {
		cases = append(cases, struct {
			p  lds.Protocol
			id int
		}{lds.PACEDHGMAES128, 2})
	}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%v/%d", tc.p, tc.id), func(t *testing.T) {
			d, _ := pace.DomainByParameterID(tc.id)
			sp := paceChipSpec{infos: []lds.PACEInfo{pi(tc.p, tc.id)}, chipSeed: uint64(500 + i)}
			if tc.p.Mapping() == lds.MappingCAM {
				sp.camID = tc.id
			}
			// The terminal's draws before SK_IFD: SK_map,IFD (GM, CAM) or t (IM).
			pre := make([]byte, d.ScalarLen())
			if tc.p.Mapping() == lds.MappingIM {
				pre = make([]byte, tc.p.Cipher().KeySize())
			}
			for j := range pre {
				pre[j] = byte(j + 1)
			}
			if tc.p.Mapping() != lds.MappingIM {
				var err error
				if pre, _, err = d.GenerateKey(newPACESeed(uint64(900+i)), nil); err != nil {
					t.Fatal(err)
				}
			}
			first, _, err := d.GenerateKey(rand.Reader, nil)
			if err != nil {
				t.Fatal(err)
			}
			run := func(sk []byte) (*reader.PACEResult, []byte) {
				chip, infos := pd.chip(t, sp)
				rec := &paceRecorder{c: chip}
				s := reader.NewSession(rec, reader.SessionOptions{})
				rnd := bytes.NewReader(append(append([]byte(nil), pre...), sk...))
				res, err := reader.PACE(context.Background(), s, infos, pd.password(reader.PasswordMRZ), reader.PACEOptions{Rand: rnd})
				if err != nil {
					t.Fatal(err)
				}
				if tc.p.Mapping() == lds.MappingCAM && res.CAM != reader.CAMPassed {
					t.Errorf("CAM %v %s", res.CAM, res.CAMDetail)
				}
				pd.readDG1(t, s)
				return res, rec.pkIFD(t)
			}
			res0, pkIFD0 := run(first)
			pkIC := res0.ChipPublicKey
			order := new(big.Int).SetBytes(d.Order())
			sk0 := new(big.Int).SetBytes(first)

			// K with a leading zero byte.
			var sk, k []byte
			for tries := 0; ; tries++ {
				if tries > 20000 {
					t.Fatal("no key with a leading zero byte found")
				}
				cand, _, err := d.GenerateKey(rand.Reader, nil)
				if err != nil {
					t.Fatal(err)
				}
				if k, err = d.SharedSecret(cand, pkIC); err != nil {
					t.Fatal(err)
				}
				if k[0] == 0 {
					sk = cand
					break
				}
			}
			res, _ := run(sk)
			if !bytes.Equal(res.ChipPublicKey, pkIC) {
				t.Fatal("the chip's ephemeral key changed between runs: the test's premise fails")
			}

			// PK_IFD with a leading zero byte (its x-coordinate for
			// ECDH): PK_IFD = (SK_0·m)·Ĝ = m·PK_IFD,0, so search m.
			for tries := 0; ; tries++ {
				if tries > 20000 {
					t.Fatal("no public key with a leading zero byte found")
				}
				m, _, err := d.GenerateKey(rand.Reader, nil)
				if err != nil {
					t.Fatal(err)
				}
				p, err := d.Agree(m, pkIFD0)
				if err != nil {
					t.Fatal(err)
				}
				lead := p[0]
				if d.KeyAgreement() == pace.ECDH {
					lead = p[1]
				}
				if lead != 0 {
					continue
				}
				skm := new(big.Int).Mul(sk0, new(big.Int).SetBytes(m))
				skm.Mod(skm, order)
				if skm.Sign() == 0 {
					continue
				}
				_, pk := run(skm.FillBytes(make([]byte, d.ScalarLen())))
				if !bytes.Equal(pk, p) {
					t.Fatalf("PK_IFD %X…, want %X…", pk[:4], p[:4])
				}
				break
			}
		})
	}
}

// paceRecorder passes APDUs to the chip and keeps the GENERAL
// AUTHENTICATE commands.
type paceRecorder struct {
	c  *chipsim.Chip
	ga [][]byte
}

func (r *paceRecorder) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if len(apdu) > 4 && apdu[1] == 0x86 {
		r.ga = append(r.ga, bytes.Clone(apdu))
	}
	return r.c.Transmit(ctx, apdu)
}

// pkIFD returns the value of 83 in the third GENERAL AUTHENTICATE.
func (r *paceRecorder) pkIFD(t testing.TB) []byte {
	t.Helper()
	if len(r.ga) < 3 {
		t.Fatal("fewer than three GENERAL AUTHENTICATE")
	}
	a := r.ga[2]
	var data []byte
	if a[4] != 0 { // short Lc
		data = a[5 : 5+int(a[4])]
	} else { // extended Lc
		n := int(a[5])<<8 | int(a[6])
		data = a[7 : 7+n]
	}
	in := cryptobyte.String(data)
	var dyn, v cryptobyte.String
	if !in.ReadASN1(&dyn, cbasn1.Tag(0x7C)) || !dyn.ReadASN1(&v, cbasn1.Tag(0x83)) {
		t.Fatalf("GA3 data %X", data)
	}
	return v
}

// TestPACEChipsimRandomSessions runs many sessions with random keys on
// both sides; with the top byte of some coordinate or secret zero in about
// 1/256 of the values each, dropped zeros would show as failures.
func TestPACEChipsimRandomSessions(t *testing.T) {
	pd := newPACEDoc(t)
	n := 96
	if testing.Short() {
		n = 24
	}
	protos := []lds.PACEInfo{pi(lds.PACEECDHGMAES128, 13), pi(lds.PACEECDHIMAES128, 13), pi(lds.PACEECDHGMAES128, 9), pi(lds.PACEECDHIMAES256, 8)}
	for i := range n {
		p := protos[i%len(protos)]
		chip, infos := pd.chip(t, paceChipSpec{infos: []lds.PACEInfo{p}, chipSeed: uint64(10000 + i)})
		s := reader.NewSession(chip, reader.SessionOptions{})
		if _, err := reader.PACE(context.Background(), s, infos, pd.password(reader.PasswordCAN), reader.PACEOptions{Rand: newPACESeed(uint64(20000 + i))}); err != nil {
			t.Fatalf("session %d (%v/%d): %v", i, p.Protocol, p.ParameterID.Value, err)
		}
	}
}

func TestPACEChipsimRefusals(t *testing.T) {
	pd := newPACEDoc(t)
	ctx := context.Background()
	gm := []lds.PACEInfo{pi(lds.PACEECDHGMAES128, 13)}
	cam := []lds.PACEInfo{pi(lds.PACEECDHCAMAES128, 13)}
	for _, tc := range []struct {
		name   string
		sp     paceChipSpec
		pw     reader.Password
		target error
		cause  error
		ctxTO  time.Duration
		// withResult: the error comes after secure messaging started
		// (reading EF.CardSecurity), with the result.
		withResult bool
	}{
		{name: "wrong MRZ", sp: paceChipSpec{infos: gm}, pw: reader.MRZPassword("L898902C<369080619406236"), target: reader.ErrPACEFailed},
		{name: "wrong CAN", sp: paceChipSpec{infos: gm}, pw: reader.CANPassword("000000"), target: reader.ErrPACEFailed},
		{name: "wrong CAN, DH IM", sp: paceChipSpec{infos: []lds.PACEInfo{pi(lds.PACEDHIMAES128, 0)}}, pw: reader.CANPassword("000001"), target: reader.ErrPACEFailed},
		{name: "torn at GA3", sp: paceChipSpec{infos: gm, faults: chipsim.Faults{TearAfter: 3}}, target: chipsim.ErrTorn},
		{name: "torn at GA1", sp: paceChipSpec{infos: gm, faults: chipsim.Faults{TearAfter: 1}}, target: chipsim.ErrTorn},
		{name: "latency beyond the deadline", sp: paceChipSpec{infos: gm, faults: chipsim.Faults{Latency: time.Second}}, ctxTO: 50 * time.Millisecond, target: context.DeadlineExceeded},
		{name: "CAM: CardSecurity MAC corrupted", sp: paceChipSpec{infos: cam, camID: 13, faults: chipsim.Faults{CorruptMACAt: 6}}, target: reader.ErrSecureMessaging, cause: reader.ErrBadMAC, withResult: true},
		{name: "CAM: torn reading CardSecurity", sp: paceChipSpec{infos: cam, camID: 13, faults: chipsim.Faults{TearAfter: 5}}, target: chipsim.ErrTorn, withResult: true},
		{name: "CAM: CardSecurity in clear", sp: paceChipSpec{infos: cam, camID: 13, faults: chipsim.Faults{PlainSuccessAt: 6}}, target: reader.ErrSecureMessaging, cause: reader.ErrDowngrade, withResult: true},
		{name: "CAM: chip drops SM", sp: paceChipSpec{infos: cam, camID: 13, faults: chipsim.Faults{DropSMAt: 6}}, target: reader.ErrSMDropped, withResult: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chip, infos := pd.chip(t, tc.sp)
			s := reader.NewSession(chip, reader.SessionOptions{})
			pw := tc.pw
			if pw.Secret == "" {
				pw = pd.password(reader.PasswordMRZ)
			}
			c := ctx
			if tc.ctxTO > 0 {
				var cancel context.CancelFunc
				c, cancel = context.WithTimeout(ctx, tc.ctxTO)
				defer cancel()
			}
			res, err := reader.PACE(c, s, infos, pw, reader.PACEOptions{Rand: rand.Reader})
			if !errors.Is(err, tc.target) {
				t.Fatalf("err %v, want %v", err, tc.target)
			}
			if tc.cause != nil && !errors.Is(err, tc.cause) {
				t.Errorf("err %v, want cause %v", err, tc.cause)
			}
			if tc.withResult {
				if res == nil || res.CAM != reader.CAMNotDone || res.CardSecurity != nil {
					t.Errorf("result %+v", res)
				}
				return
			}
			if res != nil || s.SecureMessaging() != nil {
				t.Errorf("result %v, SM %v after a failure", res, s.SecureMessaging())
			}
		})
	}
}

// TestPACEChipsimCAMOutcomes: the CAM check against EF.CardSecurity.
func TestPACEChipsimCAMOutcomes(t *testing.T) {
	pd := newPACEDoc(t)
	cam := []lds.PACEInfo{pi(lds.PACEECDHCAMAES256, 12)}
	_, otherPub := camKey(t, 12, newPACESeed(77))
	_, bpPub := camKey(t, 13, newPACESeed(78))
	// The chip's own key (chipSeed 30 → camKey seed 1030).
	_, ownPub := camKey(t, 12, newPACESeed(1030))
	keyInfo := func(form spkiForm, id int, pub []byte, kid int) lds.ChipAuthenticationPublicKeyInfo {
		return lds.ChipAuthenticationPublicKeyInfo{Protocol: lds.PKECDH, SubjectPublicKeyInfo: camSPKI(t, form, id, pub), KeyID: lds.OptionalInt{Value: kid, Present: true}}
	}
	for _, tc := range []struct {
		name   string
		cs     []byte
		noCS   bool
		faults chipsim.Faults
		status reader.CAMStatus
		reason string
		keyID  int
	}{
		{name: "named curve", status: reader.CAMPassed, reason: reader.CAMReasonPassed, keyID: 1},
		{name: "parameter id form", cs: pd.cardSecurity(t, keyInfo(spkiParamID, 12, ownPub, 4)), status: reader.CAMPassed, reason: reader.CAMReasonPassed, keyID: 4},
		{name: "second of two keys", cs: pd.cardSecurity(t, keyInfo(spkiNamed, 12, otherPub, 2), keyInfo(spkiNamed, 12, ownPub, 3)), status: reader.CAMPassed, reason: reader.CAMReasonPassed, keyID: 3},
		{name: "another chip's key", cs: pd.cardSecurity(t, keyInfo(spkiNamed, 12, otherPub, 1)), status: reader.CAMFailed, reason: reader.CAMReasonMismatch},
		{name: "key on another curve", cs: pd.cardSecurity(t, keyInfo(spkiNamed, 13, bpPub, 1)), status: reader.CAMNotDone, reason: reader.CAMReasonNoChipKey},
		{name: "parameter id of another curve", cs: pd.cardSecurity(t, keyInfo(spkiParamID, 13, ownPub, 1)), status: reader.CAMNotDone, reason: reader.CAMReasonNoChipKey},
		{name: "no keys", cs: pd.cardSecurity(t), status: reader.CAMNotDone, reason: reader.CAMReasonNoChipKey},
		{name: "not CMS", cs: []byte{0x30, 0x03, 0x02, 0x01, 0x01}, status: reader.CAMNotDone, reason: reader.CAMReasonCardSecurityParse},
		{name: "no EF.CardSecurity", noCS: true, status: reader.CAMNotDone, reason: reader.CAMReasonCardSecurityRead},
		{name: "no EF.CardSecurity, unprotected 6A82", noCS: true, faults: chipsim.Faults{UnprotectedErrors: true}, status: reader.CAMNotDone, reason: reader.CAMReasonCardSecurityRead},
		{name: "Le capped at 100", faults: chipsim.Faults{CapLe: 100}, status: reader.CAMPassed, reason: reader.CAMReasonPassed, keyID: 1},
		{name: "6700 above 64", faults: chipsim.Faults{WrongLengthAbove: 64}, status: reader.CAMPassed, reason: reader.CAMReasonPassed, keyID: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chip, infos := pd.chip(t, paceChipSpec{infos: cam, camID: 12, chipSeed: 30, cardSecurity: tc.cs, noCardSec: tc.noCS, faults: tc.faults})
			s := reader.NewSession(chip, reader.SessionOptions{})
			res, err := reader.PACE(context.Background(), s, infos, pd.password(reader.PasswordMRZ), reader.PACEOptions{Rand: rand.Reader})
			if err != nil {
				t.Fatal(err)
			}
			if res.CAM != tc.status || res.CAMReason != tc.reason {
				t.Errorf("CAM %v %q (%s), want %v %q", res.CAM, res.CAMReason, res.CAMDetail, tc.status, tc.reason)
			}
			if tc.keyID != 0 && res.CAMKeyID.Value != tc.keyID {
				t.Errorf("key id %v, want %d", res.CAMKeyID, tc.keyID)
			}
			// The session survives every CAM outcome.
			pd.readDG1(t, s)
		})
	}
}

// paceTimedCard measures the time the chip spends, so that a benchmark
// can report the terminal's share.
type paceTimedCard struct {
	c    *chipsim.Chip
	chip time.Duration
}

func (p *paceTimedCard) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	start := time.Now()
	r, err := p.c.Transmit(ctx, apdu)
	p.chip += time.Since(start)
	return r, err
}

// BenchmarkPACE: a whole PACE against the in-process chip per mapping and
// domain, with the terminal's share (total less the time inside the
// chip's Transmit) as terminal-ns/op, beside one scalar multiplication
// (modexp for DH) of the same group with a fixed key as the raw cost.
func BenchmarkPACE(b *testing.B) {
	pd := newPACEDoc(b)
	for _, id := range []int{13, 12, 2} {
		d, _ := pace.DomainByParameterID(id)
		protos := []lds.Protocol{lds.PACEECDHGMAES128, lds.PACEECDHIMAES128, lds.PACEECDHCAMAES128}
		if d.KeyAgreement() == pace.DH {
			protos = []lds.Protocol{lds.PACEDHGMAES128, lds.PACEDHIMAES128}
		}
		for _, p := range protos {
			sp := paceChipSpec{infos: []lds.PACEInfo{pi(p, id)}, chipSeed: 1}
			if p.Mapping() == lds.MappingCAM {
				sp.camID = id
			}
			b.Run(fmt.Sprintf("%s/%s", d.Name(), p.Mapping()), func(b *testing.B) {
				var chipTime time.Duration
				for b.Loop() {
					b.StopTimer()
					chip, infos := pd.chip(b, sp)
					card := &paceTimedCard{c: chip}
					s := reader.NewSession(card, reader.SessionOptions{})
					b.StartTimer()
					if _, err := reader.PACE(context.Background(), s, infos, pd.password(reader.PasswordMRZ), reader.PACEOptions{Rand: rand.Reader}); err != nil {
						b.Fatal(err)
					}
					chipTime += card.chip
				}
				b.ReportMetric(float64(b.Elapsed()-chipTime)/float64(b.N), "terminal-ns/op")
			})
		}
		b.Run(fmt.Sprintf("%s/raw-scalar-mult", d.Name()), func(b *testing.B) {
			sk, _, err := d.GenerateKey(newPACESeed(3), nil)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := d.PublicKey(sk, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// paceMITM rewrites the chip's answer to GA4 (CLA 00, INS 86): 8A is not
// covered by T_IC, so only the CAM check can notice a change.
type paceMITM struct {
	c    *chipsim.Chip
	edit func(aIC []byte) []byte // nil result: drop 8A
}

func (m *paceMITM) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	resp, err := m.c.Transmit(ctx, apdu)
	if err != nil || len(apdu) < 2 || apdu[0] != 0x00 || apdu[1] != 0x86 || len(resp) < 2 {
		return resp, err
	}
	in := cryptobyte.String(resp[:len(resp)-2])
	var dyn cryptobyte.String
	if !in.ReadASN1(&dyn, cbasn1.Tag(0x7C)) {
		return resp, nil
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.Tag(0x7C), func(b *cryptobyte.Builder) {
		for !dyn.Empty() {
			var v cryptobyte.String
			var tag cbasn1.Tag
			if !dyn.ReadAnyASN1(&v, &tag) {
				return
			}
			if tag == 0x8A {
				nv := m.edit(bytes.Clone(v))
				if nv == nil {
					continue
				}
				v = nv
			}
			b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes(v) })
		}
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	return append(out, resp[len(resp)-2:]...), nil
}

// TestPACEChipsimCAMTampered: A_IC changed on the way is caught by the
// CAM check (it is not under T_IC), never silently passed.
func TestPACEChipsimCAMTampered(t *testing.T) {
	pd := newPACEDoc(t)
	for _, tc := range []struct {
		name    string
		edit    func([]byte) []byte
		status  reader.CAMStatus
		reasons []string
	}{
		{name: "8A dropped", edit: func([]byte) []byte { return nil }, status: reader.CAMFailed, reasons: []string{reader.CAMReasonDataMissing}},
		{name: "8A truncated", edit: func(b []byte) []byte { return b[:len(b)-1] }, status: reader.CAMFailed, reasons: []string{reader.CAMReasonDataInvalid}},
		{name: "8A first block changed", edit: func(b []byte) []byte { b[0] ^= 1; return b }, status: reader.CAMFailed, reasons: []string{reader.CAMReasonMismatch}},
		{name: "8A last block changed", edit: func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, status: reader.CAMFailed, reasons: []string{reader.CAMReasonDataInvalid, reader.CAMReasonMismatch}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chip, infos := pd.chip(t, paceChipSpec{infos: []lds.PACEInfo{pi(lds.PACEECDHCAMAES128, 13)}, camID: 13, chipSeed: 40})
			s := reader.NewSession(&paceMITM{c: chip, edit: tc.edit}, reader.SessionOptions{})
			res, err := reader.PACE(context.Background(), s, infos, pd.password(reader.PasswordMRZ), reader.PACEOptions{Rand: rand.Reader})
			if err != nil {
				t.Fatal(err)
			}
			if res.CAM != tc.status || !slices.Contains(tc.reasons, res.CAMReason) {
				t.Errorf("CAM %v %q (%s)", res.CAM, res.CAMReason, res.CAMDetail)
			}
		})
	}
}

// TestPACEChipsimCARs: the chip names its CVCA references in GA4.
func TestPACEChipsimCARs(t *testing.T) {
	pd := newPACEDoc(t)
	cvca, err := lds.EncodeCVCA("UTCVCA00002", "UTCVCA00001")
	if err != nil {
		t.Fatal(err)
	}
	pd.doc.Files["CVCA"] = cvca
	chip, infos := pd.chip(t, paceChipSpec{infos: []lds.PACEInfo{pi(lds.PACEECDHIMAES128, 12)}, chipSeed: 41})
	res, err := reader.PACE(context.Background(), reader.NewSession(chip, reader.SessionOptions{}), infos, pd.password(reader.PasswordCAN), reader.PACEOptions{Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.CARs, []string{"UTCVCA00002", "UTCVCA00001"}) {
		t.Errorf("CARs %q", res.CARs)
	}
}

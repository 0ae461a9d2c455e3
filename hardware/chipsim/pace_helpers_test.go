package chipsim

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"io"
	"testing"

	"borderid/internal/pace"
	"borderid/internal/smcrypto"
	"borderid/reader/lds"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The terminal side of PACE for these tests: written from 9303-11 §4.4.4
// with internal/pace's arithmetic, independent of package reader and of
// the chip's own parsing (responses are read with cryptobyte's DER rules,
// so a chip that answered non-minimal lengths would fail here).

// The App. G MRZ password: document T22000129, born 640812, expiring
// 101031.
var vecPACEMRZ = Config{DocumentNumber: "T22000129", DateOfBirth: "640812", DateOfExpiry: "101031"}

const vecCAN = "123456"

// paceInfo is one PACEInfo, version 2, with a standardized parameter id.
func paceInfo(p lds.Protocol, id int) lds.PACEInfo {
	return lds.PACEInfo{Protocol: p, Version: 2, ParameterID: lds.OptionalInt{Value: id, Present: true}}
}

// cardAccess encodes EF.CardAccess offering infos.
func cardAccess(t testing.TB, infos ...lds.PACEInfo) []byte {
	t.Helper()
	b, err := lds.EncodeSecurityInfos(&lds.SecurityInfos{PACE: infos})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// paceFiles are the specimen files with the given EF.CardAccess and an
// EF.CardSecurity.
func paceFiles(t testing.TB, ca []byte) map[string][]byte {
	f := specimenFiles(t)
	f["CardAccess"] = ca
	f["CardSecurity"] = pattern(120)
	return f
}

func newPACEChip(t testing.TB, ca []byte, cfg Config, opts ...Option) *Chip {
	t.Helper()
	id, err := NewIdentity(paceFiles(t, ca), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(id, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// camKeyFor makes a static chip authentication key on the curve of an
// ECDH parameter id: PKCS#8 from crypto/x509 for the NIST curves it
// knows, SEC 1 naming the curve otherwise. It returns the key file and
// the public key PK_IC.
func camKeyFor(t testing.TB, id int) (der, pub []byte) {
	t.Helper()
	d, err := pace.DomainByParameterID(id)
	if err != nil {
		t.Fatal(err)
	}
	nist := map[int]elliptic.Curve{10: elliptic.P224(), 12: elliptic.P256(), 15: elliptic.P384(), 18: elliptic.P521()}
	if c, ok := nist[id]; ok {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		sk, _ := k.Bytes()
		pub, err := d.PublicKey(sk, nil)
		if err != nil {
			t.Fatal(err)
		}
		return der, pub
	}
	oids := map[int]asn1.ObjectIdentifier{
		8: {1, 2, 840, 10045, 3, 1, 1}, 9: {1, 3, 36, 3, 3, 2, 8, 1, 1, 3}, 11: {1, 3, 36, 3, 3, 2, 8, 1, 1, 5},
		13: {1, 3, 36, 3, 3, 2, 8, 1, 1, 7}, 14: {1, 3, 36, 3, 3, 2, 8, 1, 1, 9}, 16: {1, 3, 36, 3, 3, 2, 8, 1, 1, 11},
		17: {1, 3, 36, 3, 3, 2, 8, 1, 1, 13},
	}
	sk, pub, err := d.GenerateKey(rand.Reader, nil)
	if err != nil {
		t.Fatal(err)
	}
	der, err = asn1.Marshal(struct {
		Version    int
		PrivateKey []byte
		Curve      asn1.ObjectIdentifier `asn1:"explicit,tag:0"`
	}{1, sk, oids[id]})
	if err != nil {
		t.Fatal(err)
	}
	return der, pub
}

// paceTerm runs PACE step by step against a chip.
type paceTerm struct {
	t     testing.TB
	c     *Chip
	proto lds.Protocol
	d     pace.Domain
	ci    smcrypto.Cipher
	kpi   []byte
	ref   byte
	param bool // send DO84
	ext   bool // extended-length APDUs (DH-2048)
	rnd   io.Reader
	// Terminal values fixed by a worked example; nil: random.
	fixSKMap, fixT, fixSK []byte
	camPK                 []byte // PK_IC from EF.CardSecurity, for the CAM check

	s, pkMapIFD, pkMapIC, gen, sk, pkIFD, pkIC, ksenc, ksmac, tIC, aIC, caIC []byte
	cars                                                                     [][]byte
}

func newPACETerm(t testing.TB, c *Chip, p lds.Protocol, id int, pw string, ref byte) *paceTerm {
	t.Helper()
	d, err := pace.DomainByParameterID(id)
	if err != nil {
		t.Fatal(err)
	}
	ci := p.Cipher()
	var kpi []byte
	if ref == 2 {
		kpi, err = pace.KeyFromCAN(pw, ci)
	} else {
		kpi, err = pace.KeyFromMRZ(pw, ci)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &paceTerm{t: t, c: c, proto: p, d: d, ci: ci, kpi: kpi, ref: ref, param: true,
		ext: d.ElementLen() > 200, rnd: rand.Reader}
}

// oidValue is the content octets of p's OID (DO80 of MSE:Set AT).
func oidValue(t testing.TB, p lds.Protocol) []byte {
	der, err := asn1.Marshal(p.OID())
	if err != nil {
		t.Fatal(err)
	}
	return der[2:]
}

func (pt *paceTerm) mseAPDU() []byte {
	data := appendDO(nil, 0x80, oidValue(pt.t, pt.proto))
	data = appendDO(data, 0x83, []byte{pt.ref})
	if pt.param {
		data = appendDO(data, 0x84, []byte{byte(pt.d.ParameterID())})
	}
	return append([]byte{0x00, 0x22, 0xC1, 0xA4, byte(len(data))}, data...)
}

func (pt *paceTerm) mse() uint16 {
	return swOf(txb(pt.t, pt.c, pt.mseAPDU()))
}

// gaAPDU builds a GENERAL AUTHENTICATE with 7C{tag v} (7C00 for tag 0),
// CLA 10 unless last.
func gaAPDU(cla byte, tg byte, v []byte, ext bool) []byte {
	var inner []byte
	if tg != 0 {
		inner = appendDO(nil, tg, v)
	}
	data := appendDO(nil, 0x7C, inner)
	h := []byte{cla, 0x86, 0x00, 0x00}
	if ext {
		out := append(h, 0x00, byte(len(data)>>8), byte(len(data)))
		return append(append(out, data...), 0x00, 0x00)
	}
	return append(append(append(h, byte(len(data))), data...), 0x00)
}

// ga sends one step and returns the objects of the 7C answer, or the
// status word alone on an error.
func (pt *paceTerm) ga(last bool, tg byte, v []byte) (map[byte][]byte, uint16) {
	pt.t.Helper()
	cla := byte(0x10)
	if last {
		cla = 0x00
	}
	r := txb(pt.t, pt.c, gaAPDU(cla, tg, v, pt.ext))
	sw := swOf(r)
	if sw != 0x9000 {
		if len(r) != 2 {
			pt.t.Fatalf("GA %02X: error %04X with data %X", tg, sw, r)
		}
		return nil, sw
	}
	return parseDynAuth(pt.t, r[:len(r)-2]), sw
}

// parseDynAuth reads 7C{...} with DER's rules; tags must not repeat.
func parseDynAuth(t testing.TB, b []byte) map[byte][]byte {
	t.Helper()
	s := cryptobyte.String(b)
	var inner cryptobyte.String
	if !s.ReadASN1(&inner, cbasn1.Tag(0x7C)) || !s.Empty() {
		t.Fatalf("response %X is not one 7C template", b)
	}
	out := map[byte][]byte{}
	for !inner.Empty() {
		var v cryptobyte.String
		var tg cbasn1.Tag
		if !inner.ReadAnyASN1(&v, &tg) {
			t.Fatalf("malformed object in %X", b)
		}
		if _, dup := out[byte(tg)]; dup {
			t.Fatalf("tag %02X twice in %X", byte(tg), b)
		}
		out[byte(tg)] = []byte(v)
	}
	return out
}

func (pt *paceTerm) ga1() uint16 {
	pt.t.Helper()
	objs, sw := pt.ga(false, 0, nil)
	if sw != 0x9000 {
		return sw
	}
	if len(objs) != 1 || objs[0x80] == nil {
		pt.t.Fatalf("GA1 answer %v: want 7C{80 z}", objs)
	}
	s, err := pace.DecryptNonce(pt.ci, pt.kpi, objs[0x80])
	if err != nil {
		pt.t.Fatal(err)
	}
	pt.s = s
	return sw
}

func (pt *paceTerm) ga2() uint16 {
	pt.t.Helper()
	if pt.proto.Mapping() == lds.MappingIM {
		tn := pt.fixT
		if tn == nil {
			tn = make([]byte, pt.ci.KeySize())
			io.ReadFull(pt.rnd, tn)
		}
		objs, sw := pt.ga(false, 0x81, tn)
		if sw != 0x9000 {
			return sw
		}
		if len(objs) != 0 {
			pt.t.Fatalf("IM GA2 answer %v: want 7C00", objs)
		}
		gen, err := pace.IntegratedGenerator(pt.d, pt.ci, pt.s, tn)
		if err != nil {
			pt.t.Fatal(err)
		}
		pt.gen = gen
		return sw
	}
	var sk, pk []byte
	var err error
	if pt.fixSKMap != nil {
		sk = pt.fixSKMap
		pk, err = pt.d.PublicKey(sk, nil)
	} else {
		sk, pk, err = pt.d.GenerateKey(pt.rnd, nil)
	}
	if err != nil {
		pt.t.Fatal(err)
	}
	pt.pkMapIFD = pk
	objs, sw := pt.ga(false, 0x81, pk)
	if sw != 0x9000 {
		return sw
	}
	if len(objs) != 1 || objs[0x82] == nil {
		pt.t.Fatalf("GM GA2 answer %v: want 7C{82 PK_map,IC}", objs)
	}
	pt.pkMapIC = objs[0x82]
	if len(pt.pkMapIC) != pt.d.ElementLen() {
		pt.t.Fatalf("PK_map,IC of %d bytes, want the fixed %d", len(pt.pkMapIC), pt.d.ElementLen())
	}
	h, err := pt.d.Agree(sk, pt.pkMapIC)
	if err != nil {
		pt.t.Fatal(err)
	}
	if pt.gen, err = pt.d.MapGeneric(pt.s, h); err != nil {
		pt.t.Fatal(err)
	}
	return sw
}

func (pt *paceTerm) ga3() uint16 {
	pt.t.Helper()
	var err error
	if pt.fixSK != nil {
		pt.sk = pt.fixSK
		pt.pkIFD, err = pt.d.PublicKey(pt.sk, pt.gen)
	} else {
		pt.sk, pt.pkIFD, err = pt.d.GenerateKey(pt.rnd, pt.gen)
	}
	if err != nil {
		pt.t.Fatal(err)
	}
	objs, sw := pt.ga(false, 0x83, pt.pkIFD)
	if sw != 0x9000 {
		return sw
	}
	if len(objs) != 1 || objs[0x84] == nil {
		pt.t.Fatalf("GA3 answer %v: want 7C{84 PK_IC}", objs)
	}
	pt.pkIC = objs[0x84]
	if len(pt.pkIC) != pt.d.ElementLen() {
		pt.t.Fatalf("PK_IC of %d bytes, want the fixed %d", len(pt.pkIC), pt.d.ElementLen())
	}
	if bytes.Equal(pt.pkIC, pt.pkIFD) {
		pt.t.Fatal("PK_IC = PK_IFD") // §4.4.3.4: the terminal's own check
	}
	k, err := pt.d.SharedSecret(pt.sk, pt.pkIC)
	if err != nil {
		pt.t.Fatal(err)
	}
	if pt.ksenc, pt.ksmac, err = pace.SessionKeys(pt.ci, k); err != nil {
		pt.t.Fatal(err)
	}
	return sw
}

// tokenIFD is T_IFD over PK_IC.
func (pt *paceTerm) tokenIFD() []byte {
	tk, err := pace.Token(pt.ci, pt.ksmac, pt.proto.OID(), pt.pkIC, pt.d.KeyAgreement())
	if err != nil {
		pt.t.Fatal(err)
	}
	return tk
}

func (pt *paceTerm) ga4With(tIFD []byte) uint16 {
	pt.t.Helper()
	objs, sw := pt.ga(true, 0x85, tIFD)
	if sw != 0x9000 {
		return sw
	}
	pt.tIC = objs[0x86]
	if err := pace.VerifyToken(pt.ci, pt.ksmac, pt.proto.OID(), pt.pkIFD, pt.d.KeyAgreement(), pt.tIC); err != nil {
		pt.t.Fatalf("T_IC %X: %v", pt.tIC, err)
	}
	for _, tg := range []byte{0x87, 0x88} {
		if car, ok := objs[tg]; ok {
			pt.cars = append(pt.cars, car)
		}
	}
	pt.aIC = objs[0x8A]
	if (pt.aIC != nil) != (pt.proto.Mapping() == lds.MappingCAM) {
		pt.t.Fatalf("DO8A present %v for %v", pt.aIC != nil, pt.proto)
	}
	for tg := range objs {
		if tg != 0x86 && tg != 0x87 && tg != 0x88 && tg != 0x8A {
			pt.t.Fatalf("unexpected DO%02X in GA4 answer", tg)
		}
	}
	if pt.aIC != nil {
		ca, err := pace.DecryptCAMData(pt.ci, pt.ksenc, pt.aIC)
		if err != nil {
			pt.t.Fatal(err)
		}
		pt.caIC = ca
		if pt.camPK != nil {
			if err := pace.VerifyCAM(pt.d, ca, pt.camPK, pt.pkMapIC); err != nil {
				pt.t.Fatalf("CAM check: %v", err)
			}
		}
	}
	return sw
}

func (pt *paceTerm) ga4() uint16 { return pt.ga4With(pt.tokenIFD()) }

// run performs the whole protocol, failing the test on any refusal, and
// returns the secure messaging session it set up.
func (pt *paceTerm) run() *term {
	pt.t.Helper()
	for i, step := range []func() uint16{pt.mse, pt.ga1, pt.ga2, pt.ga3, pt.ga4} {
		if sw := step(); sw != 0x9000 {
			pt.t.Fatalf("%v: step %d answered %04X", pt.proto, i, sw)
		}
	}
	return pt.session()
}

func (pt *paceTerm) session() *term {
	return &term{ci: pt.ci, kenc: pt.ksenc, kmac: pt.ksmac, ssc: make([]byte, pt.ci.BlockSize())}
}

// readAfterPACE checks the session: the application's EF.COM and the
// master file's EF.CardSecurity are readable under secure messaging.
func readAfterPACE(t testing.TB, c *Chip, tm *term) {
	t.Helper()
	if d, sw := tm.sm(t, c, "00B09D00", nil, 8); sw != 0x9000 || !bytes.Equal(d, pattern(120)[:8]) {
		t.Fatalf("EF.CardSecurity after PACE: %X %04X", d, sw)
	}
	if _, sw := tm.sm(t, c, "00A4040C", hx(t, "A0000002471001"), -1); sw != 0x9000 {
		t.Fatalf("SELECT eMRTD after PACE: %04X", sw)
	}
	if d, sw := tm.sm(t, c, "00B09E00", nil, 4); sw != 0x9000 || up(d) != "60145F01" {
		t.Fatalf("EF.COM after PACE: %X %04X", d, sw)
	}
}

// seqReader serves fixed bytes, then fails: a chip that draws more
// randomness than the worked example has is caught.
func seqReader(t testing.TB, parts ...string) io.Reader {
	var b []byte
	for _, p := range parts {
		b = append(b, hx(t, p)...)
	}
	return io.MultiReader(bytes.NewReader(b), errReader{})
}

type errReader struct{}

func randReader() io.Reader { return rand.Reader }

// appLocked checks that the application's files are refused without
// secure messaging.
func appLocked(t testing.TB, c *Chip) {
	t.Helper()
	if got := tx(t, c, selectApp); got != "9000" {
		t.Fatalf("SELECT eMRTD: %s", got)
	}
	if got := tx(t, c, "00B09E0004"); got != "6982" {
		t.Fatalf("EF.COM without secure messaging: %s", got)
	}
}

func (errReader) Read([]byte) (int, error) { return 0, fmt.Errorf("randomness exhausted") }

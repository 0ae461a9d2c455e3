package pace

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"math/big"
	"testing"

	"borderid/internal/dh"
	"borderid/internal/ec"
	"borderid/internal/smcrypto"
)

func TestDomainTable(t *testing.T) {
	want := map[int]struct {
		name string
		ka   KeyAgreement
		bits int
	}{
		0: {"DH-1024/160", DH, 1024}, 1: {"DH-2048/224", DH, 2048}, 2: {"DH-2048/256", DH, 2048},
		8: {"P-192", ECDH, 192}, 9: {"brainpoolP192r1", ECDH, 192}, 10: {"P-224", ECDH, 224},
		11: {"brainpoolP224r1", ECDH, 224}, 12: {"P-256", ECDH, 256}, 13: {"brainpoolP256r1", ECDH, 256},
		14: {"brainpoolP320r1", ECDH, 320}, 15: {"P-384", ECDH, 384}, 16: {"brainpoolP384r1", ECDH, 384},
		17: {"brainpoolP512r1", ECDH, 512}, 18: {"P-521", ECDH, 521},
	}
	for _, id := range ParameterIDs() {
		d := domain(t, id)
		w := want[id]
		if d.Name() != w.name || d.KeyAgreement() != w.ka || d.PrimeBits() != w.bits || d.ParameterID() != id {
			t.Errorf("id %d: %s %s %d", id, d.Name(), d.KeyAgreement(), d.PrimeBits())
		}
		if len(d.Prime()) != (w.bits+7)/8 || len(d.Order()) != d.ScalarLen() {
			t.Errorf("id %d: prime %d bytes, order %d bytes", id, len(d.Prime()), len(d.Order()))
		}
		if err := d.ValidatePublic(d.Generator()); err != nil || len(d.Generator()) != d.ElementLen() {
			t.Errorf("id %d: generator: %v", id, err)
		}
	}
	if len(want) != len(ParameterIDs()) {
		t.Error("ParameterIDs and the table disagree")
	}
	for _, id := range []int{-1, 3, 4, 5, 6, 7, 19, 31, 1 << 20} {
		if _, err := DomainByParameterID(id); !errors.Is(err, ErrUnknownParameterID) {
			t.Errorf("id %d: %v", id, err)
		}
	}
	if ECDH.String() != "ECDH" || DH.String() != "DH" || KeyAgreement(9).String() == "" {
		t.Error("KeyAgreement.String")
	}
}

// session runs a whole PACE key agreement between a terminal and a chip on d
// with the given mapping, through the Domain interface only, and checks that
// both sides end with the same keys and accept each other's tokens.
func session(t *testing.T, d Domain, c smcrypto.Cipher, integrated bool) {
	t.Helper()
	kpi := must(t)(KeyFromCAN("123456", c))
	// s is one AES block, or as long as the key where one block is too
	// short to give R's first key (3DES: two blocks; AES-192/256: 32 bytes).
	sChip := make([]byte, max(16, c.KeySize()+(c.BlockSize()-c.KeySize()%c.BlockSize())%c.BlockSize()))
	rand.Read(sChip)
	z := must(t)(EncryptNonce(c, kpi, sChip))
	s := must(t)(DecryptNonce(c, kpi, z))
	var genIFD, genIC []byte
	if integrated {
		tn := make([]byte, c.KeySize())
		rand.Read(tn)
		genIFD = must(t)(IntegratedGenerator(d, c, s, tn))
		genIC = must(t)(IntegratedGenerator(d, c, sChip, tn))
	} else {
		a, A, err := d.GenerateKey(rand.Reader, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, B, err := d.GenerateKey(rand.Reader, nil)
		if err != nil {
			t.Fatal(err)
		}
		genIFD = must(t)(d.MapGeneric(s, must(t)(d.Agree(a, B))))
		genIC = must(t)(d.MapGeneric(sChip, must(t)(d.Agree(b, A))))
	}
	if !bytes.Equal(genIFD, genIC) || len(genIFD) != d.ElementLen() {
		t.Fatalf("%s: generators differ", d.Name())
	}
	x, X, err := d.GenerateKey(rand.Reader, genIFD)
	if err != nil {
		t.Fatal(err)
	}
	y, Y, err := d.GenerateKey(rand.Reader, genIC)
	if err != nil {
		t.Fatal(err)
	}
	if len(x) != d.ScalarLen() || len(X) != d.ElementLen() {
		t.Fatalf("%s: key lengths %d, %d", d.Name(), len(x), len(X))
	}
	k1 := must(t)(d.SharedSecret(x, Y))
	k2 := must(t)(d.SharedSecret(y, X))
	if !bytes.Equal(k1, k2) {
		t.Fatalf("%s: K differs", d.Name())
	}
	enc, mac, err := SessionKeys(c, k1)
	if err != nil || len(enc) != c.KeySize() || len(mac) != c.KeySize() {
		t.Fatalf("session keys: %v", err)
	}
	tIFD := must(t)(Token(c, mac, oidECDHGMAES128, Y, d.KeyAgreement()))
	if err := VerifyToken(c, mac, oidECDHGMAES128, Y, d.KeyAgreement(), tIFD); err != nil {
		t.Fatal(err)
	}
	if err := VerifyToken(c, mac, oidECDHGMAES128, X, d.KeyAgreement(), tIFD); !errors.Is(err, ErrToken) {
		t.Fatalf("token over the wrong key: %v", err)
	}
}

// TestSessions runs GM and IM on every standardized domain (IM with every
// cipher on brainpoolP256r1 and the 1024-bit group). -short keeps the
// smaller domains only.
func TestSessions(t *testing.T) {
	for _, id := range ParameterIDs() {
		d := domain(t, id)
		if testing.Short() && d.PrimeBits() > 1024 && d.KeyAgreement() == DH {
			continue
		}
		t.Run(d.Name(), func(t *testing.T) {
			session(t, d, smcrypto.AES128, false)
			session(t, d, smcrypto.AES128, true)
		})
	}
	for _, id := range []int{0, 13} {
		d := domain(t, id)
		for _, c := range []smcrypto.Cipher{smcrypto.TDES, smcrypto.AES192, smcrypto.AES256} {
			t.Run(d.Name()+"/"+c.String(), func(t *testing.T) { session(t, d, c, true) })
		}
	}
}

// TestFixedLengthSecret is the property of issue 3: an ECDH shared secret
// whose x-coordinate starts with a zero byte keeps it, agrees with the
// standard library's P-256 ECDH, and gives other session keys than the
// shortened value would. To find such a pair cheaply it walks B_j = B + j·G,
// whose shared point a·B_j = a·B + j·A moves by one addition per step.
func TestFixedLengthSecret(t *testing.T) {
	d := domain(t, 12)
	c := ec.P256()
	a, A, err := d.GenerateKey(rand.Reader, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, B, err := d.GenerateKey(rand.Reader, nil)
	if err != nil {
		t.Fatal(err)
	}
	ap, _ := c.NewPoint(A)
	bp, _ := c.NewPoint(B)
	shared, _ := c.NewPoint(must(t)(d.Agree(a, B)))
	for range 20000 {
		if x := shared.X(); x != nil && x[0] == 0 {
			k := must(t)(d.SharedSecret(a, bp.Bytes()))
			if len(k) != 32 || !bytes.Equal(k, x) {
				t.Fatalf("K = %X, want %X", k, x)
			}
			sa, err := ecdh.P256().NewPrivateKey(a)
			if err != nil {
				t.Fatal(err)
			}
			pb, err := ecdh.P256().NewPublicKey(bp.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if std, err := sa.ECDH(pb); err != nil || !bytes.Equal(std, k) {
				t.Fatalf("crypto/ecdh: %X, ours %X", std, k)
			}
			e1, _, _ := SessionKeys(smcrypto.AES128, k)
			e2, _, _ := SessionKeys(smcrypto.AES128, k[1:])
			if bytes.Equal(e1, e2) {
				t.Fatal("dropping the leading zero did not change KSenc")
			}
			// The agreed point and Comp of a public key with x < 2^248 keep
			// the zero too.
			if pt := must(t)(d.Agree(a, bp.Bytes())); len(pt) != 65 || pt[1] != 0 {
				t.Fatalf("Agree: %X", pt)
			}
			if cp := must(t)(d.Comp(shared.Bytes())); len(cp) != 32 || cp[0] != 0 {
				t.Fatalf("Comp: %X", cp)
			}
			return
		}
		bp = c.Add(bp, c.Generator())
		shared = c.Add(shared, ap)
	}
	t.Fatal("no x-coordinate with a zero top byte in 20000 steps")
}

// TestFixedLengthDH: a DH shared secret below 2^(8·(ByteLen-1)) keeps its
// leading zero and so its length (dh tests the group itself; this checks
// the Domain passes it through).
func TestFixedLengthDH(t *testing.T) {
	d := domain(t, 0)
	g := new(big.Int).SetBytes(d.Generator())
	p := new(big.Int).SetBytes(d.Prime())
	x := new(big.Int).Set(g)
	limit := new(big.Int).Lsh(big.NewInt(1), 8*127)
	for e := int64(1); e < 5000; e++ {
		if x.Cmp(limit) < 0 {
			priv := big.NewInt(e).FillBytes(make([]byte, d.ScalarLen()))
			k := must(t)(d.SharedSecret(priv, d.Generator()))
			if len(k) != 128 || k[0] != 0 {
				t.Fatalf("K = %X", k)
			}
			return
		}
		x.Mul(x, g).Mod(x, p)
	}
	t.Skip("no small power of g below 2^1016")
}

func TestDomainRefusals(t *testing.T) {
	ecd := domain(t, 13)
	c := ec.BrainpoolP256r1()
	pub := hx(t, g1.pkIC)
	offCurve := clone(pub)
	offCurve[64] ^= 1
	badPoints := map[string][]byte{
		"empty":            {},
		"infinity":         {0},
		"off the curve":    offCurve,
		"compressed":       must(t)(func() ([]byte, error) { p, err := c.NewPoint(pub); return p.BytesCompressed(), err }()),
		"truncated":        pub[:64],
		"x ≥ p":            append(append([]byte{4}, ecd.Prime()...), pub[33:]...),
		"other curve (P)":  domain(t, 12).Generator(),
		"hybrid prefix 06": append([]byte{6}, pub[1:]...),
	}
	for name, p := range badPoints {
		if err := ecd.ValidatePublic(p); !errors.Is(err, ec.ErrInvalidPoint) {
			t.Errorf("ValidatePublic(%s) = %v", name, err)
		}
		if _, err := ecd.SharedSecret(hx(t, g1.skIFD), p); err == nil {
			t.Errorf("SharedSecret(%s) accepted", name)
		}
		if _, err := ecd.MapGeneric(hx(t, g1.s), p); err == nil {
			t.Errorf("MapGeneric(H=%s) accepted", name)
		}
		if _, _, err := ecd.GenerateKey(rand.Reader, p); err == nil {
			t.Errorf("GenerateKey(gen=%s) accepted", name)
		}
		if _, err := ecd.Comp(p); err == nil {
			t.Errorf("Comp(%s) accepted", name)
		}
	}
	n := ecd.Order()
	badScalars := map[string][]byte{"zero": make([]byte, 32), "n": n, "ones": bytes.Repeat([]byte{0xff}, 32), "short": n[1:], "long": append([]byte{0}, hx(t, g1.skIFD)...)}
	for name, k := range badScalars {
		if _, err := ecd.SharedSecret(k, pub); !errors.Is(err, ec.ErrInvalidScalar) {
			t.Errorf("SharedSecret(priv=%s) = %v", name, err)
		}
		if _, err := ecd.PublicKey(k, nil); !errors.Is(err, ec.ErrInvalidScalar) {
			t.Errorf("PublicKey(priv=%s) = %v", name, err)
		}
	}
	// Ĝ = O: H = −s·G.
	s := hx(t, g1.s)
	sg, _ := c.ScalarBaseMult(s)
	if _, err := ecd.MapGeneric(s, c.Neg(sg).Bytes()); !errors.Is(err, ErrMapping) {
		t.Errorf("MapGeneric to O = %v", err)
	}
	if _, err := ecd.MapIntegrated(ecd.Prime()); err == nil {
		t.Error("MapIntegrated(R_p = p) accepted")
	}
	if _, err := ecd.MapIntegrated(make([]byte, 31)); err == nil {
		t.Error("MapIntegrated with a short R_p accepted")
	}

	dhd := domain(t, 0)
	p := new(big.Int).SetBytes(dhd.Prime())
	fixed := func(x *big.Int) []byte { return x.FillBytes(make([]byte, 128)) }
	badDH := map[string][]byte{
		"zero": fixed(big.NewInt(0)), "one": fixed(big.NewInt(1)),
		"p-1 (order 2)": fixed(new(big.Int).Sub(p, big.NewInt(1))), "p": dhd.Prime(),
		"short (127 bytes)": hx(t, g2.pkIC)[1:], "long": append([]byte{0}, hx(t, g2.pkIC)...),
		"not in subgroup": fixed(big.NewInt(2)),
	}
	for name, y := range badDH {
		if err := dhd.ValidatePublic(y); !errors.Is(err, dh.ErrInvalidPublic) {
			t.Errorf("DH ValidatePublic(%s) = %v", name, err)
		}
		if _, err := dhd.SharedSecret(hx(t, g2.skIFD), y); !errors.Is(err, dh.ErrInvalidPublic) {
			t.Errorf("DH SharedSecret(%s) = %v", name, err)
		}
		if _, err := dhd.Comp(y); err == nil {
			t.Errorf("DH Comp(%s) accepted", name)
		}
	}
	for name, rp := range map[string][]byte{"zero": fixed(big.NewInt(0)), "one": fixed(big.NewInt(1))} {
		if _, err := dhd.MapIntegrated(rp); !errors.Is(err, ErrMapping) {
			t.Errorf("DH MapIntegrated(%s) = %v", name, err)
		}
	}
}

func TestPRFRefusals(t *testing.T) {
	s, tn := hx(t, h1.s), hx(t, h1.t)
	cases := []struct {
		name  string
		c     smcrypto.Cipher
		s, t  []byte
		pBits int
	}{
		{"t short", smcrypto.AES128, s, tn[:15], 256},
		{"t long for AES-128", smcrypto.AES128, s, append(tn, 0), 256},
		{"s empty", smcrypto.AES128, nil, tn, 256},
		{"s not a block multiple", smcrypto.AES128, s[:15], tn, 256},
		{"s too short for a 3DES key", smcrypto.TDES, s[:8], tn, 256},
		{"s too short for an AES-256 key", smcrypto.AES256, s, append(tn, tn...), 256},
		{"no prime", smcrypto.AES128, s, tn, 0},
		{"unknown cipher", smcrypto.Cipher(7), s, tn, 256},
	}
	for _, c := range cases {
		if _, err := PRF(c.c, c.s, c.t, c.pBits); err == nil {
			t.Errorf("PRF(%s) accepted", c.name)
		}
	}
	// Output lengths: n·l bits with n = ⌈(log₂ p + 64)/l⌉.
	for _, c := range []struct {
		c     smcrypto.Cipher
		sLen  int
		pBits int
		want  int
	}{
		{smcrypto.AES128, 16, 256, 48}, {smcrypto.AES128, 16, 1024, 144}, {smcrypto.AES128, 16, 521, 80},
		{smcrypto.TDES, 16, 256, 40}, {smcrypto.AES192, 32, 384, 64}, {smcrypto.AES256, 32, 2048, 272},
	} {
		r, err := PRF(c.c, make([]byte, c.sLen), make([]byte, c.c.KeySize()), c.pBits)
		if err != nil || len(r) != c.want {
			t.Errorf("%v/%d: %d bytes, %v", c.c, c.pBits, len(r), err)
		}
	}
}

func TestTokenRefusals(t *testing.T) {
	c := smcrypto.AES128
	mac := hx(t, g1.ksmac)
	pkIC := hx(t, g1.pkIC)
	if err := VerifyToken(c, mac, oidECDHGMAES128, pkIC, ECDH, hx(t, "C2B0BD78D94BA867")); !errors.Is(err, ErrToken) {
		t.Errorf("wrong token: %v", err)
	}
	if err := VerifyToken(c, mac, oidECDHIMAES128, pkIC, ECDH, hx(t, g1.tIFD)); !errors.Is(err, ErrToken) {
		t.Errorf("token under another OID: %v", err)
	}
	if err := VerifyToken(c, mac, oidECDHGMAES128, pkIC, ECDH, nil); !errors.Is(err, ErrToken) {
		t.Errorf("empty token: %v", err)
	}
	for name, args := range map[string]struct {
		pub []byte
		ka  KeyAgreement
	}{
		"compressed EC": {append([]byte{2}, pkIC[1:33]...), ECDH}, "EC without prefix": {pkIC[1:], ECDH}, "empty DH": {nil, DH},
		"no family": {pkIC, KeyAgreement(0)}, "huge": {make([]byte, 5001), DH},
	} {
		if _, err := Token(c, mac, oidECDHGMAES128, args.pub, args.ka); err == nil {
			t.Errorf("Token(%s) accepted", name)
		}
	}
	if _, err := EncodePublicKeyDO(nil, pkIC, ECDH); err == nil {
		t.Error("empty OID accepted")
	}
	if _, err := Token(c, mac[:8], oidECDHGMAES128, pkIC, ECDH); err == nil {
		t.Error("short KSmac accepted")
	}
	// 3DES tokens are the retail MAC over the padded object.
	k3 := hx(t, "F1CB1F1FB5ADF208806B89DC579DC1F8")
	do := must(t)(EncodePublicKeyDO(oidECDHGMAES128, pkIC, ECDH))
	if got := must(t)(Token(smcrypto.TDES, k3, oidECDHGMAES128, pkIC, ECDH)); !bytes.Equal(got, must(t)(smcrypto.RetailMAC(k3, do))) {
		t.Error("3DES token is not the retail MAC")
	}
	// DER lengths across the 0x7F/0x80 and 0xFF/0x100 boundaries.
	for _, n := range []int{100, 115, 116, 240, 243, 244, 1000} {
		pub := make([]byte, n)
		pub[0] = 1
		do := must(t)(EncodePublicKeyDO(oidDHGMAES128, pub, DH))
		if !bytes.HasSuffix(do, pub) || do[0] != 0x7F || do[1] != 0x49 {
			t.Fatalf("%d: %X", n, do[:8])
		}
		inner := n + 12 + 1 + derLen(n)
		if got := len(do) - 2 - derLen(inner); got != inner {
			t.Errorf("%d: inner %d, want %d", n, got, inner)
		}
	}
}

func derLen(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n < 0x100:
		return 2
	}
	return 3
}

// TestCAMRoundTrip: the chip computes CA_IC from its keys, encrypts it; the
// terminal decrypts and checks KA(CA_IC, PK_IC) = PK_map,IC.
func TestCAMRoundTrip(t *testing.T) {
	for _, id := range []int{13, 12, 18} {
		d := domain(t, id)
		skIC, pkIC, err := d.GenerateKey(rand.Reader, nil) // static key (EF.CardSecurity)
		if err != nil {
			t.Fatal(err)
		}
		skMap, pkMap, err := d.GenerateKey(rand.Reader, nil)
		if err != nil {
			t.Fatal(err)
		}
		ca := must(t)(CAMChipData(d, skMap, skIC))
		if len(ca) != d.ScalarLen() {
			t.Fatalf("CA_IC of %d bytes", len(ca))
		}
		for _, c := range []smcrypto.Cipher{smcrypto.AES128, smcrypto.AES192, smcrypto.AES256} {
			ksenc := make([]byte, c.KeySize())
			rand.Read(ksenc)
			a := must(t)(EncryptCAMData(c, ksenc, ca))
			got := must(t)(DecryptCAMData(c, ksenc, a))
			if err := VerifyCAM(d, got, pkIC, pkMap); err != nil {
				t.Fatalf("%s/%v: %v", d.Name(), c, err)
			}
		}
		// Refusals: another static key, another mapping key, a tweaked CA_IC.
		_, other, _ := d.GenerateKey(rand.Reader, nil)
		if err := VerifyCAM(d, ca, other, pkMap); !errors.Is(err, ErrCAM) {
			t.Errorf("wrong PK_IC: %v", err)
		}
		if err := VerifyCAM(d, ca, pkIC, other); !errors.Is(err, ErrCAM) {
			t.Errorf("wrong PK_map,IC: %v", err)
		}
		bad := clone(ca)
		bad[len(bad)-1] ^= 1
		if err := VerifyCAM(d, bad, pkIC, pkMap); !errors.Is(err, ErrCAM) {
			t.Errorf("tweaked CA_IC: %v", err)
		}
		for name, v := range map[string][]byte{"zero": make([]byte, d.ScalarLen()), "n": d.Order(), "short": ca[1:], "empty": nil} {
			if err := VerifyCAM(d, v, pkIC, pkMap); !errors.Is(err, ErrCAM) {
				t.Errorf("CA_IC %s: %v", name, err)
			}
		}
		if err := VerifyCAM(d, ca, []byte{0}, pkMap); !errors.Is(err, ErrCAM) {
			t.Errorf("PK_IC at infinity: %v", err)
		}
	}
	dhd := domain(t, 0)
	if _, err := CAMChipData(dhd, make([]byte, 20), make([]byte, 20)); err == nil {
		t.Error("CAM on DH accepted")
	}
	if err := VerifyCAM(dhd, nil, nil, nil); !errors.Is(err, ErrCAM) {
		t.Error("CAM check on DH accepted")
	}
	d := domain(t, 13)
	if _, err := CAMChipData(d, make([]byte, 32), hx(t, g1.skIC)); err == nil {
		t.Error("zero mapping key accepted")
	}
	if _, err := CAMChipData(d, hx(t, g1.skIC), d.Order()); err == nil {
		t.Error("static key n accepted")
	}
}

// A nil random source is an error, never a panic, in every family.
func TestGenerateKeyNilRandom(t *testing.T) {
	for _, id := range ParameterIDs() {
		d, err := DomainByParameterID(id)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := d.GenerateKey(nil, nil); err == nil {
			t.Errorf("parameter id %d: no error for a nil random source", id)
		}
	}
}

package dh

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"
)

func h(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func groups() []*Group {
	return []*Group{RFC5114_1024_160(), RFC5114_2048_224(), RFC5114_2048_256()}
}

// TestGroupParameters re-checks the built-in constants: p and q prime,
// q | p-1, g of order q, and the sizes the names promise.
func TestGroupParameters(t *testing.T) {
	want := map[string][2]int{"DH-1024/160": {1024, 160}, "DH-2048/224": {2048, 224}, "DH-2048/256": {2048, 256}}
	for _, g := range groups() {
		p, q, gen := new(big.Int).SetBytes(g.P()), new(big.Int).SetBytes(g.Q()), new(big.Int).SetBytes(g.Generator())
		sz, ok := want[g.Name()]
		if !ok || p.BitLen() != sz[0] || q.BitLen() != sz[1] || g.BitLen() != sz[0] || g.ByteLen() != sz[0]/8 {
			t.Errorf("%s: sizes %d/%d", g.Name(), p.BitLen(), q.BitLen())
		}
		if !p.ProbablyPrime(20) || !q.ProbablyPrime(20) {
			t.Errorf("%s: p or q not prime", g.Name())
		}
		if new(big.Int).Mod(new(big.Int).Sub(p, big.NewInt(1)), q).Sign() != 0 {
			t.Errorf("%s: q does not divide p-1", g.Name())
		}
		if new(big.Int).Exp(gen, q, p).Cmp(big.NewInt(1)) != 0 {
			t.Errorf("%s: g^q != 1", g.Name())
		}
		if g.String() != g.Name() {
			t.Errorf("String %q", g.String())
		}
	}
}

// ICAO 9303-11 App. G.2 (generic mapping, DH 1024/160), byte for byte.
const (
	g2S        = "FA5B7E3E49753A0DB9178B7B9BD898C8"
	g2SKMapIFD = "5265030F751F4AD18B08AC565FC7AC952E41618D"
	g2PKMapIFD = "23FB3749EA030D2A25B278D2A562047ADE3F01B74F17A15402CB7352CA7D2B3EB71C343DB13D1DEBCE9A3666DBCFC920B49174A602CB47965CAA73DC702489A44D41DB914DE9613DC5E98C94160551C0DF86274B9359BC0490D01B03AD54022DCB4F57FAD6322497D7A1E28D46710F461AFE710FBBBC5F8BA166F4311975EC6C"
	g2SKMapIC  = "66DDAFEAC1609CB5B963BB0CB3FF8B3E047F336C"
	g2PKMapIC  = "78879F57225AA8080D52ED0FC890A4B25336F699AA89A2D3A189654AF70729E623EA5738B26381E4DA19E004706FACE7B235C2DBF2F38748312F3C98C2DD4882A41947B324AA1259AC22579DB93F7085655AF30889DBB845D9E6783FE42C9F2449400306254C8AE8EE9DD812A804C0B66E8CAFC14F84D8258950A91B44126EE6"
	g2H        = "5BABEBEF5B74E5BA94B5C063FDA15F1F1CDE94873EE0A5D3A2FCAB49F258D07F544F13CB66658C3AFEE9E727389BE3F6CBBBD32128A8C21DD6EEA3CF7091CDDFB08B8D007D40318DCCA4FFBF51208790FB4BD111E5A968ED6B6F08B26CA87C410B3CE0C310CE104EABD16629AA48620C1279270CB0750C0D37C57FFFE302AE7F"
	g2GHat     = "7C9CBFE98F9FBDDA8D143506FA7D9306F4CB17E3C71707AFF5E1C1A12370249684D64EE37AF44B8DBD9D45BF6023919CBAA027AB97ACC771666C8E98FF483301BFA4872DEDE9034EDFACB70814166B7F360676829B826BEA57291B5AD69FBC84EF1E779032A305803F74341793E869742D401325B37EE8565FFCDEE618342DC5"
	g2SKIFD    = "89CCD99B0E8D3B1F11E1296DCA68EC53411CF2CA"
	g2PKIFD    = "907D89E2D425A178AA81AF4A7774EC8E388C115CAE67031E85EECE520BD911551B9AE4D04369F29A02626C86FBC6747CC7BC352645B6161A2A42D44EDA80A08FA8D61B76D3A154AD8A5A51786B0BC07147057871A922212C5F67F43173172236B7747D1671E6D692A3C7D40A0C3C5CE397545D015C175EB5130551EDBC2EE5D4"
	g2SKIC     = "A5B780126B7C980E9FCEA1D4539DA1D27C342DFA"
	g2PKIC     = "075693D9AE941877573E634B6E644F8E60AF17A0076B8B123D9201074D36152BD8B3A213F53820C42ADC79AB5D0AEEC3AEFB91394DA476BD97B9B14D0A65C1FC71A0E019CB08AF55E1F729005FBA7E3FA5DC41899238A250767A6D46DB974064386CD456743585F8E5D90CC8B4004B1F6D866C79CE0584E49687FF61BC29AEA1"
	g2K        = "6BABC7B3A72BCD7EA385E4C62DB2625BD8613B24149E146A629311C4CA6698E38B834B6A9E9CD7184BA8834AFF5043D436950C4C1E7832367C10CB8C314D40E5990B0DF7013E64B4549E2270923D06F08CFF6BD3E977DDE6ABE4C31D55C0FA2E465E553E77BDF75E3193D3834FC26E8EB1EE2FA1E4FC97C18C3F6CFFFE2607FD"
)

// ICAO 9303-11 App. H.2 (integrated mapping, DH 1024/160).
const (
	h2R     = "EAB98D13E09052952AA729907C3C946184DEA0FE74AD2B3AF506F0A83018459C38099CD1F7FF4EA0A078DB1FAC1365505E3DC85500EF95E20B4EEF2E88489233BEE0546B472F994B618D168702406791DEEF3CB4810932EC278F3533FDB860EB4835C36FA4F1BF3FA0B828A718C96BDE88FBA38A3E6C35AAA10959251EB5FC710FC187258995944C0F926E249373F485"
	h2Rp    = "A0C7C50C002061A51CC87D254EF38068607417B6EE1B36473CFB800D2D2E5FA2B6980F01105D24FAB22ACD1BFA5C8A4C093ECDFAFE6D7125D42A843E338603835CF19AFAFF75EFE21DC5F6AA1F9AE46C25087E7368166FB08C1E4627AFED7D93570417B790FF7F747E57F432B04E1236819E0DFEF5B6E77CA4999925328182D2"
	h2GHat  = "1D7D767F11E333BCD6DBAEF40E799E7A926B96973550656FF3C830726D118D61C276CDCC61D475CF03A98E0C0E79CAEBA5BE25578BD4551D0B10903236F0B0F976852FA78EEA14EA0ACA87D1E91F688FE0DFF897BBE35A472621D343564B262F34223AE8FC59B664BFEDFA2BFE7516CA5510A6BBB633D517EC25D4E0BBAA16C2"
	h2PKIFD = "0F0CC62945A8029251FB7EF3C094E12EC68E4EF07F27CB9D9CD04C5C4250FAE0E4F8A951557E929AEB48E5C6DD47F2F5CD7C351A9BD2CD722C07EDE166770F08FFCB370262CF308DD7B07F2E0DA9CAAA1492344C852906919538C98A4BA4187E76CE9D87832386D319CE2E043C3343AEAE6EDBA1A9894DC5094D22F7FE1351D5"
	h2PKIC  = "928D9A0F9DBA450F13FC859C6F290D1D36E42431138A4378500BEB4E0401854CFF111F71CB6DC1D0335807A11388CC8EAA87B07907AAD9FBA6B169AF6D8C26AF8DDDC39ADC3AD2E3FF882B84D23E9768E95A80E4746FB07A9767679FE92133B4D379935C771BD7FBED6C7BB4B1708B275EA75679524CDC9C6A91370CC662A2F3"
	h2K     = "419410D6C0A17A4C07C54872CE1CBCEB0A2705C1A434C8A89A4CFE41F1D78124CA7EC52BDE7615E5345E48AB1ABB6E7D1D59A57F3174084D3CA4570397C1F62228BDFDB2DA191EA2239E2C060DBE3BBC23C2FCD0AF12E0F9E0B99FCF91FF1959011D5798B2FCBC1F14FCC24E441F4C8F9B08D977E9498560E63E7FFAB3134EA7"
)

func eq(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if w := h(t, want); !bytes.Equal(got, w) {
		t.Errorf("%s:\n got %X\nwant %X", what, got, w)
	}
}

func TestVectorG2(t *testing.T) {
	g := RFC5114_1024_160()
	// Both sides' mapping keys, drawn through GenerateKey from a reader that
	// returns the printed private key.
	for _, side := range []struct{ name, sk, pk string }{{"IFD", g2SKMapIFD, g2PKMapIFD}, {"IC", g2SKMapIC, g2PKMapIC}} {
		priv, pub, err := g.GenerateKey(bytes.NewReader(h(t, side.sk)), nil)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "SK_map,"+side.name, priv, side.sk)
		eq(t, "PK_map,"+side.name, pub, side.pk)
	}
	hIFD, err := g.SharedSecret(h(t, g2SKMapIFD), h(t, g2PKMapIC))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "H (terminal)", hIFD, g2H)
	hIC, err := g.SharedSecret(h(t, g2SKMapIC), h(t, g2PKMapIFD))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "H (chip)", hIC, g2H)
	ghat, err := g.MapGeneric(h(t, g2S), hIFD)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "ĝ", ghat, g2GHat)
	pkIFD, err := g.PublicKey(h(t, g2SKIFD), ghat)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "PK_IFD", pkIFD, g2PKIFD)
	_, pkIC, err := g.GenerateKey(bytes.NewReader(h(t, g2SKIC)), ghat)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "PK_IC", pkIC, g2PKIC)
	k1, err := g.SharedSecret(h(t, g2SKIFD), pkIC)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "K (terminal)", k1, g2K)
	k2, err := g.SharedSecret(h(t, g2SKIC), pkIFD)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "K (chip)", k2, g2K)
}

func TestVectorH2(t *testing.T) {
	g := RFC5114_1024_160()
	rp, err := g.ReduceModP(h(t, h2R))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "R_p", rp, h2Rp)
	ghat, err := g.MapIntegrated(rp)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "ĝ", ghat, h2GHat)
	pkIFD, err := g.PublicKey(h(t, g2SKIFD), ghat)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "PK_IFD", pkIFD, h2PKIFD)
	if err := g.ValidatePublic(h(t, h2PKIC)); err != nil {
		t.Fatalf("PK_IC: %v", err)
	}
	k, err := g.SharedSecret(h(t, g2SKIFD), h(t, h2PKIC))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "K", k, h2K)
}

// The literature's 1024-bit representative of SK_IFD (≡ the 160-bit one mod
// q) gives the same public key through the raw Exp; GenerateKey/PublicKey
// insist on the canonical range.
func TestExpNonCanonicalExponent(t *testing.T) {
	g := RFC5114_1024_160()
	ghat := h(t, g2GHat)
	q := new(big.Int).SetBytes(g.Q())
	sk := new(big.Int).SetBytes(h(t, g2SKIFD))
	long := new(big.Int).Add(sk, new(big.Int).Lsh(q, 860)) // same residue mod q, 1020 bits
	got, err := g.Exp(ghat, long.FillBytes(make([]byte, 128)))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "PK_IFD via 1024-bit exponent", got, g2PKIFD)
	if _, err := g.PublicKey(long.FillBytes(make([]byte, 128)), ghat); !errors.Is(err, ErrInvalidPrivate) {
		t.Fatalf("PublicKey with a 128-byte key: %v", err)
	}
}

func TestExpAgainstMathBig(t *testing.T) {
	for _, g := range groups() {
		p := new(big.Int).SetBytes(g.P())
		for i := range 5 {
			base := make([]byte, g.ByteLen())
			rand.Read(base)
			base[0] &= 0x7f
			exp := make([]byte, 1+i*13)
			rand.Read(exp)
			got, err := g.Exp(base, exp)
			if err != nil {
				t.Fatal(err)
			}
			want := new(big.Int).Exp(new(big.Int).SetBytes(base), new(big.Int).SetBytes(exp), p)
			if len(got) != g.ByteLen() || new(big.Int).SetBytes(got).Cmp(want) != 0 {
				t.Fatalf("%s: Exp disagrees with math/big", g.Name())
			}
		}
		one, err := g.Exp(g.Generator(), nil)
		if err != nil || new(big.Int).SetBytes(one).Cmp(big.NewInt(1)) != 0 {
			t.Fatalf("g^(empty) = %X, %v", one, err)
		}
	}
}

func TestRefusals(t *testing.T) {
	g := RFC5114_1024_160()
	p := new(big.Int).SetBytes(g.P())
	fixed := func(x *big.Int) []byte { return x.FillBytes(make([]byte, g.ByteLen())) }
	pm1 := fixed(new(big.Int).Sub(p, big.NewInt(1)))
	// An element of order 2·something not in the subgroup: g·(p-1) has
	// order 2q, so its q-th power is p-1, not 1.
	notSub := fixed(new(big.Int).Mod(new(big.Int).Mul(new(big.Int).SetBytes(g.Generator()), new(big.Int).Sub(p, big.NewInt(1))), p))
	badPublic := []struct {
		name string
		y    []byte
	}{
		{"empty", nil},
		{"zero", fixed(big.NewInt(0))},
		{"one", fixed(big.NewInt(1))},
		{"p-1 (order 2)", pm1},
		{"p", g.P()},
		{"p+1", fixed(new(big.Int).Add(p, big.NewInt(1)))[0:128]},
		{"all ones", bytes.Repeat([]byte{0xff}, 128)},
		{"too long", append([]byte{0}, h(t, g2PKIC)...)},
		{"outside the subgroup", notSub},
		{"two (not in the subgroup)", fixed(big.NewInt(2))},
	}
	for _, c := range badPublic {
		if err := g.ValidatePublic(c.y); !errors.Is(err, ErrInvalidPublic) {
			t.Errorf("ValidatePublic(%s) = %v", c.name, err)
		}
		if _, err := g.SharedSecret(h(t, g2SKIFD), c.y); !errors.Is(err, ErrInvalidPublic) {
			t.Errorf("SharedSecret(%s) = %v", c.name, err)
		}
	}
	// A public value with its leading zero dropped is still accepted.
	if err := g.ValidatePublic(h(t, g2PKIC)[0:]); err != nil {
		t.Error(err)
	}
	qb := g.Q()
	badPriv := map[string][]byte{
		"zero":      make([]byte, 20),
		"q":         qb,
		"all ones":  bytes.Repeat([]byte{0xff}, 20),
		"too short": h(t, g2SKIFD)[1:],
		"too long":  append([]byte{0}, h(t, g2SKIFD)...),
	}
	for name, k := range badPriv {
		if _, err := g.SharedSecret(k, h(t, g2PKIC)); !errors.Is(err, ErrInvalidPrivate) {
			t.Errorf("SharedSecret with private %s = %v", name, err)
		}
		if _, err := g.PublicKey(k, nil); !errors.Is(err, ErrInvalidPrivate) {
			t.Errorf("PublicKey with private %s = %v", name, err)
		}
	}
	for name, gen := range map[string][]byte{"one": fixed(big.NewInt(1)), "p-1": pm1, "p": g.P(), "not in subgroup": notSub, "empty": {}} {
		if _, _, err := g.GenerateKey(rand.Reader, gen); !errors.Is(err, ErrInvalidElement) {
			t.Errorf("GenerateKey with generator %s = %v", name, err)
		}
	}
	if _, err := g.Exp(g.P(), []byte{1}); !errors.Is(err, ErrInvalidElement) {
		t.Errorf("Exp(p) = %v", err)
	}
	// Integrated mapping: R_p of 0, 1 and p-1 map to 0 or 1.
	for name, rp := range map[string][]byte{"zero": fixed(big.NewInt(0)), "one": fixed(big.NewInt(1)), "p-1": pm1} {
		if _, err := g.MapIntegrated(rp); !errors.Is(err, ErrMapping) {
			t.Errorf("MapIntegrated(%s) = %v", name, err)
		}
	}
	if _, err := g.MapIntegrated(g.P()); !errors.Is(err, ErrInvalidElement) {
		t.Errorf("MapIntegrated(p) = %v", err)
	}
	// Generic mapping: h = g^-s makes ĝ = 1; h outside the subgroup is refused.
	s := h(t, g2S)
	q := new(big.Int).SetBytes(qb)
	negS := new(big.Int).Sub(q, new(big.Int).Mod(new(big.Int).SetBytes(s), q))
	hInv, _ := g.Exp(g.Generator(), negS.Bytes())
	if _, err := g.MapGeneric(s, hInv); !errors.Is(err, ErrMapping) {
		t.Errorf("MapGeneric to the identity = %v", err)
	}
	for name, hh := range map[string][]byte{"one": fixed(big.NewInt(1)), "not in subgroup": notSub, "p": g.P()} {
		if _, err := g.MapGeneric(s, hh); !errors.Is(err, ErrInvalidElement) {
			t.Errorf("MapGeneric(h=%s) = %v", name, err)
		}
	}
	if _, err := g.MapGeneric(nil, h(t, g2H)); !errors.Is(err, ErrInvalidElement) {
		t.Errorf("MapGeneric with empty nonce = %v", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) { clear(b); return len(b), nil }

func TestGenerateKeyRandomness(t *testing.T) {
	g := RFC5114_2048_224()
	if _, _, err := g.GenerateKey(zeroReader{}, nil); err == nil {
		t.Error("GenerateKey accepted a source of zeros")
	}
	if _, _, err := g.GenerateKey(bytes.NewReader([]byte{1, 2}), nil); err == nil {
		t.Error("GenerateKey accepted a short read")
	}
	// Keys and public values are always fixed-length, and agree both ways.
	n := 8
	if testing.Short() {
		n = 2
	}
	for _, g := range groups() {
		for range n {
			a, A, err := g.GenerateKey(rand.Reader, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, B, err := g.GenerateKey(rand.Reader, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(a) != g.ScalarLen() || len(A) != g.ByteLen() {
				t.Fatalf("lengths %d %d", len(a), len(A))
			}
			k1, err1 := g.SharedSecret(a, B)
			k2, err2 := g.SharedSecret(b, A)
			if err1 != nil || err2 != nil || !bytes.Equal(k1, k2) || len(k1) != g.ByteLen() {
				t.Fatalf("%s: agreement failed: %v %v", g.Name(), err1, err2)
			}
		}
	}
}

// Fixed-length property: results whose value has leading zero bytes keep
// them. Search small exponents of g for a value below 2^(8·(ByteLen-1)).
func TestFixedLengthLeadingZero(t *testing.T) {
	g := RFC5114_1024_160()
	p := new(big.Int).SetBytes(g.P())
	limit := new(big.Int).Lsh(big.NewInt(1), uint(8*(g.ByteLen()-1)))
	gen := new(big.Int).SetBytes(g.Generator())
	x := new(big.Int).Set(gen)
	found := 0
	for e := 1; e < 5000 && found < 2; e++ {
		if x.Cmp(limit) < 0 {
			found++
			exp := new(big.Int).SetInt64(int64(e)).FillBytes(make([]byte, g.ScalarLen()))
			pub, err := g.PublicKey(exp, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(pub) != g.ByteLen() || pub[0] != 0 || new(big.Int).SetBytes(pub).Cmp(x) != 0 {
				t.Fatalf("g^%d = %X: leading zero lost", e, pub)
			}
			// As a peer value it works both with and without the zero.
			if err := g.ValidatePublic(pub[1:]); err != nil {
				t.Fatal(err)
			}
			k, err := g.SharedSecret(exp, pub)
			if err != nil || len(k) != g.ByteLen() {
				t.Fatal(err)
			}
		}
		x.Mul(x, gen).Mod(x, p)
	}
	if found == 0 {
		t.Skip("no small power of g with a leading zero byte")
	}
}

func TestReduceMod(t *testing.T) {
	m := h(t, "00FB") // leading zero: output keeps len(m)
	for _, c := range []struct{ r, want string }{
		{"", "0000"}, {"FA", "00FA"}, {"FB", "0000"}, {"0100", "0005"}, {"FFFFFFFF", "00" + func() string {
			v := new(big.Int).Mod(big.NewInt(0xFFFFFFFF), big.NewInt(0xFB))
			return hex.EncodeToString(v.FillBytes(make([]byte, 1)))
		}()},
	} {
		got, err := ReduceMod(h(t, c.r), m)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "ReduceMod "+c.r, got, c.want)
	}
	if _, err := ReduceMod([]byte{5}, []byte{1}); err == nil {
		t.Error("ReduceMod by 1 accepted")
	}
}

func FuzzValidatePublic(f *testing.F) {
	f.Add(h(f, g2PKIC))
	f.Add(h(f, g2H))
	f.Add([]byte{1})
	f.Add(bytes.Repeat([]byte{0xff}, 128))
	g := RFC5114_1024_160()
	p := new(big.Int).SetBytes(g.P())
	q := new(big.Int).SetBytes(g.Q())
	f.Fuzz(func(t *testing.T, y []byte) {
		err := g.ValidatePublic(y)
		v := new(big.Int).SetBytes(y)
		ok := len(y) > 0 && len(y) <= 128 && v.Cmp(big.NewInt(1)) > 0 && v.Cmp(new(big.Int).Sub(p, big.NewInt(1))) < 0 &&
			new(big.Int).Exp(v, q, p).Cmp(big.NewInt(1)) == 0
		if (err == nil) != ok {
			t.Fatalf("ValidatePublic(%X) = %v, want ok=%v", y, err, ok)
		}
		if _, err := g.MapIntegrated(y); err == nil && (len(y) > 128 || v.Cmp(p) >= 0) {
			t.Fatalf("MapIntegrated accepted %X", y)
		}
	})
}

func FuzzReduceMod(f *testing.F) {
	f.Add(h(f, h2R), h(f, "B10B8F96A080E01D"))
	f.Add([]byte{}, []byte{3})
	f.Fuzz(func(t *testing.T, r, m []byte) {
		got, err := ReduceMod(r, m)
		mv := new(big.Int).SetBytes(m)
		if mv.Cmp(big.NewInt(1)) <= 0 {
			if err == nil {
				t.Fatalf("ReduceMod by %X accepted", m)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		want := new(big.Int).Mod(new(big.Int).SetBytes(r), mv)
		if len(got) != len(m) || new(big.Int).SetBytes(got).Cmp(want) != 0 {
			t.Fatalf("ReduceMod(%X, %X) = %X, want %X", r, m, got, want)
		}
	})
}

// BenchmarkExp compares the constant-time bigmod exponentiation with
// math/big's variable-time Exp, per group, with a full-length private
// exponent (ScalarLen bytes) as PACE and CA use.
func BenchmarkExp(b *testing.B) {
	for _, g := range groups() {
		exp := make([]byte, g.ScalarLen())
		rand.Read(exp)
		base := g.Generator()
		b.Run(g.Name()+"/bigmod", func(b *testing.B) {
			for b.Loop() {
				if _, err := g.Exp(base, exp); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(g.Name()+"/math-big", func(b *testing.B) {
			p, x, e := new(big.Int).SetBytes(g.P()), new(big.Int).SetBytes(base), new(big.Int).SetBytes(exp)
			for b.Loop() {
				new(big.Int).Exp(x, e, p)
			}
		})
	}
}

func BenchmarkSharedSecret(b *testing.B) {
	g := RFC5114_2048_256()
	a, _, _ := g.GenerateKey(rand.Reader, nil)
	_, B, _ := g.GenerateKey(rand.Reader, nil)
	for b.Loop() {
		if _, err := g.SharedSecret(a, B); err != nil {
			b.Fatal(err)
		}
	}
}

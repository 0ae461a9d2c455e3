package ec

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"sync"

	"filippo.io/bigmod"
)

// ID names one of the eleven curves of ICAO 9303-11 Table 6 (the
// standardized PACE domain parameters 8 to 18).
type ID uint8

// The curves, in the order of their PACE parameter ids.
const (
	IDP192            ID = iota + 1 // secp192r1, PACE parameter id 8
	IDBrainpoolP192r1               // PACE parameter id 9
	IDP224                          // secp224r1, PACE parameter id 10
	IDBrainpoolP224r1               // PACE parameter id 11
	IDP256                          // secp256r1, PACE parameter id 12
	IDBrainpoolP256r1               // PACE parameter id 13
	IDBrainpoolP320r1               // PACE parameter id 14
	IDP384                          // secp384r1, PACE parameter id 15
	IDBrainpoolP384r1               // PACE parameter id 16
	IDBrainpoolP512r1               // PACE parameter id 17
	IDP521                          // secp521r1, PACE parameter id 18
)

// String returns the curve's name as the inspection report writes it
// (access_params.domain): "P-256", "brainpoolP256r1".
func (id ID) String() string {
	switch id {
	case IDP192:
		return "P-192"
	case IDP224:
		return "P-224"
	case IDP256:
		return "P-256"
	case IDP384:
		return "P-384"
	case IDP521:
		return "P-521"
	case IDBrainpoolP192r1:
		return "brainpoolP192r1"
	case IDBrainpoolP224r1:
		return "brainpoolP224r1"
	case IDBrainpoolP256r1:
		return "brainpoolP256r1"
	case IDBrainpoolP320r1:
		return "brainpoolP320r1"
	case IDBrainpoolP384r1:
		return "brainpoolP384r1"
	case IDBrainpoolP512r1:
		return "brainpoolP512r1"
	}
	return fmt.Sprintf("ID(%d)", uint8(id))
}

// PACEParameterID returns the standardized domain parameter id of ICAO
// 9303-11 Table 6 (8 for P-192 ... 18 for P-521); 0 for an unknown ID.
func (id ID) PACEParameterID() int {
	if id < IDP192 || id > IDP521 {
		return 0
	}
	return int(id) + 7
}

// ByPACEParameterID returns the curve of a standardized PACE domain
// parameter id (9303-11 Table 6, ids 8 to 18). Ids 0 to 2 are DH groups,
// not curves.
func ByPACEParameterID(paramID int) (*Curve, bool) {
	if paramID < 8 || paramID > 18 {
		return nil, false
	}
	return ByID(ID(paramID - 7))
}

// params is one row of the parameter table, big-endian hex.
type params struct {
	id                 ID
	p, a, b, gx, gy, n string
}

// Curve is a short-Weierstrass curve y² = x³ + ax + b over GF(p) with a
// generator G of prime order n and cofactor 1. A Curve is immutable and
// safe for concurrent use; obtain one from P256(), BrainpoolP256r1(), ...,
// ByName or MatchParams.
type Curve struct {
	id      ID
	bits    int // bit length of p
	byteLen int // ⌈bits/8⌉: the length of every coordinate encoding
	p, n    *bigmod.Modulus

	// Field constants, reduced mod p. Never written after construction:
	// every operation copies before it computes.
	a, b, b3 *bigmod.Nat
	gx, gy   []byte

	// Exponents for inversion (p−2, Fermat), square roots and the PACE IM
	// point encoding; all public.
	pMinus2    []byte
	sqrtExp    []byte // (p+1)/4 when p ≡ 3 mod 4
	imExp      []byte // p−1−(p+1)/4 (9303-11 App. B.2 step 7), p ≡ 3 mod 4
	nMinus2    []byte
	p3mod4     bool
	tsE        int         // p−1 = 2^tsE·q, q odd (Tonelli–Shanks, p ≡ 1 mod 4)
	tsC2       []byte      // (q−1)/2
	tsC3       *bigmod.Nat // z^q for a non-square z
	xi         *bigmod.Nat // ξ: the non-square of the IM point encoding, see pace_im.go
	mbOverA    *bigmod.Nat // −b·a⁻¹, step 2 of App. B.2
	pBig, nBig *big.Int    // for Params and MatchParams only; copied out
	aBig, bBig *big.Int
	gxBig      *big.Int
	gyBig      *big.Int
}

// newCurve builds a Curve from its table row. The rows are constants and
// the tests check every one, so a failure here is a programming error.
func newCurve(id ID) *Curve {
	var row params
	for _, r := range curveParams {
		if r.id == id {
			row = r
		}
	}
	if row.id == 0 {
		panic("ec: no parameters for " + id.String())
	}
	mustHex := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			panic("ec: bad parameter hex for " + id.String())
		}
		return b
	}
	pb, nb := mustHex(row.p), mustHex(row.n)
	c := &Curve{id: id}
	var err error
	if c.p, err = bigmod.NewModulus(pb); err != nil {
		panic("ec: " + err.Error())
	}
	if c.n, err = bigmod.NewModulus(nb); err != nil {
		panic("ec: " + err.Error())
	}
	c.bits = c.p.BitLen()
	c.byteLen = c.p.Size()
	fe := func(s string) *bigmod.Nat {
		x, err := bigmod.NewNat().SetBytes(mustHex(s), c.p)
		if err != nil {
			panic("ec: parameter out of range for " + id.String())
		}
		return x
	}
	c.a, c.b = fe(row.a), fe(row.b)
	c.b3 = c.fadd(c.fadd(c.b, c.b), c.b)
	c.gx = fe(row.gx).Bytes(c.p)
	c.gy = fe(row.gy).Bytes(c.p)

	P := new(big.Int).SetBytes(pb)
	N := new(big.Int).SetBytes(nb)
	c.pBig, c.nBig = P, N
	c.aBig = new(big.Int).SetBytes(mustHex(row.a))
	c.bBig = new(big.Int).SetBytes(mustHex(row.b))
	c.gxBig = new(big.Int).SetBytes(mustHex(row.gx))
	c.gyBig = new(big.Int).SetBytes(mustHex(row.gy))

	one := big.NewInt(1)
	pm1 := new(big.Int).Sub(P, one)
	c.pMinus2 = new(big.Int).Sub(P, big.NewInt(2)).Bytes()
	c.nMinus2 = new(big.Int).Sub(N, big.NewInt(2)).Bytes()
	c.p3mod4 = P.Bit(0) == 1 && P.Bit(1) == 1
	if c.p3mod4 {
		e := new(big.Int).Add(P, one)
		e.Rsh(e, 2)
		c.sqrtExp = e.Bytes()
		c.imExp = new(big.Int).Sub(pm1, e).Bytes()
	} else {
		q := new(big.Int).Set(pm1)
		for q.Bit(0) == 0 {
			q.Rsh(q, 1)
			c.tsE++
		}
		c.tsC2 = new(big.Int).Rsh(q, 1).Bytes() // (q−1)/2, q odd
		z := smallestNonSquare(P, 2)
		zq := new(big.Int).Exp(z, q, P)
		c.tsC3 = c.feFromBig(zq)
	}
	// ξ = −k for the smallest k ≥ 1 with −k a non-square: −1 when
	// p ≡ 3 mod 4, which is exactly 9303-11 App. B.2.
	c.xi = c.feFromBig(negSmallestNonSquare(P))
	ainv := c.finv(c.a)
	c.mbOverA = c.fneg(c.fmul(c.b, ainv))
	return c
}

// smallestNonSquare returns the smallest z ≥ from that is a quadratic
// non-residue mod the odd prime P (Euler's criterion; public values only).
func smallestNonSquare(P *big.Int, from int64) *big.Int {
	e := new(big.Int).Rsh(new(big.Int).Sub(P, big.NewInt(1)), 1)
	pm1 := new(big.Int).Sub(P, big.NewInt(1))
	for z := big.NewInt(from); ; z.Add(z, big.NewInt(1)) {
		if new(big.Int).Exp(z, e, P).Cmp(pm1) == 0 {
			return z
		}
	}
}

// negSmallestNonSquare returns P−k for the smallest k ≥ 1 such that −k is a
// non-square mod P.
func negSmallestNonSquare(P *big.Int) *big.Int {
	e := new(big.Int).Rsh(new(big.Int).Sub(P, big.NewInt(1)), 1)
	pm1 := new(big.Int).Sub(P, big.NewInt(1))
	for k := int64(1); ; k++ {
		v := new(big.Int).Sub(P, big.NewInt(k))
		if new(big.Int).Exp(v, e, P).Cmp(pm1) == 0 {
			return v
		}
	}
}

var (
	p192  = sync.OnceValue(func() *Curve { return newCurve(IDP192) })
	p224  = sync.OnceValue(func() *Curve { return newCurve(IDP224) })
	p256  = sync.OnceValue(func() *Curve { return newCurve(IDP256) })
	p384  = sync.OnceValue(func() *Curve { return newCurve(IDP384) })
	p521  = sync.OnceValue(func() *Curve { return newCurve(IDP521) })
	bp192 = sync.OnceValue(func() *Curve { return newCurve(IDBrainpoolP192r1) })
	bp224 = sync.OnceValue(func() *Curve { return newCurve(IDBrainpoolP224r1) })
	bp256 = sync.OnceValue(func() *Curve { return newCurve(IDBrainpoolP256r1) })
	bp320 = sync.OnceValue(func() *Curve { return newCurve(IDBrainpoolP320r1) })
	bp384 = sync.OnceValue(func() *Curve { return newCurve(IDBrainpoolP384r1) })
	bp512 = sync.OnceValue(func() *Curve { return newCurve(IDBrainpoolP512r1) })
)

// P192 returns NIST P-192 (secp192r1). Every call returns the same value.
func P192() *Curve { return p192() }

// P224 returns NIST P-224 (secp224r1), the one curve here with p ≡ 1 mod 4.
func P224() *Curve { return p224() }

// P256 returns NIST P-256 (secp256r1).
func P256() *Curve { return p256() }

// P384 returns NIST P-384 (secp384r1).
func P384() *Curve { return p384() }

// P521 returns NIST P-521 (secp521r1).
func P521() *Curve { return p521() }

// BrainpoolP192r1 returns brainpoolP192r1 (RFC 5639 §3.2).
func BrainpoolP192r1() *Curve { return bp192() }

// BrainpoolP224r1 returns brainpoolP224r1 (RFC 5639 §3.3).
func BrainpoolP224r1() *Curve { return bp224() }

// BrainpoolP256r1 returns brainpoolP256r1 (RFC 5639 §3.4).
func BrainpoolP256r1() *Curve { return bp256() }

// BrainpoolP320r1 returns brainpoolP320r1 (RFC 5639 §3.5).
func BrainpoolP320r1() *Curve { return bp320() }

// BrainpoolP384r1 returns brainpoolP384r1 (RFC 5639 §3.6).
func BrainpoolP384r1() *Curve { return bp384() }

// BrainpoolP512r1 returns brainpoolP512r1 (RFC 5639 §3.7).
func BrainpoolP512r1() *Curve { return bp512() }

// ByID returns the curve with the given ID.
func ByID(id ID) (*Curve, bool) {
	switch id {
	case IDP192:
		return P192(), true
	case IDP224:
		return P224(), true
	case IDP256:
		return P256(), true
	case IDP384:
		return P384(), true
	case IDP521:
		return P521(), true
	case IDBrainpoolP192r1:
		return BrainpoolP192r1(), true
	case IDBrainpoolP224r1:
		return BrainpoolP224r1(), true
	case IDBrainpoolP256r1:
		return BrainpoolP256r1(), true
	case IDBrainpoolP320r1:
		return BrainpoolP320r1(), true
	case IDBrainpoolP384r1:
		return BrainpoolP384r1(), true
	case IDBrainpoolP512r1:
		return BrainpoolP512r1(), true
	}
	return nil, false
}

// Curves returns all eleven curves in PACE parameter id order (8 to 18), in
// a fresh slice.
func Curves() []*Curve {
	out := make([]*Curve, 0, len(curveParams))
	for id := IDP192; id <= IDP521; id++ {
		c, _ := ByID(id)
		out = append(out, c)
	}
	return out
}

// ByName returns the curve with the given name. It accepts the names of
// ID.String ("P-256", "brainpoolP256r1") and the SEC 2 names ("secp256r1",
// and "prime192v1"/"prime256v1" of X9.62).
func ByName(name string) (*Curve, bool) {
	switch name {
	case "secp192r1", "prime192v1":
		return P192(), true
	case "secp224r1":
		return P224(), true
	case "secp256r1", "prime256v1":
		return P256(), true
	case "secp384r1":
		return P384(), true
	case "secp521r1":
		return P521(), true
	}
	for id := IDP192; id <= IDP521; id++ {
		if id.String() == name {
			return ByID(id)
		}
	}
	return nil, false
}

// MatchParams returns the named curve whose explicit domain parameters
// (X.509 ECParameters, TR-03110 CV certificate public key, EF.CardAccess
// with explicit parameters) are exactly p, a, b, G = (gx, gy), n and h. a and
// b are compared modulo p, so a = −3 and a = p−3 both match the NIST curves.
// A caller whose encoding omits the optional cofactor passes h = 1, the
// cofactor of every curve here.
func MatchParams(p, a, b, gx, gy, n *big.Int, h int) (*Curve, bool) {
	if p == nil || a == nil || b == nil || gx == nil || gy == nil || n == nil || h != 1 {
		return nil, false
	}
	for _, c := range Curves() {
		if c.pBig.Cmp(p) != 0 || c.nBig.Cmp(n) != 0 ||
			c.gxBig.Cmp(gx) != 0 || c.gyBig.Cmp(gy) != 0 {
			continue
		}
		if new(big.Int).Mod(a, p).Cmp(c.aBig) != 0 || new(big.Int).Mod(b, p).Cmp(c.bBig) != 0 {
			continue
		}
		return c, true
	}
	return nil, false
}

// ID returns the curve's identifier.
func (c *Curve) ID() ID { return c.id }

// Name returns the curve's name, as ID.String.
func (c *Curve) Name() string { return c.id.String() }

// String returns the curve's name.
func (c *Curve) String() string { return c.id.String() }

// BitSize returns the bit length of the field prime p.
func (c *Curve) BitSize() int { return c.bits }

// ByteLen returns the length in bytes of a field element and of each
// coordinate in a point encoding (SEC 1 §2.3.5): ⌈log₂ p / 8⌉.
func (c *Curve) ByteLen() int { return c.byteLen }

// ScalarLen returns the length in bytes of a scalar mod n: private keys,
// ECDSA r and s. For every curve here it equals ByteLen.
func (c *Curve) ScalarLen() int { return c.n.Size() }

// Params returns fresh copies of the domain parameters: the prime p, the
// coefficients a and b (as residues in [0, p)), the generator G = (gx, gy),
// its order n and the cofactor h.
func (c *Curve) Params() (p, a, b, gx, gy, n *big.Int, h int) {
	cp := func(x *big.Int) *big.Int { return new(big.Int).Set(x) }
	return cp(c.pBig), cp(c.aBig), cp(c.bBig), cp(c.gxBig), cp(c.gyBig), cp(c.nBig), 1
}

// Generator returns the curve's base point G.
func (c *Curve) Generator() *Point {
	return &Point{curve: c, x: clone(c.gx), y: clone(c.gy)}
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

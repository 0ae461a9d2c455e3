package ec

import (
	"crypto/subtle"
	"errors"
	"fmt"

	"filippo.io/bigmod"
)

// Errors callers branch on.
var (
	// ErrInvalidPoint: an encoding that is not a point of this curve (bad
	// length or prefix, a coordinate ≥ p, not on the curve, the point at
	// infinity where a public key is expected, a point of another curve).
	ErrInvalidPoint = errors.New("ec: invalid point")
	// ErrInvalidScalar: a private key or signature value outside [1, n−1],
	// or a scalar that makes the result the point at infinity.
	ErrInvalidScalar = errors.New("ec: invalid scalar")

	errLength = errors.New("wrong length")
)

// Point is an immutable point of a Curve in affine coordinates, or the
// point at infinity O. Values from NewPoint, NewPointXY and the curve
// operations are always on their curve. The zero Point and nil are not
// valid points: every Curve method refuses them.
type Point struct {
	curve *Curve
	x, y  []byte // ByteLen bytes each; nil for O
	inf   bool
}

// NewPoint parses a SEC 1 §2.3.4 point encoding: uncompressed 04‖X‖Y (the
// form of ICAO 9303-11 and TR-03111 §3.2.1) or compressed 02‖X / 03‖X, each
// coordinate exactly ByteLen bytes. It checks X, Y < p and that the point
// is on the curve; with cofactor 1 that makes it a member of the group.
// The point at infinity (encoding 00) is refused: NewPoint reads public
// keys. Every refusal wraps ErrInvalidPoint.
func (c *Curve) NewPoint(encoded []byte) (*Point, error) {
	l := c.byteLen
	switch {
	case len(encoded) == 0:
		return nil, fmt.Errorf("%w: empty encoding", ErrInvalidPoint)
	case encoded[0] == 0x00:
		return nil, fmt.Errorf("%w: the point at infinity", ErrInvalidPoint)
	case encoded[0] == 0x04:
		if len(encoded) != 1+2*l {
			return nil, fmt.Errorf("%w: uncompressed %s point is %d bytes, want %d", ErrInvalidPoint, c.Name(), len(encoded), 1+2*l)
		}
		return c.NewPointXY(encoded[1:1+l], encoded[1+l:])
	case encoded[0] == 0x02 || encoded[0] == 0x03:
		if len(encoded) != 1+l {
			return nil, fmt.Errorf("%w: compressed %s point is %d bytes, want %d", ErrInvalidPoint, c.Name(), len(encoded), 1+l)
		}
		x, err := c.feFromBytes(encoded[1:])
		if err != nil {
			return nil, fmt.Errorf("%w: x-coordinate not below p", ErrInvalidPoint)
		}
		y, ok := c.sqrt(c.rhs(x))
		if ok != 1 {
			return nil, fmt.Errorf("%w: no point with this x-coordinate", ErrInvalidPoint)
		}
		// SEC 1 §2.3.4 step 2.4.3: the prefix carries y mod 2.
		want := uint(encoded[0] & 1)
		y = ctSelect(y.IsOdd()^want, c.fneg(y), y, c.p)
		if y.IsOdd() != want {
			return nil, fmt.Errorf("%w: y = 0 has no odd root", ErrInvalidPoint)
		}
		return &Point{curve: c, x: x.Bytes(c.p), y: y.Bytes(c.p)}, nil
	default:
		return nil, fmt.Errorf("%w: unknown point format %#02x", ErrInvalidPoint, encoded[0])
	}
}

// NewPointXY builds a point from its affine coordinates, each exactly
// ByteLen bytes, with the checks of NewPoint.
func (c *Curve) NewPointXY(x, y []byte) (*Point, error) {
	if len(x) != c.byteLen || len(y) != c.byteLen {
		return nil, fmt.Errorf("%w: %s coordinates are %d bytes, got %d and %d", ErrInvalidPoint, c.Name(), c.byteLen, len(x), len(y))
	}
	xn, err := c.feFromBytes(x)
	if err != nil {
		return nil, fmt.Errorf("%w: x-coordinate not below p", ErrInvalidPoint)
	}
	yn, err := c.feFromBytes(y)
	if err != nil {
		return nil, fmt.Errorf("%w: y-coordinate not below p", ErrInvalidPoint)
	}
	if c.fsqr(yn).Equal(c.rhs(xn)) != 1 {
		return nil, fmt.Errorf("%w: not on %s", ErrInvalidPoint, c.Name())
	}
	return &Point{curve: c, x: clone(x), y: clone(y)}, nil
}

// Infinity returns the point at infinity O of c.
func (c *Curve) Infinity() *Point { return &Point{curve: c, inf: true} }

// Curve returns the curve p belongs to.
func (p *Point) Curve() *Curve {
	if p == nil {
		return nil
	}
	return p.curve
}

// Bytes returns the SEC 1 uncompressed encoding 04‖X‖Y, each coordinate
// exactly ByteLen bytes (leading zero bytes kept), or 00 for O.
func (p *Point) Bytes() []byte {
	if p == nil || p.curve == nil {
		return nil
	}
	if p.inf {
		return []byte{0}
	}
	out := make([]byte, 0, 1+2*len(p.x))
	out = append(out, 4)
	out = append(out, p.x...)
	return append(out, p.y...)
}

// BytesCompressed returns the SEC 1 compressed encoding 02/03‖X, or 00 for O.
func (p *Point) BytesCompressed() []byte {
	if p == nil || p.curve == nil {
		return nil
	}
	if p.inf {
		return []byte{0}
	}
	return append([]byte{2 | p.y[len(p.y)-1]&1}, p.x...)
}

// X returns the affine x-coordinate, exactly ByteLen bytes; nil for O.
// It is the shared secret of ECDH (TR-03111 §4.3.1) and the ICAO 9303-11
// Comp() of an EC public key.
func (p *Point) X() []byte {
	if p == nil || p.inf {
		return nil
	}
	return clone(p.x)
}

// Y returns the affine y-coordinate, exactly ByteLen bytes; nil for O.
func (p *Point) Y() []byte {
	if p == nil || p.inf {
		return nil
	}
	return clone(p.y)
}

// IsInfinity reports whether p is the point at infinity.
func (p *Point) IsInfinity() bool { return p != nil && p.curve != nil && p.inf }

// Equal reports whether p and q are the same point of the same curve.
func (p *Point) Equal(q *Point) bool {
	if p == nil || q == nil || p.curve == nil || p.curve != q.curve {
		return false
	}
	if p.inf || q.inf {
		return p.inf == q.inf
	}
	return subtle.ConstantTimeCompare(p.x, q.x)&subtle.ConstantTimeCompare(p.y, q.y) == 1
}

// valid reports whether p is a usable point of c (it was built by this
// package for this curve).
func (c *Curve) valid(p *Point) bool {
	return p != nil && p.curve == c && (p.inf || len(p.x) == c.byteLen && len(p.y) == c.byteLen)
}

// Projective arithmetic.
//
// Points are computed in homogeneous projective coordinates (X:Y:Z), x =
// X/Z, y = Y/Z, O = (0:1:0), with the complete addition formula of Renes,
// Costello and Batina ("Complete addition formulas for prime order elliptic
// curves", EUROCRYPT 2016, Algorithm 1, any a). It is valid for every pair
// of inputs, P = Q and O included, on curves of prime order — all eleven
// curves here — so the scalar multiplication below needs no exceptional
// case and no secret-dependent branch; doubling is the same formula.

type projPoint struct{ x, y, z *bigmod.Nat }

func (c *Curve) projIdentity() projPoint {
	return projPoint{c.fzero(), c.fone(), c.fzero()}
}

func (c *Curve) toProj(p *Point) projPoint {
	if p.inf {
		return c.projIdentity()
	}
	x, _ := c.feFromBytes(p.x)
	y, _ := c.feFromBytes(p.y)
	return projPoint{x, y, c.fone()}
}

// fromProj returns the affine point; Z = 0 is O. The inversion is Fermat's,
// constant time; only whether the result is O is revealed.
func (c *Curve) fromProj(q projPoint) *Point {
	if q.z.IsZero() == 1 {
		return c.Infinity()
	}
	zinv := c.finv(q.z)
	return &Point{curve: c, x: c.fmul(q.x, zinv).Bytes(c.p), y: c.fmul(q.y, zinv).Bytes(c.p)}
}

// scratch holds the temporaries of one chain of point operations, so that
// a scalar multiplication allocates a few dozen field elements instead of
// tens of thousands. It is never shared between goroutines.
type scratch struct {
	t0, t1, t2, t3, t4, t5, x3, y3, z3, tmp *bigmod.Nat
}

func (c *Curve) newScratch() *scratch {
	return &scratch{c.fzero(), c.fzero(), c.fzero(), c.fzero(), c.fzero(),
		c.fzero(), c.fzero(), c.fzero(), c.fzero(), c.fzero()}
}

// In-place field operations: dst may alias either operand.

func setNat(dst, a *bigmod.Nat) {
	if dst != a {
		copy(dst.Bits(), a.Bits())
	}
}

func (c *Curve) mulTo(dst, a, b *bigmod.Nat) {
	switch {
	case dst == a:
		dst.Mul(b, c.p)
	case dst == b:
		dst.Mul(a, c.p)
	default:
		setNat(dst, a)
		dst.Mul(b, c.p)
	}
}

func (c *Curve) addTo(dst, a, b *bigmod.Nat) {
	if dst == b {
		dst.Add(a, c.p)
		return
	}
	setNat(dst, a)
	dst.Add(b, c.p)
}

func (s *scratch) subTo(c *Curve, dst, a, b *bigmod.Nat) {
	if dst == b {
		setNat(s.tmp, b)
		b = s.tmp
	}
	setNat(dst, a)
	dst.Sub(b, c.p)
}

// add is RCB16 Algorithm 1 (12M + 3m_a + 2m_3b + 23a), step for step,
// into out; out may alias p or q.
func (c *Curve) add(s *scratch, out, p, q *projPoint) {
	t0, t1, t2, t3, t4, t5 := s.t0, s.t1, s.t2, s.t3, s.t4, s.t5
	x3, y3, z3 := s.x3, s.y3, s.z3
	c.mulTo(t0, p.x, q.x)
	c.mulTo(t1, p.y, q.y)
	c.mulTo(t2, p.z, q.z)
	c.addTo(t3, p.x, p.y)
	c.addTo(t4, q.x, q.y)
	c.mulTo(t3, t3, t4)
	c.addTo(t4, t0, t1)
	s.subTo(c, t3, t3, t4)
	c.addTo(t4, p.x, p.z)
	c.addTo(t5, q.x, q.z)
	c.mulTo(t4, t4, t5)
	c.addTo(t5, t0, t2)
	s.subTo(c, t4, t4, t5)
	c.addTo(t5, p.y, p.z)
	c.addTo(x3, q.y, q.z)
	c.mulTo(t5, t5, x3)
	c.addTo(x3, t1, t2)
	s.subTo(c, t5, t5, x3)
	c.mulTo(z3, c.a, t4)
	c.mulTo(x3, c.b3, t2)
	c.addTo(z3, x3, z3)
	s.subTo(c, x3, t1, z3)
	c.addTo(z3, t1, z3)
	c.mulTo(y3, x3, z3)
	c.addTo(t1, t0, t0)
	c.addTo(t1, t1, t0)
	c.mulTo(t2, c.a, t2)
	c.mulTo(t4, c.b3, t4)
	c.addTo(t1, t1, t2)
	s.subTo(c, t2, t0, t2)
	c.mulTo(t2, c.a, t2)
	c.addTo(t4, t4, t2)
	c.mulTo(t0, t1, t4)
	c.addTo(y3, y3, t0)
	c.mulTo(t0, t5, t4)
	c.mulTo(x3, t3, x3)
	s.subTo(c, x3, x3, t0)
	c.mulTo(t0, t3, t1)
	c.mulTo(z3, t5, z3)
	c.addTo(z3, z3, t0)
	setNat(out.x, x3)
	setNat(out.y, y3)
	setNat(out.z, z3)
}

// addP is add into a fresh point, for the few one-off additions.
func (c *Curve) addP(p, q projPoint) projPoint {
	out := c.projIdentity()
	c.add(c.newScratch(), &out, &p, &q)
	return out
}

// cmov sets dst = src when cond == 1, leaves it when cond == 0, touching
// the same limbs either way.
func cmov(cond uint, dst, src *bigmod.Nat) {
	mask := -cond
	d, s := dst.Bits(), src.Bits()
	for i := range d {
		d[i] ^= mask & (d[i] ^ s[i])
	}
}

// scalarMult computes k·P for a scalar already reduced mod n, with a fixed
// 4-bit window: the same sequence of additions for every k of the curve's
// scalar length, and table entries chosen by scanning all 16 with
// constant-time moves (no secret-dependent index or branch).
func (c *Curve) scalarMult(p projPoint, k *bigmod.Nat) projPoint {
	s := c.newScratch()
	var table [16]projPoint
	table[0] = c.projIdentity()
	table[1] = c.projIdentity()
	setNat(table[1].x, p.x)
	setNat(table[1].y, p.y)
	setNat(table[1].z, p.z)
	for i := 2; i < 16; i++ {
		table[i] = c.projIdentity()
		c.add(s, &table[i], &table[i-1], &table[1])
	}
	acc := c.projIdentity()
	sel := c.projIdentity()
	for _, byt := range k.Bytes(c.n) {
		for _, nib := range [2]byte{byt >> 4, byt & 0x0f} {
			for range 4 {
				c.add(s, &acc, &acc, &acc)
			}
			for w := range table {
				eq := uint(subtle.ConstantTimeByteEq(byte(w), nib))
				cmov(eq, sel.x, table[w].x)
				cmov(eq, sel.y, table[w].y)
				cmov(eq, sel.z, table[w].z)
			}
			c.add(s, &acc, &acc, &sel)
		}
	}
	return acc
}

// Add returns p + q. It returns nil when either is nil or not a point of c:
// points never cross curves.
func (c *Curve) Add(p, q *Point) *Point {
	if !c.valid(p) || !c.valid(q) {
		return nil
	}
	return c.fromProj(c.addP(c.toProj(p), c.toProj(q)))
}

// Neg returns −p.
func (c *Curve) Neg(p *Point) *Point {
	if !c.valid(p) {
		return nil
	}
	if p.inf {
		return c.Infinity()
	}
	y, _ := c.feFromBytes(p.y)
	return &Point{curve: c, x: clone(p.x), y: c.fneg(y).Bytes(c.p)}
}

// ScalarMult returns k·p. k is a big-endian integer of any length (PACE
// nonces, 1024-bit representatives) and is reduced mod n first; the
// computation is constant time in k. k ≡ 0 mod n or p = O give O, which is
// returned, not refused: callers that need a public key check IsInfinity
// (ECDH and MapGeneric do).
func (c *Curve) ScalarMult(p *Point, k []byte) (*Point, error) {
	if !c.valid(p) {
		return nil, fmt.Errorf("%w: not a point of %s", ErrInvalidPoint, c.Name())
	}
	return c.fromProj(c.scalarMult(c.toProj(p), reduceWide(k, c.n))), nil
}

// ScalarBaseMult returns k·G, as ScalarMult.
func (c *Curve) ScalarBaseMult(k []byte) (*Point, error) {
	return c.ScalarMult(c.Generator(), k)
}

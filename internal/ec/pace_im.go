package ec

import (
	"fmt"

	"filippo.io/bigmod"
)

// MapIntegrated is the point encoding f_G of the PACE Integrated Mapping
// for ECDH (ICAO 9303-11 §4.4.3.3.2 and App. B): a deterministic map from a
// field element t to a point of the curve, Ĝ = f_G(R_p). rp is R(s,t) mod p
// or R itself: any big-endian integer, reduced mod p here.
//
// The encoding is the simplified Shallue–van de Woestijne–Ulas map of
// Brier et al. ("Efficient indifferentiable hashing into ordinary elliptic
// curves", CRYPTO 2010, §5), for a non-square ξ:
//
//	α = ξ·t², X₂ = −b·a⁻¹·(1 + (α + α²)⁻¹), X₃ = α·X₂,
//	h₂ = X₂³ + aX₂ + b, h₃ = X₃³ + aX₃ + b = α³·h₂,
//	Ĝ = (X₂, √h₂) if h₂ is a square, else (X₃, √h₃).
//
// Since ξ is a non-square, α³ is one, so exactly one of h₂ and h₃ is a
// square and the map always lands on the curve.
//
// When p ≡ 3 mod 4 (every curve here but P-224) ξ = −1, and the square
// roots are computed exactly as App. B.2 (affine coordinates) prescribes:
// U = t³·h₂, A = h₂^(p−1−(p+1)/4), then (X₂, A·h₂) if A²·h₂ = 1 else
// (X₃, A·U). That is pinned by the App. H.1 worked example.
//
// When p ≡ 1 mod 4 (P-224) −1 is a square and α = −t² would leave h₂ and
// h₃ both non-squares half the time, so ξ = −1 cannot work; this package
// takes ξ = −k for the smallest k ≥ 1 with −k a non-square (−1 for
// p ≡ 3 mod 4, so one rule for every curve) and constant-time
// Tonelli–Shanks square roots. The sign of y does not matter to PACE (the
// shared secret is an x-coordinate and each side's public key is sent, not
// recomputed), but ξ does: a chip that takes another non-square for P-224
// computes another Ĝ. No published P-224 IM vector pins it: confirm it
// against the text of App. B or a P-224 IM chip before relying on it.
//
// The cofactor multiplication of App. B is the identity on these curves.
// t = 0 (R ≡ 0 mod p) has no encoding and t with α + α² = 0 hits the
// exceptional case of the formula; both happen with probability about 2/p
// and give ErrInvalidPoint. The computation is constant time in t apart
// from that final on-curve check.
func (c *Curve) MapIntegrated(rp []byte) (*Point, error) {
	t := reduceWide(rp, c.p)
	if t.IsZero() == 1 {
		return nil, fmt.Errorf("%w: integrated mapping of t = 0", ErrInvalidPoint)
	}
	var x, y *bigmod.Nat
	if c.p3mod4 {
		x, y = c.encodeB2(t)
	} else {
		x, y = c.encodeGeneral(t)
	}
	if c.fsqr(y).Equal(c.rhs(x)) != 1 {
		return nil, fmt.Errorf("%w: integrated mapping hit the exceptional case α+α² = 0", ErrInvalidPoint)
	}
	return &Point{curve: c, x: x.Bytes(c.p), y: y.Bytes(c.p)}, nil
}

// x2x3 computes steps 1 to 4 of App. B.2 with the curve's ξ.
func (c *Curve) x2x3(t *bigmod.Nat) (alpha, x2, x3, h2 *bigmod.Nat) {
	alpha = c.fmul(c.xi, c.fsqr(t))             // 1. α = ξ·t²
	d := c.finv(c.fadd(alpha, c.fsqr(alpha)))   //    (α+α²)⁻¹, inv0
	x2 = c.fmul(c.mbOverA, c.fadd(c.fone(), d)) // 2. X₂ = −b·a⁻¹·(1 + (α+α²)⁻¹)
	x3 = c.fmul(alpha, x2)                      // 3. X₃ = α·X₂
	h2 = c.rhs(x2)                              // 4. h₂ = X₂³ + aX₂ + b
	return alpha, x2, x3, h2
}

// encodeB2 is App. B.2 for p ≡ 3 mod 4 (ξ = −1), steps 1–9.
func (c *Curve) encodeB2(t *bigmod.Nat) (x, y *bigmod.Nat) {
	_, x2, x3, h2 := c.x2x3(t)
	u := c.fmul(c.fmul(c.fsqr(t), t), h2) // 6. U = t³·h₂
	a := c.fexp(h2, c.imExp)              // 7. A = h₂^(p−1−(p+1)/4)
	sq := c.fmul(c.fsqr(a), h2).IsOne()   // 8. A²·h₂ = 1 ?
	x = ctSelect(sq, x2, x3, c.p)
	y = ctSelect(sq, c.fmul(a, h2), c.fmul(a, u), c.p)
	return x, y
}

// encodeGeneral is the same map for any odd p, with generic square roots.
func (c *Curve) encodeGeneral(t *bigmod.Nat) (x, y *bigmod.Nat) {
	_, x2, x3, h2 := c.x2x3(t)
	y2, sq := c.sqrt(h2)
	y3, _ := c.sqrt(c.rhs(x3))
	return ctSelect(sq, x2, x3, c.p), ctSelect(sq, y2, y3, c.p)
}

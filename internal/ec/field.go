package ec

import (
	"math/big"

	"filippo.io/bigmod"
)

// Field and scalar arithmetic on bigmod.Nat. Every helper returns a fresh
// value and never writes its arguments, so the curve constants can be
// shared; bigmod keeps each operation constant time in the values (it may
// leak only the modulus size). All field elements have the announced length
// of p, all scalars that of n.

// natClone returns a copy of x sized for m.
func natClone(x *bigmod.Nat, m *bigmod.Modulus) *bigmod.Nat {
	out := bigmod.NewNat().ExpandFor(m)
	copy(out.Bits(), x.Bits())
	return out
}

// ctSelect returns a copy of a when cond == 1 and of b when cond == 0,
// without a branch or a secret-dependent memory access.
func ctSelect(cond uint, a, b *bigmod.Nat, m *bigmod.Modulus) *bigmod.Nat {
	out := natClone(b, m)
	mask := -cond
	ob, ab := out.Bits(), a.Bits()
	for i := range ob {
		ob[i] ^= mask & (ab[i] ^ ob[i])
	}
	return out
}

func (c *Curve) fzero() *bigmod.Nat { return bigmod.NewNat().ExpandFor(c.p) }

func (c *Curve) fone() *bigmod.Nat {
	return bigmod.NewNat().SetUint(1).ExpandFor(c.p)
}

func (c *Curve) fmul(x, y *bigmod.Nat) *bigmod.Nat { return natClone(x, c.p).Mul(y, c.p) }
func (c *Curve) fsqr(x *bigmod.Nat) *bigmod.Nat    { return natClone(x, c.p).Mul(x, c.p) }
func (c *Curve) fadd(x, y *bigmod.Nat) *bigmod.Nat { return natClone(x, c.p).Add(y, c.p) }
func (c *Curve) fsub(x, y *bigmod.Nat) *bigmod.Nat { return natClone(x, c.p).Sub(y, c.p) }
func (c *Curve) fneg(x *bigmod.Nat) *bigmod.Nat    { return c.fzero().Sub(x, c.p) }
func (c *Curve) fexp(x *bigmod.Nat, e []byte) *bigmod.Nat {
	return bigmod.NewNat().Exp(x, e, c.p)
}

// finv returns x⁻¹ = x^(p−2) (Fermat), constant time; finv(0) = 0, the
// "inv0" convention that keeps the IM encoding branch free.
func (c *Curve) finv(x *bigmod.Nat) *bigmod.Nat { return c.fexp(x, c.pMinus2) }

// feFromBytes reads a field element of exactly ByteLen bytes, refusing
// values ≥ p (SEC 1 §2.3.6: the coordinate must be in [0, p−1]).
func (c *Curve) feFromBytes(b []byte) (*bigmod.Nat, error) {
	if len(b) != c.byteLen {
		return nil, errLength
	}
	return bigmod.NewNat().SetBytes(b, c.p)
}

// feFromBig converts a public, already reduced value.
func (c *Curve) feFromBig(x *big.Int) *bigmod.Nat {
	buf := make([]byte, c.byteLen)
	x.FillBytes(buf)
	v, err := bigmod.NewNat().SetBytes(buf, c.p)
	if err != nil {
		panic("ec: internal constant out of range")
	}
	return v
}

// reduceWide returns b mod m for a big-endian b of any length, in constant
// time in the value of b. PACE nonces, 1024-bit representatives and long
// hashes all go through here.
func reduceWide(b []byte, m *bigmod.Modulus) *bigmod.Nat {
	if len(b) == 0 {
		return bigmod.NewNat().ExpandFor(m)
	}
	// An even modulus 2^(8·len(b)) only sizes the intermediate Nat: bigmod
	// computes no Montgomery constants for it.
	wm := make([]byte, len(b)+1)
	wm[0] = 1
	w, err := bigmod.NewModulus(wm)
	if err != nil {
		panic("ec: internal modulus")
	}
	x, err := bigmod.NewNat().SetBytes(b, w)
	if err != nil {
		panic("ec: internal reduction")
	}
	return bigmod.NewNat().Mod(x, m)
}

// rhs returns x³ + a·x + b.
func (c *Curve) rhs(x *bigmod.Nat) *bigmod.Nat {
	x3 := c.fmul(c.fsqr(x), x)
	return c.fadd(c.fadd(x3, c.fmul(c.a, x)), c.b)
}

// sqrt returns a square root of x and 1, or an unspecified value and 0 when
// x is not a square. Constant time in x: p ≡ 3 mod 4 takes x^((p+1)/4);
// P-224 (p ≡ 1 mod 4) takes the constant-time Tonelli–Shanks of RFC 9380
// App. I.4, whose loop bounds depend only on p.
func (c *Curve) sqrt(x *bigmod.Nat) (*bigmod.Nat, uint) {
	var r *bigmod.Nat
	if c.p3mod4 {
		r = c.fexp(x, c.sqrtExp)
	} else {
		r = c.sqrtTS(x)
	}
	return r, c.fsqr(r).Equal(x)
}

func (c *Curve) sqrtTS(x *bigmod.Nat) *bigmod.Nat {
	z := c.fexp(x, c.tsC2) // x^((q−1)/2)
	t := c.fmul(c.fsqr(z), x)
	z.Mul(x, c.p)
	b := natClone(t, c.p)
	cc := natClone(c.tsC3, c.p)
	zc, tc := c.fzero(), c.fzero()
	for i := c.tsE; i >= 2; i-- {
		for j := 1; j <= i-2; j++ {
			b.Mul(b, c.p)
		}
		e := b.IsOne()
		setNat(zc, z)
		zc.Mul(cc, c.p)
		cmov(1^e, z, zc)
		cc.Mul(cc, c.p)
		setNat(tc, t)
		tc.Mul(cc, c.p)
		cmov(1^e, t, tc)
		setNat(b, t)
	}
	return z
}

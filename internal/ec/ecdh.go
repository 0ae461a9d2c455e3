package ec

import (
	"fmt"
	"io"

	"filippo.io/bigmod"
)

// maxKeyTries bounds rejection sampling so that a broken random source
// gives an error instead of a loop. With n within a factor of two of a
// power of two (true of all eleven curves), a try fails with probability
// below 1/2; 64 failures in a row mean the reader is not random.
const maxKeyTries = 64

// scalarFromBytes reads a private scalar of at most ScalarLen bytes and
// refuses 0 and values ≥ n (TR-03111 §4.1.1: 1 ≤ d ≤ n−1).
func (c *Curve) scalarFromBytes(k []byte) (*bigmod.Nat, error) {
	if len(k) == 0 || len(k) > c.ScalarLen() {
		return nil, fmt.Errorf("%w: %d bytes for a %s scalar of %d", ErrInvalidScalar, len(k), c.Name(), c.ScalarLen())
	}
	d, err := bigmod.NewNat().SetBytes(k, c.n)
	if err != nil {
		return nil, fmt.Errorf("%w: not below the order", ErrInvalidScalar)
	}
	if d.IsZero() == 1 {
		return nil, fmt.Errorf("%w: zero", ErrInvalidScalar)
	}
	return d, nil
}

// randomScalar draws d uniformly from [1, n−1] by rejection sampling
// (FIPS 186-5 A.2.2 "rejection sampling" / TR-03111 §4.1.1).
func (c *Curve) randomScalar(rand io.Reader) (*bigmod.Nat, error) {
	buf := make([]byte, c.ScalarLen())
	excess := uint(8*len(buf) - c.n.BitLen())
	for range maxKeyTries {
		if err := readRand(rand, buf); err != nil {
			return nil, err
		}
		buf[0] &= 0xff >> excess
		d, err := bigmod.NewNat().SetBytes(buf, c.n)
		if err != nil || d.IsZero() == 1 {
			continue
		}
		return d, nil
	}
	return nil, fmt.Errorf("ec: the random source gave %d unusable scalars in a row", maxKeyTries)
}

// GenerateKey returns a fresh key pair on the generator g: priv uniform in
// [1, n−1], exactly ScalarLen bytes, and pub = priv·g. g = nil means the
// curve's generator G; PACE passes its mapped generator Ĝ (9303-11
// §4.4.3.3, "ephemeral key pair on the mapped domain parameters").
func (c *Curve) GenerateKey(rand io.Reader, g *Point) (priv []byte, pub *Point, err error) {
	if g == nil {
		g = c.Generator()
	}
	if !c.valid(g) || g.inf {
		return nil, nil, fmt.Errorf("%w: generator is not a finite point of %s", ErrInvalidPoint, c.Name())
	}
	d, err := c.randomScalar(rand)
	if err != nil {
		return nil, nil, err
	}
	pub = c.fromProj(c.scalarMult(c.toProj(g), d))
	return d.Bytes(c.n), pub, nil
}

// PublicKey returns priv·g (g = nil: the curve's generator) for a private
// key in [1, n−1], refusing other values with ErrInvalidScalar.
func (c *Curve) PublicKey(priv []byte, g *Point) (*Point, error) {
	if g == nil {
		g = c.Generator()
	}
	if !c.valid(g) || g.inf {
		return nil, fmt.Errorf("%w: generator is not a finite point of %s", ErrInvalidPoint, c.Name())
	}
	d, err := c.scalarFromBytes(priv)
	if err != nil {
		return nil, err
	}
	return c.fromProj(c.scalarMult(c.toProj(g), d)), nil
}

// ECDH is the elliptic curve key agreement of TR-03111 §4.3.1 (ECKA-DH):
// it returns the x-coordinate of priv·peer, exactly ByteLen bytes with its
// leading zero bytes, which is the PACE and Chip Authentication shared
// secret K (9303-11 §4.4.3.3, §6.2). priv is any big-endian integer
// (reduced mod n; PACE-IM and CA keys are at most ScalarLen bytes but the
// reduction costs nothing). peer must be a finite point of c — parse it
// with NewPoint, which checks it is on the curve — else ErrInvalidPoint;
// a priv ≡ 0 mod n gives ErrInvalidScalar. With cofactor 1 there is no
// small subgroup to check (TR-03111 §4.3.2.1's cofactor multiplication is
// the identity).
func (c *Curve) ECDH(priv []byte, peer *Point) ([]byte, error) {
	if !c.valid(peer) {
		return nil, fmt.Errorf("%w: peer key is not a point of %s", ErrInvalidPoint, c.Name())
	}
	if peer.inf {
		return nil, fmt.Errorf("%w: peer key is the point at infinity", ErrInvalidPoint)
	}
	k := reduceWide(priv, c.n)
	if k.IsZero() == 1 {
		return nil, fmt.Errorf("%w: private key ≡ 0 mod n", ErrInvalidScalar)
	}
	s := c.fromProj(c.scalarMult(c.toProj(peer), k))
	if s.inf {
		// Unreachable for a valid peer on a prime-order curve; kept as the
		// check TR-03111 §4.3.1 step 2 prescribes.
		return nil, fmt.Errorf("%w: shared point is the point at infinity", ErrInvalidPoint)
	}
	return s.X(), nil
}

// MapGeneric is the PACE Generic Mapping for ECDH (9303-11 §4.4.3.3.1):
// Ĝ = s·G + H, where s is the decrypted chip nonce and H the point from the
// mapping key agreement (H = SK_map·PK_map, the full point, not only its
// x-coordinate). H must be a finite point of c. A result at infinity
// (s·G = −H, probability 1/n unless H is chosen against s) is refused with
// ErrInvalidPoint: it cannot be a generator.
func (c *Curve) MapGeneric(s []byte, h *Point) (*Point, error) {
	if !c.valid(h) || h.inf {
		return nil, fmt.Errorf("%w: H is not a finite point of %s", ErrInvalidPoint, c.Name())
	}
	sg := c.scalarMult(c.toProj(c.Generator()), reduceWide(s, c.n))
	g := c.fromProj(c.addP(sg, c.toProj(h)))
	if g.inf {
		return nil, fmt.Errorf("%w: mapped generator is the point at infinity", ErrInvalidPoint)
	}
	return g, nil
}

// SharedPoint returns priv·peer as a point: the PACE-GM mapping point H
// (9303-11 §4.4.3.3.1 uses the whole point, not ECDH's x-coordinate). Same
// checks as ECDH.
func (c *Curve) SharedPoint(priv []byte, peer *Point) (*Point, error) {
	if !c.valid(peer) || peer.inf {
		return nil, fmt.Errorf("%w: peer key is not a finite point of %s", ErrInvalidPoint, c.Name())
	}
	k := reduceWide(priv, c.n)
	if k.IsZero() == 1 {
		return nil, fmt.Errorf("%w: private key ≡ 0 mod n", ErrInvalidScalar)
	}
	s := c.fromProj(c.scalarMult(c.toProj(peer), k))
	if s.inf {
		return nil, fmt.Errorf("%w: shared point is the point at infinity", ErrInvalidPoint)
	}
	return s, nil
}

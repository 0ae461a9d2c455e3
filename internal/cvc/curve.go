package cvc

import (
	"crypto"
	"crypto/ecdsa"
	"fmt"
	"math/big"

	"borderid/internal/ec"
)

// curveFor matches explicit domain parameters, as a CVCA certificate
// carries them (TR-03110-3 D.3.3), to one of the eleven named curves of
// internal/ec (brainpoolP192r1..P512r1, P-192..P-521). Anything else is
// refused: TR-03110 terminals use standardized domains only, and the
// arithmetic is only written and tested for those.
func curveFor(d *ECDomain) (*ec.Curve, error) {
	if d == nil || d.P == nil || d.A == nil || d.B == nil || d.N == nil {
		return nil, fmt.Errorf("%w: no EC domain parameters", ErrInvalidKey)
	}
	// G is uncompressed 04 || x || y with coordinates of equal length.
	if len(d.G) < 3 || d.G[0] != 0x04 || len(d.G)%2 != 1 {
		return nil, fmt.Errorf("%w: base point not in uncompressed form", ErrUnsupportedAlgorithm)
	}
	l := (len(d.G) - 1) / 2
	gx := new(big.Int).SetBytes(d.G[1 : 1+l])
	gy := new(big.Int).SetBytes(d.G[1+l:])
	c, ok := ec.MatchParams(d.P, d.A, d.B, gx, gy, d.N, d.H)
	if !ok || l != c.ByteLen() {
		return nil, fmt.Errorf("%w: EC domain with a %d-bit prime is not a standardized curve", ErrUnsupportedAlgorithm, d.P.BitLen())
	}
	return c, nil
}

// Curve returns the named curve of internal/ec whose parameters d are;
// an error wrapping ErrInvalidKey or ErrUnsupportedAlgorithm when d is
// incomplete or no standardized curve. Two domains are the same curve
// when their Curve IDs are equal, however their parameters were encoded.
func (d *ECDomain) Curve() (*ec.Curve, error) { return curveFor(d) }

// checkPoint refuses an encoding that is not a finite point on c
// (SEC 1 §2.3.4 with the on-curve check; the point at infinity, 00, is
// refused by ec.NewPoint).
func checkPoint(c *ec.Curve, pt []byte) (*ec.Point, error) {
	p, err := c.NewPoint(pt)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return p, nil
}

// DomainOfCurve expresses a named curve as the explicit parameters a CVCA
// certificate carries.
func DomainOfCurve(c *ec.Curve) *ECDomain {
	p, a, b, gx, gy, n, h := c.Params()
	l := c.ByteLen()
	g := make([]byte, 1+2*l)
	g[0] = 0x04
	gx.FillBytes(g[1 : 1+l])
	gy.FillBytes(g[1+l:])
	return &ECDomain{P: p, A: a, B: b, G: g, N: n, H: h}
}

// DomainOf returns the explicit domain parameters of the curve a public
// key lives on: an *ec.PublicKey (any of internal/ec's curves) or an
// *ecdsa.PublicKey on a NIST curve.
func DomainOf(pub crypto.PublicKey) (*ECDomain, error) {
	c, err := curveOfKey(pub)
	if err != nil {
		return nil, err
	}
	return DomainOfCurve(c), nil
}

// curveOfKey finds the internal/ec curve of an EC public key.
func curveOfKey(pub crypto.PublicKey) (*ec.Curve, error) {
	switch k := pub.(type) {
	case *ec.PublicKey:
		if k == nil {
			return nil, fmt.Errorf("%w: nil key", ErrInvalidKey)
		}
		return k.Curve(), nil
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return nil, fmt.Errorf("%w: no curve", ErrInvalidKey)
		}
		c, ok := ec.ByName(k.Curve.Params().Name)
		if !ok {
			return nil, fmt.Errorf("%w: curve %s", ErrUnsupportedAlgorithm, k.Curve.Params().Name)
		}
		return c, nil
	}
	return nil, fmt.Errorf("%w: %T is not an EC public key", ErrUnsupportedAlgorithm, pub)
}

package ec

import (
	"crypto"
	"crypto/sha3"
	"errors"
	"fmt"
	"io"
	"math/big"

	"filippo.io/bigmod"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// ErrNoRandomness is returned by Sign, GenerateKey and the functions built
// on them when the random source is nil: io.ReadFull would panic on it, and
// a signature or key must never be made without fresh randomness.
var ErrNoRandomness = errors.New("ec: no random source")

// readRand fills buf from rand, refusing a nil source with
// ErrNoRandomness instead of panicking.
func readRand(rand io.Reader, buf []byte) error {
	if rand == nil {
		return ErrNoRandomness
	}
	if _, err := io.ReadFull(rand, buf); err != nil {
		return fmt.Errorf("ec: reading randomness: %w", err)
	}
	return nil
}

// hashToScalar converts a message digest to an integer mod n as SEC 1
// §4.1.3 step 5 and TR-03111 §4.2.1.1 prescribe: the leftmost ⌈log₂ n⌉
// bits of the hash, then reduced mod n.
func (c *Curve) hashToScalar(hash []byte) *bigmod.Nat {
	nbits := c.n.BitLen()
	if 8*len(hash) > nbits {
		hash = hash[:(nbits+7)/8]
		if excess := uint(8*len(hash) - nbits); excess > 0 {
			h := make([]byte, len(hash))
			var carry byte
			for i, b := range hash {
				h[i] = carry | b>>excess
				carry = b << (8 - excess)
			}
			hash = h
		}
	}
	return reduceWide(hash, c.n)
}

func (c *Curve) nmul(x, y *bigmod.Nat) *bigmod.Nat { return natClone(x, c.n).Mul(y, c.n) }

// ninv returns x⁻¹ mod n = x^(n−2), constant time (n is prime).
func (c *Curve) ninv(x *bigmod.Nat) *bigmod.Nat { return bigmod.NewNat().Exp(x, c.nMinus2, c.n) }

// Sign is ECDSA signature generation (TR-03111 §4.2.1.1, SEC 1 §4.1.3):
// r = x(k·G) mod n, s = k⁻¹(e + r·d) mod n, returned as two big-endian
// integers of exactly ScalarLen bytes (the TR-03111 plain format is r‖s;
// see PlainToDER). priv is the private key d in [1, n−1].
//
// The nonce k is hedged: SHAKE256(d ‖ 32 bytes from rand ‖ hash), 16 bytes
// longer than n before the reduction, so a weak random source does not
// reveal d and a deterministic one in tests gives reproducible signatures.
// k, its inverse and the products with d are constant time.
func (c *Curve) Sign(rand io.Reader, priv []byte, hash []byte) (r, s []byte, err error) {
	d, err := c.scalarFromBytes(priv)
	if err != nil {
		return nil, nil, err
	}
	e := c.hashToScalar(hash)
	entropy := make([]byte, 32)
	for range maxKeyTries {
		if err := readRand(rand, entropy); err != nil {
			return nil, nil, err
		}
		x := sha3.NewSHAKE256()
		x.Write(d.Bytes(c.n))
		x.Write(entropy)
		x.Write(hash)
		kb := make([]byte, c.ScalarLen()+16)
		x.Read(kb)
		k := reduceWide(kb, c.n)
		if k.IsZero() == 1 {
			continue
		}
		R := c.fromProj(c.scalarMult(c.toProj(c.Generator()), k))
		rn := reduceWide(R.x, c.n)
		if rn.IsZero() == 1 {
			continue
		}
		sn := c.nmul(c.ninv(k), natClone(e, c.n).Add(c.nmul(rn, d), c.n))
		if sn.IsZero() == 1 {
			continue
		}
		return rn.Bytes(c.n), sn.Bytes(c.n), nil
	}
	return nil, nil, fmt.Errorf("ec: the random source gave %d unusable nonces in a row", maxKeyTries)
}

// Verify is ECDSA signature verification (TR-03111 §4.2.1.2, SEC 1
// §4.1.4). r and s are big-endian integers of at most ScalarLen bytes
// (leading zeros may be stripped); both must lie in [1, n−1] and pub must
// be a finite point of c. Verification handles public data only, so it is
// not constant time.
func (c *Curve) Verify(pub *Point, hash, r, s []byte) bool {
	if !c.valid(pub) || pub.inf {
		return false
	}
	rn, err := c.scalarFromBytes(r)
	if err != nil {
		return false
	}
	sn, err := c.scalarFromBytes(s)
	if err != nil {
		return false
	}
	e := c.hashToScalar(hash)
	w := c.ninv(sn)
	u1 := c.nmul(e, w)
	u2 := c.nmul(rn, w)
	R := c.addP(c.scalarMult(c.toProj(c.Generator()), u1), c.scalarMult(c.toProj(pub), u2))
	Ra := c.fromProj(R)
	if Ra.inf {
		return false
	}
	return reduceWide(Ra.x, c.n).Equal(rn) == 1
}

// PlainToDER converts a TR-03111 §5.2.1 plain signature r‖s (two integers
// of equal length) to the X9.62 / RFC 3279 DER Ecdsa-Sig-Value
// SEQUENCE { r INTEGER, s INTEGER } that crypto/ecdsa and CMS use.
func PlainToDER(plain []byte) ([]byte, error) {
	if len(plain) == 0 || len(plain)%2 != 0 {
		return nil, fmt.Errorf("ec: plain signature of odd or zero length %d", len(plain))
	}
	r := new(big.Int).SetBytes(plain[:len(plain)/2])
	s := new(big.Int).SetBytes(plain[len(plain)/2:])
	if r.Sign() == 0 || s.Sign() == 0 {
		return nil, errors.New("ec: plain signature with r or s zero")
	}
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(r)
		b.AddASN1BigInt(s)
	})
	return b.Bytes()
}

// DERToPlain converts a DER Ecdsa-Sig-Value to the plain format r‖s with
// each integer left-padded to size bytes (the curve's ScalarLen). It
// refuses trailing data, non-minimal or negative integers, zero, and
// integers longer than size.
func DERToPlain(der []byte, size int) ([]byte, error) {
	if size <= 0 {
		return nil, fmt.Errorf("ec: plain signature size %d", size)
	}
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	r, s := new(big.Int), new(big.Int)
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1Integer(r) || !seq.ReadASN1Integer(s) || !seq.Empty() {
		return nil, errors.New("ec: malformed DER ECDSA signature")
	}
	if r.Sign() <= 0 || s.Sign() <= 0 {
		return nil, errors.New("ec: DER ECDSA signature with r or s not positive")
	}
	if r.BitLen() > 8*size || s.BitLen() > 8*size {
		return nil, fmt.Errorf("ec: DER ECDSA signature integers longer than %d bytes", size)
	}
	out := make([]byte, 2*size)
	r.FillBytes(out[:size])
	s.FillBytes(out[size:])
	return out, nil
}

// PublicKey is an ECDSA / ECDH public key on one of the curves here.
type PublicKey struct {
	point *Point
}

// NewPublicKey wraps a finite point of its curve.
func NewPublicKey(p *Point) (*PublicKey, error) {
	if p == nil || p.curve == nil || !p.curve.valid(p) || p.inf {
		return nil, fmt.Errorf("%w: a public key must be a finite point", ErrInvalidPoint)
	}
	return &PublicKey{point: p}, nil
}

// Curve returns the key's curve (nil for the zero PublicKey).
func (k *PublicKey) Curve() *Curve {
	if k == nil {
		return nil
	}
	return k.point.Curve()
}

// Point returns the key's point.
func (k *PublicKey) Point() *Point {
	if k == nil {
		return nil
	}
	return k.point
}

// Bytes returns the uncompressed point encoding 04‖X‖Y.
func (k *PublicKey) Bytes() []byte { return k.Point().Bytes() }

// Equal reports whether x is a *PublicKey with the same point, as the
// crypto package's keys do.
func (k *PublicKey) Equal(x crypto.PublicKey) bool {
	o, ok := x.(*PublicKey)
	return ok && k.Point().Equal(o.Point())
}

// VerifyASN1 verifies a DER Ecdsa-Sig-Value over hash.
func (k *PublicKey) VerifyASN1(hash, sig []byte) bool {
	c := k.Curve()
	if c == nil {
		return false
	}
	plain, err := DERToPlain(sig, c.ScalarLen())
	if err != nil {
		return false
	}
	return c.Verify(k.point, hash, plain[:c.ScalarLen()], plain[c.ScalarLen():])
}

// PrivateKey is an ECDSA private key on one of the curves here. It
// implements crypto.Signer, so a brainpool key can sign wherever a
// crypto/ecdsa key could (CMS, X.509, CV certificates, Active
// Authentication); Sign returns DER like crypto/ecdsa.
type PrivateKey struct {
	d   []byte // ScalarLen bytes, in [1, n−1]
	pub *PublicKey
}

// NewPrivateKey returns the key with scalar d (at most ScalarLen bytes,
// 1 ≤ d ≤ n−1, else ErrInvalidScalar).
func NewPrivateKey(c *Curve, d []byte) (*PrivateKey, error) {
	dn, err := c.scalarFromBytes(d)
	if err != nil {
		return nil, err
	}
	return &PrivateKey{
		d:   dn.Bytes(c.n),
		pub: &PublicKey{point: c.fromProj(c.scalarMult(c.toProj(c.Generator()), dn))},
	}, nil
}

// GeneratePrivateKey returns a fresh key on c.
func GeneratePrivateKey(c *Curve, rand io.Reader) (*PrivateKey, error) {
	d, pub, err := c.GenerateKey(rand, nil)
	if err != nil {
		return nil, err
	}
	return &PrivateKey{d: d, pub: &PublicKey{point: pub}}, nil
}

// Curve returns the key's curve (nil for the zero PrivateKey).
func (k *PrivateKey) Curve() *Curve {
	if k == nil {
		return nil
	}
	return k.pub.Curve()
}

var errZeroKey = errors.New("ec: uninitialised PrivateKey (use NewPrivateKey or GeneratePrivateKey)")

// Bytes returns a copy of the scalar d, exactly ScalarLen bytes.
func (k *PrivateKey) Bytes() []byte { return clone(k.d) }

// PublicKey returns the public key d·G.
func (k *PrivateKey) PublicKey() *PublicKey {
	if k == nil {
		return nil
	}
	return k.pub
}

// Public implements crypto.Signer; the value is a *PublicKey.
func (k *PrivateKey) Public() crypto.PublicKey { return k.PublicKey() }

// Sign implements crypto.Signer: it signs digest (already hashed; opts is
// only the hash's identity and is not checked, as in crypto/ecdsa) and
// returns a DER Ecdsa-Sig-Value.
func (k *PrivateKey) Sign(rand io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	c := k.Curve()
	if c == nil {
		return nil, errZeroKey
	}
	r, s, err := c.Sign(rand, k.d, digest)
	if err != nil {
		return nil, err
	}
	return PlainToDER(append(r, s...))
}

// SignPlain signs digest and returns the TR-03111 plain format r‖s, the
// form of Terminal Authentication and ECDSA Active Authentication.
func (k *PrivateKey) SignPlain(rand io.Reader, digest []byte) ([]byte, error) {
	if k.Curve() == nil {
		return nil, errZeroKey
	}
	r, s, err := k.Curve().Sign(rand, k.d, digest)
	if err != nil {
		return nil, err
	}
	return append(r, s...), nil
}

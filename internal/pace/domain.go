package pace

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"io"

	"filippo.io/bigmod"

	"borderid/internal/dh"
	"borderid/internal/ec"
)

// KeyAgreement is the family of a PACE domain: elliptic-curve or
// finite-field Diffie-Hellman.
type KeyAgreement int

const (
	ECDH KeyAgreement = iota + 1 // elliptic curves, parameter ids 8-18
	DH                           // RFC 5114 groups, parameter ids 0-2
)

// String returns the name of the inspection report's
// access_params.key_agreement: "ECDH" or "DH".
func (k KeyAgreement) String() string {
	switch k {
	case ECDH:
		return "ECDH"
	case DH:
		return "DH"
	}
	return fmt.Sprintf("KeyAgreement(%d)", int(k))
}

// ErrUnknownParameterID reports a parameter id that is not one of the
// standardized domain parameters of 9303-11 §9.5.1 (0-2, 8-18).
var ErrUnknownParameterID = errors.New("pace: unknown standardized domain parameter id")

// ErrMapping reports a mapping whose result is the identity (ĝ = 1, Ĝ = O).
var ErrMapping = errors.New("pace: mapping produced the identity")

// Domain is a PACE domain (a DH group or an elliptic curve) behind byte
// strings of fixed length, so that protocol code needs no type switch:
//
//   - a public key or generator is, for DH, the group element as exactly
//     ElementLen bytes; for ECDH, the SEC 1 uncompressed point 04‖X‖Y with
//     coordinates of the field's byte length (9303-11 App. B / TR-03111
//     §3.2.1);
//   - a private key is exactly ScalarLen bytes, in [1, order-1];
//   - the shared secret K is, for DH, the element as ElementLen bytes; for
//     ECDH, the x-coordinate as the field's byte length — leading zeros kept.
//
// Every method validates what it is given and returns wrapped errors; none
// panics on any input. Implementations are immutable.
type Domain interface {
	// Name is the inspection report's access_params.domain: "brainpoolP256r1",
	// "P-256", "DH-2048/256".
	Name() string
	// ParameterID is the standardized parameter id (0-2, 8-18).
	ParameterID() int
	// KeyAgreement is ECDH or DH.
	KeyAgreement() KeyAgreement
	// ElementLen is the length of a public key or generator encoding.
	ElementLen() int
	// ScalarLen is the length of a private key.
	ScalarLen() int
	// Prime returns p (the DH modulus or the curve's field prime) and
	// PrimeBits its bit length: the integrated mapping reduces R(s,t) mod p.
	Prime() []byte
	PrimeBits() int
	// Order returns the prime order of the generator (q or n), ScalarLen
	// bytes.
	Order() []byte
	// Generator returns the encoding of the domain's standard generator.
	Generator() []byte
	// ValidatePublic checks a peer's public key: on the curve and not the
	// point at infinity; 1 < y < p-1 and y^q = 1 for DH.
	ValidatePublic(pub []byte) error
	// GenerateKey draws a private key from rand and returns it with the
	// public key on gen (nil: the standard generator).
	GenerateKey(rand io.Reader, gen []byte) (priv, pub []byte, err error)
	// PublicKey is GenerateKey for a known private key.
	PublicKey(priv, gen []byte) ([]byte, error)
	// Agree validates peer and returns the shared element priv·peer (DH:
	// peer^priv) as a full encoding: the H of the generic mapping.
	Agree(priv, peer []byte) ([]byte, error)
	// SharedSecret validates peer and returns K: the x-coordinate of
	// priv·peer, or peer^priv mod p.
	SharedSecret(priv, peer []byte) ([]byte, error)
	// MapGeneric is the generic mapping (9303-11 §4.4.3.3.1): Ĝ = s·G + H,
	// ĝ = g^s·h.
	MapGeneric(s, h []byte) ([]byte, error)
	// MapIntegrated is the integrated mapping (9303-11 §4.4.3.3.2) of
	// R_p = R(s,t) mod p: the point encoding of App. B for curves,
	// R_p^((p-1)/q) for DH. See IntegratedGenerator for the whole step.
	MapIntegrated(rp []byte) ([]byte, error)
	// Comp is the compressed public key of TR-03110-3 A.2.2.3 (used by
	// Terminal Authentication's ID_IC after PACE): the x-coordinate for
	// ECDH, SHA-1 of the fixed-length element for DH.
	Comp(pub []byte) ([]byte, error)
}

// DomainByParameterID returns the standardized domain parameters of
// 9303-11 §9.5.1 Table 6: 0 DH-1024/160, 1 DH-2048/224, 2 DH-2048/256,
// 8 P-192, 9 brainpoolP192r1, 10 P-224, 11 brainpoolP224r1, 12 P-256,
// 13 brainpoolP256r1, 14 brainpoolP320r1, 15 P-384, 16 brainpoolP384r1,
// 17 brainpoolP512r1, 18 P-521. Ids 3-7 are reserved and 19-31 unassigned;
// both are refused with ErrUnknownParameterID.
func DomainByParameterID(id int) (Domain, error) {
	switch id {
	case 0:
		return newDHDomain(id, dh.RFC5114_1024_160()), nil
	case 1:
		return newDHDomain(id, dh.RFC5114_2048_224()), nil
	case 2:
		return newDHDomain(id, dh.RFC5114_2048_256()), nil
	}
	curves := map[int]func() *ec.Curve{
		8: ec.P192, 9: ec.BrainpoolP192r1, 10: ec.P224, 11: ec.BrainpoolP224r1,
		12: ec.P256, 13: ec.BrainpoolP256r1, 14: ec.BrainpoolP320r1, 15: ec.P384,
		16: ec.BrainpoolP384r1, 17: ec.BrainpoolP512r1, 18: ec.P521,
	}
	if f, ok := curves[id]; ok {
		return newECDomain(id, f()), nil
	}
	return nil, fmt.Errorf("%w: %d", ErrUnknownParameterID, id)
}

// ParameterIDs returns the standardized parameter ids in ascending order.
func ParameterIDs() []int { return []int{0, 1, 2, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18} }

// dhDomain adapts a dh.Group.
type dhDomain struct {
	id int
	g  *dh.Group
}

func newDHDomain(id int, g *dh.Group) *dhDomain { return &dhDomain{id: id, g: g} }

func (d *dhDomain) Name() string               { return d.g.Name() }
func (d *dhDomain) ParameterID() int           { return d.id }
func (d *dhDomain) KeyAgreement() KeyAgreement { return DH }
func (d *dhDomain) ElementLen() int            { return d.g.ByteLen() }
func (d *dhDomain) ScalarLen() int             { return d.g.ScalarLen() }
func (d *dhDomain) Prime() []byte              { return d.g.P() }
func (d *dhDomain) PrimeBits() int             { return d.g.BitLen() }
func (d *dhDomain) Order() []byte              { return d.g.Q() }
func (d *dhDomain) Generator() []byte          { return d.g.Generator() }

// fixed refuses DH public values that are not exactly ElementLen bytes: in
// PACE every DH value travels at its fixed length (App. G.2 prints the
// 128-byte framing), and a short one would change the token's input.
func (d *dhDomain) fixed(pub []byte) error {
	if len(pub) != d.g.ByteLen() {
		return fmt.Errorf("%w: %d bytes, want %d", dh.ErrInvalidPublic, len(pub), d.g.ByteLen())
	}
	return nil
}

func (d *dhDomain) ValidatePublic(pub []byte) error {
	if err := d.fixed(pub); err != nil {
		return err
	}
	return d.g.ValidatePublic(pub)
}

func (d *dhDomain) GenerateKey(rand io.Reader, gen []byte) ([]byte, []byte, error) {
	return d.g.GenerateKey(rand, gen)
}

func (d *dhDomain) PublicKey(priv, gen []byte) ([]byte, error) { return d.g.PublicKey(priv, gen) }

func (d *dhDomain) Agree(priv, peer []byte) ([]byte, error) {
	return d.SharedSecret(priv, peer)
}

func (d *dhDomain) SharedSecret(priv, peer []byte) ([]byte, error) {
	if err := d.fixed(peer); err != nil {
		return nil, err
	}
	return d.g.SharedSecret(priv, peer)
}

func (d *dhDomain) MapGeneric(s, h []byte) ([]byte, error) {
	out, err := d.g.MapGeneric(s, h)
	if errors.Is(err, dh.ErrMapping) {
		return nil, fmt.Errorf("%w: %w", ErrMapping, err)
	}
	return out, err
}

func (d *dhDomain) MapIntegrated(rp []byte) ([]byte, error) {
	out, err := d.g.MapIntegrated(rp)
	if errors.Is(err, dh.ErrMapping) {
		return nil, fmt.Errorf("%w: %w", ErrMapping, err)
	}
	return out, err
}

func (d *dhDomain) Comp(pub []byte) ([]byte, error) {
	if err := d.ValidatePublic(pub); err != nil {
		return nil, err
	}
	sum := sha1.Sum(pub)
	return sum[:], nil
}

// ecDomain adapts an ec.Curve.
type ecDomain struct {
	id    int
	c     *ec.Curve
	p, n  []byte // fixed length: ByteLen and ScalarLen
	nMod  *bigmod.Modulus
	pMod  *bigmod.Modulus
	pBits int
}

func newECDomain(id int, c *ec.Curve) *ecDomain {
	p, _, _, _, _, n, _ := c.Params()
	nb := n.FillBytes(make([]byte, c.ScalarLen()))
	pb := p.FillBytes(make([]byte, c.ByteLen()))
	nMod, err1 := bigmod.NewModulus(nb)
	pMod, err2 := bigmod.NewModulus(pb)
	if err := errors.Join(err1, err2); err != nil {
		// n and p are built-in primes of ec; failing here is a programming
		// error, never an input error.
		panic("pace: curve parameters: " + err.Error())
	}
	return &ecDomain{id: id, c: c, p: pb, n: nb, nMod: nMod, pMod: pMod, pBits: p.BitLen()}
}

func (d *ecDomain) Name() string               { return d.c.Name() }
func (d *ecDomain) ParameterID() int           { return d.id }
func (d *ecDomain) KeyAgreement() KeyAgreement { return ECDH }
func (d *ecDomain) ElementLen() int            { return 1 + 2*d.c.ByteLen() }
func (d *ecDomain) ScalarLen() int             { return d.c.ScalarLen() }
func (d *ecDomain) Prime() []byte              { return clone(d.p) }
func (d *ecDomain) PrimeBits() int             { return d.pBits }
func (d *ecDomain) Order() []byte              { return clone(d.n) }
func (d *ecDomain) Generator() []byte          { return d.c.Generator().Bytes() }

// point parses an uncompressed point. Compressed encodings are refused: PACE
// exchanges uncompressed points (9303-11 App. B / TR-03111 §3.2.1), and the
// token's input must be the same bytes on both sides.
func (d *ecDomain) point(enc []byte) (*ec.Point, error) {
	if len(enc) != d.ElementLen() || enc[0] != 0x04 {
		return nil, fmt.Errorf("%w: want an uncompressed point of %d bytes", ec.ErrInvalidPoint, d.ElementLen())
	}
	return d.c.NewPoint(enc)
}

func (d *ecDomain) generator(gen []byte) (*ec.Point, error) {
	if gen == nil {
		return d.c.Generator(), nil
	}
	g, err := d.point(gen)
	if err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	return g, nil
}

// scalar checks a private key: exactly ScalarLen bytes, in [1, n-1].
func (d *ecDomain) scalar(k []byte) error {
	if len(k) != d.c.ScalarLen() {
		return fmt.Errorf("%w: %d bytes, want %d", ec.ErrInvalidScalar, len(k), d.c.ScalarLen())
	}
	x, err := bigmod.NewNat().SetBytes(k, d.nMod)
	if err != nil || x.IsZero() == 1 {
		return fmt.Errorf("%w: not in [1, n-1]", ec.ErrInvalidScalar)
	}
	return nil
}

func (d *ecDomain) ValidatePublic(pub []byte) error {
	_, err := d.point(pub)
	return err
}

func (d *ecDomain) GenerateKey(rand io.Reader, gen []byte) ([]byte, []byte, error) {
	if rand == nil {
		return nil, nil, fmt.Errorf("pace: %w", ec.ErrNoRandomness)
	}
	g, err := d.generator(gen)
	if err != nil {
		return nil, nil, err
	}
	nBits := d.nMod.BitLen()
	for range 100 {
		k := make([]byte, d.c.ScalarLen())
		if _, err := io.ReadFull(rand, k); err != nil {
			return nil, nil, fmt.Errorf("pace: reading randomness: %w", err)
		}
		if excess := len(k)*8 - nBits; excess > 0 {
			k[0] &= byte(0xff >> excess)
		}
		if d.scalar(k) != nil {
			continue
		}
		pub, err := d.mult(g, k)
		if err != nil {
			return nil, nil, err
		}
		return k, pub.Bytes(), nil
	}
	return nil, nil, errors.New("pace: randomness source keeps producing out-of-range keys")
}

func (d *ecDomain) mult(p *ec.Point, k []byte) (*ec.Point, error) {
	r, err := d.c.ScalarMult(p, k)
	if err != nil {
		return nil, err
	}
	if r.IsInfinity() {
		return nil, fmt.Errorf("%w: result is the point at infinity", ec.ErrInvalidPoint)
	}
	return r, nil
}

func (d *ecDomain) PublicKey(priv, gen []byte) ([]byte, error) {
	g, err := d.generator(gen)
	if err != nil {
		return nil, err
	}
	if err := d.scalar(priv); err != nil {
		return nil, err
	}
	r, err := d.mult(g, priv)
	if err != nil {
		return nil, err
	}
	return r.Bytes(), nil
}

func (d *ecDomain) agree(priv, peer []byte) (*ec.Point, error) {
	p, err := d.point(peer)
	if err != nil {
		return nil, err
	}
	if err := d.scalar(priv); err != nil {
		return nil, err
	}
	return d.mult(p, priv)
}

func (d *ecDomain) Agree(priv, peer []byte) ([]byte, error) {
	r, err := d.agree(priv, peer)
	if err != nil {
		return nil, err
	}
	return r.Bytes(), nil
}

func (d *ecDomain) SharedSecret(priv, peer []byte) ([]byte, error) {
	r, err := d.agree(priv, peer)
	if err != nil {
		return nil, err
	}
	return r.X(), nil
}

func (d *ecDomain) MapGeneric(s, h []byte) ([]byte, error) {
	if len(s) == 0 {
		return nil, fmt.Errorf("%w: empty nonce", ec.ErrInvalidScalar)
	}
	hp, err := d.point(h)
	if err != nil {
		return nil, fmt.Errorf("H: %w", err)
	}
	sg, err := d.c.ScalarBaseMult(s)
	if err != nil {
		return nil, err
	}
	g := d.c.Add(sg, hp)
	if g == nil {
		return nil, errors.New("pace: point addition failed")
	}
	if g.IsInfinity() {
		return nil, ErrMapping
	}
	return g.Bytes(), nil
}

func (d *ecDomain) MapIntegrated(rp []byte) ([]byte, error) {
	// R_p derives from the secret nonce: compare it with p in constant time.
	if len(rp) != d.c.ByteLen() {
		return nil, fmt.Errorf("pace: R_p must be a field element of %d bytes", d.c.ByteLen())
	}
	if _, err := bigmod.NewNat().SetBytes(rp, d.pMod); err != nil {
		return nil, fmt.Errorf("pace: R_p is not less than p")
	}
	g, err := d.c.MapIntegrated(rp)
	if err != nil {
		return nil, err
	}
	if g.IsInfinity() {
		return nil, ErrMapping
	}
	return g.Bytes(), nil
}

func (d *ecDomain) Comp(pub []byte) ([]byte, error) {
	p, err := d.point(pub)
	if err != nil {
		return nil, err
	}
	return p.X(), nil
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// Package dh implements the finite-field Diffie-Hellman groups that PACE and
// Chip Authentication may use: the three prime-order subgroups of RFC 5114
// §2.1-2.3 that ICAO Doc 9303-11 §9.5.1 standardises as PACE parameter ids
// 0 (1024-bit MODP, 160-bit subgroup), 1 (2048/224) and 2 (2048/256).
//
// A caller takes a group from its constructor and works with big-endian
// byte strings of fixed length throughout:
//
//	g := dh.RFC5114_2048_256()
//	priv, pub, err := g.GenerateKey(rand.Reader, nil) // nil: the standard generator g
//	k, err := g.SharedSecret(priv, peerPub)           // validated peer, ByteLen bytes
//
// PACE's mappings (ICAO 9303-11 §4.4.3.3) are here too: MapGeneric computes
// ĝ = g^s·h and MapIntegrated ĝ = R_p^((p-1)/q); the resulting generator is
// then passed to GenerateKey.
//
// Every exponentiation with a secret exponent or a secret-derived base runs
// on filippo.io/bigmod, whose modular exponentiation is constant time in
// the values of base and exponent (it leaks only their announced lengths,
// which are fixed by the group). Every element and every secret this package
// returns is exactly ByteLen (or, for private keys, the byte length of q)
// bytes long, leading zeros kept: ICAO's session keys are derived from the
// fixed-length encoding (9303-11 §9.4.2 via TR-03111 FE2OS), and a peer that
// strips a leading zero derives different keys.
//
// The package does not pick parameters, does not implement the 2048-bit MODP
// groups of RFC 3526 or any other group PACE does not standardise, and keeps
// no state: each constructor returns a fresh immutable Group.
package dh

import (
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"

	"filippo.io/bigmod"
)

var (
	// ErrInvalidPublic reports a peer's public value that is not an element
	// of the prime-order subgroup: out of the range 1 < y < p-1, or y^q ≠ 1
	// (a small-subgroup or non-subgroup element, 9303-11 §4.4.3.3 / TR-03110-3
	// A.2.2.2 public key validation).
	ErrInvalidPublic = errors.New("dh: invalid public value")
	// ErrInvalidPrivate reports a private exponent that is not in [1, q-1]
	// or does not have the fixed length of q.
	ErrInvalidPrivate = errors.New("dh: invalid private key")
	// ErrInvalidElement reports a group element given as input (a base, a
	// generator, the mapping secret h) that is out of range or not in the
	// prime-order subgroup.
	ErrInvalidElement = errors.New("dh: invalid group element")
	// ErrMapping reports a PACE mapping whose result is the identity: the
	// mapped generator would generate nothing (9303-11 §4.4.3.3.2 requires
	// ĝ ≠ 1).
	ErrMapping = errors.New("dh: mapping produced the identity")

	// ErrNoRandomness: a key was asked for without a random source.
	ErrNoRandomness = errors.New("dh: no random source")
)

// Group is one of the RFC 5114 prime-order subgroups: a prime modulus p, a
// generator g of a subgroup of prime order q. Groups are immutable and safe
// for concurrent use.
type Group struct {
	name     string
	p        *bigmod.Modulus
	q        *bigmod.Modulus
	pBytes   []byte // p, ByteLen bytes
	gBytes   []byte // g, ByteLen bytes
	qBytes   []byte // q, ScalarLen bytes
	cofactor []byte // (p-1)/q, big-endian, public exponent of the integrated mapping
	pMinus1  []byte // p-1, ByteLen bytes, for the range check of public values
}

// Domain parameters of RFC 5114 §2.1-2.3 (p, g, q in hex). The values were
// checked when they were written down: p and q are prime, q divides p-1 and
// g^q = 1 mod p (TestGroupParameters repeats the check).
const (
	p1024 = "B10B8F96A080E01DDE92DE5EAE5D54EC52C99FBCFB06A3C69A6A9DCA52D23B616073E28675A23D189838EF1E2EE652C013ECB4AEA906112324975C3CD49B83BFACCBDD7D90C4BD7098488E9C219A73724EFFD6FAE5644738FAA31A4FF55BCCC0A151AF5F0DC8B4BD45BF37DF365C1A65E68CFDA76D4DA708DF1FB2BC2E4A4371"
	g1024 = "A4D1CBD5C3FD34126765A442EFB99905F8104DD258AC507FD6406CFF14266D31266FEA1E5C41564B777E690F5504F213160217B4B01B886A5E91547F9E2749F4D7FBD7D3B9A92EE1909D0D2263F80A76A6A24C087A091F531DBF0A0169B6A28AD662A4D18E73AFA32D779D5918D08BC8858F4DCEF97C2A24855E6EEB22B3B2E5"
	q1024 = "F518AA8781A8DF278ABA4E7D64B7CB9D49462353"

	p2048a = "AD107E1E9123A9D0D660FAA79559C51FA20D64E5683B9FD1B54B1597B61D0A75E6FA141DF95A56DBAF9A3C407BA1DF15EB3D688A309C180E1DE6B85A1274A0A66D3F8152AD6AC2129037C9EDEFDA4DF8D91E8FEF55B7394B7AD5B7D0B6C12207C9F98D11ED34DBF6C6BA0B2C8BBC27BE6A00E0A0B9C49708B3BF8A317091883681286130BC8985DB1602E714415D9330278273C7DE31EFDC7310F7121FD5A07415987D9ADC0A486DCDF93ACC44328387315D75E198C641A480CD86A1B9E587E8BE60E69CC928B2B9C52172E413042E9B23F10B0E16E79763C9B53DCF4BA80A29E3FB73C16B8E75B97EF363E2FFA31F71CF9DE5384E71B81C0AC4DFFE0C10E64F"
	g2048a = "AC4032EF4F2D9AE39DF30B5C8FFDAC506CDEBE7B89998CAF74866A08CFE4FFE3A6824A4E10B9A6F0DD921F01A70C4AFAAB739D7700C29F52C57DB17C620A8652BE5E9001A8D66AD7C17669101999024AF4D027275AC1348BB8A762D0521BC98AE247150422EA1ED409939D54DA7460CDB5F6C6B250717CBEF180EB34118E98D119529A45D6F834566E3025E316A330EFBB77A86F0C1AB15B051AE3D428C8F8ACB70A8137150B8EEB10E183EDD19963DDD9E263E4770589EF6AA21E7F5F2FF381B539CCE3409D13CD566AFBB48D6C019181E1BCFE94B30269EDFE72FE9B6AA4BD7B5A0F1C71CFFF4C19C418E1F6EC017981BC087F2A7065B384B890D3191F2BFA"
	q2048a = "801C0D34C58D93FE997177101F80535A4738CEBCBF389A99B36371EB"

	p2048b = "87A8E61DB4B6663CFFBBD19C651959998CEEF608660DD0F25D2CEED4435E3B00E00DF8F1D61957D4FAF7DF4561B2AA3016C3D91134096FAA3BF4296D830E9A7C209E0C6497517ABD5A8A9D306BCF67ED91F9E6725B4758C022E0B1EF4275BF7B6C5BFC11D45F9088B941F54EB1E59BB8BC39A0BF12307F5C4FDB70C581B23F76B63ACAE1CAA6B7902D52526735488A0EF13C6D9A51BFA4AB3AD8347796524D8EF6A167B5A41825D967E144E5140564251CCACB83E6B486F6B3CA3F7971506026C0B857F689962856DED4010ABD0BE621C3A3960A54E710C375F26375D7014103A4B54330C198AF126116D2276E11715F693877FAD7EF09CADB094AE91E1A1597"
	g2048b = "3FB32C9B73134D0B2E77506660EDBD484CA7B18F21EF205407F4793A1A0BA12510DBC15077BE463FFF4FED4AAC0BB555BE3A6C1B0C6B47B1BC3773BF7E8C6F62901228F8C28CBB18A55AE31341000A650196F931C77A57F2DDF463E5E9EC144B777DE62AAAB8A8628AC376D282D6ED3864E67982428EBC831D14348F6F2F9193B5045AF2767164E1DFC967C1FB3F2E55A4BD1BFFE83B9C80D052B985D182EA0ADB2A3B7313D3FE14C8484B1E052588B9B7D2BBD2DF016199ECD06E1557CD0915B3353BBB64E0EC377FD028370DF92B52C7891428CDC67EB6184B523D1DB246C32F63078490F00EF8D647D148D47954515E2327CFEF98C582664B4C0F6CC41659"
	q2048b = "8CF83642A709A097B447997640129DA299B1A47D1EB3750BA308B0FE64F5FBD3"
)

// RFC5114_1024_160 returns the 1024-bit MODP group with a 160-bit
// prime-order subgroup of RFC 5114 §2.1 (PACE parameter id 0).
func RFC5114_1024_160() *Group { return mustGroup("DH-1024/160", p1024, g1024, q1024) }

// RFC5114_2048_224 returns the 2048-bit MODP group with a 224-bit
// prime-order subgroup of RFC 5114 §2.2 (PACE parameter id 1).
func RFC5114_2048_224() *Group { return mustGroup("DH-2048/224", p2048a, g2048a, q2048a) }

// RFC5114_2048_256 returns the 2048-bit MODP group with a 256-bit
// prime-order subgroup of RFC 5114 §2.3 (PACE parameter id 2).
func RFC5114_2048_256() *Group { return mustGroup("DH-2048/256", p2048b, g2048b, q2048b) }

// mustGroup builds a Group from constant, known-good parameters. It cannot
// fail on them (TestGroupParameters proves it for all three); should it ever,
// that is a programming error in this file, not an input error, so it panics.
func mustGroup(name, pHex, gHex, qHex string) *Group {
	g, err := newGroup(name, pHex, gHex, qHex)
	if err != nil {
		panic("dh: bad built-in parameters for " + name + ": " + err.Error())
	}
	return g
}

func newGroup(name, pHex, gHex, qHex string) (*Group, error) {
	pb, err := hex.DecodeString(pHex)
	if err != nil {
		return nil, err
	}
	gb, err := hex.DecodeString(gHex)
	if err != nil {
		return nil, err
	}
	qb, err := hex.DecodeString(qHex)
	if err != nil {
		return nil, err
	}
	p, err := bigmod.NewModulus(pb)
	if err != nil {
		return nil, err
	}
	q, err := bigmod.NewModulus(qb)
	if err != nil {
		return nil, err
	}
	// The cofactor and p-1 are public constants; math/big is fine for them.
	pInt, qInt := new(big.Int).SetBytes(pb), new(big.Int).SetBytes(qb)
	pm1 := new(big.Int).Sub(pInt, big.NewInt(1))
	cof, rem := new(big.Int).QuoRem(pm1, qInt, new(big.Int))
	if rem.Sign() != 0 {
		return nil, errors.New("q does not divide p-1")
	}
	return &Group{
		name:     name,
		p:        p,
		q:        q,
		pBytes:   pb,
		gBytes:   leftPad(gb, len(pb)),
		qBytes:   qb,
		cofactor: cof.Bytes(), // public exponent: its length is not secret
		pMinus1:  pm1.FillBytes(make([]byte, len(pb))),
	}, nil
}

// Name is the group's name as the inspection report's access_params.domain
// gives it, e.g. "DH-2048/256".
func (g *Group) Name() string { return g.name }

// String is Name.
func (g *Group) String() string { return g.name }

// ByteLen is the length in bytes of p, and so of every group element and
// shared secret this package returns.
func (g *Group) ByteLen() int { return len(g.pBytes) }

// BitLen is the bit length of p.
func (g *Group) BitLen() int { return g.p.BitLen() }

// ScalarLen is the length in bytes of q, and so of every private key
// GenerateKey returns.
func (g *Group) ScalarLen() int { return len(g.qBytes) }

// P returns a copy of the prime modulus p, ByteLen bytes.
func (g *Group) P() []byte { return clone(g.pBytes) }

// Q returns a copy of the subgroup order q, ScalarLen bytes.
func (g *Group) Q() []byte { return clone(g.qBytes) }

// Generator returns a copy of the standard generator g, ByteLen bytes.
func (g *Group) Generator() []byte { return clone(g.gBytes) }

// element reads a big-endian value < p. Inputs shorter than ByteLen are
// accepted (as if left-padded with zeros); longer ones are refused: the
// fixed-length encoding is ByteLen bytes and nothing longer is an element.
func (g *Group) element(b []byte) (*bigmod.Nat, error) {
	if len(b) == 0 || len(b) > g.ByteLen() {
		return nil, fmt.Errorf("length %d, want 1..%d", len(b), g.ByteLen())
	}
	x, err := bigmod.NewNat().SetBytes(b, g.p)
	if err != nil {
		return nil, errors.New("not less than p")
	}
	return x, nil
}

// scalar reads a private exponent in [1, q-1]. Its length must be exactly
// ScalarLen: the fixed length keeps the exponentiation's running time
// independent of the key's value.
func (g *Group) scalar(b []byte) error {
	if len(b) != g.ScalarLen() {
		return fmt.Errorf("%w: length %d, want %d", ErrInvalidPrivate, len(b), g.ScalarLen())
	}
	x, err := bigmod.NewNat().SetBytes(b, g.q)
	if err != nil {
		return fmt.Errorf("%w: not less than q", ErrInvalidPrivate)
	}
	if x.IsZero() == 1 {
		return fmt.Errorf("%w: zero", ErrInvalidPrivate)
	}
	return nil
}

// inSubgroup reports whether x is in the prime-order subgroup and not one of
// the trivial values: 1 < x < p-1 and x^q = 1 mod p. x is public here.
func (g *Group) inSubgroup(xb []byte, x *bigmod.Nat) bool {
	fixed := leftPad(xb, g.ByteLen())
	if x.IsZero() == 1 || x.IsOne() == 1 || subtle.ConstantTimeCompare(fixed, g.pMinus1) == 1 {
		return false
	}
	return bigmod.NewNat().Exp(x, g.qBytes, g.p).IsOne() == 1
}

// Exp returns base^exp mod p as exactly ByteLen bytes. It runs in time
// independent of the values of base and exp (only their lengths are
// visible), so it may take secret exponents. base must be less than p; exp
// may be any length (an empty exponent gives 1). Exp checks nothing else: it
// is the raw operation the other methods, and benchmarks, build on.
func (g *Group) Exp(base, exp []byte) ([]byte, error) {
	b, err := g.element(base)
	if err != nil {
		return nil, fmt.Errorf("%w: base: %v", ErrInvalidElement, err)
	}
	return bigmod.NewNat().Exp(b, exp, g.p).Bytes(g.p), nil
}

// GenerateKey returns a private key uniform in [1, q-1] (ScalarLen bytes)
// and the public key gen^priv mod p (ByteLen bytes). gen nil means the
// standard generator g; any other generator (the mapped ĝ of PACE) must be an
// element of the order-q subgroup other than 1. The key is drawn by rejection
// sampling ScalarLen bytes at a time from rand, so a reader that returns a
// known private key yields exactly that key (the vector tests rely on it).
func (g *Group) GenerateKey(rand io.Reader, gen []byte) (priv, pub []byte, err error) {
	if rand == nil {
		return nil, nil, ErrNoRandomness
	}
	base, err := g.generator(gen)
	if err != nil {
		return nil, nil, err
	}
	qBits := g.q.BitLen()
	for range 100 {
		buf := make([]byte, g.ScalarLen())
		if _, err := io.ReadFull(rand, buf); err != nil {
			return nil, nil, fmt.Errorf("dh: reading randomness: %w", err)
		}
		// Mask the excess top bits so that the rejection rate stays below 1/2.
		if excess := len(buf)*8 - qBits; excess > 0 {
			buf[0] &= byte(0xff >> excess)
		}
		if g.scalar(buf) != nil {
			continue
		}
		return buf, bigmod.NewNat().Exp(base, buf, g.p).Bytes(g.p), nil
	}
	return nil, nil, errors.New("dh: randomness source keeps producing out-of-range keys")
}

// PublicKey returns gen^priv mod p for a private key in [1, q-1] of
// ScalarLen bytes; gen nil means g. It is GenerateKey for a key the caller
// already has (a chip's static key, a test vector).
func (g *Group) PublicKey(priv, gen []byte) ([]byte, error) {
	base, err := g.generator(gen)
	if err != nil {
		return nil, err
	}
	if err := g.scalar(priv); err != nil {
		return nil, err
	}
	return bigmod.NewNat().Exp(base, priv, g.p).Bytes(g.p), nil
}

func (g *Group) generator(gen []byte) (*bigmod.Nat, error) {
	if gen == nil {
		gen = g.gBytes
	}
	x, err := g.element(gen)
	if err != nil {
		return nil, fmt.Errorf("%w: generator: %v", ErrInvalidElement, err)
	}
	if !g.inSubgroup(gen, x) {
		return nil, fmt.Errorf("%w: generator is not in the order-q subgroup", ErrInvalidElement)
	}
	return x, nil
}

// ValidatePublic checks a peer's public value: 1 < y < p-1 and y^q = 1 mod p
// (TR-03110-3 A.2.2.2; without the subgroup check a peer could confine the
// shared secret to a small subgroup). The encoding may be shorter than
// ByteLen (a peer that drops leading zeros) but not longer. Errors wrap
// ErrInvalidPublic.
func (g *Group) ValidatePublic(y []byte) error {
	x, err := g.element(y)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidPublic, err)
	}
	if !g.inSubgroup(y, x) {
		return fmt.Errorf("%w: not an element of the order-q subgroup other than 1", ErrInvalidPublic)
	}
	return nil
}

// SharedSecret validates peer and returns peer^priv mod p as exactly
// ByteLen bytes, leading zeros kept: this is the K of PACE (9303-11 §4.4.3.4)
// and of Chip Authentication from which session keys are derived, and the h
// of the generic mapping.
func (g *Group) SharedSecret(priv, peer []byte) ([]byte, error) {
	if err := g.ValidatePublic(peer); err != nil {
		return nil, err
	}
	if err := g.scalar(priv); err != nil {
		return nil, err
	}
	y, _ := g.element(peer) // validated above
	return bigmod.NewNat().Exp(y, priv, g.p).Bytes(g.p), nil
}

// MapGeneric is the generic mapping of 9303-11 §4.4.3.3.1 for DH:
// ĝ = g^s · h mod p, where s is the decrypted PACE nonce and h the shared
// secret of the mapping key agreement (SharedSecret of the mapping keys).
// h must be in the order-q subgroup; a result of 1 is refused (ErrMapping).
// The result is ByteLen bytes.
func (g *Group) MapGeneric(s, h []byte) ([]byte, error) {
	if len(s) == 0 {
		return nil, fmt.Errorf("%w: empty nonce", ErrInvalidElement)
	}
	hn, err := g.element(h)
	if err != nil {
		return nil, fmt.Errorf("%w: h: %v", ErrInvalidElement, err)
	}
	if !g.inSubgroup(h, hn) {
		return nil, fmt.Errorf("%w: h is not in the order-q subgroup", ErrInvalidElement)
	}
	gn, _ := g.element(g.gBytes)
	x := bigmod.NewNat().Exp(gn, s, g.p)
	x.Mul(hn, g.p)
	if x.IsOne() == 1 {
		return nil, ErrMapping
	}
	return x.Bytes(g.p), nil
}

// MapIntegrated is the integrated mapping of 9303-11 §4.4.3.3.2 for DH:
// ĝ = R_p^((p-1)/q) mod p, where R_p = R(s,t) mod p is the output of the
// mapping's pseudo-random function reduced modulo p (package pace computes
// it). rp must be less than p. ĝ = 1 (including R_p = 0 or 1) is refused
// with ErrMapping: it would make every ephemeral key 1. The result is
// ByteLen bytes; the exponentiation is constant time in R_p.
func (g *Group) MapIntegrated(rp []byte) ([]byte, error) {
	x, err := g.element(rp)
	if err != nil {
		return nil, fmt.Errorf("%w: R_p: %v", ErrInvalidElement, err)
	}
	out := bigmod.NewNat().Exp(x, g.cofactor, g.p)
	if out.IsOne()|out.IsZero() == 1 {
		return nil, ErrMapping
	}
	return out.Bytes(g.p), nil
}

// ReduceModP returns r mod p as ByteLen bytes for r of any length, without
// branching on r's value: R_p of the integrated mapping, whose input R(s,t)
// is 64 bits longer than p.
func (g *Group) ReduceModP(r []byte) ([]byte, error) {
	return ReduceMod(r, g.pBytes)
}

// ReduceMod returns r mod m as len(m) bytes (m big-endian, m > 1), in time
// that depends on the lengths of r and m but not on r's value. It serves the
// integrated mapping on both families (R mod p for a DH prime or a curve's
// field prime).
func ReduceMod(r, m []byte) ([]byte, error) {
	mod, err := bigmod.NewModulus(m)
	if err != nil {
		return nil, fmt.Errorf("dh: modulus: %w", err)
	}
	if len(r) == 0 {
		return make([]byte, len(m)), nil
	}
	// Load r as a Nat modulo 2^(8·len(r)) + 1 (a modulus just above every
	// value of that length), then reduce: bigmod's Mod accepts any size.
	wide := make([]byte, len(r)+1)
	wide[0], wide[len(wide)-1] = 1, 1
	wm, err := bigmod.NewModulus(wide)
	if err != nil {
		return nil, fmt.Errorf("dh: reduction: %w", err)
	}
	rn, err := bigmod.NewNat().SetBytes(r, wm)
	if err != nil {
		return nil, fmt.Errorf("dh: reduction: %w", err)
	}
	out := bigmod.NewNat().Mod(rn, mod).Bytes(mod)
	return leftPad(out, len(m)), nil
}

func leftPad(b []byte, n int) []byte {
	if len(b) >= n {
		return clone(b)
	}
	out := make([]byte, n)
	copy(out[n-len(b):], b)
	return out
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

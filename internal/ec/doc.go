// Package ec is the elliptic curve arithmetic of PACE, Chip Authentication,
// Active Authentication and Terminal Authentication: one short-Weierstrass
// implementation, on filippo.io/bigmod, for the eleven curves of ICAO
// 9303-11 Table 6 (PACE parameter ids 8 to 18): NIST P-192, P-224, P-256,
// P-384, P-521 (FIPS 186-4, SEC 2) and brainpoolP192r1 ... brainpoolP512r1
// (RFC 5639). It follows BSI TR-03111 (ECKA-DH §4.3.1, ECDSA §4.2.1, plain
// signatures §5.2.1) and SEC 1 (point encodings §2.3.3–2.3.4, ECDSA §4.1).
//
// Common use, the terminal side of PACE-GM (9303-11 §4.4.3.3.1):
//
//	c := ec.BrainpoolP256r1()
//	skMap, pkMap, _ := c.GenerateKey(rand.Reader, nil)     // send pkMap.Bytes()
//	pkMapIC, err := c.NewPoint(fromChip)                      // refuses off-curve, O
//	h, err := c.SharedPoint(skMap, pkMapIC)                   // H
//	gHat, err := c.MapGeneric(s, h)                           // Ĝ = s·G + H
//	sk, pk, _ := c.GenerateKey(rand.Reader, gHat)             // on Ĝ
//	k, err := c.ECDH(sk, pkIC)                                // K = x(SK·PK_IC), ByteLen bytes
//
// PACE-IM replaces the mapping by gHat, err := c.MapIntegrated(rp) (App. B).
// ECDSA: Curve.Sign / Curve.Verify on plain r‖s, or PrivateKey as a
// crypto.Signer producing DER; PlainToDER and DERToPlain convert.
//
// Guarantees. Curves and Points are immutable values. Every encoding of a
// coordinate, scalar, shared secret or signature half has a fixed length
// (ByteLen / ScalarLen) with its leading zero bytes: never big.Int.Bytes.
// Secret scalars go through a fixed 4-bit window over the complete addition
// formulas of Renes–Costello–Batina, with constant-time table selection and
// bigmod's constant-time field arithmetic; inversion is Fermat's. Every
// point read from outside is checked (length, prefix, coordinates < p, on
// the curve, not O) and refusals wrap ErrInvalidPoint; bad private values
// wrap ErrInvalidScalar.
//
// Deliberately not here: curves with a cofactor other than 1, binary
// curves, explicit-parameter curves other than these eleven (MatchParams
// maps explicit parameters to a named curve or refuses them), the DH groups
// of PACE (a separate package), key serialisation (PKCS#8, SPKI, CV
// certificate public keys: their own packages), and speed: this is a
// generic implementation, some twenty times slower than crypto/ecdh's
// specialised P-256 (see BenchmarkScalarMult: about 1.5 ms for a 256-bit
// multiplication); PACE needs a handful of multiplications per session.
package ec

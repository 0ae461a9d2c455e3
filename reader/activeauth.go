package reader

// Active Authentication (ICAO 9303-11 §6.1), terminal side.
//
// The terminal sends a random 8-byte challenge RND.IFD with INTERNAL
// AUTHENTICATE; the chip signs it with the private key whose public half
// is in DG15, proving that the chip holding the data is the one the
// issuer personalised (a copied chip has the files but not the key).
//
//   - RSA keys sign with ISO/IEC 9796-2 digital signature scheme 1 with
//     partial message recovery: the chip chooses M1 (a nonce filling the
//     signature's capacity), M2 is the challenge, and the recovered
//     representative is 6A || M1 || H(M1 || M2) || trailer
//     (9303-11 §6.1.2.1; ISO/IEC 9796-2:2010 §8.1).
//   - EC keys sign with ECDSA (BSI TR-03111 §4.2.1) over the challenge,
//     with the hash named by DG14's ActiveAuthenticationInfo
//     (9303-11 §9.2.9), the signature as plain r || s (TR-03111 §5.2.1)
//     or, from some chips, DER (quirk aa_ecdsa_der).
//
// This file deliberately does not decide whether DG15 and DG14 are the
// issuer's: that is passive authentication (package verify). A passing
// Active Authentication over an unverified DG15 proves nothing.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"

	_ "crypto/sha1" // hashes a trailer or an ActiveAuthenticationInfo may name
	_ "crypto/sha256"
	_ "crypto/sha512"

	"borderid/internal/ec"
	"borderid/reader/lds"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Errors of Active Authentication that callers branch on.
var (
	// ErrAAFailed: the chip's answer is not a valid signature of the
	// challenge under the DG15 key (wrong key, wrong challenge, bad
	// 9796-2 format, truncated signature), or the DG15 key itself is
	// invalid (a point not on its curve). The check fails.
	ErrAAFailed = errors.New("reader: active authentication failed")
	// ErrAANotSupported: the chip does not offer Active Authentication
	// (no DG15, INTERNAL AUTHENTICATE unknown), or it uses an algorithm,
	// curve or hash this package does not implement. The check is not
	// done, which is not a pass.
	ErrAANotSupported = errors.New("reader: active authentication not supported")
)

// QuirkAAECDSADER: the chip sent its ECDSA Active Authentication
// signature DER-encoded (X9.62 Ecdsa-Sig-Value) instead of the plain
// r || s of TR-03111 §5.2.1. The signature is verified all the same.
const QuirkAAECDSADER Quirk = "aa_ecdsa_der"

// AAChallengeSize is the length of RND.IFD (9303-11 §6.1.2).
const AAChallengeSize = 8

// AATrailer is the ISO/IEC 9796-2 trailer of an RSA Active Authentication
// signature: BC (implicit SHA-1) or a hash-function identifier of ISO/IEC
// 10118-3 followed by CC (explicit).
type AATrailer uint16

// The trailers 9303-11 §6.1.2.1 allows (ISO/IEC 9796-2 §8.1.2).
const (
	AATrailerNone     AATrailer = 0
	AATrailerImplicit AATrailer = 0xBC   // SHA-1
	AATrailerSHA1     AATrailer = 0x33CC // ISO/IEC 10118-3 identifier 33
	AATrailerSHA256   AATrailer = 0x34CC // 34
	AATrailerSHA512   AATrailer = 0x35CC // 35
	AATrailerSHA384   AATrailer = 0x36CC // 36
	AATrailerSHA224   AATrailer = 0x38CC // 38
)

// Hash returns the hash function the trailer names, 0 for none.
func (t AATrailer) Hash() crypto.Hash {
	switch t {
	case AATrailerImplicit, AATrailerSHA1:
		return crypto.SHA1
	case AATrailerSHA224:
		return crypto.SHA224
	case AATrailerSHA256:
		return crypto.SHA256
	case AATrailerSHA384:
		return crypto.SHA384
	case AATrailerSHA512:
		return crypto.SHA512
	}
	return 0
}

// Size is the trailer's length in bytes (1 implicit, 2 explicit).
func (t AATrailer) Size() int {
	if t == AATrailerImplicit {
		return 1
	}
	return 2
}

func (t AATrailer) String() string {
	switch t {
	case AATrailerNone:
		return "none"
	case AATrailerImplicit:
		return "BC"
	}
	return fmt.Sprintf("%04X", uint16(t))
}

// AASignatureFormat is how the chip encoded its answer.
type AASignatureFormat uint8

// Signature encodings of Active Authentication.
const (
	AAFormatUnknown    AASignatureFormat = 0
	AAFormatISO9796_2  AASignatureFormat = 1 // RSA, ISO/IEC 9796-2 scheme 1
	AAFormatECDSAPlain AASignatureFormat = 2 // r || s, TR-03111 §5.2.1
	AAFormatECDSADER   AASignatureFormat = 3 // Ecdsa-Sig-Value, X9.62 (quirk)
)

func (f AASignatureFormat) String() string {
	switch f {
	case AAFormatISO9796_2:
		return "ISO/IEC 9796-2 scheme 1"
	case AAFormatECDSAPlain:
		return "ECDSA plain"
	case AAFormatECDSADER:
		return "ECDSA DER"
	case AAFormatUnknown:
		return "unknown"
	}
	return fmt.Sprintf("AASignatureFormat(%d)", uint8(f))
}

// AAResult describes an Active Authentication that passed.
type AAResult struct {
	Algorithm lds.PublicKeyAlgorithm
	KeyBits   int    // RSA modulus bits, or the EC group order's bits
	Curve     string // EC only: "P-256", "brainpoolP256r1", ...
	Hash      crypto.Hash
	Trailer   AATrailer // RSA only
	Format    AASignatureFormat
	Challenge []byte
	Signature []byte
	// Recovered is M1, the part of the signed message recovered from an
	// RSA signature (the chip's nonce). Nil for ECDSA.
	Recovered []byte
	Quirks    []Quirk
}

// AAPublicKey is the Active Authentication key of DG15, decoded.
type AAPublicKey struct {
	alg lds.PublicKeyAlgorithm
	// RSA
	n *big.Int
	e int
	// EC
	ec aaECKey
}

// aaECKey is an EC public key on some curve.
type aaECKey interface {
	curveName() string
	orderBits() int
	orderLen() int
	// verify checks the ECDSA signature (r, s) of the digest; r and s are
	// big-endian integers of any length.
	verify(digest, r, s []byte) bool
}

// Algorithm is RSA or EC.
func (k *AAPublicKey) Algorithm() lds.PublicKeyAlgorithm { return k.alg }

// Size bounds for RSA Active Authentication keys. 9303-12 asks for at
// least 1024 bits; 8192 bounds the work a hostile DG15 can demand.
const (
	aaMinRSABits = 1024
	aaMaxRSABits = 8192
)

// ParseAAPublicKey decodes the SubjectPublicKeyInfo of DG15 (9303-10
// §4.7.15): an RSA key (RFC 8017 A.1.1), or an EC key on a named curve or
// with explicit parameters (RFC 5480 §2.1.1, X9.62 ECParameters), which is
// how chips carry brainpool keys and which crypto/x509 does not accept.
func ParseAAPublicKey(dg15 *lds.DG15) (*AAPublicKey, error) {
	if dg15 == nil || len(dg15.PublicKeyInfo) == 0 {
		return nil, fmt.Errorf("%w: no DG15", ErrAANotSupported)
	}
	in := cryptobyte.String(dg15.PublicKeyInfo)
	var spki, algID cryptobyte.String
	var oid asn1.ObjectIdentifier
	var key asn1.BitString
	if !in.ReadASN1(&spki, cbasn1.SEQUENCE) || !in.Empty() ||
		!spki.ReadASN1(&algID, cbasn1.SEQUENCE) ||
		!algID.ReadASN1ObjectIdentifier(&oid) ||
		!spki.ReadASN1BitString(&key) || !spki.Empty() || key.BitLength%8 != 0 {
		return nil, fmt.Errorf("%w: DG15: malformed SubjectPublicKeyInfo", ErrAAFailed)
	}
	switch {
	case oid.Equal(oidRSAEncryption):
		return parseAARSA(algID, key.Bytes)
	case oid.Equal(oidECPublicKey):
		return parseAAEC(algID, key.Bytes)
	}
	return nil, fmt.Errorf("%w: DG15 key algorithm %v", ErrAANotSupported, oid)
}

var (
	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidECPublicKey   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidPrimeField    = asn1.ObjectIdentifier{1, 2, 840, 10045, 1, 1}
)

func parseAARSA(params cryptobyte.String, key []byte) (*AAPublicKey, error) {
	// RFC 3279 §2.3.1: the parameters are NULL (some encoders omit them).
	if !params.Empty() && (!params.SkipASN1(cbasn1.NULL) || !params.Empty()) {
		return nil, fmt.Errorf("%w: DG15: RSA parameters are not NULL", ErrAAFailed)
	}
	in := cryptobyte.String(key)
	var seq cryptobyte.String
	n, e := new(big.Int), new(big.Int)
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1Integer(n) || !seq.ReadASN1Integer(e) || !seq.Empty() {
		return nil, fmt.Errorf("%w: DG15: malformed RSAPublicKey", ErrAAFailed)
	}
	if n.Sign() <= 0 || n.Bit(0) == 0 || e.Sign() <= 0 {
		return nil, fmt.Errorf("%w: DG15: RSA modulus or exponent not a positive odd number", ErrAAFailed)
	}
	bits := n.BitLen()
	if bits < aaMinRSABits || bits > aaMaxRSABits {
		return nil, fmt.Errorf("%w: RSA key of %d bits (%d..%d)", ErrAANotSupported, bits, aaMinRSABits, aaMaxRSABits)
	}
	// The message representative is handled in whole bytes; a modulus of
	// another length would need the bit-level alignment of 9796-2 §8.1.1
	// that no eMRTD key we know of uses.
	if bits%8 != 0 {
		return nil, fmt.Errorf("%w: RSA modulus of %d bits, not a whole number of bytes", ErrAANotSupported, bits)
	}
	// An even exponent is Rabin-Williams (9796-2 Annex A), not RSA.
	if e.Bit(0) == 0 || e.BitLen() > 31 || e.Int64() < 3 {
		return nil, fmt.Errorf("%w: RSA public exponent %v", ErrAANotSupported, e)
	}
	return &AAPublicKey{alg: lds.PublicKeyRSA, n: n, e: int(e.Int64())}, nil
}

// namedCurves are the curves of internal/ec with their OIDs: RFC 5480
// §2.1.1.1 / SEC 2 for NIST, RFC 5639 §4.1 for brainpool (the r1 curves
// under 1.3.36.3.3.2.8.1.1).
func namedCurves() []struct {
	oid   asn1.ObjectIdentifier
	curve func() *ec.Curve
} {
	bp := func(n int) asn1.ObjectIdentifier { return asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, n} }
	return []struct {
		oid   asn1.ObjectIdentifier
		curve func() *ec.Curve
	}{
		{asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 1}, ec.P192},
		{asn1.ObjectIdentifier{1, 3, 132, 0, 33}, ec.P224},
		{asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}, ec.P256},
		{asn1.ObjectIdentifier{1, 3, 132, 0, 34}, ec.P384},
		{asn1.ObjectIdentifier{1, 3, 132, 0, 35}, ec.P521},
		{bp(3), ec.BrainpoolP192r1},
		{bp(5), ec.BrainpoolP224r1},
		{bp(7), ec.BrainpoolP256r1},
		{bp(9), ec.BrainpoolP320r1},
		{bp(11), ec.BrainpoolP384r1},
		{bp(13), ec.BrainpoolP512r1},
	}
}

// ecExplicit is X9.62 ECParameters over a prime field.
type ecExplicit struct {
	p, a, b, gx, gy, n *big.Int
	h                  int
}

func parseAAEC(params cryptobyte.String, point []byte) (*AAPublicKey, error) {
	var curveOID asn1.ObjectIdentifier
	switch {
	case params.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER):
		if !params.ReadASN1ObjectIdentifier(&curveOID) || !params.Empty() {
			return nil, fmt.Errorf("%w: DG15: malformed named curve", ErrAAFailed)
		}
		for _, c := range namedCurves() {
			if c.oid.Equal(curveOID) {
				return newAAECKey(c.curve(), point)
			}
		}
		return nil, fmt.Errorf("%w: EC named curve %v", ErrAANotSupported, curveOID)
	case params.PeekASN1Tag(cbasn1.SEQUENCE):
		ex, err := parseECParameters(params)
		if err != nil {
			return nil, err
		}
		// Explicit parameters are accepted only when they are exactly
		// those of a known curve: a hostile DG15 cannot bring its own
		// (weak, wrong-order) group.
		c, ok := ec.MatchParams(ex.p, ex.a, ex.b, ex.gx, ex.gy, ex.n, ex.h)
		if !ok {
			return nil, fmt.Errorf("%w: EC key with explicit parameters of a %d-bit curve this package does not know", ErrAANotSupported, ex.p.BitLen())
		}
		return newAAECKey(c, point)
	}
	return nil, fmt.Errorf("%w: EC key without named or explicit parameters", ErrAANotSupported)
}

// parseECParameters reads X9.62 ECParameters (SEC 1 §C.2):
//
//	ECParameters ::= SEQUENCE { version INTEGER { ecpVer1(1) },
//	  fieldID FieldID, curve Curve, base ECPoint, order INTEGER,
//	  cofactor INTEGER OPTIONAL }
//	FieldID ::= SEQUENCE { fieldType OID (prime-field), parameters INTEGER p }
//	Curve ::= SEQUENCE { a OCTET STRING, b OCTET STRING, seed BIT STRING OPTIONAL }
//
// Only an uncompressed base point is accepted.
func parseECParameters(in cryptobyte.String) (*ecExplicit, error) {
	bad := func(what string) error {
		return fmt.Errorf("%w: DG15: malformed explicit EC parameters (%s)", ErrAAFailed, what)
	}
	var seq, field, curve cryptobyte.String
	var fieldType asn1.ObjectIdentifier
	var version int64
	var aBytes, bBytes, base []byte
	ex := &ecExplicit{p: new(big.Int), n: new(big.Int), h: 1}
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, bad("not one SEQUENCE")
	}
	if !seq.ReadASN1Integer(&version) || version != 1 {
		return nil, bad("version")
	}
	if !seq.ReadASN1(&field, cbasn1.SEQUENCE) || !field.ReadASN1ObjectIdentifier(&fieldType) {
		return nil, bad("fieldID")
	}
	if !fieldType.Equal(oidPrimeField) {
		return nil, fmt.Errorf("%w: EC field type %v (only prime fields)", ErrAANotSupported, fieldType)
	}
	if !field.ReadASN1Integer(ex.p) || !field.Empty() || ex.p.Sign() <= 0 || ex.p.BitLen() > 1024 {
		return nil, bad("prime")
	}
	if !seq.ReadASN1(&curve, cbasn1.SEQUENCE) ||
		!curve.ReadASN1Bytes(&aBytes, cbasn1.OCTET_STRING) ||
		!curve.ReadASN1Bytes(&bBytes, cbasn1.OCTET_STRING) {
		return nil, bad("curve")
	}
	if !curve.Empty() && (!curve.SkipASN1(cbasn1.BIT_STRING) || !curve.Empty()) {
		return nil, bad("curve seed")
	}
	if !seq.ReadASN1Bytes(&base, cbasn1.OCTET_STRING) || !seq.ReadASN1Integer(ex.n) || ex.n.Sign() <= 0 {
		return nil, bad("base or order")
	}
	if !seq.Empty() {
		var h int64
		if !seq.ReadASN1Integer(&h) || !seq.Empty() || h < 1 || h > 1<<16 {
			return nil, bad("cofactor")
		}
		ex.h = int(h)
	}
	fl := (ex.p.BitLen() + 7) / 8
	if len(base) != 1+2*fl || base[0] != 4 {
		return nil, fmt.Errorf("%w: EC base point not uncompressed", ErrAANotSupported)
	}
	ex.a = new(big.Int).SetBytes(aBytes)
	ex.b = new(big.Int).SetBytes(bBytes)
	ex.gx = new(big.Int).SetBytes(base[1 : 1+fl])
	ex.gy = new(big.Int).SetBytes(base[1+fl:])
	return ex, nil
}

// aaCurveKey verifies with internal/ec, one implementation for the NIST
// and brainpool curves alike.
type aaCurveKey struct {
	c     *ec.Curve
	pub   *ec.Point
	nbits int // bit length of the group order
}

func newAAECKey(c *ec.Curve, point []byte) (*AAPublicKey, error) {
	// NewPoint refuses points off the curve, coordinates not below p and
	// the point at infinity (SEC 1 §3.2.2.1 public key validation; the
	// cofactor is 1 for every curve, so no subgroup check is needed).
	pub, err := c.NewPoint(point)
	if err != nil {
		return nil, fmt.Errorf("%w: DG15: invalid EC public key: %w", ErrAAFailed, err)
	}
	_, _, _, _, _, n, _ := c.Params()
	return &AAPublicKey{alg: lds.PublicKeyEC, ec: aaCurveKey{c: c, pub: pub, nbits: n.BitLen()}}, nil
}

func (k aaCurveKey) curveName() string { return k.c.Name() }
func (k aaCurveKey) orderBits() int    { return k.nbits }
func (k aaCurveKey) orderLen() int     { return k.c.ScalarLen() }
func (k aaCurveKey) verify(digest, r, s []byte) bool {
	return k.c.Verify(k.pub, digest, r, s)
}

// AAHashForSignatureAlgorithm maps the signatureAlgorithm of an
// ActiveAuthenticationInfo to its hash: the ecdsa-plain-signatures of BSI
// TR-03111 §5.2.1 (0.4.0.127.0.7.1.1.4.1.x) and, because chips use them
// too, the X9.62 ecdsa-with-SHA* OIDs of RFC 5758 §3.2.
func AAHashForSignatureAlgorithm(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	plain := asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1}
	x962 := asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3}
	switch {
	case len(oid) == len(plain)+1 && oid[:len(plain)].Equal(plain):
		switch oid[len(plain)] {
		case 1:
			return crypto.SHA1, true
		case 2:
			return crypto.SHA224, true
		case 3:
			return crypto.SHA256, true
		case 4:
			return crypto.SHA384, true
		case 5:
			return crypto.SHA512, true
		}
	case oid.Equal(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}):
		return crypto.SHA1, true
	case len(oid) == len(x962)+1 && oid[:len(x962)].Equal(x962):
		switch oid[len(x962)] {
		case 1:
			return crypto.SHA224, true
		case 2:
			return crypto.SHA256, true
		case 3:
			return crypto.SHA384, true
		case 4:
			return crypto.SHA512, true
		}
	}
	return 0, false
}

// ecdsaHash resolves the hash of an ECDSA key's Active Authentication.
// 9303-11 §9.2.9 makes the ActiveAuthenticationInfo mandatory for ECDSA;
// without it the hash would have to be guessed, so the check is not done.
func ecdsaHash(info *lds.ActiveAuthenticationInfo) (crypto.Hash, error) {
	if info == nil || len(info.SignatureAlgorithm) == 0 {
		return 0, fmt.Errorf("%w: ECDSA key without ActiveAuthenticationInfo in DG14", ErrAANotSupported)
	}
	h, ok := AAHashForSignatureAlgorithm(info.SignatureAlgorithm)
	if !ok {
		return 0, fmt.Errorf("%w: signature algorithm %v", ErrAANotSupported, info.SignatureAlgorithm)
	}
	return h, nil
}

// maxResponse is the longest answer a valid signature can be.
func (k *AAPublicKey) maxResponse() int {
	if k.alg == lds.PublicKeyRSA {
		return (k.n.BitLen() + 7) / 8
	}
	// DER: SEQUENCE header (up to 3) + two INTEGERs (header up to 3, one
	// leading zero).
	return 3 + 2*(3+1+k.ec.orderLen())
}

// Verify checks the chip's answer to challenge. info is DG14's
// ActiveAuthenticationInfo; it is required for EC keys and ignored for
// RSA keys (whose hash the 9796-2 trailer names). It returns ErrAAFailed
// for any signature that does not verify and ErrAANotSupported when the
// hash cannot be determined.
func (k *AAPublicKey) Verify(challenge, signature []byte, info *lds.ActiveAuthenticationInfo) (*AAResult, error) {
	if k == nil {
		return nil, fmt.Errorf("%w: no key", ErrAANotSupported)
	}
	switch k.alg {
	case lds.PublicKeyRSA:
		return k.verifyRSA(challenge, signature)
	case lds.PublicKeyEC:
		h, err := ecdsaHash(info)
		if err != nil {
			return nil, err
		}
		return k.verifyECDSA(h, challenge, signature)
	}
	return nil, fmt.Errorf("%w: key algorithm %v", ErrAANotSupported, k.alg)
}

// verifyRSA is the verification process of ISO/IEC 9796-2 scheme 1
// (§8.2 with the RSA verification function of Annex A).
func (k *AAPublicKey) verifyRSA(challenge, sig []byte) (*AAResult, error) {
	l := (k.n.BitLen() + 7) / 8
	if len(sig) != l {
		return nil, fmt.Errorf("%w: signature of %d bytes, want %d", ErrAAFailed, len(sig), l)
	}
	s := new(big.Int).SetBytes(sig)
	if s.Sign() == 0 || s.Cmp(k.n) >= 0 {
		return nil, fmt.Errorf("%w: signature out of range", ErrAAFailed)
	}
	j := new(big.Int).Exp(s, big.NewInt(int64(k.e)), k.n)
	f := j.FillBytes(make([]byte, l))
	// 9796-2 Annex A: the signer may send min(s, n - s); then the
	// representative is n - J. Every trailer ends in the nibble C (12),
	// which tells the two apart since n is odd.
	if f[l-1]&0x0F != 0x0C {
		j.Sub(k.n, j)
		j.FillBytes(f)
	}
	m1, tr, err := Decode9796Scheme1(f, challenge)
	if err != nil {
		return nil, err
	}
	return &AAResult{
		Algorithm: lds.PublicKeyRSA,
		KeyBits:   k.n.BitLen(),
		Hash:      tr.Hash(),
		Trailer:   tr,
		Format:    AAFormatISO9796_2,
		Challenge: bytes.Clone(challenge),
		Signature: bytes.Clone(sig),
		Recovered: m1,
	}, nil
}

// Decode9796Scheme1 checks a recovered ISO/IEC 9796-2 digital signature
// scheme 1 message representative f (a whole number of bytes, as long as
// the modulus) against the non-recoverable part m2 of the message, and
// returns the recovered part M1 and the trailer.
//
// The layout (9796-2:2010 §8.1, 9303-11 §6.1.2.1), nibble by nibble:
//
//	0 1 m 0 | B ... B A | M1 | H(M1 || M2) | BC or hh CC
//
// "01" is the header, m the more-data bit (1: partial recovery, M2 is not
// in the signature), then the padding nibbles B ending with the border
// nibble A, so that M1 starts on a byte. Active Authentication always
// uses partial recovery (M2 is the challenge): m = 0 would mean that the
// challenge is not covered, and fails.
func Decode9796Scheme1(f, m2 []byte) (m1 []byte, trailer AATrailer, err error) {
	l := len(f)
	if l < 3 {
		return nil, 0, fmt.Errorf("%w: 9796-2 representative of %d bytes", ErrAAFailed, l)
	}
	switch {
	case f[l-1] == 0xBC:
		trailer = AATrailerImplicit
	case f[l-1] == 0xCC:
		trailer = AATrailer(uint16(f[l-2])<<8 | 0xCC)
		if trailer.Hash() == 0 {
			return nil, 0, fmt.Errorf("%w: 9796-2 trailer %04X names no supported hash", ErrAAFailed, uint16(trailer))
		}
	default:
		return nil, 0, fmt.Errorf("%w: 9796-2 trailer byte %02X", ErrAAFailed, f[l-1])
	}
	h := trailer.Hash()
	hashEnd := l - trailer.Size()
	hashStart := hashEnd - h.Size()
	if hashStart < 1 {
		return nil, 0, fmt.Errorf("%w: 9796-2 representative too short for %v", ErrAAFailed, h)
	}
	switch f[0] >> 4 {
	case 0x6: // header 01, more-data 1, then a padding bit 0
	case 0x4:
		return nil, 0, fmt.Errorf("%w: 9796-2 total recovery: the challenge is not signed", ErrAAFailed)
	default:
		return nil, 0, fmt.Errorf("%w: 9796-2 header nibble %X", ErrAAFailed, f[0]>>4)
	}
	// Padding: nibbles B up to the border nibble A, which must be the low
	// nibble of a byte before the hash.
	start := -1
	for i := 0; i < hashStart; i++ {
		lo := f[i] & 0x0F
		if i > 0 {
			hi := f[i] >> 4
			if hi != 0xB {
				return nil, 0, fmt.Errorf("%w: 9796-2 padding nibble %X", ErrAAFailed, hi)
			}
		}
		if lo == 0xA {
			start = i + 1
			break
		}
		if lo != 0xB {
			return nil, 0, fmt.Errorf("%w: 9796-2 padding nibble %X", ErrAAFailed, lo)
		}
	}
	if start < 0 {
		return nil, 0, fmt.Errorf("%w: 9796-2 padding without border nibble", ErrAAFailed)
	}
	m1 = bytes.Clone(f[start:hashStart])
	hh := h.New()
	hh.Write(m1)
	hh.Write(m2)
	if subtle.ConstantTimeCompare(hh.Sum(nil), f[hashStart:hashEnd]) != 1 {
		return nil, 0, fmt.Errorf("%w: 9796-2 hash of M1 || challenge does not match", ErrAAFailed)
	}
	return m1, trailer, nil
}

// verifyECDSA checks an ECDSA signature of the challenge, plain r || s
// (TR-03111 §5.2.1) or DER (quirk).
func (k *AAPublicKey) verifyECDSA(h crypto.Hash, challenge, sig []byte) (*AAResult, error) {
	if !h.Available() {
		return nil, fmt.Errorf("%w: hash %v", ErrAANotSupported, h)
	}
	hh := h.New()
	hh.Write(challenge)
	digest := hh.Sum(nil)
	res := &AAResult{
		Algorithm: lds.PublicKeyEC,
		KeyBits:   k.ec.orderBits(),
		Curve:     k.ec.curveName(),
		Hash:      h,
		Challenge: bytes.Clone(challenge),
		Signature: bytes.Clone(sig),
	}
	ol := k.ec.orderLen()
	// A DER signature can be exactly 2*ol bytes long too; each reading is
	// a full verification, so trying both doubles a forger's chances at
	// most (2^-128 stays negligible) and never skips a check.
	if r, s, ok := parseECDSADER(sig); ok && len(r) <= ol && len(s) <= ol && k.ec.verify(digest, r, s) {
		res.Format = AAFormatECDSADER
		res.Quirks = []Quirk{QuirkAAECDSADER}
		return res, nil
	}
	if len(sig) == 2*ol && k.ec.verify(digest, sig[:ol], sig[ol:]) {
		res.Format = AAFormatECDSAPlain
		return res, nil
	}
	return nil, fmt.Errorf("%w: ECDSA signature (%d bytes, %s) does not verify", ErrAAFailed, len(sig), k.ec.curveName())
}

// parseECDSADER reads Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
// (X9.62, RFC 3279 §2.2.3) strictly: DER, positive integers, nothing
// after. It returns r and s without leading zeros.
func parseECDSADER(b []byte) (r, s []byte, ok bool) {
	in := cryptobyte.String(b)
	var seq, ri, si cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1(&ri, cbasn1.INTEGER) || !seq.ReadASN1(&si, cbasn1.INTEGER) || !seq.Empty() {
		return nil, nil, false
	}
	r, ok1 := derPositive(ri)
	s, ok2 := derPositive(si)
	return r, s, ok1 && ok2
}

// derPositive checks the minimal encoding of a positive INTEGER (X.690
// §8.3.2) and strips its sign byte.
func derPositive(v []byte) ([]byte, bool) {
	if len(v) == 0 || v[0]&0x80 != 0 {
		return nil, false
	}
	if v[0] == 0 {
		if len(v) == 1 || v[1]&0x80 == 0 {
			return nil, false // zero, or not minimal
		}
		v = v[1:]
	}
	return v, true
}

// ActiveAuthenticate runs Active Authentication (9303-11 §6.1) over s,
// which must have secure messaging installed (after BAC or PACE): it
// sends INTERNAL AUTHENTICATE with challenge (8 bytes; nil draws them from
// crypto/rand) and verifies the answer with the DG15 key. info is DG14's
// ActiveAuthenticationInfo, required for ECDSA keys (nil for RSA).
//
// A result is returned only when the signature verifies. ErrAAFailed: it
// does not; ErrAANotSupported: no key, an unknown algorithm, or the chip
// does not know INTERNAL AUTHENTICATE. A 6982 from the chip matches
// ErrAccessDenied. Quirks taken are recorded in s and in the result.
func ActiveAuthenticate(ctx context.Context, s *Session, dg15 *lds.DG15, challenge []byte, info *lds.ActiveAuthenticationInfo) (*AAResult, error) {
	return activeAuthenticate(ctx, s, dg15, challenge, info, rand.Reader)
}

func activeAuthenticate(ctx context.Context, s *Session, dg15 *lds.DG15, challenge []byte, info *lds.ActiveAuthenticationInfo, rnd io.Reader) (*AAResult, error) {
	if s == nil || s.SecureMessaging() == nil {
		return nil, errors.New("reader: active authentication needs secure messaging (BAC or PACE first)")
	}
	key, err := ParseAAPublicKey(dg15)
	if err != nil {
		return nil, err
	}
	if key.alg == lds.PublicKeyEC {
		if _, err := ecdsaHash(info); err != nil {
			return nil, err // before asking the chip: the answer could not be checked
		}
	}
	if challenge == nil {
		challenge = make([]byte, AAChallengeSize)
		if _, err := io.ReadFull(rnd, challenge); err != nil {
			return nil, fmt.Errorf("reader: active authentication: random source: %w", err)
		}
	}
	if len(challenge) != AAChallengeSize {
		return nil, fmt.Errorf("reader: active authentication: challenge of %d bytes, want %d", len(challenge), AAChallengeSize)
	}
	// Le: 00 (9303-11 §6.1.2) whenever the protected answer fits a short
	// response: every ECDSA signature and RSA up to 1536 bits (231 plain
	// bytes with 3DES, 223 with AES). Longer answers (RSA-2048) need
	// extended length when the chip offers it; otherwise Le stays 00 and
	// the chip may answer 61xx, which Transmit follows.
	ne := MaxShortNe
	if _, ext := s.limitNe(); ext && key.maxResponse() > maxPlainNe(s.cipher(), MaxShortNe, false) {
		ne = MaxExtendedNe
	}
	r, err := s.Transmit(ctx, Command{CLA: 0x00, INS: insInternalAuth, P1: 0x00, P2: 0x00, Data: bytes.Clone(challenge), Ne: ne})
	if err != nil {
		return nil, fmt.Errorf("reader: active authentication: %w", err)
	}
	// The chip's DG15 says it holds an Active Authentication key: any
	// refusal to use it is a failure, not "not supported" — a clone of an
	// AA-only passport would otherwise just answer 6D00 or 6985.
	if r.SW != SWSuccess {
		return nil, fmt.Errorf("%w: the chip has DG15 but refused: %w", ErrAAFailed, &SWError{Cmd: "INTERNAL AUTHENTICATE", SW: r.SW})
	}
	if len(r.Data) == 0 {
		return nil, fmt.Errorf("%w: INTERNAL AUTHENTICATE answered no signature", ErrAAFailed)
	}
	res, err := key.Verify(challenge, r.Data, info)
	if err != nil {
		return nil, err
	}
	for _, q := range res.Quirks {
		s.AddQuirk(q)
	}
	return res, nil
}

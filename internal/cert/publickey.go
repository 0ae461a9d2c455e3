package cert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/asn1"
	"fmt"
	"math/big"

	"borderid/internal/ec"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// PublicKeyAlgorithm is the algorithm of a SubjectPublicKeyInfo.
type PublicKeyAlgorithm int

const (
	UnknownPublicKeyAlgorithm PublicKeyAlgorithm = iota
	// RSA is rsaEncryption (RFC 3279 §2.3.1).
	RSA
	// RSAPSSKey is id-RSASSA-PSS used as a key algorithm (RFC 4055 §1.2):
	// an RSA key restricted to PSS.
	RSAPSSKey
	// ECDSAKey is id-ecPublicKey (RFC 5480 §2.1.1, RFC 3279 §2.3.5).
	ECDSAKey
)

func (a PublicKeyAlgorithm) String() string {
	switch a {
	case RSA:
		return "RSA"
	case RSAPSSKey:
		return "RSA-PSS"
	case ECDSAKey:
		return "EC"
	}
	return fmt.Sprintf("PublicKeyAlgorithm(%d)", int(a))
}

// namedCurveOIDs: RFC 5480 §2.1.1.1 and RFC 5639 §4.1.
func namedCurve(oid asn1.ObjectIdentifier) (*ec.Curve, bool) {
	table := []struct {
		oid asn1.ObjectIdentifier
		c   func() *ec.Curve
	}{
		{asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 1}, ec.P192},
		{asn1.ObjectIdentifier{1, 3, 132, 0, 33}, ec.P224},
		{asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}, ec.P256},
		{asn1.ObjectIdentifier{1, 3, 132, 0, 34}, ec.P384},
		{asn1.ObjectIdentifier{1, 3, 132, 0, 35}, ec.P521},
		{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 3}, ec.BrainpoolP192r1},
		{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 5}, ec.BrainpoolP224r1},
		{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 7}, ec.BrainpoolP256r1},
		{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 9}, ec.BrainpoolP320r1},
		{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 11}, ec.BrainpoolP384r1},
		{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 13}, ec.BrainpoolP512r1},
	}
	for _, e := range table {
		if oid.Equal(e.oid) {
			return e.c(), true
		}
	}
	return nil, false
}

// stdlibCurve is the crypto/elliptic curve of c, when there is one.
func stdlibCurve(c *ec.Curve) elliptic.Curve {
	switch c.ID() {
	case ec.IDP224:
		return elliptic.P224()
	case ec.IDP256:
		return elliptic.P256()
	case ec.IDP384:
		return elliptic.P384()
	case ec.IDP521:
		return elliptic.P521()
	}
	return nil
}

// parsedKey is what parseSPKI found.
type parsedKey struct {
	alg      PublicKeyAlgorithm
	key      crypto.PublicKey
	curve    *ec.Curve
	explicit bool
}

// parseSPKI parses a SubjectPublicKeyInfo element (RFC 5280 §4.1.2.7).
// A key of an unknown algorithm or curve leaves key nil and records a
// quirk; a key that is present but invalid is an error (ErrInvalidKey).
func parseSPKI(spki []byte, q *quirks) (parsedKey, error) {
	var pk parsedKey
	s := cryptobyte.String(spki)
	var seq, algSeq cryptobyte.String
	var oid asn1.ObjectIdentifier
	var bits asn1.BitString
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() || !seq.ReadASN1(&algSeq, cbasn1.SEQUENCE) ||
		!algSeq.ReadASN1ObjectIdentifier(&oid) || !seq.ReadASN1BitString(&bits) || !seq.Empty() {
		return pk, fmt.Errorf("%w: SubjectPublicKeyInfo", ErrMalformed)
	}
	if bits.BitLength%8 != 0 {
		return pk, fmt.Errorf("%w: subjectPublicKey is not whole octets", ErrMalformed)
	}
	params := []byte(algSeq)
	switch {
	case oid.Equal(oidRSAEncryption()), oid.Equal(oidRSASSAPSS()):
		pk.alg = RSA
		if oid.Equal(oidRSASSAPSS()) {
			pk.alg = RSAPSSKey
		}
		isNull := len(params) == 2 && params[0] == 0x05 && params[1] == 0
		switch {
		case pk.alg == RSA && len(params) == 0:
			q.add(QuirkRSAKeyParamsAbsent) // RFC 3279 §2.3.1: NULL
		case pk.alg == RSA && !isNull:
			return pk, fmt.Errorf("%w: rsaEncryption parameters", ErrMalformed)
		case pk.alg == RSAPSSKey && len(params) > 0:
			// RFC 4055 §3.1 restrictions on the key's use; the signature's
			// own parameters are what verification honours.
			if _, err := parsePSSParams(params); err != nil {
				return pk, err
			}
		}
		k, err := parseRSAKey(bits.Bytes, q)
		if err != nil {
			return pk, err
		}
		pk.key = k
	case oid.Equal(oidECPublicKey()):
		pk.alg = ECDSAKey
		c, explicit, err := parseECParams(params, q)
		if err != nil {
			return pk, err
		}
		pk.explicit = explicit
		if c == nil {
			q.add(QuirkUnknownCurve)
			return pk, nil
		}
		pk.curve = c
		p, err := c.NewPoint(bits.Bytes)
		if err != nil {
			return pk, fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		if sc := stdlibCurve(c); sc != nil {
			k, err := ecdsa.ParseUncompressedPublicKey(sc, p.Bytes())
			if err != nil {
				return pk, fmt.Errorf("%w: %w", ErrInvalidKey, err)
			}
			pk.key = k
		} else {
			k, err := ec.NewPublicKey(p)
			if err != nil {
				return pk, fmt.Errorf("%w: %w", ErrInvalidKey, err)
			}
			pk.key = k
		}
	default:
		q.add(QuirkUnknownKeyAlgorithm)
	}
	return pk, nil
}

// parseRSAKey parses RSAPublicKey (RFC 8017 §A.1.1).
func parseRSAKey(b []byte, q *quirks) (*rsa.PublicKey, error) {
	s := cryptobyte.String(b)
	var seq, nc cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() || !seq.ReadASN1(&nc, cbasn1.INTEGER) || len(nc) == 0 {
		return nil, fmt.Errorf("%w: RSAPublicKey", ErrMalformed)
	}
	if nc[0]&0x80 != 0 {
		// A modulus written without its sign octet: the content octets are
		// the unsigned modulus. Recorded; the unsigned value is used.
		q.add(QuirkRSANegativeModulus)
	} else if len(nc) > 1 && nc[0] == 0 && nc[1]&0x80 == 0 {
		q.add(QuirkNonMinimalInteger)
	}
	n := new(big.Int).SetBytes(nc)
	e, err := readInteger(&seq, q)
	if err != nil || !seq.Empty() {
		return nil, fmt.Errorf("%w: RSAPublicKey", ErrMalformed)
	}
	if n.Bit(0) == 0 || n.BitLen() < 512 || n.BitLen() > 16384 {
		return nil, fmt.Errorf("%w: RSA modulus of %d bits", ErrInvalidKey, n.BitLen())
	}
	if !e.IsInt64() || e.Int64() < 3 || e.Int64() >= 1<<31 || e.Bit(0) == 0 {
		return nil, fmt.Errorf("%w: RSA exponent", ErrInvalidKey)
	}
	return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
}

// parseECParams parses ECParameters (RFC 3279 §2.3.5): a named curve
// OID, or explicit prime-field parameters matched against the curves of
// package ec (9303-12 §7.1.1 requires the explicit form). A curve that is
// none of them returns nil without error.
func parseECParams(params []byte, q *quirks) (c *ec.Curve, explicit bool, err error) {
	s := cryptobyte.String(params)
	var oid asn1.ObjectIdentifier
	if s.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER) {
		if !s.ReadASN1ObjectIdentifier(&oid) || !s.Empty() {
			return nil, false, fmt.Errorf("%w: namedCurve", ErrMalformed)
		}
		c, _ := namedCurve(oid)
		return c, false, nil
	}
	if s.PeekASN1Tag(cbasn1.NULL) { // implicitlyCA: parameters from the issuer, unsupported
		return nil, false, nil
	}
	bad := func(what string) error { return fmt.Errorf("%w: ECParameters %s", ErrMalformed, what) }
	var seq, field, curve, base cryptobyte.String
	var version int64
	var fieldOID asn1.ObjectIdentifier
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() || !seq.ReadASN1Integer(&version) || version < 1 || version > 3 {
		return nil, true, bad("version")
	}
	if !seq.ReadASN1(&field, cbasn1.SEQUENCE) || !field.ReadASN1ObjectIdentifier(&fieldOID) {
		return nil, true, bad("fieldID")
	}
	if !fieldOID.Equal(oidPrimeField()) {
		return nil, true, nil // characteristic-two: not supported
	}
	var iq quirks
	p, err := readInteger(&field, &iq)
	if err != nil || !field.Empty() || p.Sign() <= 0 {
		return nil, true, bad("prime")
	}
	var a, b cryptobyte.String
	if !seq.ReadASN1(&curve, cbasn1.SEQUENCE) || !curve.ReadASN1(&a, cbasn1.OCTET_STRING) || !curve.ReadASN1(&b, cbasn1.OCTET_STRING) {
		return nil, true, bad("curve")
	}
	if !curve.Empty() && !curve.SkipASN1(cbasn1.BIT_STRING) || !curve.Empty() { // optional seed
		return nil, true, bad("seed")
	}
	if !seq.ReadASN1(&base, cbasn1.OCTET_STRING) {
		return nil, true, bad("base")
	}
	n, err := readInteger(&seq, &iq)
	if err != nil || n.Sign() <= 0 {
		return nil, true, bad("order")
	}
	h := big.NewInt(1)
	if seq.PeekASN1Tag(cbasn1.INTEGER) {
		if h, err = readInteger(&seq, &iq); err != nil {
			return nil, true, bad("cofactor")
		}
	} else {
		q.add(QuirkECExplicitCofactorAbsent)
	}
	if !seq.Empty() {
		return nil, true, bad("trailing data")
	}
	for _, x := range iq {
		q.add(x)
	}
	if !h.IsInt64() || h.Int64() < 1 || h.Int64() > 1<<16 {
		return nil, true, nil
	}
	A, B := new(big.Int).SetBytes(a), new(big.Int).SetBytes(b)
	if len(base) > 1 && base[0] == 4 && len(base)%2 == 1 {
		half := (len(base) - 1) / 2
		gx, gy := new(big.Int).SetBytes(base[1:1+half]), new(big.Int).SetBytes(base[1+half:])
		c, ok := ec.MatchParams(p, A, B, gx, gy, n, int(h.Int64()))
		if !ok {
			return nil, true, nil
		}
		return c, true, nil
	}
	// A compressed base point: find the curve by its other parameters,
	// then decode G on it and compare.
	for _, c := range ec.Curves() {
		cp, ca, cb, _, _, cn, ch := c.Params()
		modA, modB := new(big.Int).Mod(A, cp), new(big.Int).Mod(B, cp)
		if cp.Cmp(p) != 0 || cn.Cmp(n) != 0 || int64(ch) != h.Int64() ||
			new(big.Int).Mod(ca, cp).Cmp(modA) != 0 || new(big.Int).Mod(cb, cp).Cmp(modB) != 0 {
			continue
		}
		g, err := c.NewPoint(base)
		if err == nil && g.Equal(c.Generator()) {
			return c, true, nil
		}
	}
	return nil, true, nil
}

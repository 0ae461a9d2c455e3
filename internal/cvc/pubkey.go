package cvc

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/asn1"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"

	"borderid/internal/ec"
)

// Public key data object tags inside 7F49 (TR-03110-3 D.3.1 RSA, D.3.3 EC).
const (
	tagRSAModulus  tag = 0x81
	tagRSAExponent tag = 0x82
	tagECPrime     tag = 0x81
	tagECA         tag = 0x82
	tagECB         tag = 0x83
	tagECG         tag = 0x84
	tagECOrder     tag = 0x85
	tagECPoint     tag = 0x86
	tagECCofactor  tag = 0x87
)

// ECDomain is a set of explicit elliptic curve domain parameters as a CVCA
// certificate carries them (TR-03110-3 D.3.3): prime p, coefficients a and
// b, base point G (uncompressed), order n and cofactor h.
type ECDomain struct {
	P, A, B *big.Int
	G       []byte // 04 || x || y, each of the field's byte length
	N       *big.Int
	H       int
}

// Equal reports whether d and o are the same domain.
func (d *ECDomain) Equal(o *ECDomain) bool {
	if d == nil || o == nil {
		return d == o
	}
	return d.P.Cmp(o.P) == 0 && d.A.Cmp(o.A) == 0 && d.B.Cmp(o.B) == 0 &&
		bytes.Equal(d.G, o.G) && d.N.Cmp(o.N) == 0 && d.H == o.H
}

// fieldLen is the byte length of a field element.
func (d *ECDomain) fieldLen() int { return (d.P.BitLen() + 7) / 8 }

// OrderLen is the byte length of the order n: the length of r and of s in
// a plain signature (TR-03111 §5.2.1).
func (d *ECDomain) OrderLen() int { return (d.N.BitLen() + 7) / 8 }

// PublicKey is a public key data object (7F49, TR-03110-3 D.3).
type PublicKey struct {
	OID       asn1.ObjectIdentifier
	Algorithm Algorithm // AlgorithmUnknown when OID is not an id-TA algorithm

	// ECDSA: Domain is present in CVCA certificates only (nil otherwise);
	// Point is the uncompressed public point (86).
	Domain *ECDomain
	Point  []byte

	// RSA: modulus (81) and public exponent (82).
	N, E *big.Int

	Raw []byte // the 7F49 element as read
}

// parsePublicKey parses the value of a 7F49 element. Keys of an unknown
// algorithm keep their OID and raw bytes; VerifySignature refuses them.
func parsePublicKey(e element) (PublicKey, error) {
	pk := PublicKey{Raw: e.raw}
	s := cryptobyte.String(e.value)
	oidElem, err := readExpected(&s, tagOID)
	if err != nil {
		return pk, fmt.Errorf("public key: %w", err)
	}
	oidString := cryptobyte.String(oidElem.raw)
	if !oidString.ReadASN1ObjectIdentifier(&pk.OID) {
		return pk, fmt.Errorf("public key: %w: bad OID %X", ErrMalformed, oidElem.value)
	}
	pk.Algorithm = algorithmFromOID(pk.OID)
	switch {
	case pk.Algorithm.IsRSA():
		n, err := readExpected(&s, tagRSAModulus)
		if err != nil {
			return pk, fmt.Errorf("RSA public key: %w", err)
		}
		ex, err := readExpected(&s, tagRSAExponent)
		if err != nil {
			return pk, fmt.Errorf("RSA public key: %w", err)
		}
		pk.N = new(big.Int).SetBytes(n.value)
		pk.E = new(big.Int).SetBytes(ex.value)
	case pk.Algorithm.IsECDSA():
		if err := parseECKey(&s, &pk); err != nil {
			return pk, fmt.Errorf("EC public key: %w", err)
		}
	default:
		return pk, nil
	}
	if !s.Empty() {
		return pk, fmt.Errorf("public key: %w: unexpected data after the key", ErrMalformed)
	}
	return pk, nil
}

// parseECKey reads the conditional domain parameters 81..85 (all or
// none), the point 86 and the conditional cofactor 87, in that order
// (TR-03110-3 D.3.3).
func parseECKey(s *cryptobyte.String, pk *PublicKey) error {
	var params [5][]byte
	next, err := readElement(s)
	if err != nil {
		return err
	}
	if next.tag == tagECPrime {
		params[0] = next.value
		for i, t := range []tag{tagECA, tagECB, tagECG, tagECOrder} {
			e, err := readExpected(s, t)
			if err != nil {
				return fmt.Errorf("domain parameters: %w", err)
			}
			params[i+1] = e.value
		}
		if next, err = readElement(s); err != nil {
			return err
		}
	}
	if next.tag != tagECPoint {
		return fmt.Errorf("%w: tag %s where the public point 86 is required", ErrMalformed, next.tag)
	}
	pk.Point = next.value
	cofactor := 1
	hasCofactor := false
	if !s.Empty() {
		e, err := readExpected(s, tagECCofactor)
		if err != nil {
			return err
		}
		if len(e.value) == 0 || len(e.value) > 2 {
			return fmt.Errorf("%w: cofactor of %d bytes", ErrMalformed, len(e.value))
		}
		cofactor = int(new(big.Int).SetBytes(e.value).Int64())
		hasCofactor = true
	}
	if params[0] == nil {
		if hasCofactor {
			return fmt.Errorf("%w: cofactor without domain parameters", ErrMalformed)
		}
		return nil
	}
	pk.Domain = &ECDomain{
		P: new(big.Int).SetBytes(params[0]),
		A: new(big.Int).SetBytes(params[1]),
		B: new(big.Int).SetBytes(params[2]),
		G: params[3],
		N: new(big.Int).SetBytes(params[4]),
		H: cofactor,
	}
	return nil
}

// marshal encodes the key as a 7F49 element: OID, then for ECDSA the
// domain parameters if present (minimal unsigned integers, TR-03110-3
// D.2.1.1), the point (fixed length) and the cofactor; for RSA modulus
// and exponent.
func (pk *PublicKey) marshal() ([]byte, error) {
	oid := pk.Algorithm.OID()
	if oid == nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedAlgorithm, pk.Algorithm)
	}
	v, err := oidElement(oid)
	if err != nil {
		return nil, err
	}
	switch {
	case pk.Algorithm.IsRSA():
		if pk.N == nil || pk.E == nil || pk.N.Sign() <= 0 || pk.E.Sign() <= 0 {
			return nil, fmt.Errorf("%w: RSA key without modulus or exponent", ErrInvalidKey)
		}
		v = appendTLV(v, tagRSAModulus, pk.N.Bytes())
		v = appendTLV(v, tagRSAExponent, pk.E.Bytes())
	default:
		if len(pk.Point) == 0 {
			return nil, fmt.Errorf("%w: EC key without a point", ErrInvalidKey)
		}
		if d := pk.Domain; d != nil {
			v = appendTLV(v, tagECPrime, d.P.Bytes())
			v = appendTLV(v, tagECA, d.A.Bytes())
			v = appendTLV(v, tagECB, d.B.Bytes())
			v = appendTLV(v, tagECG, d.G)
			v = appendTLV(v, tagECOrder, d.N.Bytes())
		}
		v = appendTLV(v, tagECPoint, pk.Point)
		if d := pk.Domain; d != nil {
			v = appendTLV(v, tagECCofactor, big.NewInt(int64(d.H)).Bytes())
		}
	}
	return appendTLV(nil, tagPublicKey, v), nil
}

// NewPublicKey builds the key data object for a subject's public key:
// *ec.PublicKey (any curve of internal/ec, e.g. an *ec.PrivateKey's
// Public()), *ecdsa.PublicKey, *rsa.PublicKey, or a key already in this package's
// form (*PublicKey, whose Algorithm is overridden by alg). domain is the EC
// domain to include, which TR-03110-3 D.3.3 wants in CVCA certificates and
// nowhere else: pass nil for DV and IS keys. DomainOf gives it for an EC
// key.
func NewPublicKey(alg Algorithm, pub any, domain *ECDomain) (*PublicKey, error) {
	pk := &PublicKey{Algorithm: alg, OID: alg.OID()}
	if pk.OID == nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedAlgorithm, alg)
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if !alg.IsRSA() {
			return nil, fmt.Errorf("%w: RSA key for %v", ErrInvalidKey, alg)
		}
		pk.N = new(big.Int).Set(k.N)
		pk.E = big.NewInt(int64(k.E))
	case *ecdsa.PublicKey:
		if !alg.IsECDSA() {
			return nil, fmt.Errorf("%w: EC key for %v", ErrInvalidKey, alg)
		}
		pt, err := k.Bytes()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		pk.Point = pt
		pk.Domain = domain
	case *ec.PublicKey:
		if !alg.IsECDSA() {
			return nil, fmt.Errorf("%w: EC key for %v", ErrInvalidKey, alg)
		}
		pk.Point = k.Bytes()
		pk.Domain = domain
	case *PublicKey:
		if k.Algorithm.IsRSA() != alg.IsRSA() {
			return nil, fmt.Errorf("%w: %v key for %v", ErrInvalidKey, k.Algorithm, alg)
		}
		pk.N, pk.E = k.N, k.E
		pk.Point = append([]byte(nil), k.Point...)
		pk.Domain = domain
	default:
		return nil, fmt.Errorf("%w: public key of type %T", ErrUnsupportedAlgorithm, pub)
	}
	if alg.IsECDSA() && domain != nil {
		if err := CheckKey(pk, nil); err != nil {
			return nil, err
		}
	}
	return pk, nil
}

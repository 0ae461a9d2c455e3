package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"borderid/internal/ec"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers written by this package. Functions, not variables:
// no package-level mutable state.
func oidExt(n int) asn1.ObjectIdentifier    { return asn1.ObjectIdentifier{2, 5, 29, n} }
func oidAttr(n int) asn1.ObjectIdentifier   { return asn1.ObjectIdentifier{2, 5, 4, n} }
func oidECPublicKey() asn1.ObjectIdentifier { return asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1} }
func oidPrimeField() asn1.ObjectIdentifier  { return asn1.ObjectIdentifier{1, 2, 840, 10045, 1, 1} }
func oidECDSAWithSHA(n int) asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, n}
}

// OIDOCSPSigning is id-kp-OCSPSigning (1.3.6.1.5.5.7.3.9, RFC 5280
// §4.2.1.12), the extended key usage of a StatusSigner certificate.
func OIDOCSPSigning() asn1.ObjectIdentifier { return asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 9} }

// Attribute types of X.520 used in names.
const (
	attrCommonName   = 3
	attrSerialNumber = 5
	attrCountry      = 6
	attrLocality     = 7
	attrOrganization = 10
	attrOrgUnit      = 11
)

// Extensions (RFC 5280 §4.2.1).
const (
	extSubjectKeyID    = 14
	extKeyUsage        = 15
	extPrivateKeyUsage = 16
	extSubjectAltName  = 17
	extIssuerAltName   = 18
	extBasicConstraint = 19
	extCRLNumber       = 20
	extAuthorityKeyID  = 35
	extExtKeyUsage     = 37
)

// curveInfo is what the encoder needs of a key's curve: its explicit
// parameters (package ec), and the hash and signature algorithm its
// signatures use (9303-12 §4.4 pairs a curve with a hash of at least its
// strength; crypto/x509 does the same).
type curveInfo struct {
	ec     *ec.Curve
	hash   crypto.Hash
	sigOID asn1.ObjectIdentifier
}

// curveOf returns the curve of an ECDSA public key; RSA and every other
// key type are refused (ErrUnsupportedKey): borderid's HSM keys are EC, and
// one family keeps the encoder small.
func curveOf(pub crypto.PublicKey) (*ecdsa.PublicKey, curveInfo, error) {
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k == nil {
		return nil, curveInfo{}, fmt.Errorf("%w: %T (only ECDSA P-256, P-384 and P-521 keys)", ErrUnsupportedKey, pub)
	}
	switch k.Curve {
	case elliptic.P256():
		return k, curveInfo{ec.P256(), crypto.SHA256, oidECDSAWithSHA(2)}, nil
	case elliptic.P384():
		return k, curveInfo{ec.P384(), crypto.SHA384, oidECDSAWithSHA(3)}, nil
	case elliptic.P521():
		return k, curveInfo{ec.P521(), crypto.SHA512, oidECDSAWithSHA(4)}, nil
	}
	return nil, curveInfo{}, fmt.Errorf("%w: ECDSA key on %s (only P-256, P-384 and P-521)", ErrUnsupportedKey, k.Curve.Params().Name)
}

// point returns the uncompressed encoding of k (SEC 1 §2.3.3).
func point(k *ecdsa.PublicKey) ([]byte, error) {
	p, err := k.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupportedKey, err)
	}
	return p, nil
}

// keyID is RFC 5280 §4.2.1.2 method (1): the SHA-1 of the subjectPublicKey
// BIT STRING's value. It is the same for the named and the explicit
// encoding of a key, since both carry the same point.
func keyID(pt []byte) []byte {
	sum := sha1.Sum(pt)
	return sum[:]
}

// addSPKI writes a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7). explicit
// writes ECParameters (RFC 3279 §2.3.5) in full as 9303-12 §7.1.1 and
// BSI TR-03110-3 require of eMRTD certificates: version 1, the prime
// field, a and b as field elements of the field's byte length
// (FillBytes: leading zeros kept), the uncompressed base point, the order
// and the cofactor (present, though optional in RFC 3279: 9303-12 asks
// for it). The optional curve seed is not written.
func addSPKI(b *cryptobyte.Builder, k *ecdsa.PublicKey, ci curveInfo, explicit bool) error {
	pt, err := point(k)
	if err != nil {
		return err
	}
	p, a, bb, gx, gy, n, h := ci.ec.Params()
	size := ci.ec.ByteLen()
	fe := func(x *big.Int) []byte { return x.FillBytes(make([]byte, size)) }
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidECPublicKey())
			if !explicit {
				oid, ok := namedCurveOID(k.Curve)
				if !ok {
					b.SetError(fmt.Errorf("%w: no named curve OID", ErrUnsupportedKey))
					return
				}
				b.AddASN1ObjectIdentifier(oid)
				return
			}
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ECParameters
				b.AddASN1Int64(1)                                        // ecpVer1
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // FieldID
					b.AddASN1ObjectIdentifier(oidPrimeField())
					b.AddASN1BigInt(p)
				})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // Curve
					b.AddASN1OctetString(fe(a))
					b.AddASN1OctetString(fe(bb))
				})
				g := append([]byte{4}, fe(gx)...)
				b.AddASN1OctetString(append(g, fe(gy)...)) // base
				b.AddASN1BigInt(n)                         // order
				b.AddASN1Int64(int64(h))                   // cofactor
			})
		})
		addBitString(b, pt)
	})
	return nil
}

func namedCurveOID(c elliptic.Curve) (asn1.ObjectIdentifier, bool) {
	switch c {
	case elliptic.P256():
		return asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}, true
	case elliptic.P384():
		return asn1.ObjectIdentifier{1, 3, 132, 0, 34}, true
	case elliptic.P521():
		return asn1.ObjectIdentifier{1, 3, 132, 0, 35}, true
	}
	return nil, false
}

// addBitString writes a BIT STRING of whole octets.
func addBitString(b *cryptobyte.Builder, v []byte) {
	b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
		b.AddUint8(0)
		b.AddBytes(v)
	})
}

// addNamedBits writes a named-bit BIT STRING (KeyUsage) in DER: no trailing
// zero bits (X.690 §11.2.2), so the unused-bits count follows the highest
// bit set.
func addNamedBits(b *cryptobyte.Builder, bits ...int) {
	hi := -1
	for _, i := range bits {
		hi = max(hi, i)
	}
	v := make([]byte, hi/8+1)
	for _, i := range bits {
		v[i/8] |= 0x80 >> (i % 8)
	}
	b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
		b.AddUint8(uint8(7 - hi%8))
		b.AddBytes(v)
	})
}

// addAlgorithm writes ecdsa-with-SHA* (RFC 5758 §3.2: parameters absent).
func addAlgorithm(b *cryptobyte.Builder, oid asn1.ObjectIdentifier) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
}

// addTime writes a certificate or CRL time as 9303-12 Table 5 and RFC 5280
// §4.1.2.5 require: UTCTime YYMMDDHHMMSSZ through 2049, GeneralizedTime
// YYYYMMDDHHMMSSZ from 2050, whole seconds, UTC.
func addTime(b *cryptobyte.Builder, t time.Time) {
	t = t.UTC().Truncate(time.Second)
	if t.Year() >= 1950 && t.Year() < 2050 {
		b.AddASN1UTCTime(t)
		return
	}
	b.AddASN1GeneralizedTime(t)
}

// generalizedTime is the content of a GeneralizedTime YYYYMMDDHHMMSSZ.
func generalizedTime(t time.Time) []byte {
	return []byte(t.UTC().Truncate(time.Second).Format("20060102150405Z"))
}

// addExtension writes an Extension; critical is encoded only when TRUE
// (DER omits DEFAULT values, 9303-12 Table 5).
func addExtension(b *cryptobyte.Builder, id asn1.ObjectIdentifier, critical bool, value func(*cryptobyte.Builder)) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(id)
		if critical {
			b.AddASN1Boolean(true)
		}
		b.AddASN1(cbasn1.OCTET_STRING, value)
	})
}

// addAKI writes an AuthorityKeyIdentifier holding only keyIdentifier [0].
func addAKI(b *cryptobyte.Builder, id []byte) {
	addExtension(b, oidExt(extAuthorityKeyID), false, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(id) })
		})
	})
}

// isPrintableString reports whether s fits X.680 PrintableString.
func isPrintableString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte(" '()+,-./:=?", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// addDirectoryString writes s as PrintableString when it fits, else as
// UTF8String (9303-12 Table 5: DirectoryString attributes are one of the
// two).
func addDirectoryString(b *cryptobyte.Builder, s string) {
	tag := cbasn1.UTF8String
	if isPrintableString(s) {
		tag = cbasn1.PrintableString
	}
	b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes([]byte(s)) })
}

// attr is one attribute of a Name.
type attr struct {
	typ       int
	value     string
	printable bool // must be PrintableString (countryName, serialNumber)
}

// encodeName returns the DER Name with one attribute per RDN, in order.
func encodeName(attrs []attr) ([]byte, error) {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, a := range attrs {
			if a.value == "" {
				continue
			}
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(oidAttr(a.typ))
					if a.printable {
						b.AddASN1(cbasn1.PrintableString, func(b *cryptobyte.Builder) { b.AddBytes([]byte(a.value)) })
					} else {
						addDirectoryString(b, a.value)
					}
				})
			})
		}
	})
	return b.Bytes()
}

// checkText refuses a name attribute that is not valid UTF-8, holds a
// control character or exceeds max characters (X.520 upper bounds: 64 for
// CN, O and OU).
func checkText(what, s string, max int) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not UTF-8", ErrTemplate, what)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Errorf("%w: %s of %d characters (at most %d)", ErrTemplate, what, n, max)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return fmt.Errorf("%w: %s holds a control character", ErrTemplate, what)
		}
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("%w: %s has leading or trailing space", ErrTemplate, what)
	}
	return nil
}

// randomSerial returns a positive serial number of exactly 16 octets from
// crypto/rand (RFC 5280 §4.1.2.2; at least 64 random bits as CA/B Forum
// practice asks, here 126).
func randomSerial() (*big.Int, error) {
	var s [16]byte
	if _, err := rand.Read(s[:]); err != nil {
		return nil, fmt.Errorf("pki: reading a random serial: %w", err)
	}
	s[0] &= 0x7f // positive
	s[0] |= 0x40 // and 16 octets long, never shorter
	return new(big.Int).SetBytes(s[:]), nil
}

// checkSerial enforces 9303-12 Table 5: positive, at most 20 octets in
// two's complement.
func checkSerial(what string, n *big.Int, allowZero bool) error {
	if n == nil {
		return fmt.Errorf("%w: no %s", ErrTemplate, what)
	}
	if n.Sign() < 0 || (n.Sign() == 0 && !allowZero) {
		return fmt.Errorf("%w: %s %v is not positive", ErrTemplate, what, n)
	}
	if n.BitLen() > 159 {
		return fmt.Errorf("%w: %s longer than 20 octets", ErrTemplate, what)
	}
	return nil
}

// signTBS signs the DER tbs with key and returns the whole signed
// structure SEQUENCE { tbs, signatureAlgorithm, signature BIT STRING }
// (RFC 5280 §4.1 and §5.1 share it).
func signTBS(tbs []byte, key crypto.Signer, ci curveInfo) ([]byte, error) {
	h := ci.hash.New()
	h.Write(tbs)
	sig, err := key.Sign(rand.Reader, h.Sum(nil), ci.hash)
	if err != nil {
		return nil, fmt.Errorf("pki: signing: %w", err)
	}
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		addAlgorithm(b, ci.sigOID)
		addBitString(b, sig)
	})
	return b.Bytes()
}

// sortedSet returns DER SET OF elements in X.690 §11.6 order (ascending
// encodings), duplicates removed.
func sortedSet(elems [][]byte) [][]byte {
	out := slices.Clone(elems)
	slices.SortFunc(out, bytes.Compare)
	return slices.CompactFunc(out, bytes.Equal)
}

// sameKey reports whether two public keys are equal.
func sameKey(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && b != nil && e.Equal(b)
}

// keyUsageBits lists the KeyUsage bits (RFC 5280 §4.2.1.3) of a mask.
func keyUsageBits(u x509.KeyUsage) []int {
	var out []int
	for i := 0; i < 9; i++ {
		if u&(1<<i) != 0 {
			out = append(out, i)
		}
	}
	return out
}

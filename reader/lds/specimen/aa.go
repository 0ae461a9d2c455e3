package specimen

// Active Authentication data of a specimen (ICAO 9303-11 §6.1): a key
// pair whose public half is DG15 (9303-10 §4.7.15, a
// SubjectPublicKeyInfo) and whose private half the chip keeps (chipsim's
// aa.key, docs/chip-identity.md). RSA keys sign with ISO/IEC 9796-2
// scheme 1 and need nothing else; ECDSA keys need an
// ActiveAuthenticationInfo in DG14 naming the hash (9303-11 §9.2.9), so
// Generate writes one (into the DG14 of Options.Chip, or a DG14 of its
// own). Generate adds them only when Options.AA is set.

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"borderid/internal/ec"
	"borderid/reader/lds"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// AAOptions asks Generate for an Active Authentication key. Exactly one
// of RSABits and Curve is set.
type AAOptions struct {
	// RSABits is the RSA modulus size: a multiple of 8 from 1024 to 4096.
	// 1024 fits short APDUs under secure messaging; 2048 needs a chip
	// with extended length (a 256-byte signature plus the SM objects).
	RSABits int
	// Curve makes an ECDSA key on that curve (plain r‖s signatures).
	Curve *ec.Curve
	// Trailer (RSA) is the ISO/IEC 9796-2 trailer the chip uses: "BC"
	// (implicit SHA-1, the default), "33CC" (SHA-1), "38CC" (SHA-224),
	// "34CC" (SHA-256), "36CC" (SHA-384) or "35CC" (SHA-512). It does not
	// appear in the chip's files: the reader learns it from the signature.
	Trailer string
	// Hash (ECDSA) is the hash the chip signs with, announced by DG14's
	// ActiveAuthenticationInfo as id-ecdsa-plain-signatures (BSI TR-03111
	// §5.2.1). 0: SHA-256 up to 256-bit curves, SHA-384 up to 384,
	// SHA-512 above.
	Hash crypto.Hash
}

// AAKey is a generated Active Authentication key pair.
type AAKey struct {
	// Key is the private key as PKCS#8 DER (RSA, or an SEC 1
	// ECPrivateKey naming its curve): the chip's aa.key.
	Key []byte
	// SubjectPublicKeyInfo is DG15's content.
	SubjectPublicKeyInfo []byte
	// Trailer (RSA) is the ISO/IEC 9796-2 trailer ("BC", "34CC", ...),
	// empty for ECDSA; Hash (ECDSA) is the signing hash, 0 for RSA. They
	// are chip.json's active_authentication trailer and hash.
	Trailer string
	Hash    crypto.Hash
}

// rsaTrailers lists the trailers of 9303-11 §6.1.2.1.
var rsaTrailers = [...]string{"BC", "33CC", "38CC", "34CC", "36CC", "35CC"}

// ecdsaPlainOID is id-ecdsa-plain-signatures' arc for each hash (BSI
// TR-03111 §5.2.1: 0.4.0.127.0.7.1.1.4.1.x).
func ecdsaPlainOID(h crypto.Hash) (asn1.ObjectIdentifier, bool) {
	arc := map[crypto.Hash]int{crypto.SHA1: 1, crypto.SHA224: 2, crypto.SHA256: 3, crypto.SHA384: 4, crypto.SHA512: 5}[h]
	if arc == 0 {
		return nil, false
	}
	return asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, arc}, true
}

// check validates o and resolves its defaults.
func (o AAOptions) check() (AAOptions, error) {
	switch {
	case (o.RSABits != 0) == (o.Curve != nil):
		return o, errors.New("specimen: active authentication wants exactly one of RSABits and Curve")
	case o.Curve != nil:
		if o.Trailer != "" {
			return o, errors.New("specimen: an ECDSA active authentication key takes a Hash, not a Trailer")
		}
		if o.Hash == 0 {
			switch {
			case o.Curve.BitSize() > 384:
				o.Hash = crypto.SHA512
			case o.Curve.BitSize() > 256:
				o.Hash = crypto.SHA384
			default:
				o.Hash = crypto.SHA256
			}
		}
		if _, ok := ecdsaPlainOID(o.Hash); !ok {
			return o, fmt.Errorf("specimen: active authentication hash %v (SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512)", o.Hash)
		}
	default:
		if o.RSABits%8 != 0 || o.RSABits < 1024 || o.RSABits > 4096 {
			return o, fmt.Errorf("specimen: RSA active authentication key of %d bits (a multiple of 8 from 1024 to 4096)", o.RSABits)
		}
		if o.Hash != 0 {
			return o, errors.New("specimen: an RSA active authentication key takes a Trailer, not a Hash")
		}
		o.Trailer = strings.ToUpper(o.Trailer)
		if o.Trailer == "" {
			o.Trailer = "BC"
		}
		known := false
		for _, t := range rsaTrailers {
			known = known || t == o.Trailer
		}
		if !known {
			return o, fmt.Errorf("specimen: ISO/IEC 9796-2 trailer %q (BC, 33CC, 38CC, 34CC, 36CC, 35CC)", o.Trailer)
		}
	}
	return o, nil
}

// info is the ActiveAuthenticationInfo DG14 must carry for o (nil for
// RSA, which needs none).
func (o AAOptions) info() *lds.ActiveAuthenticationInfo {
	if o.Curve == nil {
		return nil
	}
	oid, _ := ecdsaPlainOID(o.Hash) // checked by check
	return &lds.ActiveAuthenticationInfo{Version: 1, SignatureAlgorithm: oid}
}

// generateAAKey draws the key of o (checked) from r.
func generateAAKey(r io.Reader, o AAOptions) (*AAKey, error) {
	if o.Curve != nil {
		k, err := ec.GeneratePrivateKey(o.Curve, r)
		if err != nil {
			return nil, fmt.Errorf("specimen: active authentication key: %w", err)
		}
		pkcs8, err := ecPKCS8(k)
		if err != nil {
			return nil, err
		}
		oid, ok := curveOID(o.Curve.ID())
		if !ok {
			return nil, fmt.Errorf("specimen: no OID for %v", o.Curve)
		}
		spki, err := buildDER(func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(oidECPublicKey)
					b.AddASN1ObjectIdentifier(oid)
				})
				addBitString(b, k.PublicKey().Bytes())
			})
		})
		if err != nil {
			return nil, err
		}
		return &AAKey{Key: pkcs8, SubjectPublicKeyInfo: spki, Hash: o.Hash}, nil
	}
	k, err := generateRSAKey(r, o.RSABits)
	if err != nil {
		return nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("specimen: active authentication key: %w", err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("specimen: active authentication key: %w", err)
	}
	return &AAKey{Key: pkcs8, SubjectPublicKeyInfo: spki, Trailer: o.Trailer}, nil
}

// generateRSAKey makes an RSA key of exactly bits bits with e = 65537 from
// r alone, so that a fixed Options.Rand gives a fixed key (Go 1.26's
// rsa.GenerateKey ignores its reader). Each prime is the first probable
// prime (math/big's Miller-Rabin and Baillie-PSW) at or above a draw of
// bits/2 bits with its two top bits set, which makes n exactly bits long.
// The search is variable time: this is throwaway test material, never a
// real document's key.
func generateRSAKey(r io.Reader, bits int) (*rsa.PrivateKey, error) {
	const e = 65537
	bigE := big.NewInt(e)
	one := big.NewInt(1)
	prime := func() (*big.Int, error) {
		buf := make([]byte, bits/16)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("specimen: RSA key material: %w", err)
		}
		buf[0] |= 0xC0
		buf[len(buf)-1] |= 1
		p := new(big.Int).SetBytes(buf)
		pm1 := new(big.Int)
		// Primes near 2^512 are about 355 odd numbers apart on average;
		// 1<<16 steps without one is a broken source, not bad luck.
		for range 1 << 16 {
			if p.ProbablyPrime(20) && new(big.Int).GCD(nil, nil, pm1.Sub(p, one), bigE).Cmp(one) == 0 {
				if p.BitLen() != bits/2 {
					break // ran past the top: draw again would be needed
				}
				return p, nil
			}
			p.Add(p, big.NewInt(2))
		}
		return nil, errors.New("specimen: no RSA prime found from the random source")
	}
	var p, q *big.Int
	var err error
	for range 4 {
		if p, err = prime(); err != nil {
			return nil, err
		}
		if q, err = prime(); err != nil {
			return nil, err
		}
		if p.Cmp(q) != 0 {
			break
		}
	}
	if p.Cmp(q) == 0 {
		return nil, errors.New("specimen: the random source gave the same RSA prime twice")
	}
	n := new(big.Int).Mul(p, q)
	phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
	d := new(big.Int).ModInverse(bigE, phi)
	if d == nil || n.BitLen() != bits {
		return nil, errors.New("specimen: RSA key generation failed")
	}
	k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: e}, D: d, Primes: []*big.Int{p, q}}
	k.Precompute()
	if err := k.Validate(); err != nil {
		return nil, fmt.Errorf("specimen: RSA key: %w", err)
	}
	return k, nil
}

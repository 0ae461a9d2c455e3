package specimen

// Chip-security data of a specimen: the Chip Authentication key pair of
// ICAO 9303-11 §6.2, DG14 (9303-10 §4.7.14) announcing it with a
// ChipAuthenticationInfo and a ChipAuthenticationPublicKeyInfo
// (9303-11 §9.2.5, §9.2.6), and EF.CardSecurity (9303-11 §9.2.2), the
// same SecurityInfos signed by the Document Signer. Generate adds them
// only when Options.Chip is set, so the default specimen is unchanged.

import (
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"

	"borderid/internal/ec"
	"borderid/internal/pace"
	"borderid/reader/lds"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ChipOptions asks Generate for DG14, EF.CardSecurity and a Chip
// Authentication key.
type ChipOptions struct {
	// CAParameterID is the domain of the Chip Authentication key, as a
	// standardized domain parameter id of 9303-11 §9.5.1: 0-2 for the
	// RFC 5114 DH groups (2 is DH-2048/256), 8-18 for the curves (12
	// P-256, 13 brainpoolP256r1, 15 P-384). The zero value is DH-1024/160
	// (id 0): set it.
	CAParameterID int
	// CAProtocols are the ChipAuthenticationInfo entries DG14 announces
	// for the key, one per protocol (e.g. lds.CAECDHAES128,
	// lds.CAECDH3DES; DG14 being a DER SET OF, the file orders them by
	// encoding). Empty: the AES-128 protocol of the key's family. Each
	// must be a CA protocol of that family.
	CAProtocols []lds.Protocol
	// KeyID, when Present, is written in every ChipAuthenticationInfo and
	// in the ChipAuthenticationPublicKeyInfo (9303-11 §9.2.5: required
	// when a chip holds several keys, allowed with one).
	KeyID lds.OptionalInt
	// ExplicitParameters writes an EC key's domain as explicit X9.62
	// ECParameters (as many issued passports do) instead of the named
	// curve's OID. The private key file always names the curve.
	ExplicitParameters bool
	// PACE, when not empty, is listed in DG14 and EF.CardSecurity and
	// written as EF.CardAccess (9303-11 §9.2.1: the PACEInfos are in all
	// three).
	PACE []lds.PACEInfo
	// ActiveAuthentication, when set, is listed in DG14 (9303-11 §9.2.9,
	// required for ECDSA Active Authentication keys).
	ActiveAuthentication *lds.ActiveAuthenticationInfo
}

// caKeyPair is a generated Chip Authentication key.
type caKeyPair struct {
	pkcs8 []byte // the private key for the chip (chipsim's ca.key)
	spki  []byte // SubjectPublicKeyInfo for DG14 and EF.CardSecurity
	pub   []byte // the domain's fixed-length public key encoding
}

// chipFiles builds DG14, EF.CardSecurity and (with PACE) EF.CardAccess,
// drawing the Chip Authentication key from r. sign signs EF.CardSecurity.
func chipFiles(r io.Reader, co *ChipOptions, sign func(*lds.SecurityInfos) ([]byte, error)) (files map[string][]byte, key *caKeyPair, err error) {
	d, err := pace.DomainByParameterID(co.CAParameterID)
	if err != nil {
		return nil, nil, fmt.Errorf("specimen: chip authentication domain: %w", err)
	}
	key, err = generateCAKey(r, d, co.ExplicitParameters)
	if err != nil {
		return nil, nil, err
	}
	family, pk := lds.CAECDH, lds.PKECDH
	if d.KeyAgreement() == pace.DH {
		family, pk = lds.CADH, lds.PKDH
	}
	protos := co.CAProtocols
	if len(protos) == 0 {
		protos = []lds.Protocol{family | 2} // AES-128: cipher arc 2
	}
	infos := &lds.SecurityInfos{}
	for _, p := range protos {
		if !p.Valid() || !p.IsChipAuthentication() || p.Cipher() == 0 || p&0xFF00 != family {
			return nil, nil, fmt.Errorf("specimen: %v is not a chip authentication protocol of %v", p, d.Name())
		}
		infos.ChipAuthentication = append(infos.ChipAuthentication,
			lds.ChipAuthenticationInfo{Protocol: p, Version: 1, KeyID: co.KeyID})
	}
	infos.ChipAuthenticationPublicKeys = []lds.ChipAuthenticationPublicKeyInfo{
		{Protocol: pk, SubjectPublicKeyInfo: key.spki, KeyID: co.KeyID},
	}
	infos.PACE = append(infos.PACE, co.PACE...)
	if co.ActiveAuthentication != nil {
		infos.ActiveAuthentication = []lds.ActiveAuthenticationInfo{*co.ActiveAuthentication}
	}
	dg14, err := lds.EncodeDG14(infos)
	if err != nil {
		return nil, nil, fmt.Errorf("specimen: DG14: %w", err)
	}
	cs, err := sign(infos)
	if err != nil {
		return nil, nil, fmt.Errorf("specimen: EF.CardSecurity: %w", err)
	}
	files = map[string][]byte{lds.FileDG14.String(): dg14, lds.FileCardSecurity.String(): cs}
	if len(co.PACE) > 0 {
		ca, err := lds.EncodeSecurityInfos(&lds.SecurityInfos{PACE: co.PACE})
		if err != nil {
			return nil, nil, fmt.Errorf("specimen: EF.CardAccess: %w", err)
		}
		files[lds.FileCardAccess.String()] = ca
	}
	return files, key, nil
}

// Object identifiers of the key encodings.
var (
	oidECPublicKey  = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}     // RFC 5480 §2.1.1
	oidPrimeField   = asn1.ObjectIdentifier{1, 2, 840, 10045, 1, 1}     // X9.62 prime-field
	oidDHPublicNumb = asn1.ObjectIdentifier{1, 2, 840, 10046, 2, 1}     // X9.42 dhpublicnumber, RFC 3279 §2.3.3
	oidBrainpoolArc = asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1} // RFC 5639 §4.1
)

// curveOID names a curve of internal/ec: SEC 2 / RFC 5480 for NIST,
// RFC 5639 for brainpool.
func curveOID(id ec.ID) (asn1.ObjectIdentifier, bool) {
	bp := func(n int) asn1.ObjectIdentifier {
		return append(append(asn1.ObjectIdentifier{}, oidBrainpoolArc...), n)
	}
	switch id {
	case ec.IDP192:
		return asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 1}, true
	case ec.IDP224:
		return asn1.ObjectIdentifier{1, 3, 132, 0, 33}, true
	case ec.IDP256:
		return asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}, true
	case ec.IDP384:
		return asn1.ObjectIdentifier{1, 3, 132, 0, 34}, true
	case ec.IDP521:
		return asn1.ObjectIdentifier{1, 3, 132, 0, 35}, true
	case ec.IDBrainpoolP192r1:
		return bp(3), true
	case ec.IDBrainpoolP224r1:
		return bp(5), true
	case ec.IDBrainpoolP256r1:
		return bp(7), true
	case ec.IDBrainpoolP320r1:
		return bp(9), true
	case ec.IDBrainpoolP384r1:
		return bp(11), true
	case ec.IDBrainpoolP512r1:
		return bp(13), true
	}
	return nil, false
}

// curveForDomain returns the curve of an ECDH parameter id (8-18 in the
// order of ec.Curves).
func curveForDomain(d pace.Domain) (*ec.Curve, error) {
	i := d.ParameterID() - 8
	cs := ec.Curves()
	if i < 0 || i >= len(cs) {
		return nil, fmt.Errorf("specimen: parameter id %d is not a curve", d.ParameterID())
	}
	return cs[i], nil
}

// generateCAKey draws a key pair in d and encodes it: the public key as
// a SubjectPublicKeyInfo (id-ecPublicKey with named or explicit
// parameters, RFC 5480; dhpublicnumber with X9.42 DomainParameters and
// the DHPublicKey INTEGER, RFC 3279 §2.3.3) and the private key as
// PKCS#8 (RFC 5208: an SEC 1 ECPrivateKey, or the DH private INTEGER).
func generateCAKey(r io.Reader, d pace.Domain, explicit bool) (*caKeyPair, error) {
	priv, pub, err := d.GenerateKey(r, nil)
	if err != nil {
		return nil, fmt.Errorf("specimen: chip authentication key: %w", err)
	}
	if d.KeyAgreement() == pace.DH {
		return dhKeyPair(d, priv, pub)
	}
	c, err := curveForDomain(d)
	if err != nil {
		return nil, err
	}
	oid, ok := curveOID(c.ID())
	if !ok {
		return nil, fmt.Errorf("specimen: no OID for %v", c)
	}
	named := func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) }
	params := named
	if explicit {
		params = func(b *cryptobyte.Builder) { addECParameters(b, c) }
	}
	spki, err := buildDER(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidECPublicKey)
				params(b)
			})
			addBitString(b, pub)
		})
	})
	if err != nil {
		return nil, err
	}
	pkcs8, err := buildDER(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(0)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidECPublicKey)
				named(b)
			})
			b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
				// SEC 1 §C.4: the private key is an OCTET STRING of
				// exactly ⌈log₂ n / 8⌉ bytes, leading zeros kept.
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1Int64(1)
					b.AddASN1OctetString(priv)
					b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						addBitString(b, pub)
					})
				})
			})
		})
	})
	if err != nil {
		return nil, err
	}
	return &caKeyPair{pkcs8: pkcs8, spki: spki, pub: pub}, nil
}

func dhKeyPair(d pace.Domain, priv, pub []byte) (*caKeyPair, error) {
	p := new(big.Int).SetBytes(d.Prime())
	g := new(big.Int).SetBytes(d.Generator())
	q := new(big.Int).SetBytes(d.Order())
	alg := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidDHPublicNumb)
			// X9.42 DomainParameters ::= SEQUENCE { p, g, q, j OPTIONAL,
			// validationParms OPTIONAL } (RFC 3279 §2.3.3).
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1BigInt(p)
				b.AddASN1BigInt(g)
				b.AddASN1BigInt(q)
			})
		})
	}
	y, err := buildDER(func(b *cryptobyte.Builder) { b.AddASN1BigInt(new(big.Int).SetBytes(pub)) })
	if err != nil {
		return nil, err
	}
	spki, err := buildDER(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			alg(b)
			addBitString(b, y)
		})
	})
	if err != nil {
		return nil, err
	}
	pkcs8, err := buildDER(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(0)
			alg(b)
			b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
				b.AddASN1BigInt(new(big.Int).SetBytes(priv))
			})
		})
	})
	if err != nil {
		return nil, err
	}
	return &caKeyPair{pkcs8: pkcs8, spki: spki, pub: pub}, nil
}

// addECParameters writes X9.62 ECParameters (SEC 1 §C.2) for c: version
// 1, the prime field, a and b as field-length OCTET STRINGs, the
// uncompressed base point, the order and the cofactor.
func addECParameters(b *cryptobyte.Builder, c *ec.Curve) {
	p, a, bb, gx, gy, n, h := c.Params()
	l := c.ByteLen()
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidPrimeField)
			b.AddASN1BigInt(p)
		})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1OctetString(a.FillBytes(make([]byte, l)))
			b.AddASN1OctetString(bb.FillBytes(make([]byte, l)))
		})
		g := make([]byte, 1+2*l)
		g[0] = 4
		gx.FillBytes(g[1 : 1+l])
		gy.FillBytes(g[1+l:])
		b.AddASN1OctetString(g)
		b.AddASN1BigInt(n)
		b.AddASN1Int64(int64(h))
	})
}

func addBitString(b *cryptobyte.Builder, v []byte) {
	b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
		b.AddUint8(0) // no unused bits
		b.AddBytes(v)
	})
}

func buildDER(f func(*cryptobyte.Builder)) ([]byte, error) {
	var b cryptobyte.Builder
	f(&b)
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("specimen: encoding: %w", err)
	}
	return out, nil
}

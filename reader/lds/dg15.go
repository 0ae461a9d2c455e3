package lds

import (
	"fmt"

	"encoding/asn1"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// PublicKeyAlgorithm is the algorithm of the Active Authentication key.
type PublicKeyAlgorithm uint8

// The algorithms 9303-11 §6.1 allows for Active Authentication.
const (
	PublicKeyUnknown PublicKeyAlgorithm = 0
	PublicKeyRSA     PublicKeyAlgorithm = 1 // rsaEncryption, ISO/IEC 9796-2 signatures
	PublicKeyEC      PublicKeyAlgorithm = 2 // id-ecPublicKey, ECDSA (BSI TR-03111)
)

func (a PublicKeyAlgorithm) String() string {
	switch a {
	case PublicKeyRSA:
		return "RSA"
	case PublicKeyEC:
		return "EC"
	case PublicKeyUnknown:
		return "unknown"
	}
	return fmt.Sprintf("PublicKeyAlgorithm(%d)", uint8(a))
}

// DG15 is data group 15 (9303-10 §4.7.15): the Active Authentication
// public key as an X.509 SubjectPublicKeyInfo.
type DG15 struct {
	// PublicKeyInfo is the raw DER SubjectPublicKeyInfo. The key itself is
	// not decoded here: EC keys on chips often carry explicit domain
	// parameters (brainpool), which crypto/x509 does not accept, so the
	// verifier decodes it with the curve support it has.
	PublicKeyInfo []byte
	Algorithm     PublicKeyAlgorithm
	AlgorithmOID  asn1.ObjectIdentifier
	Raw           []byte
}

// ParseDG15 parses DG15 and identifies the key's algorithm.
func ParseDG15(b []byte) (*DG15, error) {
	outer, err := ParseSingle(b, FileDG15.Tag())
	if err != nil {
		return nil, fmt.Errorf("DG15: %w", err)
	}
	spki, alg, oid, err := parseSPKI(outer.Value)
	if err != nil {
		return nil, fmt.Errorf("DG15: %w", err)
	}
	return &DG15{PublicKeyInfo: spki, Algorithm: alg, AlgorithmOID: oid, Raw: outer.Raw}, nil
}

// parseSPKI checks that b is exactly one SubjectPublicKeyInfo (RFC 5280
// §4.1.2.7) with an RSA or EC key and names the algorithm.
func parseSPKI(b []byte) ([]byte, PublicKeyAlgorithm, asn1.ObjectIdentifier, error) {
	in := cryptobyte.String(b)
	var spki, spkiBody, algID cryptobyte.String
	var oid asn1.ObjectIdentifier
	var key asn1.BitString
	if !in.ReadASN1Element(&spki, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, 0, nil, fmt.Errorf("%w: not one SubjectPublicKeyInfo", ErrTLV)
	}
	body := spki
	if !body.ReadASN1(&spkiBody, cbasn1.SEQUENCE) ||
		!spkiBody.ReadASN1(&algID, cbasn1.SEQUENCE) ||
		!algID.ReadASN1ObjectIdentifier(&oid) ||
		!spkiBody.ReadASN1BitString(&key) || !spkiBody.Empty() {
		return nil, 0, nil, fmt.Errorf("%w: malformed SubjectPublicKeyInfo", ErrTLV)
	}
	switch {
	case oid.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}):
		return spki, PublicKeyRSA, oid, nil
	case oid.Equal(asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}):
		return spki, PublicKeyEC, oid, nil
	}
	return nil, 0, nil, fmt.Errorf("unsupported key algorithm %v", oid)
}

// EncodeDG15 wraps a DER SubjectPublicKeyInfo (x509.MarshalPKIXPublicKey)
// as DG15.
func EncodeDG15(spki []byte) ([]byte, error) {
	if _, _, _, err := parseSPKI(spki); err != nil {
		return nil, fmt.Errorf("DG15: %w", err)
	}
	return AppendElement(nil, FileDG15.Tag(), spki)
}

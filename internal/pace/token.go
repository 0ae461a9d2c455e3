package pace

import (
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"borderid/internal/smcrypto"
)

// ErrToken reports an authentication token that does not verify.
var ErrToken = errors.New("pace: authentication token mismatch")

// Tags of the public key data object (9303-11 §4.4.3.4 / App. D.3.3 of
// TR-03110-3): the template 7F49, the OID 06, and the key: 86 for an
// elliptic curve point, 84 for a DH public value.
const (
	tagPublicKeyHi  = 0x7F
	tagPublicKeyLo  = 0x49
	tagECPoint      = 6 // context-specific primitive: 0x86
	tagDHPublicVal  = 4 // context-specific primitive: 0x84
	maxPublicKeyLen = 4096
)

// EncodePublicKeyDO builds the public key data object over which the
// authentication tokens are computed (9303-11 §4.4.3.4):
//
//	7F49 L { 06 L OID, 86 L point }   for ECDH (uncompressed 04‖X‖Y)
//	7F49 L { 06 L OID, 84 L y }       for DH (y at the group's fixed length)
//
// oid is the PACE protocol OID (id-PACE-ECDH-GM-AES-CBC-CMAC-128, ...);
// publicKey is the encoding Domain returns. Lengths are DER: App. G.1 has
// 7F494F and G.2 7F49818F. publicKey is taken as given: callers pass the
// fixed-length encodings of Domain (a DH value shortened by a leading zero
// would give a different object, and so a token that fails to verify).
func EncodePublicKeyDO(oid asn1.ObjectIdentifier, publicKey []byte, ka KeyAgreement) ([]byte, error) {
	var keyTag cbasn1.Tag
	switch ka {
	case ECDH:
		if len(publicKey) < 3 || len(publicKey)%2 != 1 || publicKey[0] != 0x04 {
			return nil, errors.New("pace: public key data object: EC key is not an uncompressed point")
		}
		keyTag = cbasn1.Tag(tagECPoint).ContextSpecific()
	case DH:
		if len(publicKey) == 0 {
			return nil, errors.New("pace: public key data object: empty DH value")
		}
		keyTag = cbasn1.Tag(tagDHPublicVal).ContextSpecific()
	default:
		return nil, fmt.Errorf("pace: public key data object: %v", ka)
	}
	if len(publicKey) > maxPublicKeyLen {
		return nil, fmt.Errorf("pace: public key data object: key of %d bytes", len(publicKey))
	}
	if len(oid) < 2 {
		return nil, errors.New("pace: public key data object: invalid OID")
	}
	var b cryptobyte.Builder
	b.AddASN1ObjectIdentifier(oid)
	b.AddASN1(keyTag, func(b *cryptobyte.Builder) { b.AddBytes(publicKey) })
	inner, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("pace: public key data object: %w", err)
	}
	out := []byte{tagPublicKeyHi, tagPublicKeyLo}
	out = appendDERLength(out, len(inner))
	return append(out, inner...), nil
}

// appendDERLength appends a definite length in the shortest DER form. n is
// bounded by maxPublicKeyLen plus the OID, so two length bytes suffice.
func appendDERLength(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n < 0x100:
		return append(b, 0x81, byte(n))
	default:
		return append(b, 0x82, byte(n>>8), byte(n))
	}
}

// Token computes an authentication token of 9303-11 §4.4.3.4: the MAC under
// KSmac of the peer's public key data object. The terminal computes T_IFD
// over the chip's ephemeral public key, the chip T_IC over the terminal's.
// For AES it is AES-CMAC truncated to 8 bytes, over the data object as is
// (CMAC pads internally; no ISO 9797-1 padding is added, unlike secure
// messaging); for 3DES it is the retail MAC with padding method 2.
func Token(c smcrypto.Cipher, kmac []byte, oid asn1.ObjectIdentifier, publicKey []byte, ka KeyAgreement) ([]byte, error) {
	do, err := EncodePublicKeyDO(oid, publicKey, ka)
	if err != nil {
		return nil, err
	}
	switch c {
	case smcrypto.TDES:
		t, err := smcrypto.RetailMAC(kmac, do)
		if err != nil {
			return nil, fmt.Errorf("pace: token: %w", err)
		}
		return t, nil
	case smcrypto.AES128, smcrypto.AES192, smcrypto.AES256:
		if len(kmac) != c.KeySize() {
			return nil, fmt.Errorf("pace: token: %w", smcrypto.ErrCipher)
		}
		t, err := smcrypto.CMAC(kmac, do)
		if err != nil {
			return nil, fmt.Errorf("pace: token: %w", err)
		}
		return t[:8], nil
	}
	return nil, fmt.Errorf("pace: token: %w", smcrypto.ErrCipher)
}

// VerifyToken recomputes the token over publicKey and compares it with got
// in constant time. A mismatch is ErrToken.
func VerifyToken(c smcrypto.Cipher, kmac []byte, oid asn1.ObjectIdentifier, publicKey []byte, ka KeyAgreement, got []byte) error {
	want, err := Token(c, kmac, oid, publicKey, ka)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(want, got) != 1 {
		return ErrToken
	}
	return nil
}

package cvc

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// CV certificates are BER-TLV with two-byte application tags (7F21, 5F29,
// ...), which cryptobyte's ASN.1 readers refuse (they take one-byte tags
// only). These helpers read tag and length on a cryptobyte.String
// themselves, check every length against what is left before slicing, and
// keep the raw element so that the body is hashed exactly as received
// (TR-03110-3 C.1: the signature is over the encoded body).

// tag is a BER-TLV tag of one or two bytes, read big-endian (0x42, 0x7F21).
type tag uint16

// Data object tags of TR-03110-3 App. C and D.
const (
	tagCVCertificate tag = 0x7F21 // C.1 CV certificate
	tagBody          tag = 0x7F4E // C.1 certificate body
	tagProfileID     tag = 0x5F29 // D.2 certificate profile identifier
	tagCAR           tag = 0x42   // D.2 certification authority reference
	tagPublicKey     tag = 0x7F49 // D.3 public key
	tagCHR           tag = 0x5F20 // D.2 certificate holder reference
	tagCHAT          tag = 0x7F4C // C.1.5 certificate holder authorization template
	tagEffective     tag = 0x5F25 // D.2 certificate effective date
	tagExpiration    tag = 0x5F24 // D.2 certificate expiration date
	tagExtensions    tag = 0x65   // C.3 certificate extensions
	tagDiscretionary tag = 0x73   // C.3 discretionary data template
	tagSignature     tag = 0x5F37 // D.2 signature
	tagOID           tag = 0x06   // object identifier
	tagDiscData      tag = 0x53   // discretionary data (CHAT rights)
)

// String gives the tag in hex as the standards write it.
func (t tag) String() string {
	if t > 0xFF {
		return fmt.Sprintf("%04X", uint16(t))
	}
	return fmt.Sprintf("%02X", uint16(t))
}

// maxLength bounds every length field. The largest certificate carries an
// RSA-4096 modulus or brainpoolP512r1 domain parameters, well under 2 KiB;
// anything longer is garbage or an attack and is refused before use.
const maxLength = 4096

// element is one TLV: tag, value and the raw encoding as read.
type element struct {
	tag   tag
	value []byte
	raw   []byte
}

// readTag reads a tag of one or two bytes (ISO/IEC 7816-4 §5.2.2.1). No tag
// of TR-03110-3 needs three bytes, so a longer one is refused.
func readTag(s *cryptobyte.String) (tag, error) {
	var b uint8
	if !s.ReadUint8(&b) {
		return 0, fmt.Errorf("%w: missing tag", ErrMalformed)
	}
	if b == 0x00 || b == 0xFF {
		return 0, fmt.Errorf("%w: tag byte %02X", ErrMalformed, b)
	}
	if b&0x1F != 0x1F {
		return tag(b), nil
	}
	var b2 uint8
	if !s.ReadUint8(&b2) {
		return 0, fmt.Errorf("%w: truncated tag %02X", ErrMalformed, b)
	}
	if b2&0x80 != 0 {
		return 0, fmt.Errorf("%w: tag %02X%02X... longer than two bytes", ErrMalformed, b, b2)
	}
	return tag(b)<<8 | tag(b2), nil
}

// readLength reads a definite length: one byte below 80, or 81/82 and one
// or two bytes. Lengths beyond maxLength, the indefinite form and longer
// length fields are refused.
func readLength(s *cryptobyte.String) (int, error) {
	var b uint8
	if !s.ReadUint8(&b) {
		return 0, fmt.Errorf("%w: missing length", ErrMalformed)
	}
	if b < 0x80 {
		return int(b), nil
	}
	var l int
	switch b {
	case 0x81:
		var v uint8
		if !s.ReadUint8(&v) {
			return 0, fmt.Errorf("%w: truncated length", ErrMalformed)
		}
		l = int(v)
	case 0x82:
		var v uint16
		if !s.ReadUint16(&v) {
			return 0, fmt.Errorf("%w: truncated length", ErrMalformed)
		}
		l = int(v)
	default:
		return 0, fmt.Errorf("%w: length byte %02X", ErrMalformed, b)
	}
	if l > maxLength {
		return 0, fmt.Errorf("%w: length %d above %d", ErrMalformed, l, maxLength)
	}
	return l, nil
}

// readElement reads one TLV from s and advances s past it.
func readElement(s *cryptobyte.String) (element, error) {
	start := *s
	t, err := readTag(s)
	if err != nil {
		return element{}, err
	}
	l, err := readLength(s)
	if err != nil {
		return element{}, fmt.Errorf("tag %s: %w", t, err)
	}
	var v []byte
	if !s.ReadBytes(&v, l) {
		return element{}, fmt.Errorf("tag %s: %w: value of %d bytes, %d left", t, ErrMalformed, l, len(*s))
	}
	n := len(start) - len(*s)
	return element{tag: t, value: v, raw: start[:n:n]}, nil
}

// readExpected reads one TLV and requires its tag to be want.
func readExpected(s *cryptobyte.String, want tag) (element, error) {
	e, err := readElement(s)
	if err != nil {
		return element{}, err
	}
	if e.tag != want {
		return element{}, fmt.Errorf("%w: tag %s where %s is required", ErrMalformed, e.tag, want)
	}
	return e, nil
}

// appendTLV appends tag, minimal length and value to b.
func appendTLV(b []byte, t tag, value []byte) []byte {
	if t > 0xFF {
		b = append(b, byte(t>>8), byte(t))
	} else {
		b = append(b, byte(t))
	}
	switch n := len(value); {
	case n < 0x80:
		b = append(b, byte(n))
	case n <= 0xFF:
		b = append(b, 0x81, byte(n))
	default:
		b = append(b, 0x82, byte(n>>8), byte(n))
	}
	return append(b, value...)
}

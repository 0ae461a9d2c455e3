package chipsim

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// tag is a BER-TLV tag of one or two bytes.
type tag uint16

// Data object tags the chip reads or writes.
const (
	tagDG1                tag = 0x61   // 9303-10 §4.7.1: DG1
	tagMRZ                tag = 0x5F1F // 9303-10 §4.7.1: MRZ data element
	tagFCP                tag = 0x62   // ISO/IEC 7816-4 §7.4.3: file control parameters
	tagFileSize           tag = 0x80   // FCP: number of data bytes
	tagDescriptor         tag = 0x82   // FCP: file descriptor byte
	tagFileID             tag = 0x83   // FCP: file identifier
	tagDFName             tag = 0x84   // FCP: DF name
	tagInteger            tag = 0x02   // EF.ATR/INFO integers
	tagExtendedLengthInfo tag = 0x7F66 // ISO/IEC 7816-4 §12.7.1
	tagDiscData           tag = 0x53   // ISO/IEC 7816-4 §11.3.3: data of an odd-INS read
	tagOffset             tag = 0x54   // ISO/IEC 7816-4 §11.3.3: offset of an odd-INS read
	tagCryptoBER          tag = 0x85   // 9303-11 §9.8.5: cryptogram of BER-TLV data (odd INS)
	tagCryptoPad          tag = 0x87   // 9303-11 §9.8.5: padding indicator || cryptogram
	tagLe                 tag = 0x97   // 9303-11 §9.8.5: protected Le
	tagStatus             tag = 0x99   // 9303-11 §9.8.5: protected status word
	tagMAC                tag = 0x8E   // 9303-11 §9.8.5: cryptographic checksum
)

func (t tag) String() string {
	switch t {
	case tagCryptoBER:
		return "DO85 cryptogram"
	case tagCryptoPad:
		return "DO87 cryptogram"
	case tagLe:
		return "DO97 Le"
	case tagStatus:
		return "DO99 status"
	case tagMAC:
		return "DO8E MAC"
	case tagOffset:
		return "DO54 offset"
	case tagDiscData:
		return "DO53 data"
	}
	if t > 0xFF {
		return fmt.Sprintf("DO%04X", uint16(t))
	}
	return fmt.Sprintf("DO%02X", uint16(t))
}

// readTLV reads one BER-TLV data object (ISO/IEC 7816-4 §6.3) from the
// front of b: a tag of one or two bytes and a definite length of at most
// three bytes. cryptobyte's ReadASN1 refuses the two-byte tags of 9303
// (5F1F) and the multi-byte lengths of secure messaging objects are plain
// BER, so the framing is read here with cryptobyte's bounds-checked
// primitives. ok is false on any malformed or truncated object.
func readTLV(b []byte) (t tag, value, rest []byte, ok bool) {
	s := cryptobyte.String(b)
	var t0 uint8
	if !s.ReadUint8(&t0) {
		return 0, nil, nil, false
	}
	t = tag(t0)
	if t0&0x1F == 0x1F {
		var t1 uint8
		if !s.ReadUint8(&t1) || t1&0x80 != 0 {
			return 0, nil, nil, false
		}
		t = t<<8 | tag(t1)
	}
	var l0 uint8
	if !s.ReadUint8(&l0) {
		return 0, nil, nil, false
	}
	n := uint32(l0)
	switch l0 {
	case 0x81:
		var v uint8
		if !s.ReadUint8(&v) {
			return 0, nil, nil, false
		}
		n = uint32(v)
	case 0x82:
		var v uint16
		if !s.ReadUint16(&v) {
			return 0, nil, nil, false
		}
		n = uint32(v)
	case 0x83:
		if !s.ReadUint24(&n) {
			return 0, nil, nil, false
		}
	default:
		if l0 >= 0x80 {
			return 0, nil, nil, false
		}
	}
	var v []byte
	if !s.ReadBytes(&v, int(n)) {
		return 0, nil, nil, false
	}
	return t, v, []byte(s), true
}

// lengthSize is the size of the BER length field for n content bytes.
func lengthSize(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n <= 0xFF:
		return 2
	case n <= 0xFFFF:
		return 3
	}
	return 4
}

// appendTLV appends a data object. Values here are bounded by maxFileSize,
// well within a three-byte length.
func appendTLV(b []byte, t tag, value []byte) []byte {
	if t > 0xFF {
		b = append(b, byte(t>>8))
	}
	b = append(b, byte(t))
	switch n := len(value); {
	case n < 0x80:
		b = append(b, byte(n))
	case n <= 0xFF:
		b = append(b, 0x81, byte(n))
	case n <= 0xFFFF:
		b = append(b, 0x82, byte(n>>8), byte(n))
	default:
		b = append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, value...)
}

// tlvFit is the largest value length whose one-byte-tag TLV fits in limit
// bytes.
func tlvFit(limit int) int {
	n := limit - 2
	if n > 0x7F {
		n = limit - 3
	}
	if n > 0xFF {
		n = limit - 4
	}
	if n > 0xFFFF {
		n = limit - 5
	}
	return max(n, 0)
}

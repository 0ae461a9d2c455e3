package lds

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// The LDS is BER-TLV (ISO/IEC 7816-4 §5.2, 9303-10 §4.4): tags of one to
// three bytes (5F1F, 7F61) and definite lengths of up to four length
// bytes. cryptobyte's ASN.1 readers accept neither multi-byte tags nor the
// non-minimal lengths (82 00 7F) that real chips write, so these helpers
// read tag and length themselves on a cryptobyte.String and keep the raw
// element for hashing.

// MaxElementLength is the hard limit on the value length of any element.
// The largest LDS files (DG2, DG3 with several images) stay well below it;
// a larger length is an attack or garbage, refused before any allocation.
const MaxElementLength = 16 << 20

// maxHeader is the longest tag and length: three tag bytes, one length
// byte 84 and four length bytes.
const maxHeader = 3 + 5

var (
	// ErrShortHeader reports that more bytes are needed to read a tag and
	// length (ElementLength) or that an element runs past its input.
	ErrShortHeader = errors.New("lds: TLV header incomplete")
	// ErrTLV reports malformed BER-TLV: an indefinite length, a length of
	// more than four bytes, a tag longer than three bytes.
	ErrTLV = errors.New("lds: malformed TLV")
	// ErrTooLong reports a length above MaxElementLength.
	ErrTooLong = errors.New("lds: TLV length above limit")
	// ErrUnexpectedTag reports an element other than the one required.
	ErrUnexpectedTag = errors.New("lds: unexpected tag")
)

// Tag is a BER-TLV tag, its bytes read big-endian: 0x61, 0x5F1F, 0x7F61.
type Tag uint32

// String gives the tag in hex, as the standards write it ("5F1F").
func (t Tag) String() string {
	switch {
	case t > 0xFFFF:
		return fmt.Sprintf("%06X", uint32(t))
	case t > 0xFF:
		return fmt.Sprintf("%04X", uint32(t))
	}
	return fmt.Sprintf("%02X", uint32(t))
}

// Constructed reports whether the tag's first byte has the constructed
// bit (b6) set.
func (t Tag) Constructed() bool {
	first := uint32(t)
	for first > 0xFF {
		first >>= 8
	}
	return first&0x20 != 0
}

// appendBytes appends the tag's encoding.
func (t Tag) appendBytes(b []byte) []byte {
	switch {
	case t > 0xFFFF:
		return append(b, byte(t>>16), byte(t>>8), byte(t))
	case t > 0xFF:
		return append(b, byte(t>>8), byte(t))
	}
	return append(b, byte(t))
}

// Element is one parsed TLV: its tag, its value and the raw bytes of the
// whole element (tag, length and value) as they were read.
type Element struct {
	Tag   Tag
	Value []byte
	Raw   []byte
}

// readTag reads a BER tag of at most three bytes (ISO/IEC 7816-4 §5.2.2.1:
// low five bits all ones announce subsequent bytes, each with b8 set while
// more follow).
func readTag(s *cryptobyte.String) (Tag, error) {
	var b uint8
	if !s.ReadUint8(&b) {
		return 0, ErrShortHeader
	}
	if b == 0x00 || b == 0xFF {
		// 00 and FF are padding between or after elements, never a tag
		// (ISO/IEC 7816-4 §5.2.2.1).
		return 0, fmt.Errorf("%w: tag byte %02X", ErrTLV, b)
	}
	t := Tag(b)
	if b&0x1F != 0x1F {
		return t, nil
	}
	for i := 0; ; i++ {
		if i == 2 {
			return 0, fmt.Errorf("%w: tag %s... longer than three bytes", ErrTLV, t)
		}
		if !s.ReadUint8(&b) {
			return 0, ErrShortHeader
		}
		t = t<<8 | Tag(b)
		if b&0x80 == 0 {
			return t, nil
		}
	}
}

// readLength reads a definite BER length: one byte below 80, or 81..84
// followed by that many bytes. Non-minimal forms are accepted (real chips
// write them); the indefinite form 80 and 85..FF are refused.
func readLength(s *cryptobyte.String) (int, error) {
	var b uint8
	if !s.ReadUint8(&b) {
		return 0, ErrShortHeader
	}
	if b < 0x80 {
		return int(b), nil
	}
	n := int(b & 0x7F)
	if n == 0 || n > 4 {
		return 0, fmt.Errorf("%w: length byte %02X", ErrTLV, b)
	}
	var l uint64
	for i := 0; i < n; i++ {
		if !s.ReadUint8(&b) {
			return 0, ErrShortHeader
		}
		l = l<<8 | uint64(b)
	}
	if l > MaxElementLength {
		return 0, fmt.Errorf("%w: %d bytes", ErrTooLong, l)
	}
	return int(l), nil
}

// ReadElement reads one TLV from s, advancing it. It fails with
// ErrShortHeader when s ends inside the element.
func ReadElement(s *cryptobyte.String) (Element, error) {
	start := *s
	t, err := readTag(s)
	if err != nil {
		return Element{}, err
	}
	l, err := readLength(s)
	if err != nil {
		return Element{}, fmt.Errorf("tag %s: %w", t, err)
	}
	var v []byte
	if !s.ReadBytes(&v, l) {
		return Element{}, fmt.Errorf("tag %s: %w: value of %d bytes, %d left", t, ErrShortHeader, l, len(*s))
	}
	hdr := len(start) - len(*s) - l
	return Element{Tag: t, Value: v, Raw: start[:hdr+l]}, nil
}

// ParseElements reads a concatenation of TLVs that fills b exactly.
func ParseElements(b []byte) ([]Element, error) {
	s := cryptobyte.String(b)
	var out []Element
	for !s.Empty() {
		e, err := ReadElement(&s)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// ParseSingle reads the one element b must consist of, with tag want.
// Trailing bytes are refused: a file's length comes from its outer TLV
// (ElementLength), so anything after it was not part of it.
func ParseSingle(b []byte, want Tag) (Element, error) {
	s := cryptobyte.String(b)
	e, err := ReadElement(&s)
	if err != nil {
		return Element{}, err
	}
	if e.Tag != want {
		return Element{}, fmt.Errorf("%w: %s, want %s", ErrUnexpectedTag, e.Tag, want)
	}
	if !s.Empty() {
		return Element{}, fmt.Errorf("%w: %d bytes after the %s element", ErrTLV, len(s), want)
	}
	return e, nil
}

// Find returns the first element with tag t among elems.
func Find(elems []Element, t Tag) (Element, bool) {
	for _, e := range elems {
		if e.Tag == t {
			return e, true
		}
	}
	return Element{}, false
}

// ElementLength returns the total length (header plus value) of the TLV
// element that header starts, for sizing the reads of a file whose first
// bytes are known. It fails with ErrShortHeader when header ends before
// the length is complete: read more (at most 8 bytes are ever needed) and
// call again.
func ElementLength(header []byte) (total int, err error) {
	s := cryptobyte.String(header)
	t, err := readTag(&s)
	if err != nil {
		return 0, err
	}
	l, err := readLength(&s)
	if err != nil {
		if errors.Is(err, ErrShortHeader) {
			return 0, err
		}
		return 0, fmt.Errorf("tag %s: %w", t, err)
	}
	return len(header) - len(s) + l, nil
}

// AppendElement appends tag, the minimal definite length of value and
// value to b (ISO/IEC 7816-4 §5.2.2.2). It fails for a value longer than
// MaxElementLength.
func AppendElement(b []byte, t Tag, value []byte) ([]byte, error) {
	if len(value) > MaxElementLength {
		return nil, fmt.Errorf("%w: %d bytes for tag %s", ErrTooLong, len(value), t)
	}
	b = t.appendBytes(b)
	switch l := len(value); {
	case l < 0x80:
		b = append(b, byte(l))
	case l <= 0xFF:
		b = append(b, 0x81, byte(l))
	case l <= 0xFFFF:
		b = append(b, 0x82, byte(l>>8), byte(l))
	default:
		b = append(b, 0x83, byte(l>>16), byte(l>>8), byte(l))
	}
	return append(b, value...), nil
}

// tlvBuilder appends elements and keeps the first error, so encoders can
// build a structure in straight-line code.
type tlvBuilder struct {
	b   []byte
	err error
}

func (w *tlvBuilder) add(t Tag, value []byte) {
	if w.err != nil {
		return
	}
	w.b, w.err = AppendElement(w.b, t, value)
}

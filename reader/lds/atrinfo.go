package lds

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// Tags of EF.ATR/INFO (ISO/IEC 7816-4 §12.7.1, Table 117: data objects of
// the answer-to-reset file).
const (
	TagExtendedLengthInfo Tag = 0x7F66 // extended length information
	TagCardCapabilities   Tag = 0x47   // card capabilities (§12.1.1.9)
)

// ATRInfo is EF.ATR/INFO (9303-10 §3, files of the master file): the chip's ATR-level data
// objects, of which the reader needs the extended length information, the
// largest command and response APDU the chip accepts.
type ATRInfo struct {
	// MaxCommandLength and MaxResponseLength are the limits from 7F66 (the
	// first two integers), or 0 when the file does not say.
	MaxCommandLength  int
	MaxResponseLength int
	// CardCapabilities is the value of 47, nil when absent.
	CardCapabilities []byte
	Elements         []Element
	Quirks           []string
	Raw              []byte
}

// maxAPDULength is the largest extended-length APDU: 65535 data bytes plus
// header, Lc and Le for commands; 65536 data bytes plus the status word for
// responses. Larger claims are refused.
const maxAPDULength = 65536 + 2 + 7

// ParseATRInfo parses EF.ATR/INFO: a concatenation of data objects,
// possibly followed by 00 or FF padding (recorded as a quirk).
func ParseATRInfo(b []byte) (*ATRInfo, error) {
	a := &ATRInfo{Raw: b}
	s := cryptobyte.String(b)
	for !s.Empty() {
		if allBytes(s, 0x00) || allBytes(s, 0xFF) {
			a.Quirks = append(a.Quirks, QuirkATRInfoPadding)
			break
		}
		e, err := ReadElement(&s)
		if err != nil {
			return nil, fmt.Errorf("EF.ATR/INFO: %w", err)
		}
		a.Elements = append(a.Elements, e)
	}
	if len(a.Elements) == 0 {
		return nil, fmt.Errorf("EF.ATR/INFO: %w: no data object", ErrTLV)
	}
	if cc, ok := Find(a.Elements, TagCardCapabilities); ok {
		a.CardCapabilities = cc.Value
	}
	if el, ok := Find(a.Elements, TagExtendedLengthInfo); ok {
		ints, err := ParseElements(el.Value)
		if err != nil {
			return nil, fmt.Errorf("EF.ATR/INFO: extended length information: %w", err)
		}
		var vals []int
		for _, e := range ints {
			if e.Tag != 0x02 {
				continue
			}
			v, ok := uintValue(e.Value)
			if !ok || v == 0 || v > maxAPDULength {
				return nil, fmt.Errorf("EF.ATR/INFO: %w: APDU length %X", ErrTLV, e.Value)
			}
			vals = append(vals, v)
		}
		if len(vals) < 2 {
			return nil, fmt.Errorf("EF.ATR/INFO: %w: extended length information with %d integers", ErrTLV, len(vals))
		}
		a.MaxCommandLength, a.MaxResponseLength = vals[0], vals[1]
	}
	return a, nil
}

// EncodeATRInfo builds an EF.ATR/INFO holding the extended length
// information (7F66) for the given limits.
func EncodeATRInfo(maxCommand, maxResponse int) ([]byte, error) {
	var ints tlvBuilder
	for _, v := range []int{maxCommand, maxResponse} {
		if v <= 0 || v > maxAPDULength {
			return nil, fmt.Errorf("EF.ATR/INFO: APDU length %d", v)
		}
		ints.add(0x02, minimalUint(v))
	}
	if ints.err != nil {
		return nil, ints.err
	}
	return AppendElement(nil, TagExtendedLengthInfo, ints.b)
}

// minimalUint encodes v > 0 as a positive ASN.1 INTEGER's content.
func minimalUint(v int) []byte {
	var b []byte
	for ; v > 0; v >>= 8 {
		b = append([]byte{byte(v)}, b...)
	}
	if b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return b
}

package lds

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// TagCAR is the certification authority reference data object.
const TagCAR Tag = 0x42

// CVCA is EF.CVCA (9303-10 §3 and 9303-11 Terminal Authentication; layout from BSI
// TR-03110): the
// references of the one or two CVCA keys the chip trusts for Terminal
// Authentication, which tell the terminal which certificate chain to send.
type CVCA struct {
	CARs   []string // one or two, e.g. "UTCVCA00001"
	Quirks []string
	Raw    []byte
}

// maxCARLength is the longest CAR (TR-03110-3 D.2.2.1: country 2, holder
// mnemonic up to 9, sequence number 5).
const maxCARLength = 16

// allBytes reports whether every byte of b is c.
func allBytes(b []byte, c byte) bool {
	for _, x := range b {
		if x != c {
			return false
		}
	}
	return true
}

// ParseCVCA parses EF.CVCA: at most two CAR data objects (42), then zero
// padding to the file's fixed length. Padding with FF, which some chips
// use, is accepted and recorded as a quirk.
func ParseCVCA(b []byte) (*CVCA, error) {
	c := &CVCA{Raw: b}
	s := cryptobyte.String(b)
	for !s.Empty() {
		if allBytes(s, 0x00) {
			break
		}
		if allBytes(s, 0xFF) {
			c.Quirks = append(c.Quirks, QuirkCVCAFFPadding)
			break
		}
		e, err := ReadElement(&s)
		if err != nil {
			return nil, fmt.Errorf("EF.CVCA: %w", err)
		}
		if e.Tag != TagCAR {
			return nil, fmt.Errorf("EF.CVCA: %w: %s, want 42", ErrUnexpectedTag, e.Tag)
		}
		if len(e.Value) == 0 || len(e.Value) > maxCARLength {
			return nil, fmt.Errorf("EF.CVCA: %w: CAR of %d bytes", ErrTLV, len(e.Value))
		}
		for _, ch := range e.Value {
			if ch < 0x20 || ch > 0x7E {
				return nil, fmt.Errorf("EF.CVCA: %w: CAR %X is not printable", ErrTLV, e.Value)
			}
		}
		if len(c.CARs) == 2 {
			return nil, fmt.Errorf("EF.CVCA: %w: more than two CARs", ErrTLV)
		}
		c.CARs = append(c.CARs, string(e.Value))
	}
	if len(c.CARs) == 0 {
		return nil, fmt.Errorf("EF.CVCA: %w: no CAR", ErrTLV)
	}
	return c, nil
}

// cvcaFileLength is EF.CVCA's fixed size: two CARs of 16 with their
// headers (BSI TR-03110).
const cvcaFileLength = 36

// EncodeCVCA builds EF.CVCA from one or two CARs, zero-padded to 36 bytes.
func EncodeCVCA(cars ...string) ([]byte, error) {
	if len(cars) == 0 || len(cars) > 2 {
		return nil, fmt.Errorf("EF.CVCA: %d CARs, want 1 or 2", len(cars))
	}
	var w tlvBuilder
	for _, car := range cars {
		if len(car) == 0 || len(car) > maxCARLength {
			return nil, fmt.Errorf("EF.CVCA: CAR %q of %d bytes", car, len(car))
		}
		w.add(TagCAR, []byte(car))
	}
	if w.err != nil {
		return nil, w.err
	}
	return append(w.b, make([]byte, cvcaFileLength-len(w.b))...), nil
}

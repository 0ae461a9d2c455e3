package lds

import "fmt"

// ParseFaceRecord parses one ISO/IEC 19794-5:2005 facial record ("FAC\0",
// the content of a DG2 data block 5F2E) with the parser ParseDG2 uses.
// It is as lenient as ParseDG2: a length field that disagrees with the
// data and an image that disagrees with the record's header become
// quirks on the faces, so a caller that must be strict (enrolment) checks
// the quirks. The faces' images are slices of b.
func ParseFaceRecord(b []byte) ([]Face, error) {
	if !hasPrefix(b, "FAC\x00") {
		return nil, fmt.Errorf("%w: no 19794-5 format identifier FAC\\0", ErrTLV)
	}
	return parse19794(b)
}

// ParseFingerRecord parses one ISO/IEC 19794-4:2005 finger image record
// ("FIR\0", the content of a DG3 data block 5F2E) with the parser ParseDG3
// uses, as leniently: a record length that disagrees with the data and an
// image whose signature does not fit the compression code become quirks.
// The fingers' images are slices of b.
func ParseFingerRecord(b []byte) ([]Finger, error) {
	if !hasPrefix(b, "FIR\x00") {
		return nil, fmt.Errorf("%w: no 19794-4 format identifier FIR\\0", ErrTLV)
	}
	return parseFIR(b)
}

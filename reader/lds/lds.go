// Package lds implements the Logical Data Structure of eMRTDs, ICAO Doc
// 9303-10: the files of the chip (§3), their BER-TLV encoding
// (§4.4), EF.COM (§4.6.1), DG1 (§4.7.1), DG2 (§4.7.2, with ISO/IEC
// 19794-5:2005 and ISO/IEC 39794-5 face records), DG11 (§4.7.11), DG12
// (§4.7.12), DG15 (§4.7.15), EF.CVCA (layout from BSI TR-03110) and EF.ATR/INFO (9303-10 §3,
// ISO/IEC 7816-4 §12.7), plus
// the encoders a software chip's personalisation needs.
//
// The reader sizes its reads with ElementLength on a file's first bytes,
// then hands the complete file to the parser for it:
//
//	n, err := lds.ElementLength(first8) // tag + length + value
//	...
//	dg1, err := lds.ParseDG1(raw)       // dg1.MRZ is a *mrz.MRZ
//	dg2, err := lds.ParseDG2(raw)       // dg2.Faces[0].Image, .Format, .Width
//
// Every parsed structure keeps the bytes it came from (Raw), because
// passive authentication hashes the file as read, never a re-encoding.
// Parsing is lenient where real chips differ from the standard and records
// each such difference by name in Quirks; it never trusts a length it has
// not checked (MaxElementLength is a hard limit) and never panics.
//
// The package does not read chips (package reader does), does not verify
// EF.SOD signatures or hashes (package verify does) and does not decode
// images: the face image's format and size are read from the image's own
// header (JPEG SOFn, JPEG 2000 SIZ or 'ihdr'), never from the record that
// wraps it, and the pixels stay encoded.
package lds

import "sort"

// Files holds a chip's files as raw bytes, as read or as to be served: the
// folder layout of a chip identity (CONTRACTS.md) names each file by
// File.String.
type Files map[File][]byte

// Names lists the files present in the stable order of the File constants
// (COM, DG1..DG16, SOD, CVCA, CardAccess, CardSecurity, ATRInfo).
func (fs Files) Names() []File {
	out := make([]File, 0, len(fs))
	for f := range fs {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// DataGroups lists the data groups present, in order.
func (fs Files) DataGroups() []File {
	var out []File
	for _, f := range fs.Names() {
		if f.IsDataGroup() {
			out = append(out, f)
		}
	}
	return out
}

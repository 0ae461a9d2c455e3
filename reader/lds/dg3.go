package lds

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// DG3 (fingerprints) and DG4 (irises), 9303-10 §4.7.3 and §4.7.4: like DG2,
// a biometric information group template 7F61 with an instance count and
// one template 7F60 per instance, each a biometric header A1 and a data
// block 5F2E (ISO/IEC 19794) or 7F2E (ISO/IEC 39794, BER). Both groups are
// EAC-protected: a chip serves them only after Terminal Authentication.
//
// DG3's finger records are decoded: ISO/IEC 19794-4:2005 (finger image
// data, "FIR\0": a 32-byte general header, then per finger a 14-byte
// finger image header and the image) field by field, and ISO/IEC 39794-4
// structurally (the representation blocks [1], each image found by its
// own signature, the rest kept raw). DG4's iris records (19794-6,
// 39794-6) are kept raw with their headers: this package does not decode
// iris images.

// Quirks of DG3 records.
const (
	// QuirkFingerRecordLength: a 19794-4 record length disagrees with the
	// data; the record is read by its finger blocks.
	QuirkFingerRecordLength = "dg3_record_length"
	// QuirkFingerImageUnrecognised: a finger image whose bytes are none
	// of WSQ, JPEG, JPEG 2000, PNG (or the record says uncompressed).
	QuirkFingerImageUnrecognised = "dg3_image_unrecognised"
)

// BiometricEncoding is the standard a DG3/DG4 record follows.
type BiometricEncoding uint8

// The encodings 9303-10 allows in DG3 and DG4.
const (
	BiometricISO19794 BiometricEncoding = 1 // binary records (19794-4 finger, 19794-6 iris)
	BiometricISO39794 BiometricEncoding = 2 // ASN.1 BER records (39794-4, 39794-6)
)

func (e BiometricEncoding) String() string {
	switch e {
	case BiometricISO19794:
		return "ISO/IEC 19794"
	case BiometricISO39794:
		return "ISO/IEC 39794"
	}
	return fmt.Sprintf("BiometricEncoding(%d)", uint8(e))
}

// FingerCompression is the image compression algorithm of ISO/IEC
// 19794-4:2005 §8.1.13 (Table 3).
type FingerCompression uint8

// Compression codes of 19794-4.
const (
	FingerUncompressed       FingerCompression = 0
	FingerUncompressedPacked FingerCompression = 1
	FingerWSQ                FingerCompression = 2
	FingerJPEG               FingerCompression = 3
	FingerJPEG2000           FingerCompression = 4
	FingerPNG                FingerCompression = 5
	// FingerCompressionUnknown: no code in the record (39794-4 as read
	// here) and an image of no known signature.
	FingerCompressionUnknown FingerCompression = 0xFF
)

func (c FingerCompression) String() string {
	switch c {
	case FingerUncompressed:
		return "uncompressed"
	case FingerUncompressedPacked:
		return "uncompressed, bit packed"
	case FingerWSQ:
		return "WSQ"
	case FingerJPEG:
		return "JPEG"
	case FingerJPEG2000:
		return "JPEG2000"
	case FingerPNG:
		return "PNG"
	case FingerCompressionUnknown:
		return "unknown"
	}
	return fmt.Sprintf("FingerCompression(%d)", uint8(c))
}

// Finger is one finger image from DG3.
type Finger struct {
	Encoding BiometricEncoding
	// Position is the finger position code (19794-4 §8.2.2 Table 5:
	// 0 unknown, 1 right thumb .. 10 left little, 11-15 plain and
	// multi-finger images); 0 when a 39794-4 record does not say.
	Position   uint8
	ViewCount  uint8
	ViewNumber uint8
	Quality    uint8 // 0-100, 254/255 not computed
	Impression uint8 // 0 live-scan plain, 1 live-scan rolled, ...
	// Width and Height are the image's line lengths as the record gives
	// them (19794-4 §8.2.7-8.2.8).
	Width, Height int
	// The general header's resolutions (pixels per inch or per cm by
	// ScaleUnits 1 or 2) and pixel depth.
	ScaleUnits       uint8
	ScanResolutionH  int
	ScanResolutionV  int
	ImageResolutionH int
	ImageResolutionV int
	PixelDepth       uint8
	Compression      FingerCompression
	Image            []byte
	BiometricHeader  []byte // the raw BHT (A1) of its template
	Quirks           []string
}

// DG3 is data group 3 (9303-10 §4.7.3): the encoded fingerprints.
type DG3 struct {
	Fingers []Finger
	Quirks  []string
	Raw     []byte
}

// BiometricRecord is one template of DG4 (or any biometric group), kept
// raw: its header (A1) and its data block.
type BiometricRecord struct {
	Encoding        BiometricEncoding
	BiometricHeader []byte
	// DataTag is 5F2E or 7F2E; Data its value.
	DataTag Tag
	Data    []byte
}

// DG4 is data group 4 (9303-10 §4.7.4): the encoded irises, kept raw.
type DG4 struct {
	Records []BiometricRecord
	Raw     []byte
}

// maxBiometricTemplates bounds the templates of one group and the images
// of one record: ten fingers with a few views each, two irises.
const maxBiometricTemplates = 32

// parseBIGT reads a biometric group file (tag ft): 7F61 with the
// instance count 02 and as many 7F60 templates, each A1 and one data
// block. The count must match.
func parseBIGT(name string, b []byte, ft Tag) (Element, []BiometricRecord, error) {
	outer, err := ParseSingle(b, ft)
	if err != nil {
		return Element{}, nil, fmt.Errorf("%s: %w", name, err)
	}
	group, err := ParseSingle(outer.Value, TagBIGT)
	if err != nil {
		return Element{}, nil, fmt.Errorf("%s: %w", name, err)
	}
	elems, err := ParseElements(group.Value)
	if err != nil {
		return Element{}, nil, fmt.Errorf("%s: %w", name, err)
	}
	countEl, ok := Find(elems, TagInstanceCount)
	if !ok || len(countEl.Value) != 1 {
		return Element{}, nil, fmt.Errorf("%s: %w: no one-byte instance count (02)", name, ErrTLV)
	}
	var recs []BiometricRecord
	for _, e := range elems {
		if e.Tag != TagBIT {
			continue
		}
		if len(recs) == maxBiometricTemplates {
			return Element{}, nil, fmt.Errorf("%s: more than %d templates", name, maxBiometricTemplates)
		}
		inner, err := ParseElements(e.Value)
		if err != nil {
			return Element{}, nil, fmt.Errorf("%s: template %d: %w", name, len(recs)+1, err)
		}
		bht, ok := Find(inner, TagBHT)
		if !ok {
			return Element{}, nil, fmt.Errorf("%s: template %d: %w: no biometric header template (A1)", name, len(recs)+1, ErrTLV)
		}
		r := BiometricRecord{BiometricHeader: bht.Raw}
		if bdb, ok := Find(inner, TagBDB); ok {
			r.DataTag, r.Data, r.Encoding = TagBDB, bdb.Value, BiometricISO19794
		} else if bdb, ok := Find(inner, TagBDBConstructed); ok {
			r.DataTag, r.Data, r.Encoding = TagBDBConstructed, bdb.Value, BiometricISO39794
		} else {
			return Element{}, nil, fmt.Errorf("%s: template %d: %w: no biometric data block (5F2E or 7F2E)", name, len(recs)+1, ErrTLV)
		}
		if len(r.Data) == 0 {
			return Element{}, nil, fmt.Errorf("%s: template %d: %w: empty biometric data block", name, len(recs)+1, ErrTLV)
		}
		recs = append(recs, r)
	}
	if len(recs) == 0 {
		return Element{}, nil, fmt.Errorf("%s: %w: no biometric template", name, ErrTLV)
	}
	if int(countEl.Value[0]) != len(recs) {
		return Element{}, nil, fmt.Errorf("%s: %w: instance count %d but %d templates", name, ErrTLV, countEl.Value[0], len(recs))
	}
	return outer, recs, nil
}

// ParseDG3 parses DG3: every template's finger record, 19794-4 (a 5F2E
// starting "FIR\0") or 39794-4 (7F2E, or a 5F2E that is not 19794-4).
func ParseDG3(b []byte) (*DG3, error) {
	outer, recs, err := parseBIGT("DG3", b, FileDG3.Tag())
	if err != nil {
		return nil, err
	}
	d := &DG3{Raw: outer.Raw}
	for i, r := range recs {
		var fingers []Finger
		if r.DataTag == TagBDB && hasPrefix(r.Data, "FIR\x00") {
			fingers, err = parseFIR(r.Data)
		} else {
			fingers, err = parse39794Finger(r.Data)
		}
		if err != nil {
			return nil, fmt.Errorf("DG3: template %d: %w", i+1, err)
		}
		for _, f := range fingers {
			if len(d.Fingers) == maxBiometricTemplates {
				return nil, fmt.Errorf("DG3: more than %d finger images", maxBiometricTemplates)
			}
			f.BiometricHeader = r.BiometricHeader
			d.Fingers = append(d.Fingers, f)
			for _, q := range f.Quirks {
				if !contains(d.Quirks, q) {
					d.Quirks = append(d.Quirks, q)
				}
			}
		}
	}
	return d, nil
}

// ParseDG4 parses DG4's structure and keeps each iris record raw.
func ParseDG4(b []byte) (*DG4, error) {
	outer, recs, err := parseBIGT("DG4", b, FileDG4.Tag())
	if err != nil {
		return nil, err
	}
	return &DG4{Records: recs, Raw: outer.Raw}, nil
}

// Sizes of the ISO/IEC 19794-4:2005 headers (§8.1 general record header,
// §8.2 finger image record header).
const (
	firGeneralHeader = 32
	firFingerHeader  = 14
)

// parseFIR parses an ISO/IEC 19794-4:2005 finger image record: "FIR\0",
// version (4 bytes), record length (6 bytes), capture device id (2),
// image acquisition level (2), number of fingers (1), scale units (1),
// scan resolution h/v (2+2), image resolution h/v (2+2), pixel depth
// (1), compression (1), reserved (2); then per finger: the finger block's
// length including its header (4), position, count of views, view number,
// quality, impression type (1 each), horizontal and vertical line length
// (2+2), reserved (1), and the image.
func parseFIR(b []byte) ([]Finger, error) {
	s := cryptobyte.String(b)
	var magic, version, recLen []byte
	var device, acq, scanH, scanV, imgH, imgV, reserved uint16
	var n, units, depth, comp uint8
	if !s.ReadBytes(&magic, 4) || !s.ReadBytes(&version, 4) || !s.ReadBytes(&recLen, 6) ||
		!s.ReadUint16(&device) || !s.ReadUint16(&acq) || !s.ReadUint8(&n) || !s.ReadUint8(&units) ||
		!s.ReadUint16(&scanH) || !s.ReadUint16(&scanV) || !s.ReadUint16(&imgH) || !s.ReadUint16(&imgV) ||
		!s.ReadUint8(&depth) || !s.ReadUint8(&comp) || !s.ReadUint16(&reserved) {
		return nil, fmt.Errorf("%w: 19794-4 general header truncated", ErrTLV)
	}
	var length uint64
	for _, c := range recLen {
		length = length<<8 | uint64(c)
	}
	var quirks []string
	if length != uint64(len(b)) {
		quirks = append(quirks, QuirkFingerRecordLength)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: 19794-4 record with no finger", ErrTLV)
	}
	if int(n) > maxBiometricTemplates {
		return nil, fmt.Errorf("%w: 19794-4 record with %d fingers", ErrTLV, n)
	}
	var out []Finger
	for i := 0; i < int(n); i++ {
		var blockLen uint32
		f := Finger{
			Encoding: BiometricISO19794, ScaleUnits: units,
			ScanResolutionH: int(scanH), ScanResolutionV: int(scanV),
			ImageResolutionH: int(imgH), ImageResolutionV: int(imgV),
			PixelDepth: depth, Compression: FingerCompression(comp),
			Quirks: append([]string(nil), quirks...),
		}
		var w, h uint16
		var res uint8
		if !s.ReadUint32(&blockLen) || !s.ReadUint8(&f.Position) || !s.ReadUint8(&f.ViewCount) ||
			!s.ReadUint8(&f.ViewNumber) || !s.ReadUint8(&f.Quality) || !s.ReadUint8(&f.Impression) ||
			!s.ReadUint16(&w) || !s.ReadUint16(&h) || !s.ReadUint8(&res) {
			return nil, fmt.Errorf("%w: 19794-4 finger %d header truncated", ErrTLV, i+1)
		}
		f.Width, f.Height = int(w), int(h)
		if blockLen <= firFingerHeader || uint64(blockLen)-firFingerHeader > uint64(len(s)) {
			return nil, fmt.Errorf("%w: 19794-4 finger %d of %d bytes, %d left", ErrTLV, i+1, blockLen, len(s)+firFingerHeader)
		}
		var img []byte
		if !s.ReadBytes(&img, int(blockLen)-firFingerHeader) {
			return nil, fmt.Errorf("%w: 19794-4 finger %d truncated", ErrTLV, i+1)
		}
		f.Image = img
		if !fingerImageMatches(f.Compression, img) {
			f.Quirks = append(f.Quirks, QuirkFingerImageUnrecognised)
		}
		out = append(out, f)
	}
	if !s.Empty() {
		return nil, fmt.Errorf("%w: %d bytes after the 19794-4 finger records", ErrTLV, len(s))
	}
	return out, nil
}

// Image signatures of finger images beyond JPEG and JPEG 2000: WSQ's SOI
// marker (FBI IAFIS-IC-0110 WSQ §3.2.1) and PNG's (ISO/IEC 15948 §5.2).
const (
	sigWSQ = "\xFF\xA0"
	sigPNG = "\x89PNG\r\n\x1a\n"
)

// sniffFinger names the compression an image's first bytes show.
func sniffFinger(img []byte) FingerCompression {
	switch {
	case hasPrefix(img, sigWSQ):
		return FingerWSQ
	case hasPrefix(img, sigJPEG):
		return FingerJPEG
	case hasPrefix(img, sigJ2K), hasPrefix(img, sigJP2):
		return FingerJPEG2000
	case hasPrefix(img, sigPNG):
		return FingerPNG
	}
	return FingerCompressionUnknown
}

// fingerImageMatches reports whether the image bytes fit the record's
// compression code (uncompressed images have no signature to check).
func fingerImageMatches(c FingerCompression, img []byte) bool {
	switch c {
	case FingerUncompressed, FingerUncompressedPacked:
		return true
	}
	return sniffFinger(img) == c && c != FingerCompressionUnknown
}

// parse39794Finger reads an ISO/IEC 39794-4 finger image data block
// structurally: the representation blocks [1] (A1), each of whose
// representations gives one Finger whose image is the first primitive
// element, at any depth, holding a WSQ, JPEG, JPEG 2000 or PNG image. A
// single wrapping element (the block's own outer tag, which encoders
// differ on inside 7F2E) is opened first, as for 39794-5 in DG2.
func parse39794Finger(b []byte) ([]Finger, error) {
	elems, err := ParseElements(b)
	if err != nil {
		return nil, fmt.Errorf("39794-4: %w", err)
	}
	if len(elems) == 1 && elems[0].Tag != 0xA1 && elems[0].Tag.Constructed() {
		if elems, err = ParseElements(elems[0].Value); err != nil {
			return nil, fmt.Errorf("39794-4: %w", err)
		}
	}
	reps, ok := Find(elems, 0xA1)
	if !ok {
		return nil, fmt.Errorf("39794-4: %w: no representation blocks [1]", ErrTLV)
	}
	blocks, err := ParseElements(reps.Value)
	if err != nil {
		return nil, fmt.Errorf("39794-4: %w", err)
	}
	var out []Finger
	for i, blk := range blocks {
		if len(out) == maxBiometricTemplates {
			return nil, fmt.Errorf("39794-4: more than %d representations", maxBiometricTemplates)
		}
		img, ok := findImage(blk.Value, 0)
		if !ok {
			return nil, fmt.Errorf("39794-4 representation %d: %w: no finger image", i+1, ErrTLV)
		}
		out = append(out, Finger{Encoding: BiometricISO39794, Compression: sniffFinger(img), Image: img})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("39794-4: %w: no representation", ErrTLV)
	}
	return out, nil
}

// maxBERDepth bounds the recursion of findImage.
const maxBERDepth = 8

// findImage returns the first primitive element, depth first, whose value
// starts with a known image signature.
func findImage(b []byte, depth int) ([]byte, bool) {
	if depth > maxBERDepth {
		return nil, false
	}
	elems, err := ParseElements(b)
	if err != nil {
		return nil, false
	}
	for _, e := range elems {
		if !e.Tag.Constructed() {
			if sniffFinger(e.Value) != FingerCompressionUnknown {
				return e.Value, true
			}
			continue
		}
		if img, ok := findImage(e.Value, depth+1); ok {
			return img, true
		}
	}
	return nil, false
}

// FingerImage is one finger for EncodeDG3.
type FingerImage struct {
	Position    uint8 // 19794-4 Table 5 finger position
	Quality     uint8
	Compression FingerCompression
	Width       int
	Height      int
	// Resolution in pixels per inch (500 for the ICAO profile).
	Resolution int
	Data       []byte
}

// EncodeDG3 builds DG3 with one template per finger, each an ISO/IEC
// 19794-4:2005 record of one finger image (8-bit grey, live-scan plain),
// as 9303-10 §4.7.3 and its CBEFF header want: ICAO header version 0101,
// biometric type 08 (finger), format owner 0101 (ISO/IEC JTC 1/SC 37),
// format type 0007 (finger image).
func EncodeDG3(fingers []FingerImage) ([]byte, error) {
	if len(fingers) == 0 || len(fingers) > maxBiometricTemplates {
		return nil, fmt.Errorf("DG3: %d fingers, want 1 to %d", len(fingers), maxBiometricTemplates)
	}
	var group tlvBuilder
	group.add(TagInstanceCount, []byte{byte(len(fingers))})
	for i, f := range fingers {
		rec, err := encodeFIR(f)
		if err != nil {
			return nil, fmt.Errorf("DG3: finger %d: %w", i+1, err)
		}
		var bht tlvBuilder
		bht.add(0x80, []byte{0x01, 0x01})
		bht.add(0x81, []byte{0x08})
		bht.add(0x87, []byte{0x01, 0x01})
		bht.add(0x88, []byte{0x00, 0x07})
		var bit tlvBuilder
		bit.add(TagBHT, bht.b)
		bit.add(TagBDB, rec)
		if bit.err != nil {
			return nil, fmt.Errorf("DG3: finger %d: %w", i+1, bit.err)
		}
		group.add(TagBIT, bit.b)
	}
	if group.err != nil {
		return nil, fmt.Errorf("DG3: %w", group.err)
	}
	inner, err := AppendElement(nil, TagBIGT, group.b)
	if err != nil {
		return nil, fmt.Errorf("DG3: %w", err)
	}
	return AppendElement(nil, FileDG3.Tag(), inner)
}

func encodeFIR(f FingerImage) ([]byte, error) {
	if f.Compression > FingerPNG {
		return nil, fmt.Errorf("compression %v", f.Compression)
	}
	if f.Width <= 0 || f.Width > 0xFFFF || f.Height <= 0 || f.Height > 0xFFFF || f.Resolution < 0 || f.Resolution > 0xFFFF {
		return nil, fmt.Errorf("image size %dx%d or resolution %d out of range", f.Width, f.Height, f.Resolution)
	}
	if len(f.Data) == 0 || len(f.Data) > MaxElementLength-64 {
		return nil, fmt.Errorf("image of %d bytes", len(f.Data))
	}
	total := firGeneralHeader + firFingerHeader + len(f.Data)
	b := make([]byte, 0, total)
	b = append(b, "FIR\x00010\x00"...)
	t := uint64(total)
	b = append(b, byte(t>>40), byte(t>>32), byte(t>>24), byte(t>>16), byte(t>>8), byte(t))
	b = binary.BigEndian.AppendUint16(b, 0)  // capture device: unspecified
	b = binary.BigEndian.AppendUint16(b, 31) // acquisition level 31 (500 ppi, 8 bit)
	b = append(b, 1, 1)                      // one finger, pixels per inch
	res := uint16(f.Resolution)
	for range 4 {
		b = binary.BigEndian.AppendUint16(b, res)
	}
	b = append(b, 8, byte(f.Compression), 0, 0) // 8-bit grey, compression, reserved
	b = binary.BigEndian.AppendUint32(b, uint32(firFingerHeader+len(f.Data)))
	b = append(b, f.Position, 1, 1, f.Quality, 0) // one view, view 1, quality, live-scan plain
	b = binary.BigEndian.AppendUint16(b, uint16(f.Width))
	b = binary.BigEndian.AppendUint16(b, uint16(f.Height))
	b = append(b, 0)
	return append(b, f.Data...), nil
}

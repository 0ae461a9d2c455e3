package biometric

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"borderid/reader/lds"
)

// Compression is the image compression code of an ISO/IEC 19794-4:2005
// finger image record (§8.1.13, Table 3). ISO/IEC 19794-4:2011 renumbered
// the codes (4 JPEG 2000 lossy, 5 lossless, 6 PNG); version 010 records,
// which DG3 carries, use these.
type Compression uint8

// Compression codes of ISO/IEC 19794-4:2005 Table 3.
const (
	CompressionNone      Compression = 0 // uncompressed, no bit packing
	CompressionBitPacked Compression = 1 // uncompressed, bit packed
	CompressionWSQ       Compression = 2 // FBI WSQ
	CompressionJPEG      Compression = 3 // ISO/IEC 10918-1
	CompressionJPEG2000  Compression = 4 // ISO/IEC 15444-1
	CompressionPNG       Compression = 5 // ISO/IEC 15948
)

// String gives the name Finger.Compression carries.
func (c Compression) String() string {
	switch c {
	case CompressionNone:
		return "uncompressed"
	case CompressionBitPacked:
		return "bit_packed"
	case CompressionWSQ:
		return "WSQ"
	case CompressionJPEG:
		return "JPEG"
	case CompressionJPEG2000:
		return "JPEG2000"
	case CompressionPNG:
		return "PNG"
	}
	return fmt.Sprintf("Compression(%d)", uint8(c))
}

// ISO/IEC 19794-4:2005 record layout (§8.1 general record header, §8.2
// finger image record header).
const (
	firMagic         = "FIR\x00"
	firVersion       = "010\x00"
	firGeneralHeader = 32
	firFingerHeader  = 14
)

// Resolution bounds: acquisition levels 20 (250 ppi) to 41 (1000 ppi) of
// 19794-4 Table 1, in pixels per inch or the nearest pixels per cm.
const (
	minPPI, maxPPI   = 250, 1000
	minPPCM, maxPPCM = 98, 394
)

// ValidateFinger checks an ISO/IEC 19794-4:2005 finger image record
// uploaded for the finger at position (1 right thumb .. 10 left little,
// 19794-4 Table 5) as the package doc describes. Every refusal is an
// *Error.
func ValidateFinger(contentType string, position int, b []byte) (*Finger, error) {
	f, e := validateFinger(contentType, position, b)
	if e != nil {
		return nil, e
	}
	return f, nil
}

func validateFinger(contentType string, position int, b []byte) (*Finger, *Error) {
	mt, e := mediaType(contentType)
	if e != nil {
		return nil, e
	}
	if mt != ContentTypeFinger {
		return nil, errf(CodeUnsupportedMediaType, "a finger image is accepted as %s, not %s", ContentTypeFinger, mt)
	}
	if position < 1 || position > 10 {
		return nil, errf(CodeInvalidPosition, "finger position %d is not 1 (right thumb) to 10 (left little finger)", position)
	}
	if e := checkSize(b, MaxFingerBytes, "finger image"); e != nil {
		return nil, e
	}
	if e := recordStart(b, firMagic, firGeneralHeader, "finger image", "ISO/IEC 19794-4"); e != nil {
		return nil, e
	}
	if string(b[4:8]) != firVersion {
		return nil, errf(CodeMalformedRecord, "the finger image record is not of version 010 (ISO/IEC 19794-4:2005)")
	}
	var length uint64
	for _, c := range b[8:14] {
		length = length<<8 | uint64(c)
	}
	if e := recordLength("finger image", length, len(b)); e != nil {
		return nil, e
	}
	n, units, depth, comp := int(b[18]), b[19], b[28], Compression(b[29])
	imgH, imgV := int(binary.BigEndian.Uint16(b[24:26])), int(binary.BigEndian.Uint16(b[26:28]))
	if n < 1 || n > MaxFingerViews {
		return nil, errf(CodeMalformedRecord, "the finger image record holds %d images; 1 to %d views of one finger are accepted", n, MaxFingerViews)
	}
	if comp > CompressionPNG {
		return nil, errf(CodeMalformedRecord, "the finger image record's compression code %d is not one of ISO/IEC 19794-4:2005", comp)
	}
	if depth < 1 || depth > 16 {
		return nil, errf(CodeMalformedRecord, "the finger image pixel depth %d is not 1 to 16 bits", depth)
	}
	ppi := 0
	switch units {
	case 1:
		if imgH < minPPI || imgH > maxPPI || imgV < minPPI || imgV > maxPPI {
			return nil, errf(CodeMalformedRecord, "the finger image resolution %dx%d ppi is not %d to %d ppi", imgH, imgV, minPPI, maxPPI)
		}
		ppi = imgH
	case 2:
		if imgH < minPPCM || imgH > maxPPCM || imgV < minPPCM || imgV > maxPPCM {
			return nil, errf(CodeMalformedRecord, "the finger image resolution %dx%d pixels per cm is not %d to %d", imgH, imgV, minPPCM, maxPPCM)
		}
		ppi = (imgH*254 + 50) / 100
	default:
		return nil, errf(CodeMalformedRecord, "the finger image scale units %d are neither 1 (inch) nor 2 (cm)", units)
	}
	if len(b) < firGeneralHeader+firFingerHeader {
		return nil, errf(CodeMalformedRecord, "the finger image record has no finger image")
	}
	views, err := lds.ParseFingerRecord(b)
	if err != nil {
		return nil, errf(CodeMalformedRecord, "the finger image record's lengths do not add up to its size")
	}
	seen := make([]bool, n+1)
	for i, v := range views {
		if int(v.Position) != position {
			return nil, errf(CodePositionMismatch, "the finger image record is of finger position %d, uploaded for position %d", v.Position, position)
		}
		if int(v.ViewCount) != n || v.ViewNumber < 1 || int(v.ViewNumber) > n || seen[v.ViewNumber] {
			return nil, errf(CodeMalformedRecord, "finger image %d has view %d of %d in a record of %d images", i+1, v.ViewNumber, v.ViewCount, n)
		}
		seen[v.ViewNumber] = true
		if v.Width < MinFingerSide || v.Height < MinFingerSide {
			return nil, errf(CodeImageTooSmall, "the finger image is %dx%d pixels; at least %d a side are needed", v.Width, v.Height, MinFingerSide)
		}
		if v.Width > MaxFingerSide || v.Height > MaxFingerSide {
			return nil, errf(CodeImageTooLarge, "the finger image is %dx%d pixels; at most %d a side are accepted", v.Width, v.Height, MaxFingerSide)
		}
		if e := checkFingerImage(comp, int(depth), v.Width, v.Height, v.Image); e != nil {
			return nil, e
		}
	}
	first := views[0]
	return &Finger{
		Position: position, Width: first.Width, Height: first.Height, Resolution: ppi,
		Compression: comp.String(), Views: n, Image: first.Image, Record: b,
	}, nil
}

// recordStart checks a record's format identifier and that its header
// is all there.
func recordStart(b []byte, magic string, header int, what, standard string) *Error {
	if !bytes.HasPrefix(b, []byte(magic)) {
		if len(b) < len(magic) && bytes.HasPrefix([]byte(magic), b) {
			return errf(CodeTruncated, "the %s record is cut short in its header", what)
		}
		return errf(CodeContentTypeMismatch, "the %s was declared an %s record but the bytes are not one", what, standard)
	}
	if len(b) < header {
		return errf(CodeTruncated, "the %s record is cut short in its header", what)
	}
	return nil
}

// checkFingerImage checks one finger image against its compression code
// and the record's line lengths.
func checkFingerImage(comp Compression, depth, w, h int, img []byte) *Error {
	var gw, gh int
	switch comp {
	case CompressionNone, CompressionBitPacked:
		want := w * h * ((depth + 7) / 8)
		if comp == CompressionBitPacked {
			want = (w*h*depth + 7) / 8
		}
		if len(img) != want {
			return errf(CodeMalformedRecord, "the uncompressed finger image has %d bytes; %dx%d pixels of %d bits need %d", len(img), w, h, depth, want)
		}
		return nil
	}
	format := map[Compression]string{CompressionWSQ: formatWSQ, CompressionJPEG: FormatJPEG, CompressionJPEG2000: FormatJPEG2000, CompressionPNG: formatPNG}[comp]
	if got := sniff(img); got != format {
		return errf(CodeContentTypeMismatch, "the finger image record's compression says %s but its image is %s", describe(format), describe(got))
	}
	switch comp {
	case CompressionWSQ:
		var e *Error
		if gw, gh, e = checkWSQ(img); e != nil {
			return e
		}
	case CompressionJPEG, CompressionPNG:
		var e *Error
		if gw, gh, e = decodeStd(format, img, MaxFingerSide); e != nil {
			return e
		}
	case CompressionJPEG2000:
		info, e := checkJPEG2000(img)
		if e != nil {
			return e
		}
		if info.width > MaxFingerSide || info.height > MaxFingerSide {
			return errf(CodeImageTooLarge, "the finger image is %dx%d pixels; at most %d a side are accepted", info.width, info.height, MaxFingerSide)
		}
		if e := decodeJPEG2000(img, info); e != nil {
			return e
		}
		gw, gh = info.width, info.height
	}
	if gw != w || gh != h {
		return errf(CodeMalformedRecord, "the finger image record says %dx%d pixels but its image is %dx%d", w, h, gw, gh)
	}
	return nil
}

// WSQ markers (FBI IAFIS-IC-0110, WSQ Gray-scale Fingerprint Image
// Compression Specification 3.1, Table 1).
const (
	wsqSOI = 0xFFA0
	wsqEOI = 0xFFA1
	wsqSOF = 0xFFA2
	wsqSOB = 0xFFA3
	wsqCOM = 0xFFA8
)

// checkWSQ checks a WSQ image's frame without decoding it: SOI, marker
// segments (table and comment segments, each with its length) up to the
// frame header, whose Y and X give the height and width, and EOI as the
// last two bytes.
func checkWSQ(b []byte) (w, h int, e *Error) {
	if !bytes.HasSuffix(b, []byte{0xFF, 0xA1}) || len(b) < 4 {
		return 0, 0, errf(CodeTruncated, "the WSQ finger image is cut short: it does not end with its EOI marker")
	}
	s := b[2:]
	for {
		if len(s) < 4 {
			return 0, 0, errf(CodeMalformedImage, "the WSQ finger image has no frame header")
		}
		m, l := binary.BigEndian.Uint16(s), int(binary.BigEndian.Uint16(s[2:]))
		if m < wsqSOF || m > wsqCOM || m == wsqSOB {
			return 0, 0, errf(CodeMalformedImage, "the WSQ finger image has no frame header before its data")
		}
		if l < 2 || l+2 > len(s) {
			return 0, 0, errf(CodeMalformedImage, "a WSQ marker segment overruns the image")
		}
		seg := s[4 : l+2]
		s = s[l+2:]
		if m != wsqSOF {
			continue
		}
		// Frame header (§3.2.3): Lf, A, B, Y, X, Em, M, Er, R, ...
		if len(seg) < 6 {
			return 0, 0, errf(CodeMalformedImage, "the WSQ frame header is too short")
		}
		h, w = int(binary.BigEndian.Uint16(seg[2:])), int(binary.BigEndian.Uint16(seg[4:]))
		if w == 0 || h == 0 {
			return 0, 0, errf(CodeMalformedImage, "the WSQ frame is %dx%d pixels", w, h)
		}
		return w, h, nil
	}
}

// FingerRecord builds an ISO/IEC 19794-4:2005 finger image record of one
// view of the finger at position, for tests and tools: 500 ppi, 8-bit
// grey, acquisition level 31, live-scan plain impression, quality 0,
// compression and line lengths as given (not checked against the image,
// so a test can build a record that lies; values are cut to their field
// widths). The lengths are those of the bytes written.
func FingerRecord(position, width, height int, compression Compression, image []byte) []byte {
	total := firGeneralHeader + firFingerHeader + len(image)
	b := make([]byte, 0, total)
	b = append(b, firMagic+firVersion...)
	t := uint64(total)
	b = append(b, byte(t>>40), byte(t>>32), byte(t>>24), byte(t>>16), byte(t>>8), byte(t))
	b = binary.BigEndian.AppendUint16(b, 0)  // capture device: unspecified
	b = binary.BigEndian.AppendUint16(b, 31) // acquisition level 31 (500 ppi, 8 bit)
	b = append(b, 1, 1)                      // one image, pixels per inch
	for range 4 {
		b = binary.BigEndian.AppendUint16(b, 500) // scan and image resolution
	}
	b = append(b, 8, byte(compression), 0, 0) // 8-bit grey, compression, reserved
	b = binary.BigEndian.AppendUint32(b, uint32(firFingerHeader+len(image)))
	b = append(b, byte(position), 1, 1, 0, 0) // one view, view 1, quality 0, live-scan plain
	b = binary.BigEndian.AppendUint16(b, uint16(width))
	b = binary.BigEndian.AppendUint16(b, uint16(height))
	b = append(b, 0)
	return append(b, image...)
}

// WSQFrame builds the frame of a WSQ image of width x height pixels with
// no image data: SOI, a frame header and EOI. It passes checkWSQ (WSQ is
// not decoded) and lets tests and demos build WSQ finger records without
// a WSQ encoder; it is no fingerprint.
func WSQFrame(width, height int) []byte {
	b := []byte{0xFF, 0xA0, 0xFF, 0xA2, 0, 17, 0, 255}
	b = binary.BigEndian.AppendUint16(b, uint16(height))
	b = binary.BigEndian.AppendUint16(b, uint16(width))
	b = append(b, make([]byte, 9)...) // Em, M, Er, R, encoder, software
	return append(b, 0xFF, 0xA1)
}

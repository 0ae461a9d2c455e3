// Package biometric checks the biometric uploads of an enrolment before
// the service stores them: a face image (JPEG, JPEG 2000 or an ISO/IEC
// 19794-5 record), finger image records (ISO/IEC 19794-4) and finger
// minutiae records (ISO/IEC 19794-2). Each Validate function takes the
// declared content type and the body and returns what it read, or an
// *Error whose Code is stable (the HTTP layer maps it to a status and
// puts Code and Message in the JSON error body):
//
//	face, err := biometric.ValidateFace(r.Header.Get("Content-Type"), body)
//	var be *biometric.Error
//	if errors.As(err, &be) { ... be.Code ... }
//
// # What is checked, and where each limit comes from
//
// Codes (the HTTP layer's status in brackets): "unsupported_media_type"
// (415), "too_large" (413), and (422) "empty", "content_type_mismatch",
// "truncated", "malformed_record", "malformed_image", "image_too_small",
// "image_too_large", "aspect_ratio", "position_mismatch",
// "invalid_position". Messages are sentences that never quote the bytes.
//
// All uploads:
//   - the body is not empty (code "empty") and not over the byte cap
//     (code "too_large"): MaxFaceBytes (2 MiB) for faces, MaxFingerBytes
//     (1 MiB) for a finger image or minutiae record. A chip's portrait is
//     typically 15-20 KB and a WSQ finger image at 500 ppi 10-30 KB, so the
//     caps leave room for uncompressed captures while bounding what one
//     request can make the server decode.
//   - the content type is one this package knows (code
//     "unsupported_media_type"; parameters such as charset are ignored,
//     case is not significant) and the bytes are of that type (code
//     "content_type_mismatch": a JPEG sent as image/jp2, or a 19794-5
//     record whose image data type says JPEG 2000 around a JPEG).
//
// Face (ISO/IEC 19794-5:2005, as ICAO 9303-10 §4.7.2 stores it in DG2):
//   - image/jpeg: the image decodes completely with image/jpeg (a header
//     alone is not enough: a cut JPEG is refused with code "truncated")
//     and ends with its EOI marker, with nothing after it (code
//     "malformed_image": bytes after the image could carry anything).
//   - image/jp2: a JP2 file (ISO/IEC 15444-1 Annex I: signature box,
//     'ftyp' with brand or compatibility 'jp2 ', 'jp2h' with 'ihdr' first
//     and a 'colr', one 'jp2c') or a bare codestream (SOC FF4F SIZ FF51).
//     The codestream's marker segments are walked (Annex A): SIZ gives
//     the size and the tile grid, COD and QCD must be in the main header,
//     every tile-part's Psot must land on the next SOT or on the EOC
//     marker FFD9 that ends the codestream, and every tile must have its
//     tile-parts. The JP2 'ihdr' must agree with SIZ. The image is then
//     also decoded completely by OpenJPEG in strict mode (cgo, libopenjp2
//     with headers: Debian libopenjp2-7-dev, which scripts/setup installs);
//     a build with -tags noopenjp2 (or without cgo) stops at the walk.
//   - application/x-iso19794-5: a 19794-5:2005 facial record ("FAC\0",
//     version "010\0") read with the DG2 parser of reader/lds, strictly:
//     the record length field equals the byte count, exactly one facial
//     record whose block length fits exactly, an image data type of 0
//     (JPEG) or 1 (JPEG 2000) that matches the image's bytes, a face image
//     type of 0-2, and width and height fields equal to the image's own;
//     the image is then checked as above.
//   - size: at least MinFaceWidth x MinFaceHeight = 240 x 320 pixels (code
//     "image_too_small"). This is the geometry of the token frontal image
//     of ISO/IEC 19794-5:2005 (image width W, height W/0.75, eye centres
//     0.25 W apart and at least 60 pixels apart, so W >= 240): the
//     smallest portrait the standard defines for automated recognition.
//     At most MaxFaceSide = 2048 pixels on either side (code
//     "image_too_large"), checked from the header before decoding: a
//     2 MiB progressive JPEG may declare 65535 x 65535 pixels, and Go's
//     decoder holds 12 bytes of coefficients per pixel for a progressive
//     colour image, so the cap bounds one decode at about 50 MB. A
//     2048-pixel side is four times what ICAO's 15-20 KB portraits have.
//   - portrait aspect: height/width between 1.25 and 1.40 (code
//     "aspect_ratio"): the 35 x 45 mm passport photograph is 1.29 and the
//     19794-5 token image 3:4 (1.333); landscape or square images are
//     refused. The aspect is checked before the minimum size.
//   - at least MinImageBytes = 1 KiB of image: smaller images are
//     placeholders, not portraits.
//
// Finger image (application/x-iso19794-4, ISO/IEC 19794-4:2005):
//   - "FIR\0" version "010\0", the 6-byte record length equal to the
//     byte count (larger: "truncated", smaller: "malformed_record"), the
//     32-byte general header and each 14-byte finger image header with
//     its block length adding up exactly to the record (the DG3 parser
//     of reader/lds).
//   - one to MaxFingerViews views, all of the finger position the URL
//     names (code "position_mismatch"; the position must be 1 right thumb
//     to 10 left little, Table 5, code "invalid_position"), each view
//     number 1..count of views, once.
//   - scale units 1 (ppi) or 2 (ppcm), an image resolution of 250 to
//     1000 ppi (acquisition levels 20 to 41 of Table 1), pixel depth 1 to
//     16 bits.
//   - line lengths of at least MinFingerSide = 100 pixels (5 mm at 500
//     ppi: a floor against thumbnails and placeholders, not a quality
//     measure, which is the capture station's NFIQ business) and at most
//     MaxFingerSide = 2048 (4 inches at 500 ppi; it bounds the decode as
//     for faces).
//   - the image, by compression code (Table 3: 0 uncompressed, 1 bit
//     packed, 2 WSQ, 3 JPEG, 4 JPEG 2000, 5 PNG; the 2011 edition
//     renumbered them, version 010 records use these): uncompressed data of
//     exactly width x height pixels at the pixel depth; WSQ starting with
//     SOI FFA0, its frame header (FBI WSQ 3.1 §3.2.3) giving the record's
//     width and height, and ending with EOI FFA1 (WSQ is not decoded);
//     JPEG and PNG decoded completely with the standard library; JPEG
//     2000 walked as for faces. Decoded sizes must equal the record's.
//
// Minutiae (application/x-iso19794-2, ISO/IEC 19794-2:2005):
//   - "FMR\0" version " 20\0", the 4-byte record length equal to the byte
//     count (the 2-or-6-byte form is ANSI INCITS 378's, not ISO's), the
//     24-byte header with its reserved byte zero, non-zero image size and
//     resolution, one to MaxFingerViews finger views, each of the URL's
//     position, impression type 0-8, quality 0-100, view numbers not
//     repeated, its minutiae (at most 255, 6 bytes each) of type 0-2 with
//     coordinates inside the image and quality 0-100, and its extended
//     data block fitting exactly: the views add up to the record length.
//
// The builders FaceRecord, FingerRecord, WSQFrame, MinutiaeRecord,
// SyntheticJPEG and SyntheticPNG make valid (or, with lying arguments,
// invalid) uploads for tests and demos; they validate nothing.
//
// What this package deliberately does not do: it judges no image quality
// (pose, lighting, colour, NFIQ, the portrait rules of ICAO 9303-9),
// detects no face, decodes no WSQ, does not decode JPEG 2000 pixels in the
// default build, and accepts ISO/IEC 39794 (ASN.1) records not at all. It
// keeps no state and logs nothing: callers must not log the bytes either.
package biometric

import (
	"fmt"
	"mime"
	"strings"
)

// Content types accepted by the enrolment API.
const (
	ContentTypeJPEG     = "image/jpeg"
	ContentTypeJP2      = "image/jp2"
	ContentTypeFace     = "application/x-iso19794-5"
	ContentTypeFinger   = "application/x-iso19794-4"
	ContentTypeMinutiae = "application/x-iso19794-2"
)

// Byte caps of one upload (see the package doc).
const (
	MaxFaceBytes   = 2 << 20
	MaxFingerBytes = 1 << 20
)

// Limits on images (see the package doc for their sources).
const (
	MinFaceWidth   = 240
	MinFaceHeight  = 320
	MaxFaceSide    = 2048
	MinImageBytes  = 1024
	MinFingerSide  = 100
	MaxFingerSide  = 2048
	MaxFingerViews = 4
	// Portrait aspect height/width, in hundredths.
	MinAspect100 = 125
	MaxAspect100 = 140
)

// Error codes: stable snake_case, part of the HTTP contract.
const (
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeContentTypeMismatch  = "content_type_mismatch"
	CodeEmpty                = "empty"
	CodeTooLarge             = "too_large"
	CodeTruncated            = "truncated"
	CodeMalformedRecord      = "malformed_record"
	CodeMalformedImage       = "malformed_image"
	CodeImageTooSmall        = "image_too_small"
	CodeImageTooLarge        = "image_too_large"
	CodeAspectRatio          = "aspect_ratio"
	CodePositionMismatch     = "position_mismatch"
	CodeInvalidPosition      = "invalid_position"
)

// Error is a refusal: Code is one of the Code constants, Message a human
// sentence that never quotes the uploaded bytes.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return "biometric: " + e.Message }

func errf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// mediaType returns the lower-case media type without parameters.
func mediaType(contentType string) (string, *Error) {
	if strings.TrimSpace(contentType) == "" {
		return "", errf(CodeUnsupportedMediaType, "no content type given")
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", errf(CodeUnsupportedMediaType, "the content type cannot be parsed")
	}
	return mt, nil
}

// checkSize applies the empty and byte-cap rules.
func checkSize(b []byte, max int, what string) *Error {
	if len(b) == 0 {
		return errf(CodeEmpty, "the %s upload is empty", what)
	}
	if len(b) > max {
		return errf(CodeTooLarge, "the %s upload has %d bytes, more than the %d allowed", what, len(b), max)
	}
	return nil
}

// Face is a validated face image.
type Face struct {
	Format        string // "JPEG" or "JPEG2000"
	Width, Height int
	// Image is the image (the one inside the record for 19794-5), a
	// slice of the validated bytes.
	Image []byte
	// Record is the whole 19794-5 record when one was uploaded, else nil.
	Record []byte
}

// Finger is a validated ISO/IEC 19794-4 finger image record. Width,
// Height and Image are those of its first view.
type Finger struct {
	Position, Width, Height int
	Resolution              int    // image resolution, pixels per inch (horizontal)
	Compression             string // Compression.String()
	Views                   int
	Image                   []byte
	Record                  []byte
}

// Minutiae is a validated ISO/IEC 19794-2 finger minutiae record; Count
// is the number of minutiae over all its views.
type Minutiae struct {
	Position, Count int
	Views           int
	Record          []byte
}

package biometric

import (
	"bytes"
	"encoding/binary"
	"slices"

	"borderid/reader/lds"
)

// ValidateFace checks a face upload of the given content type (image/jpeg,
// image/jp2 or application/x-iso19794-5) as the package doc describes and
// returns the face's format, size and image. Every refusal is an *Error.
func ValidateFace(contentType string, b []byte) (*Face, error) {
	f, e := validateFace(contentType, b)
	if e != nil {
		return nil, e
	}
	return f, nil
}

func validateFace(contentType string, b []byte) (*Face, *Error) {
	mt, e := mediaType(contentType)
	if e != nil {
		return nil, e
	}
	switch mt {
	case ContentTypeJPEG, ContentTypeJP2, ContentTypeFace:
	default:
		return nil, errf(CodeUnsupportedMediaType, "a face is accepted as %s, %s or %s, not %s", ContentTypeJPEG, ContentTypeJP2, ContentTypeFace, mt)
	}
	if e := checkSize(b, MaxFaceBytes, "face"); e != nil {
		return nil, e
	}
	switch mt {
	case ContentTypeJPEG:
		return checkFaceImage(FormatJPEG, b)
	case ContentTypeJP2:
		return checkFaceImage(FormatJPEG2000, b)
	}
	return checkFaceRecord(b)
}

// checkFaceImage checks a face image that must be of the given format.
func checkFaceImage(format string, b []byte) (*Face, *Error) {
	if got := sniff(b); got != format {
		return nil, errf(CodeContentTypeMismatch, "the face was declared %s but the bytes are %s", describe(format), describe(got))
	}
	var w, h int
	switch format {
	case FormatJPEG:
		var e *Error
		if w, h, e = decodeStd(FormatJPEG, b, MaxFaceSide); e != nil {
			return nil, e
		}
	case FormatJPEG2000:
		info, e := checkJPEG2000(b)
		if e != nil {
			return nil, e
		}
		if info.width > MaxFaceSide || info.height > MaxFaceSide {
			return nil, errf(CodeImageTooLarge, "the face image is %dx%d pixels; at most %d pixels a side are accepted", info.width, info.height, MaxFaceSide)
		}
		if e := decodeJPEG2000(b, info); e != nil {
			return nil, e
		}
		w, h = info.width, info.height
	}
	if len(b) < MinImageBytes {
		return nil, errf(CodeImageTooSmall, "the face image has %d bytes, fewer than the %d a portrait needs", len(b), MinImageBytes)
	}
	// The aspect first: a landscape image is refused as such, not as
	// too small.
	if h*100 < w*MinAspect100 || h*100 > w*MaxAspect100 {
		return nil, errf(CodeAspectRatio, "the face image is %dx%d pixels; a portrait's height must be 1.25 to 1.40 times its width (about 3:4)", w, h)
	}
	if w < MinFaceWidth || h < MinFaceHeight {
		return nil, errf(CodeImageTooSmall, "the face image is %dx%d pixels; at least %dx%d are needed", w, h, MinFaceWidth, MinFaceHeight)
	}
	return &Face{Format: format, Width: w, Height: h, Image: b}, nil
}

// ISO/IEC 19794-5:2005 record layout (§5.4 general header of 14 bytes,
// §5.5 facial record header of 20 bytes, §5.7 image information of 12).
const (
	facMagic         = "FAC\x00"
	facVersion       = "010\x00"
	facGeneralHeader = 14
	facFacialHeader  = 20
	facImageInfo     = 12
)

// checkFaceRecord checks a 19794-5 record of exactly one face image.
func checkFaceRecord(b []byte) (*Face, *Error) {
	if !bytes.HasPrefix(b, []byte(facMagic)) {
		if len(b) < len(facMagic) && bytes.HasPrefix([]byte(facMagic), b) {
			return nil, errf(CodeTruncated, "the face record is cut short in its header")
		}
		return nil, errf(CodeContentTypeMismatch, "the face was declared an ISO/IEC 19794-5 record but the bytes are not one (no FAC format identifier)")
	}
	if len(b) < facGeneralHeader {
		return nil, errf(CodeTruncated, "the face record is cut short in its header")
	}
	if string(b[4:8]) != facVersion {
		return nil, errf(CodeMalformedRecord, "the face record is not of version 010 (ISO/IEC 19794-5:2005)")
	}
	if e := recordLength("face", uint64(binary.BigEndian.Uint32(b[8:12])), len(b)); e != nil {
		return nil, e
	}
	if n := binary.BigEndian.Uint16(b[12:14]); n != 1 {
		return nil, errf(CodeMalformedRecord, "the face record holds %d images; exactly one is accepted", n)
	}
	if len(b) < facGeneralHeader+facFacialHeader+facImageInfo {
		return nil, errf(CodeMalformedRecord, "the face record is too short for a facial record header and image information")
	}
	if block := binary.BigEndian.Uint32(b[14:18]); uint64(block) != uint64(len(b)-facGeneralHeader) {
		return nil, errf(CodeMalformedRecord, "the facial record block length says %d bytes but %d follow the general header", block, len(b)-facGeneralHeader)
	}
	faces, err := lds.ParseFaceRecord(b)
	if err != nil || len(faces) != 1 {
		return nil, errf(CodeMalformedRecord, "the face record's structure is invalid")
	}
	rf := faces[0]
	if slices.Contains(rf.Quirks, lds.QuirkFaceRecordLength) {
		return nil, errf(CodeMalformedRecord, "a length field of the face record disagrees with its data")
	}
	if rf.FaceImageType > 2 {
		return nil, errf(CodeMalformedRecord, "the face image type %d is not basic (0), full frontal (1) or token frontal (2)", rf.FaceImageType)
	}
	var format string
	switch rf.HeaderFormat {
	case lds.ImageJPEG:
		format = FormatJPEG
	case lds.ImageJPEG2000:
		format = FormatJPEG2000
	default:
		return nil, errf(CodeMalformedRecord, "the face record's image data type is neither JPEG (0) nor JPEG 2000 (1)")
	}
	f, e := checkFaceImage(format, rf.Image)
	if e != nil {
		if e.Code == CodeContentTypeMismatch {
			e.Message = "the face record's image data type says " + describe(format) + " but its image is " + describe(sniff(rf.Image))
		}
		return nil, e
	}
	if rf.HeaderWidth != f.Width || rf.HeaderHeight != f.Height {
		return nil, errf(CodeMalformedRecord, "the face record says %dx%d pixels but its image is %dx%d", rf.HeaderWidth, rf.HeaderHeight, f.Width, f.Height)
	}
	f.Record = b
	return f, nil
}

// recordLength compares a record's length field with the bytes sent.
func recordLength(what string, field uint64, n int) *Error {
	switch {
	case field > uint64(n):
		return errf(CodeTruncated, "the %s record is cut short: its length field says %d bytes but %d were sent", what, field, n)
	case field < uint64(n):
		return errf(CodeMalformedRecord, "the %s record's length field says %d bytes but %d were sent", what, field, n)
	}
	return nil
}

// FaceRecord builds an ISO/IEC 19794-5:2005 facial record around one
// image, for tests and tools: format FormatJPEG or FormatJPEG2000 (image
// data type 0 or 1; anything else writes 0xFF), width and height as given
// (not checked against the image, so a test can build a record that lies),
// face image type 1 (full frontal), 24-bit RGB, no feature points. The
// lengths are those of the bytes written.
func FaceRecord(format string, width, height int, image []byte) []byte {
	dataType := byte(0xFF)
	switch format {
	case FormatJPEG:
		dataType = 0
	case FormatJPEG2000:
		dataType = 1
	}
	block := facFacialHeader + facImageInfo + len(image)
	total := facGeneralHeader + block
	b := make([]byte, 0, total)
	b = append(b, facMagic+facVersion...)
	b = binary.BigEndian.AppendUint32(b, uint32(total))
	b = binary.BigEndian.AppendUint16(b, 1) // one image
	// Facial record header (§5.5): block length, no feature points,
	// gender, eye and hair colour unspecified, property mask, expression,
	// pose angles and their uncertainty all zero.
	b = binary.BigEndian.AppendUint32(b, uint32(block))
	b = append(b, make([]byte, facFacialHeader-4)...)
	// Image information (§5.7): full frontal, data type, width, height,
	// colour space 1 (24-bit RGB), source type 2 (digital camera),
	// device type and quality 0.
	b = append(b, 1, dataType)
	b = binary.BigEndian.AppendUint16(b, uint16(width))
	b = binary.BigEndian.AppendUint16(b, uint16(height))
	b = append(b, 1, 2, 0, 0, 0, 0)
	return append(b, image...)
}

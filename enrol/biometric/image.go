package biometric

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
)

// Image formats, as Face.Format and the inspection report name them.
const (
	FormatJPEG     = "JPEG"
	FormatJPEG2000 = "JPEG2000"
	formatPNG      = "PNG"
	formatWSQ      = "WSQ"
)

// Signatures: JPEG SOI (ISO/IEC 10918-1 B.1.1.3), the JPEG 2000
// codestream's SOC and SIZ (15444-1 A.4.1), the JP2 signature box
// (15444-1 I.5.1), PNG (ISO/IEC 15948 §5.2) and WSQ's SOI (FBI WSQ 3.1).
const (
	sigJPEG = "\xFF\xD8"
	sigJ2K  = "\xFF\x4F\xFF\x51"
	sigJP2  = "\x00\x00\x00\x0CjP  \x0D\x0A\x87\x0A"
	sigPNG  = "\x89PNG\r\n\x1a\n"
	sigWSQ  = "\xFF\xA0"
	eoiJPEG = "\xFF\xD9"
	iendPNG = "\x00\x00\x00\x00IEND\xAE\x42\x60\x82"
)

// sniff names the format the bytes start with, "" when none.
func sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte(sigJPEG)):
		return FormatJPEG
	case bytes.HasPrefix(b, []byte(sigJ2K)), bytes.HasPrefix(b, []byte(sigJP2)):
		return FormatJPEG2000
	case bytes.HasPrefix(b, []byte(sigPNG)):
		return formatPNG
	case bytes.HasPrefix(b, []byte(sigWSQ)):
		return formatWSQ
	}
	return ""
}

// describe names a format for a message.
func describe(format string) string {
	switch format {
	case "":
		return "of no image format this service knows"
	case FormatJPEG2000:
		return "a JPEG 2000 image"
	}
	return "a " + format + " image"
}

// decodeStd decodes a JPEG or PNG image completely with the standard
// library after checking the size its header claims against maxSide (a
// small file may declare an image that takes gigabytes to decode). A
// failed decode is "truncated" when the end marker (JPEG EOI, PNG IEND) is
// missing, else "malformed_image"; bytes after a good image's end marker
// are refused.
func decodeStd(format string, b []byte, maxSide int) (w, h int, e *Error) {
	decodeConfig, decode, end := jpeg.DecodeConfig, jpeg.Decode, eoiJPEG
	if format == formatPNG {
		decodeConfig, decode, end = png.DecodeConfig, png.Decode, iendPNG
	}
	ended := bytes.HasSuffix(b, []byte(end))
	cfg, err := decodeConfig(bytes.NewReader(b))
	if err != nil {
		if !ended {
			return 0, 0, errf(CodeTruncated, "the %s image is cut short: its header cannot be read", format)
		}
		return 0, 0, errf(CodeMalformedImage, "the %s image header cannot be read", format)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return 0, 0, errf(CodeMalformedImage, "the %s image header gives a size of %dx%d pixels", format, cfg.Width, cfg.Height)
	}
	if cfg.Width > maxSide || cfg.Height > maxSide {
		return 0, 0, errf(CodeImageTooLarge, "the %s image is %dx%d pixels; at most %d pixels a side are accepted", format, cfg.Width, cfg.Height, maxSide)
	}
	img, err := decode(bytes.NewReader(b))
	if err != nil {
		if !ended {
			return 0, 0, errf(CodeTruncated, "the %s image is cut short: it does not decode to its end", format)
		}
		return 0, 0, errf(CodeMalformedImage, "the %s image does not decode", format)
	}
	if !ended {
		return 0, 0, errf(CodeMalformedImage, "the %s image has bytes after its end marker", format)
	}
	if r := img.Bounds(); r != image.Rect(0, 0, cfg.Width, cfg.Height) {
		return 0, 0, errf(CodeMalformedImage, "the %s image decodes to another size than its header says", format)
	}
	return cfg.Width, cfg.Height, nil
}

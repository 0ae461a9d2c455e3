package lds

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// ImageFormat is the encoding of a face image.
type ImageFormat uint8

// The formats 9303-10 §4.7.2 allows for the displayed portrait.
const (
	ImageUnknown  ImageFormat = 0
	ImageJPEG     ImageFormat = 1 // ISO/IEC 10918-1
	ImageJPEG2000 ImageFormat = 2 // ISO/IEC 15444-1, JP2 file or bare codestream
)

// String gives the format as in the report (CONTRACTS.md).
func (f ImageFormat) String() string {
	switch f {
	case ImageJPEG:
		return "JPEG"
	case ImageJPEG2000:
		return "JPEG2000"
	case ImageUnknown:
		return "unknown"
	}
	return fmt.Sprintf("ImageFormat(%d)", uint8(f))
}

// ErrImage reports image bytes whose header cannot be read.
var ErrImage = errors.New("lds: unreadable image header")

// Image signatures: JPEG SOI (ISO/IEC 10918-1 B.1.1.3), the JPEG 2000
// codestream's SOC followed by SIZ (15444-1 A.4.1, A.5.1) and the JP2
// signature box (15444-1 I.5.1).
const (
	sigJPEG = "\xFF\xD8"
	sigJ2K  = "\xFF\x4F\xFF\x51"
	sigJP2  = "\x00\x00\x00\x0CjP  \x0D\x0A\x87\x0A"
)

func hasPrefix(b []byte, sig string) bool {
	return len(b) >= len(sig) && string(b[:len(sig)]) == sig
}

// ImageInfo reads an image's format and size from its own header: the
// first SOFn segment of a JPEG, the SIZ segment of a JPEG 2000 codestream,
// or the 'ihdr' box of a JP2 file. It decodes no pixels.
func ImageInfo(b []byte) (format ImageFormat, width, height int, err error) {
	switch {
	case hasPrefix(b, sigJPEG):
		w, h, err := jpegSize(b)
		return ImageJPEG, w, h, err
	case hasPrefix(b, sigJ2K):
		w, h, err := sizSize(b[2:])
		return ImageJPEG2000, w, h, err
	case hasPrefix(b, sigJP2):
		w, h, err := jp2Size(b)
		return ImageJPEG2000, w, h, err
	}
	return ImageUnknown, 0, 0, fmt.Errorf("%w: neither JPEG nor JPEG 2000", ErrImage)
}

// jpegSize walks the marker segments (ISO/IEC 10918-1 B.1.1) to the first
// start-of-frame marker, whose frame header (B.2.2) holds the number of
// lines and samples per line.
func jpegSize(b []byte) (int, int, error) {
	s := cryptobyte.String(b[2:])
	for {
		var ff, m uint8
		if !s.ReadUint8(&ff) || ff != 0xFF {
			return 0, 0, fmt.Errorf("%w: JPEG marker expected", ErrImage)
		}
		// Any number of FF fill bytes may precede a marker (B.1.1.2).
		for {
			if !s.ReadUint8(&m) {
				return 0, 0, fmt.Errorf("%w: JPEG ends before a frame header", ErrImage)
			}
			if m != 0xFF {
				break
			}
		}
		switch {
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7):
			continue // TEM and RSTn stand alone
		case m == 0xD9 || m == 0xDA || m == 0xD8 || m == 0x00:
			return 0, 0, fmt.Errorf("%w: JPEG marker %02X before a frame header", ErrImage, m)
		}
		// The segment length counts its own two bytes (B.1.1.4).
		var l uint16
		var seg cryptobyte.String
		if !s.ReadUint16(&l) || l < 2 || !s.ReadBytes((*[]byte)(&seg), int(l)-2) {
			return 0, 0, fmt.Errorf("%w: JPEG segment %02X truncated", ErrImage, m)
		}
		isSOF := m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC
		if !isSOF {
			continue
		}
		var p uint8
		var h, w uint16
		if !seg.ReadUint8(&p) || !seg.ReadUint16(&h) || !seg.ReadUint16(&w) {
			return 0, 0, fmt.Errorf("%w: JPEG frame header truncated", ErrImage)
		}
		if w == 0 || h == 0 {
			// A zero height is legal (defined later by DNL) but no
			// portrait uses it; refusing is simpler than chasing DNL.
			return 0, 0, fmt.Errorf("%w: JPEG frame of %dx%d", ErrImage, w, h)
		}
		return int(w), int(h), nil
	}
}

// sizSize reads the SIZ marker segment (15444-1 A.5.1) that must follow
// SOC; b starts at the SIZ marker. The image area is Xsiz-XOsiz by
// Ysiz-YOsiz on the reference grid.
func sizSize(b []byte) (int, int, error) {
	s := cryptobyte.String(b)
	var marker, lsiz, rsiz uint16
	var xsiz, ysiz, xo, yo uint32
	if !s.ReadUint16(&marker) || marker != 0xFF51 || !s.ReadUint16(&lsiz) || lsiz < 41 ||
		!s.ReadUint16(&rsiz) || !s.ReadUint32(&xsiz) || !s.ReadUint32(&ysiz) ||
		!s.ReadUint32(&xo) || !s.ReadUint32(&yo) {
		return 0, 0, fmt.Errorf("%w: JPEG 2000 SIZ truncated", ErrImage)
	}
	if xo >= xsiz || yo >= ysiz || xsiz-xo > 1<<24 || ysiz-yo > 1<<24 {
		return 0, 0, fmt.Errorf("%w: JPEG 2000 SIZ area %d-%d x %d-%d", ErrImage, xsiz, xo, ysiz, yo)
	}
	return int(xsiz - xo), int(ysiz - yo), nil
}

// jp2Size walks the JP2 file's boxes (15444-1 I.4) to the JP2 header box
// 'jp2h' and its image header box 'ihdr' (I.5.3.1: HEIGHT, WIDTH, ...).
// A JP2 without 'ihdr' falls back to the SIZ of its 'jp2c' codestream.
func jp2Size(b []byte) (int, int, error) {
	s := cryptobyte.String(b)
	for !s.Empty() {
		typ, body, err := readBox(&s)
		if err != nil {
			return 0, 0, err
		}
		switch typ {
		case "jp2h":
			inner := cryptobyte.String(body)
			for !inner.Empty() {
				t, ib, err := readBox(&inner)
				if err != nil {
					return 0, 0, err
				}
				if t != "ihdr" {
					continue
				}
				ihdr := cryptobyte.String(ib)
				var h, w uint32
				if !ihdr.ReadUint32(&h) || !ihdr.ReadUint32(&w) {
					return 0, 0, fmt.Errorf("%w: JP2 ihdr truncated", ErrImage)
				}
				if w == 0 || h == 0 || w > 1<<24 || h > 1<<24 {
					return 0, 0, fmt.Errorf("%w: JP2 ihdr %dx%d", ErrImage, w, h)
				}
				return int(w), int(h), nil
			}
		case "jp2c":
			if !hasPrefix(body, sigJ2K) {
				return 0, 0, fmt.Errorf("%w: JP2 codestream without SOC SIZ", ErrImage)
			}
			return sizSize(body[2:])
		}
	}
	return 0, 0, fmt.Errorf("%w: JP2 without ihdr or codestream", ErrImage)
}

// readBox reads one box (15444-1 I.4): LBox, TBox, optional XLBox when
// LBox is 1, content to the end of input when LBox is 0.
func readBox(s *cryptobyte.String) (string, []byte, error) {
	var lbox uint32
	var tbox []byte
	if !s.ReadUint32(&lbox) || !s.ReadBytes(&tbox, 4) {
		return "", nil, fmt.Errorf("%w: JP2 box header truncated", ErrImage)
	}
	var n uint64
	hdr := uint64(8)
	switch lbox {
	case 0:
		n = uint64(len(*s))
		hdr = 0
	case 1:
		if !s.ReadUint64(&n) {
			return "", nil, fmt.Errorf("%w: JP2 box length truncated", ErrImage)
		}
		hdr = 16
	default:
		n = uint64(lbox)
	}
	if lbox != 0 {
		if n < hdr || n-hdr > uint64(len(*s)) {
			return "", nil, fmt.Errorf("%w: JP2 box %q of %d bytes", ErrImage, tbox, n)
		}
		n -= hdr
	}
	var body []byte
	if !s.ReadBytes(&body, int(n)) {
		return "", nil, fmt.Errorf("%w: JP2 box %q truncated", ErrImage, tbox)
	}
	return string(tbox), body, nil
}

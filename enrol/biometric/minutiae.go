package biometric

import (
	"encoding/binary"

	"golang.org/x/crypto/cryptobyte"
)

// ISO/IEC 19794-2:2005 finger minutiae record (§7.3 record header, §7.4
// finger view, §7.5 extended data).
const (
	fmrMagic    = "FMR\x00"
	fmrVersion  = " 20\x00"
	fmrHeader   = 24
	fmrMinutia  = 6
	maxMinutiae = 255 // the count is one byte (§7.4.4)
)

// Minutia is one minutia for MinutiaeRecord: Type 0 other, 1 ridge
// ending, 2 bifurcation (§7.4.5.1); X, Y in pixels (14 bits); Angle in
// units of 1.40625 degrees (0-255); Quality 0-100.
type Minutia struct {
	Type, X, Y, Angle, Quality int
}

// ValidateMinutiae checks an ISO/IEC 19794-2:2005 finger minutiae record
// uploaded for the finger at position (1..10) as the package doc
// describes. Every refusal is an *Error.
func ValidateMinutiae(contentType string, position int, b []byte) (*Minutiae, error) {
	m, e := validateMinutiae(contentType, position, b)
	if e != nil {
		return nil, e
	}
	return m, nil
}

func validateMinutiae(contentType string, position int, b []byte) (*Minutiae, *Error) {
	mt, e := mediaType(contentType)
	if e != nil {
		return nil, e
	}
	if mt != ContentTypeMinutiae {
		return nil, errf(CodeUnsupportedMediaType, "a minutiae record is accepted as %s, not %s", ContentTypeMinutiae, mt)
	}
	if position < 1 || position > 10 {
		return nil, errf(CodeInvalidPosition, "finger position %d is not 1 (right thumb) to 10 (left little finger)", position)
	}
	if e := checkSize(b, MaxFingerBytes, "minutiae"); e != nil {
		return nil, e
	}
	if e := recordStart(b, fmrMagic, fmrHeader, "minutiae", "ISO/IEC 19794-2"); e != nil {
		return nil, e
	}
	if string(b[4:8]) != fmrVersion {
		return nil, errf(CodeMalformedRecord, "the minutiae record is not of version 20 (ISO/IEC 19794-2:2005)")
	}
	s := cryptobyte.String(b[8:])
	var length uint32
	s.ReadUint32(&length)
	if e := recordLength("minutiae", uint64(length), len(b)); e != nil {
		return nil, e
	}
	var device, xsize, ysize, xres, yres uint16
	var views, reserved uint8
	s.ReadUint16(&device)
	s.ReadUint16(&xsize)
	s.ReadUint16(&ysize)
	s.ReadUint16(&xres)
	s.ReadUint16(&yres)
	s.ReadUint8(&views)
	s.ReadUint8(&reserved)
	if xsize == 0 || ysize == 0 || xres == 0 || yres == 0 {
		return nil, errf(CodeMalformedRecord, "the minutiae record gives no image size or resolution")
	}
	if reserved != 0 {
		return nil, errf(CodeMalformedRecord, "the minutiae record's reserved header byte is not zero")
	}
	if views < 1 || int(views) > MaxFingerViews {
		return nil, errf(CodeMalformedRecord, "the minutiae record holds %d finger views; 1 to %d of one finger are accepted", views, MaxFingerViews)
	}
	count := 0
	seen := map[uint8]bool{}
	for i := 1; i <= int(views); i++ {
		var pos, viewImp, quality, n uint8
		if !s.ReadUint8(&pos) || !s.ReadUint8(&viewImp) || !s.ReadUint8(&quality) || !s.ReadUint8(&n) {
			return nil, errf(CodeMalformedRecord, "finger view %d of the minutiae record is cut off", i)
		}
		if int(pos) != position {
			return nil, errf(CodePositionMismatch, "the minutiae record is of finger position %d, uploaded for position %d", pos, position)
		}
		if imp := viewImp & 0x0F; imp > 8 {
			return nil, errf(CodeMalformedRecord, "finger view %d has the impression type %d, not 0 to 8", i, imp)
		}
		if view := viewImp >> 4; seen[view] {
			return nil, errf(CodeMalformedRecord, "the minutiae record repeats finger view %d", view)
		} else {
			seen[view] = true
		}
		if quality > 100 {
			return nil, errf(CodeMalformedRecord, "finger view %d has quality %d, more than 100", i, quality)
		}
		for j := 1; j <= int(n); j++ {
			var tx, ry uint16
			var angle, q uint8
			if !s.ReadUint16(&tx) || !s.ReadUint16(&ry) || !s.ReadUint8(&angle) || !s.ReadUint8(&q) {
				return nil, errf(CodeMalformedRecord, "minutia %d of finger view %d is cut off", j, i)
			}
			typ, x, y := tx>>14, tx&0x3FFF, ry&0x3FFF
			if typ == 3 {
				return nil, errf(CodeMalformedRecord, "minutia %d of finger view %d has the reserved type 3", j, i)
			}
			if x >= xsize || y >= ysize {
				return nil, errf(CodeMalformedRecord, "minutia %d of finger view %d lies at (%d, %d), outside the %dx%d image", j, i, x, y, xsize, ysize)
			}
			if q > 100 {
				return nil, errf(CodeMalformedRecord, "minutia %d of finger view %d has quality %d, more than 100", j, i, q)
			}
		}
		count += int(n)
		var ext cryptobyte.String
		if !s.ReadUint16LengthPrefixed(&ext) {
			return nil, errf(CodeMalformedRecord, "the extended data of finger view %d overruns the record", i)
		}
	}
	if !s.Empty() {
		return nil, errf(CodeMalformedRecord, "the minutiae record has %d bytes after its finger views", len(s))
	}
	return &Minutiae{Position: position, Count: count, Views: int(views), Record: b}, nil
}

// MinutiaeRecord builds an ISO/IEC 19794-2:2005 finger minutiae record of
// one view (view 0, live-scan plain, quality 60) of the finger at
// position, for tests and tools: an image of width x height pixels at 197
// pixels per cm (500 ppi), the minutiae as given (cut to their field
// widths, not checked), no extended data.
func MinutiaeRecord(position, width, height int, minutiae []Minutia) []byte {
	total := fmrHeader + 4 + fmrMinutia*len(minutiae) + 2
	b := make([]byte, 0, total)
	b = append(b, fmrMagic+fmrVersion...)
	b = binary.BigEndian.AppendUint32(b, uint32(total))
	b = binary.BigEndian.AppendUint16(b, 0) // capture equipment: none certified, device unknown
	b = binary.BigEndian.AppendUint16(b, uint16(width))
	b = binary.BigEndian.AppendUint16(b, uint16(height))
	b = binary.BigEndian.AppendUint16(b, 197)
	b = binary.BigEndian.AppendUint16(b, 197)
	b = append(b, 1, 0)                                       // one finger view, reserved
	b = append(b, byte(position), 0, 60, byte(len(minutiae))) // position, view 0 / plain, quality, count
	for _, m := range minutiae {
		b = binary.BigEndian.AppendUint16(b, uint16(m.Type&3)<<14|uint16(m.X&0x3FFF))
		b = binary.BigEndian.AppendUint16(b, uint16(m.Y&0x3FFF))
		b = append(b, byte(m.Angle), byte(m.Quality))
	}
	return binary.BigEndian.AppendUint16(b, 0) // no extended data
}

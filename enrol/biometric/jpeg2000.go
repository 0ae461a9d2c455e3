package biometric

import (
	"bytes"

	"golang.org/x/crypto/cryptobyte"
)

// JPEG 2000 (ISO/IEC 15444-1): the JP2 file format of Annex I and the
// codestream syntax of Annex A, walked box by box and marker segment by
// marker segment so that a cut or padded image is refused. Pixels are not
// decoded here.

// Codestream markers (15444-1 Table A.2).
const (
	mSOC = 0xFF4F
	mSIZ = 0xFF51
	mCOD = 0xFF52
	mQCD = 0xFF5C
	mSOT = 0xFF90
	mSOD = 0xFF93
	mEOC = 0xFFD9
)

// maxTiles bounds the tile grid (Isot is 16 bits, A.4.2).
const maxTiles = 65535

// j2kInfo is what the walk reads.
type j2kInfo struct {
	width, height, components int
}

// checkJPEG2000 checks a JP2 file or a bare codestream.
func checkJPEG2000(b []byte) (j2kInfo, *Error) {
	if bytes.HasPrefix(b, []byte(sigJP2)) {
		return checkJP2(b)
	}
	return checkCodestream(b)
}

// readBox reads one box (15444-1 I.4): LBox, TBox, XLBox when LBox is 1,
// content to the end of the input when LBox is 0.
func readBox(s *cryptobyte.String) (typ string, body []byte, e *Error) {
	var lbox uint32
	var tbox []byte
	if !s.ReadUint32(&lbox) || !s.ReadBytes(&tbox, 4) {
		return "", nil, errf(CodeTruncated, "the JP2 file is cut short in a box header")
	}
	hdr := uint64(8)
	n := uint64(lbox)
	switch lbox {
	case 0:
		n, hdr = uint64(len(*s)), 0
	case 1:
		if !s.ReadUint64(&n) {
			return "", nil, errf(CodeTruncated, "the JP2 file is cut short in a box header")
		}
		hdr = 16
	}
	if n < hdr {
		return "", nil, errf(CodeMalformedImage, "a JP2 box has the impossible length %d", n)
	}
	n -= hdr
	if n > uint64(len(*s)) {
		return "", nil, errf(CodeTruncated, "the JP2 file is cut short: a box needs %d bytes, %d are left", n, len(*s))
	}
	s.ReadBytes(&body, int(n))
	return string(tbox), body, nil
}

// checkJP2 walks a JP2 file (15444-1 I.5): the signature box, 'ftyp'
// next, 'jp2h' (with 'ihdr' first and a 'colr') before the one 'jp2c'.
func checkJP2(b []byte) (j2kInfo, *Error) {
	s := cryptobyte.String(b[len(sigJP2):])
	typ, ftyp, e := readBox(&s)
	if e != nil {
		return j2kInfo{}, e
	}
	if typ != "ftyp" {
		return j2kInfo{}, errf(CodeMalformedImage, "the JP2 file's second box is not the file type box")
	}
	if len(ftyp) < 8 || len(ftyp)%4 != 0 {
		return j2kInfo{}, errf(CodeMalformedImage, "the JP2 file type box has %d bytes", len(ftyp))
	}
	compatible := string(ftyp[:4]) == "jp2 "
	for cl := ftyp[8:]; len(cl) >= 4; cl = cl[4:] {
		compatible = compatible || string(cl[:4]) == "jp2 "
	}
	if !compatible {
		return j2kInfo{}, errf(CodeMalformedImage, "the file is not compatible with JP2 (no 'jp2 ' brand)")
	}
	var ihdr j2kInfo
	var haveHeader, haveCode bool
	var info j2kInfo
	for !s.Empty() {
		typ, body, e := readBox(&s)
		if e != nil {
			return j2kInfo{}, e
		}
		switch typ {
		case "jp2h":
			if haveHeader {
				return j2kInfo{}, errf(CodeMalformedImage, "the JP2 file has two header boxes")
			}
			if ihdr, e = checkJP2Header(body); e != nil {
				return j2kInfo{}, e
			}
			haveHeader = true
		case "jp2c":
			if !haveHeader {
				return j2kInfo{}, errf(CodeMalformedImage, "the JP2 codestream comes before the JP2 header box")
			}
			if haveCode {
				return j2kInfo{}, errf(CodeMalformedImage, "the JP2 file has more than one codestream")
			}
			if info, e = checkCodestream(body); e != nil {
				return j2kInfo{}, e
			}
			haveCode = true
		case "ftyp", "jP  ":
			return j2kInfo{}, errf(CodeMalformedImage, "the JP2 file repeats its %q box", typ)
		}
	}
	if !haveCode {
		return j2kInfo{}, errf(CodeTruncated, "the JP2 file ends before its codestream")
	}
	if ihdr != info {
		return j2kInfo{}, errf(CodeMalformedImage, "the JP2 header says %dx%d with %d components, the codestream %dx%d with %d",
			ihdr.width, ihdr.height, ihdr.components, info.width, info.height, info.components)
	}
	return info, nil
}

// checkJP2Header reads the JP2 header box (I.5.3): 'ihdr' first (HEIGHT,
// WIDTH, NC, BPC, C = 7, UnkC, IPR) and at least one 'colr'.
func checkJP2Header(b []byte) (j2kInfo, *Error) {
	s := cryptobyte.String(b)
	typ, body, e := readBox(&s)
	if e != nil {
		return j2kInfo{}, e
	}
	ih := cryptobyte.String(body)
	var h, w uint32
	var nc uint16
	var bpc, c, unk, ipr uint8
	if typ != "ihdr" || !ih.ReadUint32(&h) || !ih.ReadUint32(&w) || !ih.ReadUint16(&nc) ||
		!ih.ReadUint8(&bpc) || !ih.ReadUint8(&c) || !ih.ReadUint8(&unk) || !ih.ReadUint8(&ipr) || !ih.Empty() {
		return j2kInfo{}, errf(CodeMalformedImage, "the JP2 header box does not start with a 14-byte image header box")
	}
	if c != 7 || w == 0 || h == 0 || nc == 0 {
		return j2kInfo{}, errf(CodeMalformedImage, "the JP2 image header box is invalid")
	}
	colr := false
	for !s.Empty() {
		typ, _, e := readBox(&s)
		if e != nil {
			return j2kInfo{}, e
		}
		colr = colr || typ == "colr"
	}
	if !colr {
		return j2kInfo{}, errf(CodeMalformedImage, "the JP2 header box has no colour specification box")
	}
	return j2kInfo{width: int(w), height: int(h), components: int(nc)}, nil
}

// checkCodestream walks a JPEG 2000 codestream (15444-1 Annex A): SOC,
// SIZ, the main header up to the first SOT with COD and QCD in it, then
// tile-parts whose Psot lengths must land exactly on the next SOT or on
// EOC, which must be the last two bytes; every tile must have all its
// tile-parts.
func checkCodestream(b []byte) (j2kInfo, *Error) {
	if !bytes.HasPrefix(b, []byte(sigJ2K)) {
		return j2kInfo{}, errf(CodeMalformedImage, "the JPEG 2000 codestream does not start with SOC and SIZ")
	}
	s := cryptobyte.String(b[2:])
	// SIZ (A.5.1).
	var marker, lsiz, rsiz, csiz uint16
	var xsiz, ysiz, xo, yo, xt, yt, xto, yto uint32
	if !s.ReadUint16(&marker) || !s.ReadUint16(&lsiz) || !s.ReadUint16(&rsiz) ||
		!s.ReadUint32(&xsiz) || !s.ReadUint32(&ysiz) || !s.ReadUint32(&xo) || !s.ReadUint32(&yo) ||
		!s.ReadUint32(&xt) || !s.ReadUint32(&yt) || !s.ReadUint32(&xto) || !s.ReadUint32(&yto) ||
		!s.ReadUint16(&csiz) {
		return j2kInfo{}, errf(CodeTruncated, "the JPEG 2000 codestream is cut short in its SIZ segment")
	}
	if csiz == 0 || csiz > 16384 || int(lsiz) != 38+3*int(csiz) {
		return j2kInfo{}, errf(CodeMalformedImage, "the JPEG 2000 SIZ segment is invalid")
	}
	for range int(csiz) {
		var ssiz, xr, yr uint8
		if !s.ReadUint8(&ssiz) || !s.ReadUint8(&xr) || !s.ReadUint8(&yr) {
			return j2kInfo{}, errf(CodeTruncated, "the JPEG 2000 codestream is cut short in its SIZ segment")
		}
		if ssiz&0x7F > 37 || xr == 0 || yr == 0 {
			return j2kInfo{}, errf(CodeMalformedImage, "the JPEG 2000 SIZ segment has an invalid component")
		}
	}
	if xo >= xsiz || yo >= ysiz || xt == 0 || yt == 0 || xto > xo || yto > yo ||
		uint64(xto)+uint64(xt) <= uint64(xo) || uint64(yto)+uint64(yt) <= uint64(yo) {
		return j2kInfo{}, errf(CodeMalformedImage, "the JPEG 2000 SIZ segment has an invalid image or tile grid")
	}
	tilesX := (uint64(xsiz-xto) + uint64(xt) - 1) / uint64(xt)
	tilesY := (uint64(ysiz-yto) + uint64(yt) - 1) / uint64(yt)
	if tilesX*tilesY > maxTiles {
		return j2kInfo{}, errf(CodeMalformedImage, "the JPEG 2000 image has more than %d tiles", maxTiles)
	}
	info := j2kInfo{width: int(xsiz - xo), height: int(ysiz - yo), components: int(csiz)}
	if uint64(xsiz-xo) > 1<<24 || uint64(ysiz-yo) > 1<<24 {
		return j2kInfo{}, errf(CodeImageTooLarge, "the JPEG 2000 image is %dx%d pixels", xsiz-xo, ysiz-yo)
	}

	// Main header (A.4): marker segments up to the first SOT.
	var cod, qcd bool
	for {
		var m uint16
		if !s.ReadUint16(&m) {
			return j2kInfo{}, errf(CodeTruncated, "the JPEG 2000 codestream is cut short in its main header")
		}
		if m == mSOT {
			break
		}
		if e := skipSegment(&s, m, "main header"); e != nil {
			return j2kInfo{}, e
		}
		cod = cod || m == mCOD
		qcd = qcd || m == mQCD
	}
	if !cod || !qcd {
		return j2kInfo{}, errf(CodeMalformedImage, "the JPEG 2000 main header lacks its COD or QCD segment")
	}

	// Tile-parts (A.4.2): s is just after an SOT marker.
	tiles := int(tilesX * tilesY)
	nextPart := make([]int, tiles) // tile-parts seen per tile
	partsOf := make([]int, tiles)  // TNsot when given
	for {
		start := len(b) - len(s) - 2 // offset of the SOT marker
		var lsot, isot uint16
		var psot uint32
		var tpsot, tnsot uint8
		if !s.ReadUint16(&lsot) || !s.ReadUint16(&isot) || !s.ReadUint32(&psot) || !s.ReadUint8(&tpsot) || !s.ReadUint8(&tnsot) {
			return j2kInfo{}, errf(CodeTruncated, "the JPEG 2000 codestream is cut short in a tile-part header")
		}
		if lsot != 10 || int(isot) >= tiles {
			return j2kInfo{}, errf(CodeMalformedImage, "the JPEG 2000 codestream has an invalid SOT segment")
		}
		if int(tpsot) != nextPart[isot] || (partsOf[isot] != 0 && tnsot != 0 && int(tnsot) != partsOf[isot]) {
			return j2kInfo{}, errf(CodeMalformedImage, "the JPEG 2000 tile-parts of tile %d are out of order", isot)
		}
		nextPart[isot]++
		if tnsot != 0 {
			partsOf[isot] = int(tnsot)
		}
		end := uint64(start) + uint64(psot)
		if psot == 0 { // the last tile-part runs to EOC (A.4.2)
			end = uint64(len(b) - 2)
		}
		if end > uint64(len(b)) {
			return j2kInfo{}, errf(CodeTruncated, "the JPEG 2000 codestream is cut short: a tile-part of %d bytes does not fit", psot)
		}
		if end < uint64(start)+14 || end > uint64(len(b)-2) {
			return j2kInfo{}, errf(CodeTruncated, "the JPEG 2000 codestream has no room for its end marker after a tile-part")
		}
		// Tile-part header up to SOD, within the tile-part.
		tp := cryptobyte.String(b[start+12 : end])
		for {
			var m uint16
			if !tp.ReadUint16(&m) {
				return j2kInfo{}, errf(CodeMalformedImage, "a JPEG 2000 tile-part has no SOD marker")
			}
			if m == mSOD {
				break
			}
			if e := skipSegment(&tp, m, "tile-part header"); e != nil {
				if e.Code == CodeTruncated {
					e.Code = CodeMalformedImage
				}
				return j2kInfo{}, e
			}
		}
		s = cryptobyte.String(b[end:])
		var m uint16
		s.ReadUint16(&m) // end <= len(b)-2
		if m == mEOC {
			if !s.Empty() {
				return j2kInfo{}, errf(CodeMalformedImage, "the JPEG 2000 codestream has bytes after its end marker")
			}
			break
		}
		if m != mSOT || psot == 0 {
			if !bytes.HasSuffix(b, []byte{0xFF, 0xD9}) {
				return j2kInfo{}, errf(CodeTruncated, "the JPEG 2000 codestream is cut short: it does not end with EOC")
			}
			return j2kInfo{}, errf(CodeMalformedImage, "a JPEG 2000 tile-part length does not land on the next tile-part")
		}
	}
	for t := range tiles {
		if nextPart[t] == 0 || (partsOf[t] != 0 && nextPart[t] != partsOf[t]) {
			return j2kInfo{}, errf(CodeTruncated, "the JPEG 2000 codestream lacks tile-parts of tile %d", t)
		}
	}
	return info, nil
}

// skipSegment skips the marker segment of marker m (A.1.4): markers FF30
// to FF3F stand alone, the others carry a length that counts itself.
// Delimiters that cannot occur in a header are refused.
func skipSegment(s *cryptobyte.String, m uint16, where string) *Error {
	switch {
	case m>>8 != 0xFF:
		return errf(CodeMalformedImage, "the JPEG 2000 %s has no marker where one must be", where)
	case m >= 0xFF30 && m <= 0xFF3F:
		return nil
	case m == mSOC || m == mSIZ || m == mSOD || m == mEOC || m == mSOT:
		return errf(CodeMalformedImage, "the JPEG 2000 %s has a misplaced delimiter", where)
	}
	var l uint16
	if !s.ReadUint16(&l) || l < 2 {
		return errf(CodeTruncated, "the JPEG 2000 codestream is cut short in its %s", where)
	}
	if !s.Skip(int(l) - 2) {
		return errf(CodeTruncated, "the JPEG 2000 codestream is cut short in its %s", where)
	}
	return nil
}

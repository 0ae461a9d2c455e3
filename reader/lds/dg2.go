package lds

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// Tags of the biometric information templates (9303-10 §4.7.2, ISO/IEC
// 7816-11 Table 3, CBEFF patron format of ISO/IEC 19785-3).
const (
	TagBIGT           Tag = 0x7F61 // biometric information group template
	TagBIT            Tag = 0x7F60 // biometric information template
	TagBHT            Tag = 0xA1   // biometric header template
	TagBDB            Tag = 0x5F2E // biometric data block
	TagBDBConstructed Tag = 0x7F2E // biometric data block, constructed (ISO/IEC 39794)
	TagInstanceCount  Tag = 0x02   // number of instances in the group
)

// FaceEncoding is the standard the face record follows.
type FaceEncoding uint8

// The two encodings 9303-10 allows in DG2.
const (
	FaceISO19794 FaceEncoding = 1 // ISO/IEC 19794-5:2005 binary record ("FAC\0")
	FaceISO39794 FaceEncoding = 2 // ISO/IEC 39794-5 ASN.1 (BER) encoding
)

func (e FaceEncoding) String() string {
	switch e {
	case FaceISO19794:
		return "ISO/IEC 19794-5"
	case FaceISO39794:
		return "ISO/IEC 39794-5"
	}
	return fmt.Sprintf("FaceEncoding(%d)", uint8(e))
}

// Face is one face image from DG2. Format, Width and Height are read from
// the image bytes (ImageInfo); the Header fields are what the face record
// claims. When they disagree the face carries a quirk, and the image's own
// values win.
type Face struct {
	Encoding FaceEncoding
	Format   ImageFormat
	Width    int
	Height   int
	Image    []byte

	HeaderFormat ImageFormat // as recorded; ImageUnknown when the record does not say
	HeaderWidth  int         // 0 when the record does not say
	HeaderHeight int

	// ISO/IEC 19794-5:2005 §5.5 and §5.7 facial information (zero for
	// 39794-5 records).
	FeaturePoints int
	Gender        byte // 0 unspecified, 1 male, 2 female, 0xFF unknown
	EyeColour     byte
	HairColour    byte
	FaceImageType byte // 0 basic, 1 full frontal, 2 token frontal
	ColourSpace   byte
	SourceType    byte

	// BiometricHeader is the raw BHT (A1) of the template this face is in.
	BiometricHeader []byte
	Quirks          []string
}

// DG2 is data group 2 (9303-10 §4.7.2): the encoded face(s).
type DG2 struct {
	Faces  []Face
	Quirks []string // every face's quirks, plus the group's own
	Raw    []byte
}

// maxFaces bounds the faces taken from one DG2; ICAO requires one, a few
// states store two or three.
const maxFaces = 16

// ParseDG2 parses DG2: the group template 7F61 with its instance count
// and one 7F60 per instance, each a header A1 and a data block 5F2E
// (ISO/IEC 19794-5) or 7F2E (ISO/IEC 39794-5). A 5F2E that does not
// start with "FAC\0" is tried as 39794-5.
func ParseDG2(b []byte) (*DG2, error) {
	outer, err := ParseSingle(b, FileDG2.Tag())
	if err != nil {
		return nil, fmt.Errorf("DG2: %w", err)
	}
	group, err := ParseSingle(outer.Value, TagBIGT)
	if err != nil {
		return nil, fmt.Errorf("DG2: %w", err)
	}
	elems, err := ParseElements(group.Value)
	if err != nil {
		return nil, fmt.Errorf("DG2: %w", err)
	}
	d := &DG2{Raw: outer.Raw}
	countEl, ok := Find(elems, TagInstanceCount)
	if !ok || len(countEl.Value) != 1 {
		return nil, fmt.Errorf("DG2: %w: no one-byte instance count (02)", ErrTLV)
	}
	templates := 0
	for _, e := range elems {
		if e.Tag != TagBIT {
			continue
		}
		templates++
		faces, err := parseBIT(e.Value)
		if err != nil {
			return nil, fmt.Errorf("DG2: template %d: %w", templates, err)
		}
		for _, f := range faces {
			if len(d.Faces) == maxFaces {
				return nil, fmt.Errorf("DG2: more than %d faces", maxFaces)
			}
			d.Faces = append(d.Faces, f)
			for _, q := range f.Quirks {
				if !contains(d.Quirks, q) {
					d.Quirks = append(d.Quirks, q)
				}
			}
		}
	}
	if templates == 0 || len(d.Faces) == 0 {
		return nil, fmt.Errorf("DG2: %w: no face", ErrTLV)
	}
	if int(countEl.Value[0]) != templates {
		return nil, fmt.Errorf("DG2: %w: instance count %d but %d templates", ErrTLV, countEl.Value[0], templates)
	}
	return d, nil
}

// parseBIT parses one biometric information template.
func parseBIT(b []byte) ([]Face, error) {
	elems, err := ParseElements(b)
	if err != nil {
		return nil, err
	}
	bht, ok := Find(elems, TagBHT)
	if !ok {
		return nil, fmt.Errorf("%w: no biometric header template (A1)", ErrTLV)
	}
	var faces []Face
	if bdb, ok := Find(elems, TagBDB); ok {
		if hasPrefix(bdb.Value, "FAC\x00") {
			faces, err = parse19794(bdb.Value)
		} else {
			faces, err = parse39794(bdb.Value)
		}
	} else if bdb, ok := Find(elems, TagBDBConstructed); ok {
		faces, err = parse39794(bdb.Value)
	} else {
		return nil, fmt.Errorf("%w: no biometric data block (5F2E or 7F2E)", ErrTLV)
	}
	if err != nil {
		return nil, err
	}
	for i := range faces {
		faces[i].BiometricHeader = bht.Raw
	}
	return faces, nil
}

// finish reads the image's own format and size and records how they
// differ from the record's claims.
func (f *Face) finish() {
	format, w, h, err := ImageInfo(f.Image)
	if err != nil {
		f.Quirks = append(f.Quirks, QuirkImageUnrecognised)
		return
	}
	f.Format, f.Width, f.Height = format, w, h
	if f.HeaderFormat != ImageUnknown && f.HeaderFormat != format {
		f.Quirks = append(f.Quirks, QuirkImageFormatMismatch)
	}
	if (f.HeaderWidth != 0 || f.HeaderHeight != 0) && (f.HeaderWidth != w || f.HeaderHeight != h) {
		f.Quirks = append(f.Quirks, QuirkImageSizeMismatch)
	}
}

// Sizes of the ISO/IEC 19794-5:2005 record parts (§5.4, §5.5, §5.6.1,
// §5.7).
const (
	fac19794GeneralHeader = 14
	fac19794FacialHeader  = 20
	fac19794FeaturePoint  = 8
	fac19794ImageInfo     = 12
)

// parse19794 parses an ISO/IEC 19794-5:2005 facial record: the general
// header ("FAC\0", version, record length, number of images) and per image
// the facial record header, feature points, image information and data.
func parse19794(b []byte) ([]Face, error) {
	s := cryptobyte.String(b)
	var magic, version []byte
	var recLen uint32
	var n uint16
	if !s.ReadBytes(&magic, 4) || !s.ReadBytes(&version, 4) || !s.ReadUint32(&recLen) || !s.ReadUint16(&n) {
		return nil, fmt.Errorf("%w: 19794-5 general header truncated", ErrTLV)
	}
	var quirks []string
	if int64(recLen) != int64(len(b)) {
		quirks = append(quirks, QuirkFaceRecordLength)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: 19794-5 record with no image", ErrTLV)
	}
	var faces []Face
	for i := 0; i < int(n); i++ {
		if len(faces) == maxFaces {
			return nil, fmt.Errorf("%w: 19794-5 record with more than %d images", ErrTLV, maxFaces)
		}
		var blockLen uint32
		if !s.ReadUint32(&blockLen) {
			return nil, fmt.Errorf("%w: 19794-5 facial record %d truncated", ErrTLV, i+1)
		}
		fq := append([]string(nil), quirks...)
		// The block length counts its own 4 bytes. A single image whose
		// length field disagrees with the record is taken to the end of the
		// record (some issuers write the image's length there); with several
		// images each length must fit.
		body := int64(blockLen) - 4
		const minBody = fac19794FacialHeader - 4 + fac19794ImageInfo
		switch {
		case n == 1 && body != int64(len(s)):
			if len(s) < minBody {
				return nil, fmt.Errorf("%w: 19794-5 facial record of %d bytes", ErrTLV, len(s)+4)
			}
			body = int64(len(s))
			if !contains(fq, QuirkFaceRecordLength) {
				fq = append(fq, QuirkFaceRecordLength)
			}
		case body < minBody || body > int64(len(s)):
			return nil, fmt.Errorf("%w: 19794-5 facial record %d of %d bytes, %d left", ErrTLV, i+1, blockLen, len(s)+4)
		}
		var rec cryptobyte.String
		if !s.ReadBytes((*[]byte)(&rec), int(body)) {
			return nil, fmt.Errorf("%w: 19794-5 facial record %d truncated", ErrTLV, i+1)
		}
		f, err := parse19794Facial(rec)
		if err != nil {
			return nil, fmt.Errorf("19794-5 facial record %d: %w", i+1, err)
		}
		f.Quirks = append(fq, f.Quirks...)
		faces = append(faces, f)
	}
	if !s.Empty() {
		return nil, fmt.Errorf("%w: %d bytes after the 19794-5 facial records", ErrTLV, len(s))
	}
	return faces, nil
}

// parse19794Facial parses one facial record data block after its length.
func parse19794Facial(rec cryptobyte.String) (Face, error) {
	f := Face{Encoding: FaceISO19794}
	var points uint16
	var skip []byte
	if !rec.ReadUint16(&points) || !rec.ReadUint8(&f.Gender) || !rec.ReadUint8(&f.EyeColour) ||
		!rec.ReadUint8(&f.HairColour) || !rec.ReadBytes(&skip, 3+2+3+3) { // mask, expression, pose, uncertainty
		return Face{}, fmt.Errorf("%w: facial record header truncated", ErrTLV)
	}
	f.FeaturePoints = int(points)
	if !rec.Skip(int(points) * fac19794FeaturePoint) {
		return Face{}, fmt.Errorf("%w: %d feature points truncated", ErrTLV, points)
	}
	var dataType uint8
	var w, h, device, quality uint16
	if !rec.ReadUint8(&f.FaceImageType) || !rec.ReadUint8(&dataType) || !rec.ReadUint16(&w) || !rec.ReadUint16(&h) ||
		!rec.ReadUint8(&f.ColourSpace) || !rec.ReadUint8(&f.SourceType) || !rec.ReadUint16(&device) || !rec.ReadUint16(&quality) {
		return Face{}, fmt.Errorf("%w: image information truncated", ErrTLV)
	}
	if len(rec) == 0 {
		return Face{}, fmt.Errorf("%w: no image data", ErrTLV)
	}
	// §5.7.2: image data type 00 JPEG, 01 JPEG 2000.
	switch dataType {
	case 0:
		f.HeaderFormat = ImageJPEG
	case 1:
		f.HeaderFormat = ImageJPEG2000
	}
	f.HeaderWidth, f.HeaderHeight = int(w), int(h)
	f.Image = []byte(rec)
	f.finish()
	return f, nil
}

// parse39794 parses an ISO/IEC 39794-5 FaceImageDataBlock (BER, implicit
// context tags): representationBlocks [1], each with imageRepresentation
// [1] > base [0] > imageRepresentation2DBlock [0] holding
// representationData2D [0] (the image) and imageInformation2DBlock [1]
// (imageDataFormat [0] > code [0], imageSizeBlock [7] > width [0], height
// [1]). Other blocks are skipped. Encoders differ on whether the block
// keeps its own outer tag inside 7F2E, so a single wrapping element is
// opened first.
func parse39794(b []byte) ([]Face, error) {
	elems, err := ParseElements(b)
	if err != nil {
		return nil, fmt.Errorf("39794-5: %w", err)
	}
	if len(elems) == 1 && elems[0].Tag != 0xA1 && elems[0].Tag.Constructed() {
		if elems, err = ParseElements(elems[0].Value); err != nil {
			return nil, fmt.Errorf("39794-5: %w", err)
		}
	}
	reps, ok := Find(elems, 0xA1)
	if !ok {
		return nil, fmt.Errorf("39794-5: %w: no representation blocks [1]", ErrTLV)
	}
	blocks, err := ParseElements(reps.Value)
	if err != nil {
		return nil, fmt.Errorf("39794-5: %w", err)
	}
	var faces []Face
	for i, blk := range blocks {
		if len(faces) == maxFaces {
			return nil, fmt.Errorf("39794-5: more than %d representations", maxFaces)
		}
		f, err := parse39794Representation(blk.Value)
		if err != nil {
			return nil, fmt.Errorf("39794-5 representation %d: %w", i+1, err)
		}
		faces = append(faces, f)
	}
	if len(faces) == 0 {
		return nil, fmt.Errorf("39794-5: %w: no representation", ErrTLV)
	}
	return faces, nil
}

// path descends through nested constructed elements by tag.
func path(b []byte, tags ...Tag) (Element, error) {
	var e Element
	for _, t := range tags {
		elems, err := ParseElements(b)
		if err != nil {
			return Element{}, err
		}
		var ok bool
		if e, ok = Find(elems, t); !ok {
			return Element{}, fmt.Errorf("%w: no %s", ErrTLV, t)
		}
		b = e.Value
	}
	return e, nil
}

func parse39794Representation(b []byte) (Face, error) {
	f := Face{Encoding: FaceISO39794}
	twoD, err := path(b, 0xA1, 0xA0, 0xA0)
	if err != nil {
		return Face{}, fmt.Errorf("2D image representation: %w", err)
	}
	data, err := path(twoD.Value, 0x80)
	if err != nil || len(data.Value) == 0 {
		return Face{}, fmt.Errorf("%w: no representationData2D", ErrTLV)
	}
	f.Image = data.Value
	if code, err := path(twoD.Value, 0xA1, 0xA0, 0x80); err == nil {
		// ImageDataFormat codes: 2 jpeg, 3 jpeg2000Lossy, 4
		// jpeg2000Lossless; others (png, ...) are no ICAO portrait.
		switch v, _ := uintValue(code.Value); v {
		case 2:
			f.HeaderFormat = ImageJPEG
		case 3, 4:
			f.HeaderFormat = ImageJPEG2000
		}
	}
	if size, err := path(twoD.Value, 0xA1, 0xA7); err == nil {
		w, errW := path(size.Value, 0x80)
		h, errH := path(size.Value, 0x81)
		if errW == nil && errH == nil {
			f.HeaderWidth, _ = uintValue(w.Value)
			f.HeaderHeight, _ = uintValue(h.Value)
		}
	}
	f.finish()
	return f, nil
}

// uintValue reads a non-negative integer of at most four significant
// bytes (an ASN.1 INTEGER may carry a leading 00).
func uintValue(b []byte) (int, bool) {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 4 || (len(b) == 4 && b[0]&0x80 != 0) {
		return 0, false
	}
	v := 0
	for _, c := range b {
		v = v<<8 | int(c)
	}
	return v, true
}

// FaceImage is one image for EncodeDG2.
type FaceImage struct {
	Format ImageFormat
	Width  int
	Height int
	Data   []byte
}

// EncodeDG2 builds DG2 with one biometric information template per face,
// each holding an ISO/IEC 19794-5:2005 record of one full-frontal image.
// Width and Height are written as given (not checked against the image),
// so a test chip can carry a record that disagrees with its image.
func EncodeDG2(faces []FaceImage) ([]byte, error) {
	if len(faces) == 0 || len(faces) > maxFaces {
		return nil, fmt.Errorf("DG2: %d faces, want 1 to %d", len(faces), maxFaces)
	}
	var group tlvBuilder
	group.add(TagInstanceCount, []byte{byte(len(faces))})
	for i, f := range faces {
		rec, err := encode19794(f)
		if err != nil {
			return nil, fmt.Errorf("DG2: face %d: %w", i+1, err)
		}
		// Biometric header (9303-10 §4.7.2.1): ICAO header version 0101,
		// biometric type 02 (facial features), format owner 0101
		// (ISO/IEC JTC 1/SC 37) and format type 0008 (19794-5 face).
		var bht tlvBuilder
		bht.add(0x80, []byte{0x01, 0x01})
		bht.add(0x81, []byte{0x02})
		bht.add(0x87, []byte{0x01, 0x01})
		bht.add(0x88, []byte{0x00, 0x08})
		var bit tlvBuilder
		bit.add(TagBHT, bht.b)
		bit.add(TagBDB, rec)
		if bit.err != nil {
			return nil, fmt.Errorf("DG2: face %d: %w", i+1, bit.err)
		}
		group.add(TagBIT, bit.b)
	}
	if group.err != nil {
		return nil, fmt.Errorf("DG2: %w", group.err)
	}
	inner, err := AppendElement(nil, TagBIGT, group.b)
	if err != nil {
		return nil, fmt.Errorf("DG2: %w", err)
	}
	return AppendElement(nil, FileDG2.Tag(), inner)
}

func encode19794(f FaceImage) ([]byte, error) {
	var dataType byte
	switch f.Format {
	case ImageJPEG:
		dataType = 0
	case ImageJPEG2000:
		dataType = 1
	default:
		return nil, fmt.Errorf("image format %v", f.Format)
	}
	if f.Width < 0 || f.Width > 0xFFFF || f.Height < 0 || f.Height > 0xFFFF {
		return nil, fmt.Errorf("image size %dx%d out of range", f.Width, f.Height)
	}
	if len(f.Data) == 0 || len(f.Data) > MaxElementLength-64 {
		return nil, fmt.Errorf("image of %d bytes", len(f.Data))
	}
	block := 4 + fac19794FacialHeader - 4 + fac19794ImageInfo + len(f.Data)
	total := fac19794GeneralHeader + block
	b := make([]byte, 0, total)
	b = append(b, "FAC\x00010\x00"...)
	b = binary.BigEndian.AppendUint32(b, uint32(total))
	b = binary.BigEndian.AppendUint16(b, 1)
	// Facial record header (§5.5): length, no feature points, gender,
	// eye and hair colour unspecified, no feature mask, expression, pose
	// angles or uncertainties.
	b = binary.BigEndian.AppendUint32(b, uint32(block))
	b = append(b, make([]byte, fac19794FacialHeader-4)...)
	// Image information (§5.7): full frontal, data type, size, colour
	// space 24-bit RGB (01), source type digital still (02), device and
	// quality unspecified.
	b = append(b, 0x01, dataType)
	b = binary.BigEndian.AppendUint16(b, uint16(f.Width))
	b = binary.BigEndian.AppendUint16(b, uint16(f.Height))
	b = append(b, 0x01, 0x02, 0, 0, 0, 0)
	return append(b, f.Data...), nil
}

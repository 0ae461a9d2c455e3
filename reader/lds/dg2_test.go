package lds

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The testdata images are 24 wide and 32 high: face.jpg (image/jpeg),
// face.jp2 and face.j2k (opj_compress -n 3 from the same picture).
func TestImageInfo(t *testing.T) {
	for _, tt := range []struct {
		file   string
		format ImageFormat
	}{{"face.jpg", ImageJPEG}, {"face.jp2", ImageJPEG2000}, {"face.j2k", ImageJPEG2000}} {
		f, w, h, err := ImageInfo(readTestdata(t, tt.file))
		if err != nil || f != tt.format || w != 24 || h != 32 {
			t.Errorf("ImageInfo(%s) = %v %dx%d, %v", tt.file, f, w, h, err)
		}
	}
	// Hand-made headers.
	good := []struct {
		hex  string
		f    ImageFormat
		w, h int
	}{
		// SOI, APP0 of 2 bytes, fill byte, SOF2 (progressive) 640x480.
		{"FFD8 FFE00002 FF FFC2000B08 01E0 0280 01 011100", ImageJPEG, 640, 480},
		// RST and TEM markers stand alone.
		{"FFD8 FFD0 FF01 FFC0000B08 0010 0020 01 011100", ImageJPEG, 32, 16},
		// Codestream SIZ with an image offset: 100-10 x 200-20.
		{"FF4F FF51 0029 0000 00000064 000000C8 0000000A 00000014 00000000 00000000 00000064 000000C8 0000000000000000 0001 070101", ImageJPEG2000, 90, 180},
		// JP2: signature, jp2h with ihdr 480x640 (height first).
		{"0000000C6A5020200D0A870A 0000001E6A703268 000000166968647200000280000001E000030700000000", ImageJPEG2000, 480, 640},
		// JP2 whose jp2h box uses the 64-bit length (LBox 1).
		{"0000000C6A5020200D0A870A 000000016A703268000000000000002600000016696864720000000200000003000307070000", ImageJPEG2000, 3, 2},
	}
	for _, tt := range good {
		f, w, h, err := ImageInfo(unhex(t, tt.hex))
		if err != nil || f != tt.f || w != tt.w || h != tt.h {
			t.Errorf("ImageInfo(%s) = %v %dx%d, %v; want %v %dx%d", tt.hex, f, w, h, err, tt.f, tt.w, tt.h)
		}
	}
	bad := []string{
		"",
		"89504E470D0A1A0A",             // PNG
		"FFD8",                         // SOI only
		"FFD8 FFD9",                    // EOI before a frame
		"FFD8 FFDA000200",              // scan before a frame
		"FFD8 FFE00001",                // segment length below 2
		"FFD8 FFE00010 0000",           // segment longer than the data
		"FFD8 FFC0000B08 0000 0020",    // zero height
		"FFD8 FFC0000308",              // frame header truncated
		"FFD8 00",                      // no marker
		"FF4F FF51 0029 0000 00000064", // SIZ truncated
		"FF4F FF51 0029 0000 00000064 000000C8 00000064 00000000 00000000", // offset = size
		"0000000C6A5020200D0A870A 000000FF6A703268",                        // box longer than file
		"0000000C6A5020200D0A870A 000000046A703268",                        // box shorter than its header
		"0000000C6A5020200D0A870A 000000146A703268 0000000C696864720000",   // ihdr truncated
		"0000000C6A5020200D0A870A 0000000C6A703263 FF4F0000",               // jp2c without SIZ
		"0000000C6A5020200D0A870A",                                         // no header box
	}
	for _, b := range bad {
		if f, w, h, err := ImageInfo(unhex(t, b)); !errors.Is(err, ErrImage) {
			t.Errorf("ImageInfo(%s) = %v %dx%d, %v; want ErrImage", b, f, w, h, err)
		}
	}
	if ImageJPEG.String() != "JPEG" || ImageJPEG2000.String() != "JPEG2000" || ImageUnknown.String() != "unknown" || ImageFormat(9).String() != "ImageFormat(9)" {
		t.Error("ImageFormat.String")
	}
}

func TestEncodeDG2Bytes(t *testing.T) {
	jpg := readTestdata(t, "face.jpg")
	if len(jpg) != 680 {
		t.Fatalf("face.jpg has %d bytes; the expected header below assumes 680", len(jpg))
	}
	b, err := EncodeDG2([]FaceImage{{Format: ImageJPEG, Width: 24, Height: 32, Data: jpg}})
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "758202F9 7F618202F4 020101 7F608202EC"+
		"A10F 80020101 810102 87020101 88020008"+
		"5F2E8202D6"+
		"46414300 30313000 000002D6 0001"+ // general header: FAC, 010, length 726, one image
		"000002C8 0000 00 00 00 000000 0000 000000 000000"+ // facial record header: length 712
		"01 00 0018 0020 01 02 0000 0000") // image info: full frontal, JPEG, 24x32
	if !bytes.Equal(b[:len(want)], want) || !bytes.Equal(b[len(want):], jpg) {
		t.Errorf("EncodeDG2 header = %X\nwant             %X", b[:len(want)], want)
	}
}

func TestDG2RoundTrip(t *testing.T) {
	jpg, jp2, j2k := readTestdata(t, "face.jpg"), readTestdata(t, "face.jp2"), readTestdata(t, "face.j2k")
	tests := []struct {
		name   string
		in     []FaceImage
		quirks [][]string
	}{
		{"JPEG", []FaceImage{{ImageJPEG, 24, 32, jpg}}, [][]string{nil}},
		{"JP2", []FaceImage{{ImageJPEG2000, 24, 32, jp2}}, [][]string{nil}},
		{"two faces", []FaceImage{{ImageJPEG2000, 24, 32, j2k}, {ImageJPEG, 24, 32, jpg}}, [][]string{nil, nil}},
		// The record says JPEG 2000 and 32x24; the image is a 24x32 JPEG.
		{"header lies", []FaceImage{{ImageJPEG2000, 32, 24, jpg}}, [][]string{{QuirkImageFormatMismatch, QuirkImageSizeMismatch}}},
		{"not an image", []FaceImage{{ImageJPEG, 24, 32, []byte("GIF89a")}}, [][]string{{QuirkImageUnrecognised}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := EncodeDG2(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			d, err := ParseDG2(b)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(d.Raw, b) || len(d.Faces) != len(tt.in) {
				t.Fatalf("%d faces", len(d.Faces))
			}
			for i, f := range d.Faces {
				in := tt.in[i]
				if !bytes.Equal(f.Image, in.Data) || f.Encoding != FaceISO19794 || f.HeaderFormat != in.Format ||
					f.HeaderWidth != in.Width || f.HeaderHeight != in.Height || f.FaceImageType != 1 || f.ColourSpace != 1 || f.SourceType != 2 ||
					!reflect.DeepEqual(f.Quirks, tt.quirks[i]) || len(f.BiometricHeader) != 17 {
					t.Errorf("face %d = %+v", i, f)
				}
				wantF, wantW, wantH := in.Format, 24, 32
				if tt.quirks[i] != nil {
					wantF = ImageJPEG
					if tt.quirks[i][0] == QuirkImageUnrecognised {
						wantF, wantW, wantH = ImageUnknown, 0, 0
					}
				}
				if f.Format != wantF || f.Width != wantW || f.Height != wantH {
					t.Errorf("face %d: %v %dx%d, want %v %dx%d", i, f.Format, f.Width, f.Height, wantF, wantW, wantH)
				}
			}
			var all []string
			for _, q := range tt.quirks {
				all = append(all, q...)
			}
			if !reflect.DeepEqual(d.Quirks, all) {
				t.Errorf("DG2 quirks %v, want %v", d.Quirks, all)
			}
		})
	}
}

// dg2Wrap puts a biometric data block (tag bdbTag) into DG2 with one
// template and a minimal header.
func dg2Wrap(t testing.TB, bdbTag Tag, bdb []byte) []byte {
	var bit tlvBuilder
	bit.add(TagBHT, []byte{0x81, 0x01, 0x02})
	bit.add(bdbTag, bdb)
	var g tlvBuilder
	g.add(TagInstanceCount, []byte{1})
	g.add(TagBIT, bit.b)
	in, _ := AppendElement(nil, TagBIGT, g.b)
	out, err := AppendElement(nil, 0x75, in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// face39794 builds an ISO/IEC 39794-5 FaceImageDataBlock with one 2D
// representation, the data format code and image size given.
func face39794(t testing.TB, img []byte, code byte, w, h int) []byte {
	el := func(tag Tag, parts ...[]byte) []byte {
		b, err := AppendElement(nil, tag, bytes.Join(parts, nil))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	info := el(0xA1, el(0xA0, el(0x80, []byte{code})), el(0xA7, el(0x80, minimalUint(w)), el(0x81, minimalUint(h))))
	twoD := el(0xA0, el(0x80, img), info)
	rep := el(0x30, el(0x80, []byte{1}), el(0xA1, el(0xA0, twoD)))
	version := el(0xA0, el(0x80, []byte{0}), el(0x81, []byte{0x07, 0xE3}))
	return append(version, el(0xA1, rep)...)
}

func TestDG2ISO39794(t *testing.T) {
	jpg, jp2 := readTestdata(t, "face.jpg"), readTestdata(t, "face.jp2")
	tests := []struct {
		name   string
		tag    Tag
		bdb    []byte
		format ImageFormat
		hw, hh int
		quirks []string
	}{
		{"7F2E JPEG", TagBDBConstructed, face39794(t, jpg, 2, 24, 32), ImageJPEG, 24, 32, nil},
		{"7F2E JP2 lossless", TagBDBConstructed, face39794(t, jp2, 4, 24, 32), ImageJPEG2000, 24, 32, nil},
		{"5F2E not FAC", TagBDB, face39794(t, jp2, 3, 24, 32), ImageJPEG2000, 24, 32, nil},
		// The block wrapped in its own application tag 65.
		{"wrapped", TagBDBConstructed, func() []byte { b, _ := AppendElement(nil, 0x65, face39794(t, jpg, 2, 24, 32)); return b }(), ImageJPEG, 24, 32, nil},
		{"code says JPEG 2000", TagBDBConstructed, face39794(t, jpg, 3, 24, 32), ImageJPEG2000, 24, 32, []string{QuirkImageFormatMismatch}},
		{"size differs", TagBDBConstructed, face39794(t, jpg, 2, 480, 640), ImageJPEG, 480, 640, []string{QuirkImageSizeMismatch}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseDG2(dg2Wrap(t, tt.tag, tt.bdb))
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Faces) != 1 {
				t.Fatalf("%d faces", len(d.Faces))
			}
			f := d.Faces[0]
			if f.Encoding != FaceISO39794 || f.Width != 24 || f.Height != 32 || f.HeaderFormat != tt.format ||
				f.HeaderWidth != tt.hw || f.HeaderHeight != tt.hh || !reflect.DeepEqual(f.Quirks, tt.quirks) {
				t.Errorf("face = %v %v %dx%d header %v %dx%d quirks %v", f.Encoding, f.Format, f.Width, f.Height, f.HeaderFormat, f.HeaderWidth, f.HeaderHeight, f.Quirks)
			}
		})
	}
	if FaceISO19794.String() != "ISO/IEC 19794-5" || FaceISO39794.String() != "ISO/IEC 39794-5" {
		t.Error("FaceEncoding.String")
	}
}

func TestDG2Refusals(t *testing.T) {
	jpg := readTestdata(t, "face.jpg")
	good, err := EncodeDG2([]FaceImage{{ImageJPEG, 24, 32, jpg}})
	if err != nil {
		t.Fatal(err)
	}
	record := func(mod func([]byte) []byte) []byte {
		b, _ := encode19794(FaceImage{ImageJPEG, 24, 32, jpg})
		return dg2Wrap(t, TagBDB, mod(b))
	}
	tests := map[string]struct {
		b    []byte
		want error
	}{
		"wrong outer tag":      {append([]byte{0x76}, good[1:]...), ErrUnexpectedTag},
		"truncated":            {good[:len(good)-1], ErrShortHeader},
		"no count":             {unhex(t, "75057F6102A100"), ErrTLV},
		"no template":          {unhex(t, "75057F6103020100"), ErrTLV},
		"no header":            {dg2Wrap(t, 0x5F2F, []byte{1}), ErrTLV},
		"general header short": {record(func(b []byte) []byte { return b[:10] }), ErrTLV},
		"zero images":          {record(func(b []byte) []byte { b[12], b[13] = 0, 0; return b }), ErrTLV},
		"facial short":         {record(func(b []byte) []byte { return b[:14+20] }), ErrTLV},
		"two images one body":  {record(func(b []byte) []byte { b[13] = 2; return b }), ErrTLV},
		"trailing after records": {record(func(b []byte) []byte {
			// Two images, both complete, then a stray byte.
			one := b[14:]
			b[13] = 2
			return append(append(b, one...), 0)
		}), ErrTLV},
		"feature points past end": {record(func(b []byte) []byte { b[18], b[19] = 0xFF, 0xFF; return b }), ErrTLV},
		"no image data":           {record(func(b []byte) []byte { return b[:14+20+12] }), ErrTLV},
		"39794 no reps":           {dg2Wrap(t, TagBDBConstructed, unhex(t, "A0028000")), ErrTLV},
		"39794 empty reps":        {dg2Wrap(t, TagBDBConstructed, unhex(t, "A100")), ErrTLV},
		"39794 no 2D":             {dg2Wrap(t, TagBDBConstructed, unhex(t, "A105300380010 1")), ErrTLV},
		"39794 no data":           {dg2Wrap(t, TagBDBConstructed, unhex(t, "A10B3009A107A005A003A10100")), ErrTLV},
		"39794 garbage":           {dg2Wrap(t, TagBDBConstructed, []byte{0xA1, 0x05}), ErrShortHeader},
	}
	// A count that disagrees with the templates.
	bad := bytes.Clone(good)
	bad[10] = 2
	tests["count mismatch"] = struct {
		b    []byte
		want error
	}{bad, ErrTLV}
	for name, tt := range tests {
		if d, err := ParseDG2(tt.b); !errors.Is(err, tt.want) {
			t.Errorf("%s: ParseDG2 = %v, %v; want %v", name, d, err, tt.want)
		}
	}
	for name, faces := range map[string][]FaceImage{
		"none":       nil,
		"no data":    {{ImageJPEG, 1, 1, nil}},
		"bad format": {{ImageUnknown, 1, 1, jpg}},
		"width":      {{ImageJPEG, 70000, 1, jpg}},
		"negative":   {{ImageJPEG, 1, -1, jpg}},
		"seventeen":  make([]FaceImage, 17),
	} {
		if _, err := EncodeDG2(faces); err == nil {
			t.Errorf("EncodeDG2(%s) accepted", name)
		}
	}
}

// A 19794-5 record whose lengths are wrong but whose single image still
// fits is read, with the quirk recorded.
func TestDG2RecordLengthQuirk(t *testing.T) {
	jpg := readTestdata(t, "face.jpg")
	b, _ := encode19794(FaceImage{ImageJPEG, 24, 32, jpg})
	b[8], b[9], b[10], b[11] = 0, 0, 0, 9         // record length
	b[14], b[15], b[16], b[17] = 0, 0, 0x02, 0xA8 // block length 680: the image's, not the block's
	d, err := ParseDG2(dg2Wrap(t, TagBDB, b))
	if err != nil {
		t.Fatal(err)
	}
	if f := d.Faces[0]; !bytes.Equal(f.Image, jpg) || f.Width != 24 || !reflect.DeepEqual(f.Quirks, []string{QuirkFaceRecordLength}) {
		t.Errorf("face quirks %v width %d", f.Quirks, f.Width)
	}
}

// A 19794-5 record may hold several images (general header count).
func TestDG2TwoImagesInOneRecord(t *testing.T) {
	jpg, j2k := readTestdata(t, "face.jpg"), readTestdata(t, "face.j2k")
	a, _ := encode19794(FaceImage{ImageJPEG, 24, 32, jpg})
	b, _ := encode19794(FaceImage{ImageJPEG2000, 24, 32, j2k})
	rec := append(bytes.Clone(a), b[14:]...)
	rec[13] = 2
	total := len(rec)
	rec[8], rec[9], rec[10], rec[11] = byte(total>>24), byte(total>>16), byte(total>>8), byte(total)
	d, err := ParseDG2(dg2Wrap(t, TagBDB, rec))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Faces) != 2 || d.Faces[0].Format != ImageJPEG || d.Faces[1].Format != ImageJPEG2000 ||
		!bytes.Equal(d.Faces[1].Image, j2k) || len(d.Quirks) != 0 {
		t.Errorf("faces %+v quirks %v", len(d.Faces), d.Quirks)
	}
}

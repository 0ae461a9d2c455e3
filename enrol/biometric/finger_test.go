package biometric

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestValidateFinger(t *testing.T) {
	raw := bytes.Repeat([]byte{0x80}, 150*120)
	packed := bytes.Repeat([]byte{0x55}, (150*120*8+7)/8)
	for _, c := range []struct {
		name  string
		w, h  int
		comp  Compression
		img   []byte
		cname string
	}{
		{"WSQ", 300, 400, CompressionWSQ, WSQFrame(300, 400), "WSQ"},
		{"JPEG", 300, 400, CompressionJPEG, SyntheticJPEG(300, 400), "JPEG"},
		{"PNG", 256, 360, CompressionPNG, SyntheticPNG(256, 360), "PNG"},
		{"JPEG 2000", 200, 250, CompressionJPEG2000, readTestdata(t, "finger-200x250.j2k"), "JPEG2000"},
		{"uncompressed", 150, 120, CompressionNone, raw, "uncompressed"},
		{"bit packed", 150, 120, CompressionBitPacked, packed, "bit_packed"},
		{"minimum size", MinFingerSide, MinFingerSide, CompressionWSQ, WSQFrame(MinFingerSide, MinFingerSide), "WSQ"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, pos := range []int{1, 7, 10} {
				rec := FingerRecord(pos, c.w, c.h, c.comp, c.img)
				if len(rec) != 32+14+len(c.img) {
					t.Fatalf("record of %d bytes", len(rec))
				}
				f, err := ValidateFinger(ContentTypeFinger, pos, rec)
				if err != nil {
					t.Fatal(err)
				}
				want := Finger{Position: pos, Width: c.w, Height: c.h, Resolution: 500, Compression: c.cname, Views: 1, Image: c.img, Record: rec}
				if f.Position != want.Position || f.Width != want.Width || f.Height != want.Height || f.Resolution != 500 ||
					f.Compression != want.Compression || f.Views != 1 || !bytes.Equal(f.Image, c.img) || !bytes.Equal(f.Record, rec) {
					t.Fatalf("%+v", *f)
				}
			}
		})
	}
}

// twoViews builds a record of two views of one finger with the given
// view numbers.
func twoViews(pos int, v1, v2 byte) []byte {
	img := WSQFrame(300, 400)
	one := FingerRecord(pos, 300, 400, CompressionWSQ, img)
	block := one[32:]
	b := bytes.Clone(one[:32])
	b[18] = 2
	for _, v := range []byte{v1, v2} {
		blk := bytes.Clone(block)
		blk[5], blk[6] = 2, v
		b = append(b, blk...)
	}
	t := uint64(len(b))
	copy(b[8:14], []byte{byte(t >> 40), byte(t >> 32), byte(t >> 24), byte(t >> 16), byte(t >> 8), byte(t)})
	return b
}

func TestValidateFingerViews(t *testing.T) {
	f, err := ValidateFinger(ContentTypeFinger, 2, twoViews(2, 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	if f.Views != 2 || f.Width != 300 || f.Height != 400 {
		t.Fatalf("%+v", *f)
	}
	_, err = ValidateFinger(ContentTypeFinger, 2, twoViews(2, 1, 1))
	wantCode(t, err, CodeMalformedRecord)
	_, err = ValidateFinger(ContentTypeFinger, 2, twoViews(2, 1, 3))
	wantCode(t, err, CodeMalformedRecord)
	b := twoViews(2, 1, 2)
	second := 32 + (len(b)-32)/2
	b[second+4] = 3
	_, err = ValidateFinger(ContentTypeFinger, 2, b)
	wantCode(t, err, CodePositionMismatch)
}

func TestValidateFingerRefusals(t *testing.T) {
	wsq := WSQFrame(300, 400)
	rec := FingerRecord(3, 300, 400, CompressionWSQ, wsq)
	n := len(rec)
	length := func(v int) []byte {
		return []byte{byte(v >> 40), byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	}
	withRes := func(units byte, h, v int) []byte {
		b := patch(rec, 19, units)
		b = patch(b, 24, u16(h)...)
		return patch(b, 26, u16(v)...)
	}
	for _, c := range []struct {
		name, ct string
		pos      int
		b        []byte
		code     string
	}{
		{"wrong position", ContentTypeFinger, 4, rec, CodePositionMismatch},
		{"position 0", ContentTypeFinger, 0, rec, CodeInvalidPosition},
		{"position 11", ContentTypeFinger, 11, FingerRecord(11, 300, 400, CompressionWSQ, wsq), CodeInvalidPosition},
		{"record position 0", ContentTypeFinger, 3, FingerRecord(0, 300, 400, CompressionWSQ, wsq), CodePositionMismatch},
		{"content type", ContentTypeJPEG, 3, rec, CodeUnsupportedMediaType},
		{"minutiae type", ContentTypeMinutiae, 3, rec, CodeUnsupportedMediaType},
		{"empty", ContentTypeFinger, 3, nil, CodeEmpty},
		{"too large", ContentTypeFinger, 3, FingerRecord(3, 300, 400, CompressionNone, make([]byte, MaxFingerBytes)), CodeTooLarge},
		{"not a record", ContentTypeFinger, 3, wsq, CodeContentTypeMismatch},
		{"a face record", ContentTypeFinger, 3, FaceRecord(FormatJPEG, 300, 400, SyntheticJPEG(300, 400)), CodeContentTypeMismatch},
		{"version", ContentTypeFinger, 3, patch(rec, 4, '0', '2', '0'), CodeMalformedRecord},
		{"record length +1", ContentTypeFinger, 3, patch(rec, 8, length(n+1)...), CodeTruncated},
		{"record length -1", ContentTypeFinger, 3, patch(rec, 8, length(n-1)...), CodeMalformedRecord},
		{"block length +1", ContentTypeFinger, 3, patch(rec, 32, u32(n-32+1)...), CodeMalformedRecord},
		{"block length -1", ContentTypeFinger, 3, patch(rec, 32, u32(n-32-1)...), CodeMalformedRecord},
		{"byte after the block", ContentTypeFinger, 3, append(patch(rec, 8, length(n+1)...), 0), CodeMalformedRecord},
		{"no image data", ContentTypeFinger, 3, FingerRecord(3, 300, 400, CompressionWSQ, nil), CodeMalformedRecord},
		{"no finger", ContentTypeFinger, 3, patch(rec, 18, 0), CodeMalformedRecord},
		{"five views", ContentTypeFinger, 3, patch(rec, 18, 5), CodeMalformedRecord},
		{"count says two, one block", ContentTypeFinger, 3, patch(rec, 18, 2), CodeMalformedRecord},
		{"view count 0", ContentTypeFinger, 3, patch(rec, 37, 0), CodeMalformedRecord},
		{"view number 2 of 1", ContentTypeFinger, 3, patch(rec, 38, 2), CodeMalformedRecord},
		{"compression 6", ContentTypeFinger, 3, patch(rec, 29, 6), CodeMalformedRecord},
		{"pixel depth 0", ContentTypeFinger, 3, patch(rec, 28, 0), CodeMalformedRecord},
		{"scale units 0", ContentTypeFinger, 3, patch(rec, 19, 0), CodeMalformedRecord},
		{"125 ppi", ContentTypeFinger, 3, withRes(1, 125, 125), CodeMalformedRecord},
		{"2000 ppi", ContentTypeFinger, 3, withRes(1, 2000, 2000), CodeMalformedRecord},
		{"vertical 0 ppi", ContentTypeFinger, 3, withRes(1, 500, 0), CodeMalformedRecord},
		{"50 ppcm", ContentTypeFinger, 3, withRes(2, 50, 50), CodeMalformedRecord},
		{"too small", ContentTypeFinger, 3, FingerRecord(3, 99, 400, CompressionWSQ, WSQFrame(99, 400)), CodeImageTooSmall},
		{"too large", ContentTypeFinger, 3, FingerRecord(3, 300, 5000, CompressionWSQ, WSQFrame(300, 5000)), CodeImageTooLarge},
		{"WSQ size disagrees", ContentTypeFinger, 3, FingerRecord(3, 300, 401, CompressionWSQ, wsq), CodeMalformedRecord},
		{"WSQ without EOI", ContentTypeFinger, 3, FingerRecord(3, 300, 400, CompressionWSQ, wsq[:len(wsq)-1]), CodeTruncated},
		{"WSQ without frame", ContentTypeFinger, 3, FingerRecord(3, 300, 400, CompressionWSQ, []byte{0xFF, 0xA0, 0xFF, 0xA1}), CodeMalformedImage},
		{"WSQ data before frame", ContentTypeFinger, 3, FingerRecord(3, 300, 400, CompressionWSQ, append([]byte{0xFF, 0xA0, 0xFF, 0xA3, 0, 4, 0, 0}, wsq[2:]...)), CodeMalformedImage},
		{"WSQ segment overruns", ContentTypeFinger, 3, FingerRecord(3, 300, 400, CompressionWSQ, patch(wsq, 4, 0, 200)), CodeMalformedImage},
		{"WSQ declared JPEG", ContentTypeFinger, 3, FingerRecord(3, 300, 400, CompressionJPEG, wsq), CodeContentTypeMismatch},
		{"JPEG declared WSQ", ContentTypeFinger, 3, FingerRecord(3, 300, 400, CompressionWSQ, SyntheticJPEG(300, 400)), CodeContentTypeMismatch},
		{"PNG declared JPEG 2000", ContentTypeFinger, 3, FingerRecord(3, 300, 400, CompressionJPEG2000, SyntheticPNG(300, 400)), CodeContentTypeMismatch},
		{"JPEG size disagrees", ContentTypeFinger, 3, FingerRecord(3, 300, 399, CompressionJPEG, SyntheticJPEG(300, 400)), CodeMalformedRecord},
		{"PNG size disagrees", ContentTypeFinger, 3, FingerRecord(3, 301, 400, CompressionPNG, SyntheticPNG(300, 400)), CodeMalformedRecord},
		{"JPEG 2000 size disagrees", ContentTypeFinger, 3, FingerRecord(3, 200, 251, CompressionJPEG2000, readTestdata(t, "finger-200x250.j2k")), CodeMalformedRecord},
		{"truncated JPEG", ContentTypeFinger, 3, FingerRecord(3, 300, 400, CompressionJPEG, SyntheticJPEG(300, 400)[:5000]), CodeTruncated},
		{"truncated PNG", ContentTypeFinger, 3, FingerRecord(3, 300, 400, CompressionPNG, SyntheticPNG(300, 400)[:3000]), CodeTruncated},
		{"PNG with trailing bytes", ContentTypeFinger, 3, FingerRecord(3, 300, 400, CompressionPNG, append(SyntheticPNG(300, 400), 0)), CodeMalformedImage},
		{"truncated JPEG 2000", ContentTypeFinger, 3, FingerRecord(3, 200, 250, CompressionJPEG2000, readTestdata(t, "finger-200x250.j2k")[:1000]), CodeTruncated},
		{"uncompressed one byte short", ContentTypeFinger, 3, FingerRecord(3, 150, 120, CompressionNone, make([]byte, 150*120-1)), CodeMalformedRecord},
		{"uncompressed one byte long", ContentTypeFinger, 3, FingerRecord(3, 150, 120, CompressionNone, make([]byte, 150*120+1)), CodeMalformedRecord},
		{"bit packed one byte long", ContentTypeFinger, 3, FingerRecord(3, 150, 120, CompressionBitPacked, make([]byte, 150*120+1)), CodeMalformedRecord},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ValidateFinger(c.ct, c.pos, c.b)
			wantCode(t, err, c.code)
		})
	}
	for _, cut := range []int{1, 3, 4, 14, 31, 32, 40, 46, n - 2, n - 1} {
		_, err := ValidateFinger(ContentTypeFinger, 3, rec[:cut])
		wantCode(t, err, CodeTruncated)
	}
	// 16-bit uncompressed pixels take two bytes each; 1-bit packed ones
	// an eighth.
	deep := patch(FingerRecord(3, 150, 120, CompressionNone, make([]byte, 2*150*120)), 28, 16)
	if _, err := ValidateFinger(ContentTypeFinger, 3, deep); err != nil {
		t.Fatal(err)
	}
	bits := patch(FingerRecord(3, 150, 120, CompressionBitPacked, make([]byte, (150*120+7)/8)), 28, 1)
	if _, err := ValidateFinger(ContentTypeFinger, 3, bits); err != nil {
		t.Fatal(err)
	}
	// Resolution in pixels per cm: 197 ppcm is 500 ppi.
	ppcm := withRes(2, 197, 197)
	f, err := ValidateFinger(ContentTypeFinger, 3, ppcm)
	if err != nil || f.Resolution != 500 {
		t.Fatalf("%v %+v", err, f)
	}
}

func TestFingerRecordLayout(t *testing.T) {
	img := WSQFrame(300, 400)
	rec := FingerRecord(7, 300, 400, CompressionWSQ, img)
	want := []byte("FIR\x00010\x00")
	want = append(want, 0, 0, 0, 0, 0, byte(32+14+len(img)))
	want = append(want, 0, 0, 0, 31, 1, 1, 1, 0xF4, 1, 0xF4, 1, 0xF4, 1, 0xF4, 8, 2, 0, 0)
	want = binary.BigEndian.AppendUint32(want, uint32(14+len(img)))
	want = append(want, 7, 1, 1, 0, 0, 1, 44, 1, 144, 0)
	want = append(want, img...)
	if !bytes.Equal(rec, want) {
		t.Fatalf("record\n% x\nwant\n% x", rec, want)
	}
	if got := WSQFrame(300, 400); !bytes.Equal(got, []byte{0xFF, 0xA0, 0xFF, 0xA2, 0, 17, 0, 255, 1, 144, 1, 44, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xA1}) {
		t.Fatalf("WSQ frame % x", got)
	}
}

package biometric

import (
	"bytes"
	"testing"
)

var someMinutiae = []Minutia{
	{Type: 1, X: 10, Y: 20, Angle: 64, Quality: 80},
	{Type: 2, X: 299, Y: 399, Angle: 255, Quality: 100},
	{Type: 0, X: 0, Y: 0, Angle: 0, Quality: 0},
}

func TestValidateMinutiae(t *testing.T) {
	rec := MinutiaeRecord(6, 300, 400, someMinutiae)
	m, err := ValidateMinutiae(ContentTypeMinutiae, 6, rec)
	if err != nil {
		t.Fatal(err)
	}
	if m.Position != 6 || m.Count != 3 || m.Views != 1 || !bytes.Equal(m.Record, rec) {
		t.Fatalf("%+v", *m)
	}
	// No minutiae at all is a valid (if useless) record.
	if m, err := ValidateMinutiae(ContentTypeMinutiae, 6, MinutiaeRecord(6, 300, 400, nil)); err != nil || m.Count != 0 {
		t.Fatalf("%v %+v", err, m)
	}
	// 255 minutiae, the most one view holds.
	many := make([]Minutia, 255)
	for i := range many {
		many[i] = Minutia{Type: 1, X: i, Y: i, Angle: i}
	}
	if m, err := ValidateMinutiae(ContentTypeMinutiae, 6, MinutiaeRecord(6, 300, 400, many)); err != nil || m.Count != 255 {
		t.Fatalf("%v %+v", err, m)
	}
}

func TestMinutiaeRecordLayout(t *testing.T) {
	rec := MinutiaeRecord(6, 300, 400, someMinutiae[:1])
	want := []byte{
		'F', 'M', 'R', 0, ' ', '2', '0', 0, 0, 0, 0, 36, // length 24 + 4 + 6 + 2
		0, 0, 1, 44, 1, 144, 0, 197, 0, 197, 1, 0,
		6, 0, 60, 1,
		0x40, 10, 0, 20, 64, 80,
		0, 0,
	}
	if !bytes.Equal(rec, want) {
		t.Fatalf("record\n% x\nwant\n% x", rec, want)
	}
}

// withExtended appends extended data to a one-view record.
func withExtended(rec, ext []byte) []byte {
	b := bytes.Clone(rec[:len(rec)-2])
	b = append(b, u16(len(ext))...)
	b = append(b, ext...)
	return patch(b, 8, u32(len(b))...)
}

func TestValidateMinutiaeRefusals(t *testing.T) {
	rec := MinutiaeRecord(6, 300, 400, someMinutiae)
	n := len(rec)
	m0 := 28 // first minutia: 24-byte header, 4-byte view header
	for _, c := range []struct {
		name, ct string
		pos      int
		b        []byte
		code     string
	}{
		{"wrong position", ContentTypeMinutiae, 5, rec, CodePositionMismatch},
		{"position 0", ContentTypeMinutiae, 0, rec, CodeInvalidPosition},
		{"position 11", ContentTypeMinutiae, 11, rec, CodeInvalidPosition},
		{"content type", ContentTypeFinger, 6, rec, CodeUnsupportedMediaType},
		{"empty", ContentTypeMinutiae, 6, nil, CodeEmpty},
		{"too large", ContentTypeMinutiae, 6, make([]byte, MaxFingerBytes+1), CodeTooLarge},
		{"not a record", ContentTypeMinutiae, 6, FingerRecord(6, 300, 400, CompressionWSQ, WSQFrame(300, 400)), CodeContentTypeMismatch},
		{"version", ContentTypeMinutiae, 6, patch(rec, 4, '0', '3', '0'), CodeMalformedRecord},
		{"length +1", ContentTypeMinutiae, 6, patch(rec, 8, u32(n+1)...), CodeTruncated},
		{"length -1", ContentTypeMinutiae, 6, patch(rec, 8, u32(n-1)...), CodeMalformedRecord},
		{"trailing byte", ContentTypeMinutiae, 6, append(patch(rec, 8, u32(n+1)...), 0), CodeMalformedRecord},
		{"count one more", ContentTypeMinutiae, 6, patch(rec, 27, 4), CodeMalformedRecord},
		{"count one less", ContentTypeMinutiae, 6, patch(rec, 27, 2), CodeMalformedRecord},
		{"x on the edge", ContentTypeMinutiae, 6, MinutiaeRecord(6, 300, 400, []Minutia{{Type: 1, X: 300, Y: 5}}), CodeMalformedRecord},
		{"y on the edge", ContentTypeMinutiae, 6, MinutiaeRecord(6, 300, 400, []Minutia{{Type: 1, X: 5, Y: 400}}), CodeMalformedRecord},
		{"type 3", ContentTypeMinutiae, 6, patch(rec, m0, 0xC0|rec[m0]&0x3F), CodeMalformedRecord},
		{"minutia quality 101", ContentTypeMinutiae, 6, patch(rec, m0+5, 101), CodeMalformedRecord},
		{"view quality 101", ContentTypeMinutiae, 6, patch(rec, 26, 101), CodeMalformedRecord},
		{"no image width", ContentTypeMinutiae, 6, patch(rec, 14, 0, 0), CodeMalformedRecord},
		{"no resolution", ContentTypeMinutiae, 6, patch(rec, 18, 0, 0), CodeMalformedRecord},
		{"no view", ContentTypeMinutiae, 6, patch(rec, 22, 0), CodeMalformedRecord},
		{"two views, one given", ContentTypeMinutiae, 6, patch(rec, 22, 2), CodeMalformedRecord},
		{"extended data overruns", ContentTypeMinutiae, 6, patch(rec, n-2, 0, 1), CodeMalformedRecord},
		{"cut in the header", ContentTypeMinutiae, 6, rec[:20], CodeTruncated},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ValidateMinutiae(c.ct, c.pos, c.b)
			wantCode(t, err, c.code)
		})
	}
	for _, cut := range []int{2, 10, 23, 24, 30, n - 1} {
		_, err := ValidateMinutiae(ContentTypeMinutiae, 6, rec[:cut])
		wantCode(t, err, CodeTruncated)
	}
	// Extended data that fits, and the long length form.
	ext := withExtended(rec, []byte{0, 1, 0, 8, 1, 2, 3, 4})
	if m, err := ValidateMinutiae(ContentTypeMinutiae, 6, ext); err != nil || m.Count != 3 {
		t.Fatalf("%v %+v", err, m)
	}
	var err error
	// Two views of the same finger, and a repeated view number.
	two := twoMinutiaeViews(rec, 0x10)
	if m, err := ValidateMinutiae(ContentTypeMinutiae, 6, two); err != nil || m.Count != 6 || m.Views != 2 {
		t.Fatalf("two views: %v %+v", err, m)
	}
	_, err = ValidateMinutiae(ContentTypeMinutiae, 6, twoMinutiaeViews(rec, 0x00))
	wantCode(t, err, CodeMalformedRecord)
	_, err = ValidateMinutiae(ContentTypeMinutiae, 6, twoMinutiaeViews(rec, 0x19)) // impression 9
	wantCode(t, err, CodeMalformedRecord)
	_, err = ValidateMinutiae(ContentTypeMinutiae, 6, patch(rec, 23, 1)) // reserved
	wantCode(t, err, CodeMalformedRecord)
}

// twoMinutiaeViews repeats the one view of rec with the second view's
// view/impression byte vi.
func twoMinutiaeViews(rec []byte, vi byte) []byte {
	view := bytes.Clone(rec[24:])
	view[1] = vi
	b := append(bytes.Clone(rec), view...)
	b[22] = 2
	return patch(b, 8, u32(len(b))...)
}

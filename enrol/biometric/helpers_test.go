package biometric

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/jpeg"
	"os"
	"strconv"
	"testing"
)

// codes is every refusal code the package documents.
var codes = map[string]bool{
	CodeUnsupportedMediaType: true, CodeContentTypeMismatch: true, CodeEmpty: true, CodeTooLarge: true,
	CodeTruncated: true, CodeMalformedRecord: true, CodeMalformedImage: true, CodeImageTooSmall: true,
	CodeImageTooLarge: true, CodeAspectRatio: true, CodePositionMismatch: true, CodeInvalidPosition: true,
}

// wantCode asserts that err is an *Error with the code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *Error %q", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code %q (%s), want %q", e.Code, e.Message, code)
	}
	checkMessage(t, e)
}

// checkMessage asserts a refusal is a plain sentence that carries no
// upload bytes: printable ASCII, bounded, and a documented code.
func checkMessage(t testing.TB, e *Error) {
	t.Helper()
	if !codes[e.Code] {
		t.Fatalf("undocumented code %q", e.Code)
	}
	if len(e.Message) == 0 || len(e.Message) > 300 {
		t.Fatalf("message of %d bytes: %q", len(e.Message), e.Message)
	}
	for _, r := range e.Message {
		if r < 0x20 || r > 0x7E {
			t.Fatalf("message with a non-printable character: %q", e.Message)
		}
	}
	if e.Error() != "biometric: "+e.Message {
		t.Fatalf("Error() = %q", e.Error())
	}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// patch returns a copy of b with the bytes at off replaced.
func patch(b []byte, off int, with ...byte) []byte {
	c := bytes.Clone(b)
	copy(c[off:], with)
	return c
}

// jpegSOF returns the offset of the first SOF0/SOF2 frame header's height
// field in a JPEG written by image/jpeg.
func jpegSOF(t testing.TB, b []byte) int {
	t.Helper()
	for _, m := range []string{"\xFF\xC0", "\xFF\xC2"} {
		if i := bytes.Index(b, []byte(m)); i > 0 {
			return i + 5 // marker, length, precision
		}
	}
	t.Fatal("no SOF")
	return 0
}

func u16(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
func u32(v int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }

func itoa(i int) string { return strconv.Itoa(i) }

func decodeJPEGForTest(t testing.TB, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

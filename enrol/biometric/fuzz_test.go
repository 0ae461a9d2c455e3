package biometric

import (
	"errors"
	"os"
	"testing"
)

// refusal asserts a Validate error is a documented *Error.
func refusal(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v of type %T, want *Error", err, err)
	}
	checkMessage(t, e)
}

var faceTypes = []string{ContentTypeJPEG, ContentTypeJP2, ContentTypeFace, "image/png", ""}

func FuzzValidateFace(f *testing.F) {
	jpg := SyntheticJPEG(240, 320)
	jp2, _ := os.ReadFile("testdata/face-300x400.jp2")
	j2k, _ := os.ReadFile("testdata/face-300x400-tiled.j2k")
	tiny, _ := os.ReadFile("testdata/face-240x320-tiny.j2k")
	f.Add(uint8(0), jpg)
	f.Add(uint8(1), jp2)
	f.Add(uint8(1), j2k)
	f.Add(uint8(1), tiny)
	f.Add(uint8(2), FaceRecord(FormatJPEG, 240, 320, jpg))
	f.Add(uint8(2), FaceRecord(FormatJPEG2000, 300, 400, jp2))
	f.Add(uint8(2), FaceRecord(FormatJPEG2000, 240, 320, tiny))
	f.Fuzz(func(t *testing.T, ct uint8, b []byte) {
		face, err := ValidateFace(faceTypes[int(ct)%len(faceTypes)], b)
		if err != nil {
			refusal(t, err)
			return
		}
		if face.Format != FormatJPEG && face.Format != FormatJPEG2000 {
			t.Fatalf("format %q", face.Format)
		}
		if face.Width < MinFaceWidth || face.Height < MinFaceHeight || face.Width > MaxFaceSide || face.Height > MaxFaceSide ||
			face.Height*100 < face.Width*MinAspect100 || face.Height*100 > face.Width*MaxAspect100 {
			t.Fatalf("accepted %dx%d", face.Width, face.Height)
		}
		if len(face.Image) < MinImageBytes || len(b) > MaxFaceBytes {
			t.Fatalf("accepted %d bytes of image in %d", len(face.Image), len(b))
		}
	})
}

func FuzzValidateFinger(f *testing.F) {
	f.Add(3, FingerRecord(3, 300, 400, CompressionWSQ, WSQFrame(300, 400)))
	f.Add(1, FingerRecord(1, 120, 100, CompressionPNG, SyntheticPNG(120, 100)))
	f.Add(10, FingerRecord(10, 100, 100, CompressionNone, make([]byte, 100*100)))
	f.Add(4, FingerRecord(4, 100, 100, CompressionBitPacked, make([]byte, 100*100)))
	f.Add(2, FingerRecord(2, 240, 320, CompressionJPEG, SyntheticJPEG(240, 320)))
	if j2k, err := os.ReadFile("testdata/finger-200x250.j2k"); err == nil {
		f.Add(5, FingerRecord(5, 200, 250, CompressionJPEG2000, j2k))
	}
	f.Add(2, twoViews(2, 1, 2))
	f.Fuzz(func(t *testing.T, pos int, b []byte) {
		fi, err := ValidateFinger(ContentTypeFinger, pos, b)
		if err != nil {
			refusal(t, err)
			return
		}
		if fi.Position != pos || pos < 1 || pos > 10 || fi.Width < MinFingerSide || fi.Height < MinFingerSide ||
			fi.Views < 1 || fi.Views > MaxFingerViews || len(fi.Image) == 0 || fi.Resolution < 240 || fi.Resolution > 1010 {
			t.Fatalf("accepted %+v", *fi)
		}
	})
}

func FuzzValidateMinutiae(f *testing.F) {
	f.Add(6, MinutiaeRecord(6, 300, 400, someMinutiae))
	f.Add(1, MinutiaeRecord(1, 10, 10, nil))
	f.Add(6, withExtended(MinutiaeRecord(6, 300, 400, someMinutiae), []byte{0, 1, 0, 8, 1, 2, 3, 4}))
	f.Add(6, twoMinutiaeViews(MinutiaeRecord(6, 300, 400, someMinutiae), 0x10))
	f.Fuzz(func(t *testing.T, pos int, b []byte) {
		m, err := ValidateMinutiae(ContentTypeMinutiae, pos, b)
		if err != nil {
			refusal(t, err)
			return
		}
		if m.Position != pos || m.Count < 0 || m.Count > maxMinutiae*MaxFingerViews || m.Views < 1 {
			t.Fatalf("accepted %+v", *m)
		}
	})
}

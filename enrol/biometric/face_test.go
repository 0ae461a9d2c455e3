package biometric

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestValidateFaceJPEG(t *testing.T) {
	img := SyntheticJPEG(300, 400)
	for _, ct := range []string{"image/jpeg", "IMAGE/JPEG", "image/jpeg; charset=binary"} {
		f, err := ValidateFace(ct, img)
		if err != nil {
			t.Fatalf("%s: %v", ct, err)
		}
		if f.Format != "JPEG" || f.Width != 300 || f.Height != 400 || !bytes.Equal(f.Image, img) || f.Record != nil {
			t.Fatalf("%s: %+v", ct, *f)
		}
	}
}

func TestValidateFaceJPEG2000(t *testing.T) {
	for _, name := range []string{"face-300x400.jp2", "face-300x400-tiled.j2k"} {
		b := readTestdata(t, name)
		f, err := ValidateFace(ContentTypeJP2, b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if f.Format != "JPEG2000" || f.Width != 300 || f.Height != 400 || !bytes.Equal(f.Image, b) || f.Record != nil {
			t.Fatalf("%s: %+v", name, *f)
		}
	}
}

// TestValidateFaceOpenJPEG encodes fresh JPEG 2000 images with OpenJPEG's
// opj_compress (Debian libopenjp2-tools) in several codestream layouts:
// the committed testdata was made the same way (see testdata/README).
func TestValidateFaceOpenJPEG(t *testing.T) {
	opj, err := exec.LookPath("opj_compress")
	if err != nil {
		t.Skip("opj_compress not installed (apt-get install libopenjp2-tools); testdata covers JPEG 2000")
	}
	dir := t.TempDir()
	ppm := filepath.Join(dir, "face.ppm")
	if err := os.WriteFile(ppm, syntheticPPM(t, 360, 480), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, args := range [][]string{
		{"-o", "a.jp2", "-r", "30"},
		{"-o", "b.j2k", "-r", "20,10"},
		{"-o", "c.jp2", "-t", "100,100", "-TP", "R", "-n", "4"},
		{"-o", "d.j2k", "-t", "200,200", "-SOP", "-EPH", "-p", "RPCL"},
		{"-o", "e.jp2"}, // lossless
	} {
		out := filepath.Join(dir, args[1])
		cmd := exec.Command(opj, append([]string{"-i", ppm}, append([]string{"-o", out}, args[2:]...)...)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("opj_compress %v: %v\n%s", args, err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		f, err := ValidateFace(ContentTypeJP2, b)
		if err != nil {
			t.Fatalf("%d %v: %v", i, args, err)
		}
		if f.Width != 360 || f.Height != 480 || f.Format != FormatJPEG2000 {
			t.Fatalf("%v: %+v", args, *f)
		}
		for _, cut := range []int{len(b) / 3, len(b) / 2, len(b) - 3, len(b) - 1} {
			_, err := ValidateFace(ContentTypeJP2, b[:cut])
			wantCode(t, err, CodeTruncated)
		}
	}
}

// syntheticPPM converts SyntheticJPEG's pixels to a binary PPM.
func syntheticPPM(t *testing.T, w, h int) []byte {
	t.Helper()
	img := decodeJPEGForTest(t, SyntheticJPEG(w, h))
	var b bytes.Buffer
	b.WriteString("P6\n")
	b.WriteString(itoa(w) + " " + itoa(h) + "\n255\n")
	for y := range h {
		for x := range w {
			r, g, bl, _ := img.At(x, y).RGBA()
			b.Write([]byte{byte(r >> 8), byte(g >> 8), byte(bl >> 8)})
		}
	}
	return b.Bytes()
}

func TestValidateFaceRecord(t *testing.T) {
	for _, c := range []struct {
		format string
		img    []byte
	}{
		{FormatJPEG, SyntheticJPEG(300, 400)},
		{FormatJPEG2000, readTestdata(t, "face-300x400.jp2")},
		{FormatJPEG2000, readTestdata(t, "face-300x400-tiled.j2k")},
	} {
		rec := FaceRecord(c.format, 300, 400, c.img)
		if len(rec) != 14+20+12+len(c.img) {
			t.Fatalf("record of %d bytes", len(rec))
		}
		f, err := ValidateFace(ContentTypeFace, rec)
		if err != nil {
			t.Fatalf("%s: %v", c.format, err)
		}
		if f.Format != c.format || f.Width != 300 || f.Height != 400 || !bytes.Equal(f.Image, c.img) || !bytes.Equal(f.Record, rec) {
			t.Fatalf("%s: %+v", c.format, *f)
		}
	}
}

func TestValidateFaceRecordRefusals(t *testing.T) {
	img := SyntheticJPEG(300, 400)
	rec := FaceRecord(FormatJPEG, 300, 400, img)
	n := len(rec)
	for _, c := range []struct {
		name string
		b    []byte
		code string
	}{
		{"record length +1", patch(rec, 8, u32(n+1)...), CodeTruncated},
		{"record length -1", patch(rec, 8, u32(n-1)...), CodeMalformedRecord},
		{"block length +1", patch(rec, 14, u32(n-14+1)...), CodeMalformedRecord},
		{"block length -1", patch(rec, 14, u32(n-14-1)...), CodeMalformedRecord},
		{"extra byte", append(patch(rec, 8, u32(n+1)...), 0), CodeMalformedRecord},
		{"two images", patch(rec, 12, 0, 2), CodeMalformedRecord},
		{"no image", patch(rec, 12, 0, 0), CodeMalformedRecord},
		{"version", patch(rec, 4, '0', '2', '0'), CodeMalformedRecord},
		{"data type JPEG 2000 around a JPEG", FaceRecord(FormatJPEG2000, 300, 400, img), CodeContentTypeMismatch},
		{"data type JPEG around a JP2", FaceRecord(FormatJPEG, 300, 400, readTestdata(t, "face-300x400.jp2")), CodeContentTypeMismatch},
		{"unknown data type", FaceRecord("PNG", 300, 400, img), CodeMalformedRecord},
		{"face image type 3", patch(rec, 34, 3), CodeMalformedRecord},
		{"width disagrees", FaceRecord(FormatJPEG, 301, 400, img), CodeMalformedRecord},
		{"height disagrees", FaceRecord(FormatJPEG, 300, 399, img), CodeMalformedRecord},
		{"feature points past the end", patch(rec, 18, 0xFF, 0xFF), CodeMalformedRecord},
		{"not a record", img, CodeContentTypeMismatch},
		{"cut in the general header", rec[:10], CodeTruncated},
		{"cut in the magic", rec[:3], CodeTruncated},
		{"header only, lengths agreeing", patch(rec[:40], 8, u32(40)...), CodeMalformedRecord},
		{"landscape inside", FaceRecord(FormatJPEG, 400, 300, SyntheticJPEG(400, 300)), CodeAspectRatio},
		{"truncated image inside", FaceRecord(FormatJPEG, 300, 400, img[:len(img)/2]), CodeTruncated},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ValidateFace(ContentTypeFace, c.b)
			wantCode(t, err, c.code)
		})
	}
	for _, cut := range []int{20, 40, 46, 47, 100, n / 2, n - 2, n - 1} {
		_, err := ValidateFace(ContentTypeFace, rec[:cut])
		wantCode(t, err, CodeTruncated)
	}
}

func TestValidateFaceTruncated(t *testing.T) {
	jpg := SyntheticJPEG(300, 400)
	for _, cut := range []int{2, 100, 700, 1500, len(jpg) / 4, len(jpg) / 2, len(jpg) - 100, len(jpg) - 2, len(jpg) - 1} {
		_, err := ValidateFace(ContentTypeJPEG, jpg[:cut])
		wantCode(t, err, CodeTruncated)
	}
	for _, name := range []string{"face-300x400.jp2", "face-300x400-tiled.j2k"} {
		b := readTestdata(t, name)
		// Every cut from the first box on.
		for cut := 12; cut < len(b); cut++ {
			_, err := ValidateFace(ContentTypeJP2, b[:cut])
			wantCode(t, err, CodeTruncated)
		}
	}
}

func TestValidateFaceSize(t *testing.T) {
	for _, c := range []struct {
		w, h int
		code string
	}{
		{240, 320, ""},
		{300, 375, ""}, // 1.25
		{300, 420, ""}, // 1.40
		{300, 374, CodeAspectRatio},
		{300, 421, CodeAspectRatio},
		{400, 300, CodeAspectRatio}, // landscape
		{400, 400, CodeAspectRatio}, // square
		{239, 320, CodeImageTooSmall},
		{240, 319, CodeImageTooSmall},
		{180, 240, CodeImageTooSmall},
	} {
		_, err := ValidateFace(ContentTypeJPEG, SyntheticJPEG(c.w, c.h))
		if c.code == "" {
			if err != nil {
				t.Fatalf("%dx%d: %v", c.w, c.h, err)
			}
			continue
		}
		wantCode(t, err, c.code)
	}
	// A header claiming more pixels than MaxFaceSide is refused before
	// any decoding.
	jpg := SyntheticJPEG(300, 400)
	sof := jpegSOF(t, jpg)
	_, err := ValidateFace(ContentTypeJPEG, patch(jpg, sof, u16(MaxFaceSide+1)...))
	wantCode(t, err, CodeImageTooLarge)
	// A portrait of the minimum size but fewer than MinImageBytes: a JPEG
	// 2000 codestream compressed 800:1 by opj_compress.
	tiny := readTestdata(t, "face-240x320-tiny.j2k")
	if len(tiny) >= MinImageBytes {
		t.Fatalf("tiny JPEG 2000 of %d bytes", len(tiny))
	}
	if _, e := checkJPEG2000(tiny); e != nil {
		t.Fatal(e)
	}
	_, err = ValidateFace(ContentTypeJP2, tiny)
	wantCode(t, err, CodeImageTooSmall)
}

func TestValidateFaceRefusals(t *testing.T) {
	jpg := SyntheticJPEG(300, 400)
	jp2 := readTestdata(t, "face-300x400.jp2")
	j2k := readTestdata(t, "face-300x400-tiled.j2k")
	png := SyntheticPNG(300, 400)
	for _, c := range []struct {
		name, ct string
		b        []byte
		code     string
	}{
		{"no content type", "", jpg, CodeUnsupportedMediaType},
		{"png type", "image/png", png, CodeUnsupportedMediaType},
		{"text", "text/plain", jpg, CodeUnsupportedMediaType},
		{"unparsable type", "image/jpeg; ;;=", jpg, CodeUnsupportedMediaType},
		{"finger type", ContentTypeFinger, jpg, CodeUnsupportedMediaType},
		{"empty", ContentTypeJPEG, nil, CodeEmpty},
		{"too large", ContentTypeJPEG, append(bytes.Clone(jpg), make([]byte, MaxFaceBytes)...), CodeTooLarge},
		{"JPEG sent as JP2", ContentTypeJP2, jpg, CodeContentTypeMismatch},
		{"JP2 sent as JPEG", ContentTypeJPEG, jp2, CodeContentTypeMismatch},
		{"J2K sent as JPEG", ContentTypeJPEG, j2k, CodeContentTypeMismatch},
		{"PNG sent as JPEG", ContentTypeJPEG, png, CodeContentTypeMismatch},
		{"record sent as JPEG", ContentTypeJPEG, FaceRecord(FormatJPEG, 300, 400, jpg), CodeContentTypeMismatch},
		{"text sent as JPEG", ContentTypeJPEG, bytes.Repeat([]byte("hello "), 400), CodeContentTypeMismatch},
		{"bytes after EOI", ContentTypeJPEG, append(bytes.Clone(jpg), "trailing"...), CodeMalformedImage},
		{"12-bit JPEG", ContentTypeJPEG, patch(jpg, jpegSOF(t, jpg)-1, 12), CodeMalformedImage},
		{"JPEG of zero width", ContentTypeJPEG, patch(jpg, jpegSOF(t, jpg)+2, 0, 0), CodeMalformedImage},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ValidateFace(c.ct, c.b)
			wantCode(t, err, c.code)
		})
	}
}

func TestValidateFaceJPEG2000Refusals(t *testing.T) {
	jp2 := readTestdata(t, "face-300x400.jp2")
	j2k := readTestdata(t, "face-300x400-tiled.j2k")
	ihdr := bytes.Index(jp2, []byte("ihdr")) + 4
	jp2c := bytes.Index(jp2, []byte("jp2c")) + 4
	ftyp := bytes.Index(jp2, []byte("ftyp")) + 4
	colr := bytes.Index(jp2, []byte("colr"))
	// First tile-part: its SOT follows the main header; Psot is 6
	// bytes after the marker.
	sot := bytes.Index(j2k, []byte{0xFF, 0x90, 0x00, 0x0A})
	psot := int(j2k[sot+6])<<24 | int(j2k[sot+7])<<16 | int(j2k[sot+8])<<8 | int(j2k[sot+9])
	for _, c := range []struct {
		name string
		b    []byte
		code string
	}{
		{"ihdr width disagrees", patch(jp2, ihdr+4, u32(301)...), CodeMalformedImage},
		{"ihdr components disagree", patch(jp2, ihdr+8, 0, 1), CodeMalformedImage},
		{"ihdr compression not 7", patch(jp2, ihdr+11, 6), CodeMalformedImage},
		{"no jp2 brand", patch(patch(jp2, ftyp, 'j', 'p', 'x', ' '), ftyp+8, 'j', 'p', 'x', ' '), CodeMalformedImage},
		{"brand only in the compatibility list", patch(jp2, ftyp, 'j', 'p', 'x', ' '), ""},
		{"no colr", patch(jp2, colr, 'c', 'o', 'l', 'x'), CodeMalformedImage},
		{"not jp2c", patch(jp2, jp2c-4, 'x', 'x', 'x', 'x'), CodeTruncated},
		{"codestream not at SOC", patch(jp2, jp2c, 0xFF, 0x4E), CodeMalformedImage},
		{"bytes after EOC", append(bytes.Clone(j2k), 0), CodeMalformedImage},
		{"Psot one short", patch(j2k, sot+6, u32(psot-1)...), CodeMalformedImage},
		{"Psot one long", patch(j2k, sot+6, u32(psot+1)...), CodeMalformedImage},
		{"tile index out of range", patch(j2k, sot+4, 0x7F, 0xFF), CodeMalformedImage},
		{"SIZ length", patch(j2k, 4, 0, 40), CodeMalformedImage},
		{"no tile width", patch(j2k, 24, 0, 0, 0, 0), CodeMalformedImage},
		{"image offset past the size", patch(j2k, 16, u32(300)...), CodeMalformedImage},
		{"no SOC", patch(j2k, 0, 0xFF, 0x4E), CodeContentTypeMismatch},
		{"EOC early", append(bytes.Clone(j2k[:sot]), 0xFF, 0xD9), CodeMalformedImage},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ValidateFace(ContentTypeJP2, c.b)
			if c.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, c.code)
		})
	}
	// A codestream that lost its last tile-part but kept EOC: the tile
	// grid has 9 tiles (128x128 over 300x400), each must have its parts.
	last := bytes.LastIndex(j2k, []byte{0xFF, 0x90, 0x00, 0x0A})
	_, err := ValidateFace(ContentTypeJP2, append(bytes.Clone(j2k[:last]), 0xFF, 0xD9))
	wantCode(t, err, CodeTruncated)
}

// TestValidateFaceOpenJPEGDecode needs the openjp2 build: a codestream
// whose structure is sound but whose coding style cannot be decoded (40
// decomposition levels, 15444-1 A.6.1 allows 32) passes the structural
// walk and is refused by the decoder.
func TestValidateFaceOpenJPEGDecode(t *testing.T) {
	j2k := readTestdata(t, "face-300x400-tiled.j2k")
	cod := bytes.Index(j2k, []byte{0xFF, 0x52})
	bad := patch(j2k, cod+9, 40) // marker, Lcod, Scod, SGcod (4), levels
	if _, e := checkJPEG2000(bad); e != nil {
		t.Fatalf("structural walk: %v", e)
	}
	_, err := ValidateFace(ContentTypeJP2, bad)
	if !openJPEG {
		if err != nil {
			t.Fatal(err)
		}
		t.Skip("built with -tags noopenjp2: JPEG 2000 pixels are not decoded")
	}
	wantCode(t, err, CodeMalformedImage)
}

// TestJPEG2000Lengths covers the length forms 15444-1 allows: a JP2 box
// with an 8-byte XLBox or LBox 0 ("to the end of the file", last box
// only), and a last tile-part with Psot 0 ("to EOC").
func TestJPEG2000Lengths(t *testing.T) {
	jp2 := readTestdata(t, "face-300x400.jp2")
	at := bytes.Index(jp2, []byte("jp2c")) - 4
	if at < 0 || int(be32(jp2[at:])) != len(jp2)-at {
		t.Fatalf("jp2c is not the last box")
	}
	body := jp2[at+8:]
	xl := append(bytes.Clone(jp2[:at]), 0, 0, 0, 1, 'j', 'p', '2', 'c')
	xl = append(xl, 0, 0, 0, 0)
	xl = append(xl, u32(16+len(body))...)
	xl = append(xl, body...)
	toEnd := append(append(bytes.Clone(jp2[:at]), 0, 0, 0, 0, 'j', 'p', '2', 'c'), body...)
	xlShort := patch(xl, at+12, u32(16+len(body)+1)...)
	j2k := readTestdata(t, "face-300x400-tiled.j2k")
	last := bytes.LastIndex(j2k, []byte{0xFF, 0x90, 0x00, 0x0A})
	psot0 := patch(j2k, last+6, 0, 0, 0, 0)
	first := bytes.Index(j2k, []byte{0xFF, 0x90, 0x00, 0x0A})
	psot0Early := patch(j2k, first+6, 0, 0, 0, 0)
	for _, c := range []struct {
		name string
		b    []byte
		code string
	}{
		{"XLBox", xl, ""},
		{"LBox 0", toEnd, ""},
		{"XLBox one too long", xlShort, CodeTruncated},
		{"last tile-part Psot 0", psot0, ""},
		// Psot 0 on the first tile-part swallows the others: the tiles
		// they were for have no data.
		{"first tile-part Psot 0", psot0Early, CodeTruncated},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := ValidateFace(ContentTypeJP2, c.b)
			if c.code != "" {
				wantCode(t, err, c.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Width != 300 || f.Height != 400 {
				t.Fatalf("%+v", *f)
			}
		})
	}
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

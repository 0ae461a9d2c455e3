package lds

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func unhexDG3(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeWSQ is the start of a WSQ file (SOI FFA0), enough for the record.
var fakeWSQ = []byte{0xFF, 0xA0, 0xFF, 0xA8, 0x00, 0x02}

// TestEncodeDG3Bytes pins the encoder to the field layout of ISO/IEC
// 19794-4:2005 §8 and the CBEFF header of 9303-10 §4.7.3, byte by byte.
func TestEncodeDG3Bytes(t *testing.T) {
	b, err := EncodeDG3([]FingerImage{{Position: 2, Quality: 80, Compression: FingerWSQ, Width: 256, Height: 360, Resolution: 500, Data: fakeWSQ}})
	if err != nil {
		t.Fatal(err)
	}
	rec := unhexDG3(t, `
		46495200 30313000 000000000034 0000 001F 01 01 01F4 01F4 01F4 01F4 08 02 0000
		00000014 02 01 01 50 00 0100 0168 00
		FFA0FFA80002`)
	bht := unhexDG3(t, "A10F 80020101 810108 87020101 88020007")
	bit := append(append(append([]byte{}, bht...), 0x5F, 0x2E, byte(len(rec))), rec...)
	grp := append([]byte{0x02, 0x01, 0x01, 0x7F, 0x60, byte(len(bit))}, bit...)
	want := append([]byte{0x63, byte(len(grp) + 3), 0x7F, 0x61, byte(len(grp))}, grp...)
	if !bytes.Equal(b, want) {
		t.Fatalf("DG3\n got %X\nwant %X", b, want)
	}
	d, err := ParseDG3(b)
	if err != nil {
		t.Fatal(err)
	}
	f := d.Fingers[0]
	if len(d.Fingers) != 1 || f.Encoding != BiometricISO19794 || f.Position != 2 || f.Quality != 80 ||
		f.Compression != FingerWSQ || f.Width != 256 || f.Height != 360 || f.ImageResolutionH != 500 ||
		f.ScaleUnits != 1 || f.PixelDepth != 8 || !bytes.Equal(f.Image, fakeWSQ) || len(f.Quirks) != 0 ||
		!bytes.Equal(f.BiometricHeader, bht) || !bytes.Equal(d.Raw, b) {
		t.Fatalf("%+v", f)
	}
}

// fir builds a 19794-4 record with n fingers of the given images.
func fir(t testing.TB, comp FingerCompression, imgs ...[]byte) []byte {
	t.Helper()
	var fingers []byte
	for i, img := range imgs {
		blk := []byte{0, 0, 0, byte(14 + len(img)), byte(i + 1), 1, 1, 60, 0, 0, 10, 0, 20, 0}
		fingers = append(append(fingers, blk...), img...)
	}
	total := 32 + len(fingers)
	hdr := []byte("FIR\x00010\x00")
	hdr = append(hdr, 0, 0, 0, 0, byte(total>>8), byte(total))
	hdr = append(hdr, 0, 0, 0, 31, byte(len(imgs)), 2, 0, 197, 0, 197, 0, 197, 0, 197, 8, byte(comp), 0, 0)
	return append(hdr, fingers...)
}

func dg3Of(t testing.TB, bdbs ...[]byte) []byte {
	t.Helper()
	var g tlvBuilder
	g.add(TagInstanceCount, []byte{byte(len(bdbs))})
	for _, r := range bdbs {
		var bit tlvBuilder
		bit.add(TagBHT, []byte{0x81, 0x01, 0x08})
		if len(r) > 0 && r[0] == 0xA1 || (len(r) > 0 && r[0] == 0x30) {
			bit.add(TagBDBConstructed, r)
		} else {
			bit.add(TagBDB, r)
		}
		g.add(TagBIT, bit.b)
	}
	inner, _ := AppendElement(nil, TagBIGT, g.b)
	out, _ := AppendElement(nil, FileDG3.Tag(), inner)
	return out
}

func TestParseDG3(t *testing.T) {
	jpeg := []byte{0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3}
	png := []byte("\x89PNG\r\n\x1a\n....")
	// A 39794-4 block: representation blocks [1] with two representations,
	// the image nested in context-specific templates.
	rep := func(img []byte) []byte {
		inner, _ := AppendElement(nil, 0x80, img)
		a0, _ := AppendElement(nil, 0xA0, inner)
		return a0
	}
	var reps []byte
	for _, img := range [][]byte{fakeWSQ, png} {
		r, _ := AppendElement(nil, 0x30, rep(img))
		reps = append(reps, r...)
	}
	block, _ := AppendElement(nil, 0xA1, reps)

	long := fir(t, FingerJPEG, jpeg)
	long[13]++ // record length one more than the data

	for _, tc := range []struct {
		name    string
		dg3     []byte
		fingers int
		comp    []FingerCompression
		quirks  []string
		enc     BiometricEncoding
	}{
		{"two fingers in one record", dg3Of(t, fir(t, FingerJPEG, jpeg, jpeg)), 2, []FingerCompression{FingerJPEG, FingerJPEG}, nil, BiometricISO19794},
		{"two templates", dg3Of(t, fir(t, FingerWSQ, fakeWSQ), fir(t, FingerPNG, png)), 2, []FingerCompression{FingerWSQ, FingerPNG}, nil, BiometricISO19794},
		{"record length off", dg3Of(t, long), 1, []FingerCompression{FingerJPEG}, []string{QuirkFingerRecordLength}, BiometricISO19794},
		{"image not what the record says", dg3Of(t, fir(t, FingerWSQ, jpeg)), 1, []FingerCompression{FingerWSQ}, []string{QuirkFingerImageUnrecognised}, BiometricISO19794},
		{"uncompressed", dg3Of(t, fir(t, FingerUncompressed, []byte{1, 2, 3, 4})), 1, []FingerCompression{FingerUncompressed}, nil, BiometricISO19794},
		{"39794-4", dg3Of(t, block), 2, []FingerCompression{FingerWSQ, FingerPNG}, nil, BiometricISO39794},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDG3(tc.dg3)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Fingers) != tc.fingers {
				t.Fatalf("%d fingers", len(d.Fingers))
			}
			for i, f := range d.Fingers {
				if f.Compression != tc.comp[i] || f.Encoding != tc.enc || len(f.Image) == 0 {
					t.Errorf("finger %d: %v %v", i, f.Compression, f.Encoding)
				}
			}
			if strings.Join(d.Quirks, ",") != strings.Join(tc.quirks, ",") {
				t.Errorf("quirks %v, want %v", d.Quirks, tc.quirks)
			}
		})
	}
}

func TestParseDG3Refusals(t *testing.T) {
	jpeg := []byte{0xFF, 0xD8, 0xFF}
	good := fir(t, FingerJPEG, jpeg)
	zero := append([]byte{}, good...)
	zero[18] = 0 // no finger
	short := append([]byte{}, good...)
	short[35]++ // finger block one byte longer than the data
	tiny := append([]byte{}, good...)
	tiny[32], tiny[33], tiny[34], tiny[35] = 0, 0, 0, 14 // no image
	huge := append([]byte{}, good...)
	huge[32] = 0xFF // block length beyond everything
	countWrong := dg3Of(t, good)
	countWrong[7] = 2 // instance count 2, one template
	noBHT := func() []byte {
		var bit tlvBuilder
		bit.add(TagBDB, good)
		var g tlvBuilder
		g.add(TagInstanceCount, []byte{1})
		g.add(TagBIT, bit.b)
		inner, _ := AppendElement(nil, TagBIGT, g.b)
		out, _ := AppendElement(nil, FileDG3.Tag(), inner)
		return out
	}()
	for name, b := range map[string][]byte{
		"empty":              nil,
		"DG2 tag":            append([]byte{0x75}, dg3Of(t, good)[1:]...),
		"truncated header":   dg3Of(t, good[:20]),
		"no finger":          dg3Of(t, zero),
		"finger too long":    dg3Of(t, short),
		"finger without img": dg3Of(t, tiny),
		"block length huge":  dg3Of(t, huge),
		"trailing bytes":     dg3Of(t, append(append([]byte{}, good...), 0)),
		"count mismatch":     countWrong,
		"no header template": noBHT,
		"39794 no reps":      dg3Of(t, []byte{0xA2, 0x00}),
		"39794 no image":     dg3Of(t, []byte{0xA1, 0x04, 0x30, 0x02, 0x80, 0x00}),
		"trailing after DG3": append(dg3Of(t, good), 0),
	} {
		if _, err := ParseDG3(b); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !errors.Is(err, ErrTLV) && !errors.Is(err, ErrShortHeader) && !errors.Is(err, ErrUnexpectedTag) {
			t.Errorf("%s: %v is not a TLV error", name, err)
		}
	}
}

func TestParseDG4(t *testing.T) {
	var bit tlvBuilder
	bit.add(TagBHT, []byte{0x81, 0x01, 0x10})
	bit.add(TagBDB, []byte("IIR\x00010\x00rest"))
	var g tlvBuilder
	g.add(TagInstanceCount, []byte{1})
	g.add(TagBIT, bit.b)
	inner, _ := AppendElement(nil, TagBIGT, g.b)
	b, _ := AppendElement(nil, FileDG4.Tag(), inner)
	d, err := ParseDG4(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Records) != 1 || d.Records[0].Encoding != BiometricISO19794 || string(d.Records[0].Data[:4]) != "IIR\x00" {
		t.Fatalf("%+v", d)
	}
	if _, err := ParseDG4(b[:len(b)-1]); err == nil {
		t.Fatal("truncated DG4 accepted")
	}
}

func TestBiometricStrings(t *testing.T) {
	for got, want := range map[string]string{
		BiometricISO19794.String():        "ISO/IEC 19794",
		BiometricISO39794.String():        "ISO/IEC 39794",
		BiometricEncoding(9).String():     "BiometricEncoding(9)",
		FingerWSQ.String():                "WSQ",
		FingerCompressionUnknown.String(): "unknown",
		FingerCompression(9).String():     "FingerCompression(9)",
	} {
		if got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
}

func FuzzDG3(f *testing.F) {
	jpeg := []byte{0xFF, 0xD8, 0xFF}
	b, _ := EncodeDG3([]FingerImage{{Position: 1, Compression: FingerWSQ, Width: 1, Height: 1, Resolution: 500, Data: fakeWSQ}})
	f.Add(b)
	f.Add(dg3Of(f, fir(f, FingerJPEG, jpeg, jpeg)))
	f.Add(dg3Of(f, []byte{0xA1, 0x08, 0x30, 0x06, 0x80, 0x04, 0xFF, 0xA0, 0xFF, 0xA8}))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDG3(b)
		if err != nil {
			return
		}
		if len(d.Fingers) == 0 || len(d.Fingers) > maxBiometricTemplates {
			t.Fatalf("%d fingers", len(d.Fingers))
		}
		for _, f := range d.Fingers {
			if len(f.Image) == 0 {
				t.Fatal("finger without image")
			}
		}
		_, _ = ParseDG4(b)
	})
}

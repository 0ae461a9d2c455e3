package lds

import (
	"bytes"
	"errors"
	"testing"
)

// Every parser must return an error or a result whose Raw is a prefix of
// its input, never panic, and never read past the input.

func FuzzElementLength(f *testing.F) {
	for _, h := range []string{"6014", "7F6182FFFF", "5F810105", "778401000000", "7780", "758100", ""} {
		f.Add(unhex(f, h))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ElementLength(b)
		if err != nil {
			if n != 0 {
				t.Fatalf("length %d with error %v", n, err)
			}
			return
		}
		if n < 2 || n > MaxElementLength+maxHeader {
			t.Fatalf("ElementLength = %d", n)
		}
		// When the whole element is present, ReadElement agrees.
		if n <= len(b) {
			e, err := ParseElements(b[:n])
			if err != nil || len(e) != 1 || len(e[0].Raw) != n {
				t.Fatalf("ParseElements of %d bytes: %v", n, err)
			}
		}
	})
}

func FuzzCOM(f *testing.F) {
	f.Add(unhex(f, comICAO))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCOM(b)
		if err == nil && (!bytes.Equal(c.Raw, b) || len(c.LDSVersion) != 4) {
			t.Fatalf("got %+v", c)
		}
	})
}

func FuzzDG1(f *testing.F) {
	for _, m := range []string{mrzTD3, "I<UTOD231458907<<<<<<<<<<<<<<<7408122F1204159UTO<<<<<<<<<<<6ERIKSSON<<ANNA<MARIA<<<<<<<<<<"} {
		b, err := EncodeDG1(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDG1(b)
		if err != nil {
			return
		}
		// A parsed DG1 re-encodes to the same bytes when its length was
		// minimally encoded.
		again, err := EncodeDG1(d.MRZ.Raw)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if len(again) == len(b) && !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs: %X vs %X", again, b)
		}
	})
}

func FuzzDG2(f *testing.F) {
	jpg, jp2 := readTestdata(f, "face.jpg"), readTestdata(f, "face.jp2")
	b, err := EncodeDG2([]FaceImage{{ImageJPEG, 24, 32, jpg}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(dg2Wrap(f, TagBDBConstructed, face39794(f, jp2, 4, 24, 32)))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDG2(b)
		if err != nil {
			return
		}
		if len(d.Faces) == 0 || len(d.Faces) > maxFaces {
			t.Fatalf("%d faces", len(d.Faces))
		}
		for _, fc := range d.Faces {
			if len(fc.Image) == 0 || (fc.Format == ImageUnknown) != (fc.Width == 0) {
				t.Fatalf("face %+v", fc)
			}
		}
	})
}

func FuzzDG11(f *testing.F) {
	f.Add(unhex(f, dg11Hex))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDG11(b)
		if err == nil && !bytes.Equal(d.Raw, b) {
			t.Fatal("Raw differs")
		}
	})
}

func FuzzDG12(f *testing.F) {
	b, err := EncodeDG12(&DG12{IssuingAuthority: "UTOPIA", DateOfIssue: "20120415", OtherPersons: []string{"X<<Y"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDG12(b)
		if err == nil && !bytes.Equal(d.Raw, b) {
			t.Fatal("Raw differs")
		}
	})
}

func FuzzDG15(f *testing.F) {
	for _, k := range [][]byte{spkiRSA(f), spkiEC(f)} {
		b, err := EncodeDG15(k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDG15(b)
		if err == nil && (d.Algorithm == PublicKeyUnknown || !bytes.Equal(d.Raw, b)) {
			t.Fatalf("got %+v", d)
		}
	})
}

func FuzzCVCA(f *testing.F) {
	b, err := EncodeCVCA("UTCVCA00001", "UTCVCA00002")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(unhex(f, "420B5554435643413030303031FFFF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCVCA(b)
		if err == nil && (len(c.CARs) == 0 || len(c.CARs) > 2) {
			t.Fatalf("got %+v", c)
		}
	})
}

func FuzzATRInfo(f *testing.F) {
	f.Add(unhex(f, "4703F800007F66090202040002030100000000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseATRInfo(b)
		if err == nil && (a.MaxCommandLength < 0 || a.MaxCommandLength > maxAPDULength || a.MaxResponseLength > maxAPDULength) {
			t.Fatalf("got %+v", a)
		}
	})
}

func FuzzImageInfo(f *testing.F) {
	for _, n := range []string{"face.jpg", "face.jp2", "face.j2k"} {
		f.Add(readTestdata(f, n))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		format, w, h, err := ImageInfo(b)
		if err != nil {
			if !errors.Is(err, ErrImage) {
				t.Fatalf("error %v is not ErrImage", err)
			}
			return
		}
		if format == ImageUnknown || w <= 0 || h <= 0 || w > 1<<24 || h > 1<<24 {
			t.Fatalf("ImageInfo = %v %dx%d", format, w, h)
		}
	})
}

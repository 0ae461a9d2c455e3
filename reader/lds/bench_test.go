package lds

import "testing"

func BenchmarkParseDG2(b *testing.B) {
	jp2 := readTestdata(b, "face.jp2")
	// A 20 KB image, as in BENCHMARKS.md's read of a typical DG2.
	img := append(jp2, make([]byte, 20<<10-len(jp2))...)
	dg2, err := EncodeDG2([]FaceImage{{ImageJPEG2000, 24, 32, img}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(dg2)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDG2(dg2); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkElementLength(b *testing.B) {
	hdr := []byte{0x75, 0x82, 0x50, 0x00, 0x7F, 0x61}
	for b.Loop() {
		if _, err := ElementLength(hdr); err != nil {
			b.Fatal(err)
		}
	}
}

package biometric

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
)

// SyntheticJPEG builds a JPEG of width x height pixels for tests and
// demos: a deterministic colour pattern with some texture (so that it
// compresses to realistic sizes), encoded at quality 90. It is no face.
func SyntheticJPEG(width, height int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := range height {
		for x := range width {
			n := texture(x, y)
			img.Set(x, y, color.RGBA{R: byte(x*255/max(width, 1)) ^ n, G: byte(y*255/max(height, 1)) ^ n>>1, B: byte((x+y)/3) ^ n>>2, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		return nil // cannot happen for an in-memory image of positive size
	}
	return buf.Bytes()
}

// SyntheticPNG builds an 8-bit grey PNG of width x height pixels for tests
// and demos, with a ridge-like pattern. It is no fingerprint.
func SyntheticPNG(width, height int) []byte {
	img := image.NewGray(image.Rect(0, 0, width, height))
	for y := range height {
		for x := range width {
			img.SetGray(x, y, color.Gray{Y: byte(((x*x+y*y)/97)%2*160) + texture(x, y)%8})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil
	}
	return buf.Bytes()
}

// texture is a small deterministic hash of a pixel's coordinates.
func texture(x, y int) byte {
	h := uint32(x)*0x9E3779B1 ^ uint32(y)*0x85EBCA77
	h ^= h >> 15
	h *= 0x2C1B3C6D
	h ^= h >> 12
	return byte(h) & 0x1F
}

package issue

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestNewDocumentNumberUniform(t *testing.T) {
	const draws = 100_000
	seen := make(map[string]bool, draws)
	counts := map[rune]int{}
	for range draws {
		n, err := NewDocumentNumber(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(n) != DocumentNumberLength || strings.Trim(n, DocumentNumberAlphabet) != "" {
			t.Fatalf("document number %q", n)
		}
		if seen[n] {
			t.Fatalf("%q drawn twice", n)
		}
		seen[n] = true
		for _, c := range n {
			counts[c]++
		}
	}
	if len(counts) != len(DocumentNumberAlphabet) {
		t.Fatalf("%d symbols seen, want %d", len(counts), len(DocumentNumberAlphabet))
	}
	// Chi-square with 33 degrees of freedom: mean 33, standard deviation
	// about 8; 80 is beyond p = 10^-5, so a failure is a bias, not luck.
	expected := float64(draws*DocumentNumberLength) / float64(len(DocumentNumberAlphabet))
	chi := 0.0
	for _, c := range DocumentNumberAlphabet {
		d := float64(counts[c]) - expected
		chi += d * d / expected
	}
	if chi > 80 {
		t.Errorf("chi-square %.1f over %d symbols: not uniform", chi, len(DocumentNumberAlphabet))
	}
	t.Logf("chi-square %.1f", chi)
}

// Bytes at or above 238 are thrown away, the others taken modulo 34.
func TestNewDocumentNumberRejection(t *testing.T) {
	in := []byte{238, 255, 0, 33, 34, 237, 250, 1, 2, 3, 4, 5, 6, 240}
	in = append(in, make([]byte, 16)...)
	got, err := NewDocumentNumber(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	// 0 -> '0', 33 -> 'Z', 34 -> '0', 237 = 6*34+33 -> 'Z', 1..5 -> '1'..'5'.
	if got != "0Z0Z12345" {
		t.Errorf("got %q", got)
	}
	if strings.ContainsAny(DocumentNumberAlphabet, "OI") || len(DocumentNumberAlphabet) != 34 {
		t.Error("alphabet holds O or I")
	}
}

func TestNewDocumentNumberShortRead(t *testing.T) {
	// A source that only ever gives rejected bytes, then ends.
	if _, err := NewDocumentNumber(bytes.NewReader(bytes.Repeat([]byte{0xFF}, 64))); !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("err %v", err)
	}
	boom := errors.New("boom")
	if _, err := NewDocumentNumber(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("err %v", err)
	}
	if _, err := newCAN(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("CAN err %v", err)
	}
	can, err := newCAN(bytes.NewReader([]byte{250, 255, 9, 10, 249, 0, 1, 2, 3, 4}))
	if err != nil || can != "909012" {
		t.Errorf("CAN %q %v", can, err)
	}
}

package issue

import (
	"fmt"
	"io"
)

// DocumentNumberAlphabet is the alphabet of NewDocumentNumber: the digits
// and the letters A-Z without O and I, which a person reading the printed
// number takes for 0 and 1. 34 symbols, so nine characters carry
// 9 × log2(34) ≈ 45.8 bits.
const DocumentNumberAlphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// DocumentNumberLength is the length of a TD3 document number field
// (9303-4 §4.2.2.2), which NewDocumentNumber fills completely, so no
// filler and no long-number extension is ever needed.
const DocumentNumberLength = 9

// NewDocumentNumber draws a document number: nine characters, each
// uniformly random over DocumentNumberAlphabet (r is crypto/rand.Reader in
// production). Uniform by rejection sampling: a byte is used only when it
// is below 238 = 7 × 34, so every symbol has exactly seven byte values;
// the others are thrown away. Numbers are random, never sequential: one
// does not tell the next or how many were issued. The caller checks
// uniqueness against the documents already issued (at 10^6 documents the
// chance that a new number collides is about 1.7 × 10^-8).
func NewDocumentNumber(r io.Reader) (string, error) {
	const n = len(DocumentNumberAlphabet)
	const limit = 256 / n * n // 238
	out := make([]byte, 0, DocumentNumberLength)
	buf := make([]byte, 16)
	for len(out) < DocumentNumberLength {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("issue: document number: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < DocumentNumberLength {
				out = append(out, DocumentNumberAlphabet[int(b)%n])
			}
		}
	}
	return string(out), nil
}

// newCAN draws the card access number (9303-11 §4.4.1, a PACE password
// printed on the data page): six decimal digits, uniform by rejection of
// bytes at or above 250.
func newCAN(r io.Reader) (string, error) {
	out := make([]byte, 0, 6)
	buf := make([]byte, 8)
	for len(out) < 6 {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("issue: CAN: %w", err)
		}
		for _, b := range buf {
			if b < 250 && len(out) < 6 {
				out = append(out, '0'+b%10)
			}
		}
	}
	return string(out), nil
}

package mrz

import (
	"errors"
	"fmt"
)

// ErrCharset reports a character outside the MRZ character set of
// ICAO 9303-3 §4.3 (A-Z, 0-9 and the filler '<').
var ErrCharset = errors.New("mrz: character outside A-Z, 0-9, '<'")

// charValue is the value of one MRZ character in the check digit
// computation of ICAO 9303-3 §4.9: digits are their value, A..Z are
// 10..35, the filler is 0.
func charValue(c byte) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10, true
	case c == '<':
		return 0, true
	}
	return 0, false
}

// CheckDigit computes the ICAO 9303-3 §4.9 check digit of field: each
// character's value is multiplied by the repeating weights 7, 3, 1, the
// products are summed, and the check digit is the sum modulo 10, returned
// as the ASCII digit '0'..'9'. It fails with ErrCharset on a character
// outside the MRZ character set.
func CheckDigit(field string) (byte, error) {
	weights := [3]int{7, 3, 1}
	sum := 0
	for i := 0; i < len(field); i++ {
		v, ok := charValue(field[i])
		if !ok {
			return 0, fmt.Errorf("%w at position %d", ErrCharset, i+1) // the character itself is not quoted: it is personal data
		}
		sum += v * weights[i%3]
	}
	return byte('0' + sum%10), nil
}

// checkDigitMatches reports whether the printed check digit got equals the
// computed want. A filler '<' stands for 0: ICAO 9303-4 allows it
// as the check digit of an all-filler optional data field, and some issuers
// print it wherever the computed digit is 0.
func checkDigitMatches(got, want byte) bool {
	return got == want || (got == '<' && want == '0')
}

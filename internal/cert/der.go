package cert

import (
	"fmt"
	"math/big"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// quirks collects named leniencies without duplicates, in order.
type quirks []string

func (q *quirks) add(name string) {
	for _, n := range *q {
		if n == name {
			return
		}
	}
	*q = append(*q, name)
}

// readInteger reads an INTEGER of any size, recording non-minimal
// encodings (X.690 §8.3.2) instead of refusing them as cryptobyte does.
func readInteger(s *cryptobyte.String, q *quirks) (*big.Int, error) {
	var c cryptobyte.String
	if !s.ReadASN1(&c, cbasn1.INTEGER) || len(c) == 0 {
		return nil, fmt.Errorf("%w: INTEGER", ErrMalformed)
	}
	if len(c) > 1 && ((c[0] == 0 && c[1]&0x80 == 0) || (c[0] == 0xff && c[1]&0x80 != 0)) {
		q.add(QuirkNonMinimalInteger)
	}
	n := new(big.Int).SetBytes(c)
	if c[0]&0x80 != 0 {
		// Two's complement: n − 2^(8·len).
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(c))))
	}
	return n, nil
}

// readTime reads a UTCTime or GeneralizedTime (RFC 5280 §4.1.2.5).
func readTime(s *cryptobyte.String, q *quirks) (time.Time, error) {
	var c cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&c, &tag) {
		return time.Time{}, fmt.Errorf("%w: time", ErrMalformed)
	}
	switch tag {
	case cbasn1.UTCTime:
		return parseUTCTime(string(c), q)
	case cbasn1.GeneralizedTime:
		t, err := parseGeneralizedTime(string(c), q)
		if err == nil && t.Year() < 2050 {
			q.add(QuirkGeneralizedTimeBefore2050)
		}
		return t, err
	}
	return time.Time{}, fmt.Errorf("%w: time with tag %v", ErrMalformed, tag)
}

func digits(s string, n int) (int, bool) {
	if len(s) < n {
		return 0, false
	}
	v := 0
	for i := 0; i < n; i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, true
}

// parseUTCTime: YYMMDDHHMM[SS](Z|±hhmm); DER is YYMMDDHHMMSSZ. Two-digit
// years below 50 are 20xx (RFC 5280 §4.1.2.5.1).
func parseUTCTime(v string, q *quirks) (time.Time, error) {
	yy, ok := digits(v, 2)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: UTCTime %q", ErrMalformed, v)
	}
	year := 1900 + yy
	if yy < 50 {
		year = 2000 + yy
	}
	return parseTimeRest(year, v[2:], v, false, q)
}

// parseGeneralizedTime: YYYYMMDDHHMMSS[.f](Z|±hhmm); DER is
// YYYYMMDDHHMMSSZ (RFC 5280 §4.1.2.5.2).
func parseGeneralizedTime(v string, q *quirks) (time.Time, error) {
	year, ok := digits(v, 4)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: GeneralizedTime %q", ErrMalformed, v)
	}
	return parseTimeRest(year, v[4:], v, true, q)
}

func parseTimeRest(year int, r, orig string, generalized bool, q *quirks) (time.Time, error) {
	bad := fmt.Errorf("%w: time %q", ErrMalformed, orig)
	var f [4]int
	for i := range f {
		v, ok := digits(r, 2)
		if !ok {
			return time.Time{}, bad
		}
		f[i], r = v, r[2:]
	}
	sec := 0
	if v, ok := digits(r, 2); ok {
		sec, r = v, r[2:]
	} else if generalized {
		return time.Time{}, bad
	} else {
		q.add(QuirkUTCTimeWithoutSeconds)
	}
	nsec := 0
	if generalized && len(r) > 0 && (r[0] == '.' || r[0] == ',') {
		i := 1
		for i < len(r) && r[i] >= '0' && r[i] <= '9' {
			i++
		}
		if i == 1 || i > 10 {
			return time.Time{}, bad
		}
		frac := r[1:i] + "000000000"[:9-(i-1)]
		n, err := strconv.Atoi(frac)
		if err != nil {
			return time.Time{}, bad
		}
		nsec, r = n, r[i:]
		q.add(QuirkGeneralizedTimeFraction)
	}
	loc := time.UTC
	switch {
	case r == "Z":
	case len(r) == 5 && (r[0] == '+' || r[0] == '-'):
		hh, ok1 := digits(r[1:], 2)
		mm, ok2 := digits(r[3:], 2)
		if !ok1 || !ok2 || hh > 23 || mm > 59 {
			return time.Time{}, bad
		}
		off := hh*3600 + mm*60
		if r[0] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
		q.add(QuirkTimeWithOffset)
	default:
		return time.Time{}, bad
	}
	mon, day, hour, min := f[0], f[1], f[2], f[3]
	if mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 59 {
		return time.Time{}, bad
	}
	t := time.Date(year, time.Month(mon), day, hour, min, sec, nsec, loc)
	if t.Day() != day { // 31 April and the like
		return time.Time{}, bad
	}
	return t.UTC(), nil
}

// decodeString decodes the directory string types of RFC 5280 §4.1.2.4.
func decodeString(tag cbasn1.Tag, c []byte, q *quirks) (string, bool) {
	switch tag {
	case cbasn1.PrintableString:
		for _, b := range c {
			if !isPrintable(b) {
				q.add(QuirkNonPrintableString)
				break
			}
		}
		return latin1(c), true
	case cbasn1.UTF8String:
		if !utf8.Valid(c) {
			return "", false
		}
		return string(c), true
	case cbasn1.IA5String, cbasn1.Tag(20) /* T61String */, cbasn1.Tag(26) /* VisibleString */, cbasn1.Tag(18) /* NumericString */ :
		return latin1(c), true
	case cbasn1.Tag(30): // BMPString, UCS-2 big-endian
		if len(c)%2 != 0 {
			return "", false
		}
		u := make([]uint16, len(c)/2)
		for i := range u {
			u[i] = uint16(c[2*i])<<8 | uint16(c[2*i+1])
		}
		return string(utf16.Decode(u)), true
	case cbasn1.Tag(28): // UniversalString, UCS-4 big-endian
		if len(c)%4 != 0 {
			return "", false
		}
		r := make([]rune, len(c)/4)
		for i := range r {
			r[i] = rune(uint32(c[4*i])<<24 | uint32(c[4*i+1])<<16 | uint32(c[4*i+2])<<8 | uint32(c[4*i+3]))
		}
		return string(r), true
	}
	return "", false
}

// latin1 maps bytes to runes one to one, so no byte is lost or invalid.
func latin1(c []byte) string {
	r := make([]rune, len(c))
	for i, b := range c {
		r[i] = rune(b)
	}
	return string(r)
}

func isPrintable(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
		b == ' ' || b == '\'' || b == '(' || b == ')' || b == '+' || b == ',' || b == '-' ||
		b == '.' || b == '/' || b == ':' || b == '=' || b == '?'
}

// readBoolean reads a BOOLEAN, recording non-DER TRUE values.
func readBoolean(s *cryptobyte.String, q *quirks) (bool, error) {
	var c cryptobyte.String
	if !s.ReadASN1(&c, cbasn1.BOOLEAN) || len(c) != 1 {
		return false, fmt.Errorf("%w: BOOLEAN", ErrMalformed)
	}
	if c[0] != 0 && c[0] != 0xff {
		q.add(QuirkNonDERBoolean)
	}
	return c[0] != 0, nil
}

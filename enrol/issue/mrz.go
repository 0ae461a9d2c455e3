package issue

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"borderid/reader/mrz"

	"golang.org/x/text/unicode/norm"
)

// The machine readable zone of a TD3 passport (ICAO 9303-4 §4.2.2): two
// lines of 44 characters from 0-9, A-Z and the filler '<'.
const (
	td3LineLength = 44
	td3NameLength = 39 // line 1, positions 6-44
)

// ErrInput: Build or Transliterate was given something that cannot be
// issued (the message says what). Callers map it to 422.
var ErrInput = errors.New("issue: invalid input")

// ErrSigner: the state's signing material given to Build cannot make a
// chip that verifies (the message says why). It is the issuing service's
// configuration, not the application: callers report it as a server
// error.
var ErrSigner = errors.New("issue: unusable signing material")

func inputErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInput, fmt.Sprintf(format, args...))
}

func signerErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrSigner, fmt.Sprintf(format, args...))
}

// latin is the Latin part of ICAO 9303-3 §6 (transliteration of
// multinational Latin-based characters), upper case. Where the table
// offers a choice (Ä: AE or A; Å: AA or A; Ñ: N or NXX; Ö: OE or O;
// Ü: UE or UXX or U) the first, recommended form is used. Lower-case
// letters are upper-cased before the lookup.
var latin = map[rune]string{
	'À': "A", 'Á': "A", 'Â': "A", 'Ã': "A", 'Ä': "AE", 'Å': "AA", 'Æ': "AE",
	'Ç': "C", 'È': "E", 'É': "E", 'Ê': "E", 'Ë': "E",
	'Ì': "I", 'Í': "I", 'Î': "I", 'Ï': "I", 'Ð': "D", 'Ñ': "N",
	'Ò': "O", 'Ó': "O", 'Ô': "O", 'Õ': "O", 'Ö': "OE", 'Ø': "OE",
	'Ù': "U", 'Ú': "U", 'Û': "U", 'Ü': "UE", 'Ý': "Y", 'Þ': "TH", 'ß': "SS", 'ẞ': "SS",
	'Ā': "A", 'Ă': "A", 'Ą': "A", 'Ć': "C", 'Ĉ': "C", 'Ċ': "C", 'Č': "C",
	'Ď': "D", 'Đ': "D", 'Ē': "E", 'Ĕ': "E", 'Ė': "E", 'Ę': "E", 'Ě': "E",
	'Ĝ': "G", 'Ğ': "G", 'Ġ': "G", 'Ģ': "G", 'Ĥ': "H", 'Ħ': "H",
	'Ĩ': "I", 'Ī': "I", 'Ĭ': "I", 'Į': "I", 'İ': "I", 'ı': "I", 'Ĳ': "IJ",
	'Ĵ': "J", 'Ķ': "K", 'Ĺ': "L", 'Ļ': "L", 'Ľ': "L", 'Ŀ': "L", 'Ł': "L",
	'Ń': "N", 'Ņ': "N", 'Ň': "N", 'Ŋ': "N", 'Ō': "O", 'Ŏ': "O", 'Ő': "O", 'Œ': "OE",
	'Ŕ': "R", 'Ŗ': "R", 'Ř': "R", 'Ś': "S", 'Ŝ': "S", 'Ş': "S", 'Š': "S",
	'Ţ': "T", 'Ť': "T", 'Ŧ': "T", 'Ũ': "U", 'Ū': "U", 'Ŭ': "U", 'Ů': "U", 'Ű': "U", 'Ų': "U",
	'Ŵ': "W", 'Ŷ': "Y", 'Ÿ': "Y", 'Ź': "Z", 'Ż': "Z", 'Ž': "Z",
}

// Transliterate writes a name (or one part of it) in the MRZ alphabet
// (ICAO 9303-3 §6 for the letters, §4.6 / 9303-4 §4.2.2 for the rest):
// letters upper-cased and folded by the Latin table (é → E, ü → UE,
// ß → SS), spaces and hyphens become the filler '<' (runs of them one
// filler), apostrophes, full stops and commas are dropped, leading and
// trailing fillers removed. The name is first put in Unicode NFC, so that
// a decomposed "u" + U+0308 (as some systems send it) is the Ü of the
// table. Any other character (digits, other scripts)
// is refused with ErrInput: a name the table does not cover needs a
// transliteration decided by a person, not a guess.
func Transliterate(name string) (string, error) {
	var b strings.Builder
	pendingFill := false
	for i, r := range []rune(norm.NFC.String(name)) {
		switch r {
		case ' ', '-', '\t', '\u00A0', '\u2010', '\u2011':
			pendingFill = true
			continue
		case '\'', '\u2019', '\u02BC', '`', '\u00B4', '.', ',':
			continue
		}
		var out string
		u := unicode.ToUpper(r)
		switch {
		case u >= 'A' && u <= 'Z':
			out = string(u)
		case latin[u] != "":
			out = latin[u]
		case latin[r] != "": // ß, ı: no single upper-case rune
			out = latin[r]
		default:
			return "", inputErr("name character %U at position %d has no ICAO 9303-3 transliteration", r, i+1)
		}
		if pendingFill && b.Len() > 0 {
			b.WriteByte('<')
		}
		pendingFill = false
		b.WriteString(out)
	}
	return b.String(), nil
}

// nameField builds the TD3 name field (9303-4 §4.2.2.1): the primary
// identifier (surname), "<<", the secondary identifier (given names,
// separated by '<'), cut at 39 characters and padded with fillers. The
// cut is a plain truncation at the field's end, as 9303-3 §4.6's
// examples show; its finer options (shortening given names to initials
// first) are not applied. Also returns the untruncated field for DG11.
func nameField(surname, given string) (field, full string, err error) {
	s, err := Transliterate(surname)
	if err != nil {
		return "", "", fmt.Errorf("%w (surname)", err)
	}
	g, err := Transliterate(given)
	if err != nil {
		return "", "", fmt.Errorf("%w (given names)", err)
	}
	if s == "" {
		// 9303-4: a holder with one name only has it as the primary
		// identifier; a name made only of punctuation is not a name.
		return "", "", inputErr("the surname has no characters left after transliteration")
	}
	full = s
	if g != "" {
		full += "<<" + g
	}
	field = full
	if len(field) > td3NameLength {
		field = field[:td3NameLength]
	}
	return pad(field, td3NameLength), full, nil
}

func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat("<", n-len(s))
}

// code reads a state code (9303-3 §5: one to three letters, e.g. "D",
// "UTO") and pads it to three characters.
func code(what, v string) (string, error) {
	v = strings.TrimRight(strings.ToUpper(strings.TrimSpace(v)), "<")
	if len(v) < 1 || len(v) > 3 || !allIn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		return "", inputErr("%s %q is not a 9303-3 code of one to three letters", what, v)
	}
	return pad(v, 3), nil
}

func allIn(s, alphabet string) bool {
	for _, c := range s {
		if !strings.ContainsRune(alphabet, c) {
			return false
		}
	}
	return true
}

// sexCode maps the enrolment's sex to the MRZ (9303-4 §4.2.2.2): F, M,
// and X (unspecified) written as the filler '<'.
func sexCode(v string) (byte, error) {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "F":
		return 'F', nil
	case "M":
		return 'M', nil
	case "X", "<":
		return '<', nil
	}
	return 0, inputErr("sex %q is not F, M or X", v)
}

func cd(s string) (string, error) {
	c, err := mrz.CheckDigit(s)
	if err != nil {
		return "", fmt.Errorf("issue: check digit: %w", err)
	}
	return string(c), nil
}

func yymmdd(t time.Time) string { return t.Format("060102") }

// td3 builds the two MRZ lines (9303-4 §4.2.2) with every check digit
// and empty optional data.
func td3(docType, state, name, number, nationality string, dob time.Time, sex byte, doe time.Time) (string, error) {
	line1 := pad(docType, 2) + state + name
	numF := pad(number, 9)
	parts := []string{numF, yymmdd(dob), yymmdd(doe), strings.Repeat("<", 14)}
	var withCD []string
	for _, p := range parts {
		c, err := cd(p)
		if err != nil {
			return "", err
		}
		withCD = append(withCD, p+c)
	}
	// 9303-4 §4.2.2.2: the composite check digit covers positions 1-10,
	// 14-20 and 22-43 of line 2.
	comp, err := cd(withCD[0] + withCD[1] + withCD[2] + withCD[3])
	if err != nil {
		return "", err
	}
	line2 := withCD[0] + nationality + withCD[1] + string(sex) + withCD[2] + withCD[3] + comp
	if len(line1) != td3LineLength || len(line2) != td3LineLength {
		return "", fmt.Errorf("issue: MRZ lines of %d and %d characters", len(line1), len(line2))
	}
	return line1 + "\n" + line2, nil
}

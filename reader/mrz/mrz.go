// Package mrz implements the machine readable zone of ICAO Doc 9303
// travel documents: TD3 passports (two lines of 44, 9303-4 §4.2.2), TD1
// cards (three lines of 30, 9303-5 §4.2.2), TD2 cards (two lines of 36,
// 9303-6 §4.2.2) and machine readable visas MRV-A (2x44) and MRV-B (2x36)
// (9303-7 §4.2.2), with the check digits of 9303-3 §4.9.
//
// A caller parses the MRZ as printed or as stored in DG1, then checks it:
//
//	m, err := mrz.Parse(text) // fails only when the shape is wrong
//	if err := m.Verify(); err != nil { /* a check digit or date is wrong */ }
//	dob := m.BirthDate(time.Now())
//	key := m.KeySeedInfo() // the BAC/PACE MRZ password of 9303-11 §4.3.2
//
// Parsing is lenient and checking strict: a wrong check digit does not stop
// Parse, it is recorded and reported by Verify as a *CheckError naming the
// field (errors.Is(err, ErrCheckDigit)), so a reader can still show what
// the document says while flagging it.
//
// The package does not read MRZs from images (OCR), does not transliterate
// names (9303-3 transliteration works the other way round) and does not check that a
// state code is one ICAO has assigned: codes are kept as printed, with
// fillers trimmed ("D" for Germany).
package mrz

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Format is the layout of an MRZ.
type Format int

// The layouts of ICAO 9303 parts 4 to 7.
const (
	TD1  Format = iota + 1 // 3 lines of 30 (9303-5)
	TD2                    // 2 lines of 36 (9303-6)
	TD3                    // 2 lines of 44 (9303-4)
	MRVA                   // visa, 2 lines of 44 (9303-7)
	MRVB                   // visa, 2 lines of 36 (9303-7)
)

func (f Format) String() string {
	switch f {
	case TD1:
		return "TD1"
	case TD2:
		return "TD2"
	case TD3:
		return "TD3"
	case MRVA:
		return "MRV-A"
	case MRVB:
		return "MRV-B"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Lines is the number of lines of the format.
func (f Format) Lines() int {
	if f == TD1 {
		return 3
	}
	return 2
}

// LineLength is the number of characters per line of the format.
func (f Format) LineLength() int {
	switch f {
	case TD1:
		return 30
	case TD2, MRVB:
		return 36
	case TD3, MRVA:
		return 44
	}
	return 0
}

// Field names a checked field of the MRZ.
type Field int

// The fields protected by check digits (9303-3 §4.9), plus the two dates
// whose calendar validity Verify also checks.
const (
	FieldDocumentNumber Field = iota + 1
	FieldDateOfBirth
	FieldDateOfExpiry
	FieldOptionalData // TD3 personal number
	FieldComposite
)

func (f Field) String() string {
	switch f {
	case FieldDocumentNumber:
		return "document_number"
	case FieldDateOfBirth:
		return "date_of_birth"
	case FieldDateOfExpiry:
		return "date_of_expiry"
	case FieldOptionalData:
		return "optional_data"
	case FieldComposite:
		return "composite"
	}
	return fmt.Sprintf("Field(%d)", int(f))
}

var (
	// ErrFormat reports an MRZ whose shape is wrong: line count, line
	// length, characters, or a field that cannot be read at all.
	ErrFormat = errors.New("mrz: malformed")
	// ErrCheckDigit reports a check digit that does not match its field.
	ErrCheckDigit = errors.New("mrz: check digit mismatch")
)

// CheckError is one failed check, returned (joined) by Verify. It matches
// ErrCheckDigit or ErrInvalidDate with errors.Is.
type CheckError struct {
	Field Field
	Got   byte // the printed check digit (0 for a date error)
	Want  byte // the computed check digit (0 for a date error)
	Err   error
}

func (e *CheckError) Error() string {
	if errors.Is(e.Err, ErrCheckDigit) {
		// Got and Want are not printed: with the field's other
		// characters they narrow down personal data.
		return fmt.Sprintf("mrz: %s check digit does not match the field", e.Field)
	}
	return fmt.Sprintf("mrz: %s: %v", e.Field, e.Err)
}

func (e *CheckError) Unwrap() error { return e.Err }

// MRZ is a parsed machine readable zone. String fields hold the printed
// characters with fillers trimmed at the end ('<' inside names becomes a
// space); dates keep the printed YYMMDD, interpreted by BirthDate and
// ExpiryDate.
type MRZ struct {
	Format       Format
	DocumentCode string // "P", "I", "ID", "V", "AC": positions 1-2, fillers trimmed
	IssuingState string // three-letter code as printed, fillers trimmed ("D")
	Surname      string // primary identifier
	GivenNames   string // secondary identifier, components separated by spaces

	// DocumentNumber is the whole document number. For TD1 and TD2 numbers
	// longer than nine characters it includes the continuation printed in
	// the optional data (the long document number notes of 9303-5 and 9303-6 §4.2.2).
	DocumentNumber      string
	DocumentNumberCheck byte

	Nationality       string
	DateOfBirth       string // YYMMDD as printed, fillers kept
	DateOfBirthCheck  byte
	Sex               string // "F", "M" or "X" (unspecified, printed '<' or 'X')
	DateOfExpiry      string // YYMMDD as printed
	DateOfExpiryCheck byte

	// OptionalData: TD3 personal number, TD1 upper line 16-30 (without a
	// document number continuation), TD2 and visa optional data.
	OptionalData string
	// OptionalData2 is the TD1 middle line's optional data (19-29).
	OptionalData2 string
	// OptionalDataCheck is the TD3 personal number check digit; 0 in other
	// formats.
	OptionalDataCheck byte
	// CompositeCheck is the composite check digit; 0 for visas, which have
	// none.
	CompositeCheck byte

	Lines []string // the lines as parsed
	Raw   string   // the lines joined without separators, as in DG1

	failed []*CheckError
}

// maxInput bounds what Parse looks at: the longest MRZ is 90 characters;
// newlines, carriage returns and trailing blanks may add a few dozen.
const maxInput = 512

// Parse reads an MRZ given either as lines separated by newlines (CRLF
// accepted, blanks at line ends and blank lines around it ignored) or as
// one string of 88 (TD3, MRV-A), 72 (TD2, MRV-B) or 90 (TD1) characters.
// It fails with ErrFormat only when the shape is wrong; wrong check digits
// and impossible dates are recorded for Verify.
func Parse(s string) (*MRZ, error) {
	if len(s) > maxInput {
		return nil, fmt.Errorf("%w: %d bytes of input", ErrFormat, len(s))
	}
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimRight(l, " \t\r")
		if l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 1 {
		one := lines[0]
		switch len(one) {
		case 88:
			lines = []string{one[:44], one[44:]}
		case 72:
			lines = []string{one[:36], one[36:]}
		case 90:
			lines = []string{one[:30], one[30:60], one[60:]}
		default:
			return nil, fmt.Errorf("%w: one line of %d characters (want 88, 72 or 90)", ErrFormat, len(one))
		}
	}
	var f Format
	switch {
	case len(lines) == 3 && len(lines[0]) == 30 && len(lines[1]) == 30 && len(lines[2]) == 30:
		f = TD1
	case len(lines) == 2 && len(lines[0]) == 44 && len(lines[1]) == 44:
		f = TD3
		if lines[0][0] == 'V' {
			f = MRVA
		}
	case len(lines) == 2 && len(lines[0]) == 36 && len(lines[1]) == 36:
		f = TD2
		if lines[0][0] == 'V' {
			f = MRVB
		}
	default:
		lens := make([]string, len(lines))
		for i, l := range lines {
			lens[i] = fmt.Sprint(len(l))
		}
		return nil, fmt.Errorf("%w: %d lines of lengths [%s] (want 2x44, 2x36 or 3x30)", ErrFormat, len(lines), strings.Join(lens, " "))
	}
	for i, l := range lines {
		for j := 0; j < len(l); j++ {
			if _, ok := charValue(l[j]); !ok {
				return nil, fmt.Errorf("%w: line %d position %d: %w", ErrFormat, i+1, j+1, ErrCharset)
			}
		}
	}
	m := &MRZ{Format: f, Lines: lines, Raw: strings.Join(lines, "")}
	var err error
	switch f {
	case TD1:
		err = m.parseTD1()
	default:
		err = m.parseTwoLine()
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// trimFill removes trailing fillers.
func trimFill(s string) string { return strings.TrimRight(s, "<") }

// parseName splits the name field (9303-3): primary and secondary
// identifiers separated by "<<", components by '<'.
func (m *MRZ) parseName(field string) {
	field = trimFill(field)
	primary, secondary, _ := strings.Cut(field, "<<")
	m.Surname = strings.Join(strings.FieldsFunc(primary, isFill), " ")
	m.GivenNames = strings.Join(strings.FieldsFunc(secondary, isFill), " ")
}

func isFill(r rune) bool { return r == '<' }

func (m *MRZ) parseSex(c byte) error {
	switch c {
	case 'F', 'M', 'X':
		m.Sex = string(c)
	case '<':
		m.Sex = "X"
	default:
		return fmt.Errorf("%w: sex is not F, M, X or <", ErrFormat)
	}
	return nil
}

// check computes the check digit of field and records a mismatch with the
// printed digit got.
func (m *MRZ) check(f Field, field string, got byte) {
	want, err := CheckDigit(field)
	if err != nil { // unreachable: Parse has checked the charset
		m.failed = append(m.failed, &CheckError{Field: f, Got: got, Err: err})
		return
	}
	if !checkDigitMatches(got, want) {
		m.failed = append(m.failed, &CheckError{Field: f, Got: got, Want: want, Err: ErrCheckDigit})
	}
}

// splitLongNumber handles a document number longer than nine characters
// (the notes to 9303-5 and 9303-6 §4.2.2): the check digit position holds
// '<', and the optional data starts with the rest of the number, its check
// digit and a filler. It returns the whole number, its check digit and the
// remaining optional data.
func splitLongNumber(first9, opt string) (number string, cd byte, rest string, ok bool) {
	end := strings.IndexByte(opt, '<')
	if end < 0 {
		end = len(opt)
	}
	if end < 2 { // at least one continuation character and the check digit
		return "", 0, "", false
	}
	number = first9 + opt[:end-1]
	cd = opt[end-1]
	rest = opt[end:]
	if rest != "" { // the filler that ends the continuation
		rest = rest[1:]
	}
	return number, cd, rest, true
}

// parseTD1 reads the three 30-character lines of 9303-5 §4.2.2.
func (m *MRZ) parseTD1() error {
	l1, l2, l3 := m.Lines[0], m.Lines[1], m.Lines[2]
	m.DocumentCode = trimFill(l1[0:2])
	m.IssuingState = trimFill(l1[2:5])
	num, opt := l1[5:14], l1[15:30]
	m.DocumentNumber, m.DocumentNumberCheck = trimFill(num), l1[14]
	if l1[14] == '<' {
		n, cd, rest, ok := splitLongNumber(num, opt)
		if !ok {
			return fmt.Errorf("%w: TD1 document number check digit is '<' but the optional data holds no continuation", ErrFormat)
		}
		m.DocumentNumber, m.DocumentNumberCheck, opt = n, cd, rest
	}
	m.OptionalData = trimFill(opt)
	if err := m.parseDatesAndSex(l2[0:6], l2[6], l2[7], l2[8:14], l2[14]); err != nil {
		return err
	}
	m.Nationality = trimFill(l2[15:18])
	m.OptionalData2 = trimFill(l2[18:29])
	m.CompositeCheck = l2[29]
	m.parseName(l3)

	m.check(FieldDocumentNumber, m.DocumentNumber, m.DocumentNumberCheck)
	m.checkDates()
	// 9303-5 §4.2.2: upper line 6-30, middle line 1-7, 9-15, 19-29.
	m.check(FieldComposite, l1[5:30]+l2[0:7]+l2[8:15]+l2[18:29], m.CompositeCheck)
	return nil
}

// parseTwoLine reads TD3 (9303-4 §4.2.2), TD2 (9303-6 §4.2.2) and the
// visas MRV-A and MRV-B (9303-7 §4.2.2), which share the lower line's
// layout up to position 28.
func (m *MRZ) parseTwoLine() error {
	l1, l2 := m.Lines[0], m.Lines[1]
	n := len(l2)
	m.DocumentCode = trimFill(l1[0:2])
	m.IssuingState = trimFill(l1[2:5])
	m.parseName(l1[5:])
	num := l2[0:9]
	m.DocumentNumber, m.DocumentNumberCheck = trimFill(num), l2[9]
	m.Nationality = trimFill(l2[10:13])
	if err := m.parseDatesAndSex(l2[13:19], l2[19], l2[20], l2[21:27], l2[27]); err != nil {
		return err
	}
	switch m.Format {
	case TD3:
		// 29-42 personal number, 43 its check digit, 44 composite over
		// 1-10, 14-20, 22-43.
		m.OptionalData = trimFill(l2[28:42])
		m.OptionalDataCheck = l2[42]
		m.CompositeCheck = l2[43]
		m.check(FieldDocumentNumber, m.DocumentNumber, m.DocumentNumberCheck)
		m.checkDates()
		m.check(FieldOptionalData, l2[28:42], m.OptionalDataCheck)
		m.check(FieldComposite, l2[0:10]+l2[13:20]+l2[21:43], m.CompositeCheck)
	case TD2:
		// 29-35 optional data (may start with a long number's
		// continuation), 36 composite over 1-10, 14-20, 22-35.
		opt := l2[28:35]
		if l2[9] == '<' {
			ln, cd, rest, ok := splitLongNumber(num, opt)
			if !ok {
				return fmt.Errorf("%w: TD2 document number check digit is '<' but the optional data holds no continuation", ErrFormat)
			}
			m.DocumentNumber, m.DocumentNumberCheck, opt = ln, cd, rest
		}
		m.OptionalData = trimFill(opt)
		m.CompositeCheck = l2[35]
		m.check(FieldDocumentNumber, m.DocumentNumber, m.DocumentNumberCheck)
		m.checkDates()
		m.check(FieldComposite, l2[0:10]+l2[13:20]+l2[21:35], m.CompositeCheck)
	case MRVA, MRVB:
		// Visas carry no composite check digit (9303-7 §4.2.2).
		m.OptionalData = trimFill(l2[28:n])
		m.check(FieldDocumentNumber, m.DocumentNumber, m.DocumentNumberCheck)
		m.checkDates()
	}
	return nil
}

func (m *MRZ) parseDatesAndSex(dob string, dobCD, sex byte, doe string, doeCD byte) error {
	m.DateOfBirth, m.DateOfBirthCheck = dob, dobCD
	m.DateOfExpiry, m.DateOfExpiryCheck = doe, doeCD
	return m.parseSex(sex)
}

// checkDates checks both dates' check digits and that they are dates.
func (m *MRZ) checkDates() {
	m.check(FieldDateOfBirth, m.DateOfBirth, m.DateOfBirthCheck)
	if _, err := parseYYMMDD(m.DateOfBirth); err != nil {
		m.failed = append(m.failed, &CheckError{Field: FieldDateOfBirth, Err: err})
	}
	m.check(FieldDateOfExpiry, m.DateOfExpiry, m.DateOfExpiryCheck)
	if _, err := ExpiryDate(m.DateOfExpiry); err != nil {
		m.failed = append(m.failed, &CheckError{Field: FieldDateOfExpiry, Err: err})
	}
}

// Verify reports every failed check recorded by Parse, joined; each is a
// *CheckError (errors.As) matching ErrCheckDigit or ErrInvalidDate
// (errors.Is). It returns nil when all check digits match.
func (m *MRZ) Verify() error {
	if len(m.failed) == 0 {
		return nil
	}
	errs := make([]error, len(m.failed))
	for i, e := range m.failed {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// Failed lists the fields whose checks failed, in MRZ order.
func (m *MRZ) Failed() []Field {
	var fs []Field
	for _, e := range m.failed {
		fs = append(fs, e.Field)
	}
	return fs
}

// BirthDate interprets the date of birth with the century rule of
// CONTRACTS.md relative to now; see the package function BirthDate. An
// impossible date gives the zero Date (Verify reports it).
func (m *MRZ) BirthDate(now time.Time) Date {
	d, _ := BirthDate(m.DateOfBirth, now)
	return d
}

// ExpiryDate interprets the date of expiry (20yy when yy < 70, else 19yy).
// An impossible date gives the zero Date (Verify reports it).
func (m *MRZ) ExpiryDate() Date {
	d, _ := ExpiryDate(m.DateOfExpiry)
	return d
}

// KeySeedInfo is the MRZ information the BAC and PACE MRZ keys are derived
// from (9303-11 §4.3.2; PACE reuses it, §4.4): the document number padded with
// fillers to at least nine characters, its check digit, the date of birth,
// its check digit, the date of expiry and its check digit, all as printed
// (the chip was personalised from the printed MRZ, right or wrong).
func (m *MRZ) KeySeedInfo() string {
	num := m.DocumentNumber
	if len(num) < 9 {
		num += strings.Repeat("<", 9-len(num))
	}
	return num + string(m.DocumentNumberCheck) +
		m.DateOfBirth + string(m.DateOfBirthCheck) +
		m.DateOfExpiry + string(m.DateOfExpiryCheck)
}

// maxDocumentNumber bounds a document number: nine characters plus the
// longest TD1 continuation (optional data of 15 less check digit and
// filler).
const maxDocumentNumber = 22

// BACKeyInfo builds the 9303-11 §4.3.2 key seed information from a
// document number and dates typed by an operator (the --doc, --dob and
// --exp flags): it upper-cases the number, pads it with fillers to nine
// characters and appends the computed check digits. Dates are YYMMDD (an
// unknown part of the date of birth may be "<<").
func BACKeyInfo(docNumber, dob, doe string) (string, error) {
	num := strings.ToUpper(strings.TrimSpace(docNumber))
	num = trimFill(num)
	if num == "" || len(num) > maxDocumentNumber {
		return "", fmt.Errorf("%w: document number must have 1 to %d characters", ErrFormat, maxDocumentNumber)
	}
	if len(num) < 9 {
		num += strings.Repeat("<", 9-len(num))
	}
	numCD, err := CheckDigit(num)
	if err != nil {
		return "", fmt.Errorf("document number: %w", err)
	}
	out := num + string(numCD)
	for _, d := range []struct{ name, v string }{{"date of birth", dob}, {"date of expiry", doe}} {
		if _, err := parseYYMMDD(d.v); err != nil {
			return "", fmt.Errorf("%s: %w", d.name, err)
		}
		cd, err := CheckDigit(d.v)
		if err != nil {
			return "", fmt.Errorf("%s: %w", d.name, err)
		}
		out += d.v + string(cd)
	}
	return out, nil
}

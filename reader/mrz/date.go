package mrz

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidDate reports an MRZ date that is not a calendar date (month
// 13, 31 April, non-digits other than the unknown-value filler).
var ErrInvalidDate = errors.New("mrz: invalid date")

// Date is a calendar date read from an MRZ. ICAO 9303-3 (dates of
// birth) lets an unknown day or month be printed as fillers ("<<"); some
// issuers print "00" instead. Such a part is 0 here and the date is
// partial: it formats as "1969-08" or "1969", never with an invented day.
type Date struct {
	Year  int // four digits; 0 when the year is unknown
	Month int // 1..12; 0 when unknown
	Day   int // 1..31; 0 when unknown
}

// Partial reports whether the day, month or year is unknown.
func (d Date) Partial() bool { return d.Year == 0 || d.Month == 0 || d.Day == 0 }

// Known reports whether at least the year is known.
func (d Date) Known() bool { return d.Year != 0 }

// String formats the date as YYYY-MM-DD, or as much of it as is known
// ("1969-08", "1969"), or "" when even the year is unknown. An unknown
// month hides the day: "1969-00-12" would not be a date.
func (d Date) String() string {
	switch {
	case d.Year == 0:
		return ""
	case d.Month == 0:
		return fmt.Sprintf("%04d", d.Year)
	case d.Day == 0:
		return fmt.Sprintf("%04d-%02d", d.Year, d.Month)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// yymmdd is an MRZ date split into its two-digit parts, -1 for an
// unknown part.
type yymmdd struct{ yy, mm, dd int }

// parseYYMMDD splits a six-character MRZ date. A part is unknown when it
// is "<<" or, for month and day, "00". It does not apply a century.
//
// Errors here and in the rest of the package name the field and what is
// wrong with it, never its value: dates of birth and expiry and document
// numbers are personal data, and these errors reach logs and stderr.
func parseYYMMDD(s string) (yymmdd, error) {
	if len(s) != 6 {
		return yymmdd{}, fmt.Errorf("%w: %d characters, want 6 (YYMMDD)", ErrInvalidDate, len(s))
	}
	part := func(p, name string, zeroUnknown bool) (int, error) {
		if p == "<<" {
			return -1, nil
		}
		if p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' {
			return 0, fmt.Errorf("%w: %s is neither two digits nor \"<<\"", ErrInvalidDate, name)
		}
		v := int(p[0]-'0')*10 + int(p[1]-'0')
		if zeroUnknown && v == 0 {
			return -1, nil
		}
		return v, nil
	}
	var d yymmdd
	var err error
	if d.yy, err = part(s[0:2], "year", false); err != nil {
		return yymmdd{}, err
	}
	if d.mm, err = part(s[2:4], "month", true); err != nil {
		return yymmdd{}, err
	}
	if d.dd, err = part(s[4:6], "day", true); err != nil {
		return yymmdd{}, err
	}
	if d.mm > 12 {
		return yymmdd{}, fmt.Errorf("%w: month above 12", ErrInvalidDate)
	}
	if d.dd > 31 {
		return yymmdd{}, fmt.Errorf("%w: day above 31", ErrInvalidDate)
	}
	return d, nil
}

// withYear turns the parts into a Date in the given four-digit year,
// checking that the day exists in that month (29 February only in leap
// years).
func (p yymmdd) withYear(year int) (Date, error) {
	d := Date{Year: year}
	if p.yy < 0 {
		return Date{}, nil
	}
	if p.mm > 0 {
		d.Month = p.mm
	}
	if p.dd > 0 {
		if p.mm > 0 && p.dd > daysIn(year, p.mm) {
			return Date{}, fmt.Errorf("%w: the day does not exist in that month", ErrInvalidDate)
		}
		if p.mm > 0 {
			d.Day = p.dd
		}
	}
	return d, nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// after reports whether the (possibly partial) date d is certainly later
// than now's calendar day. Unknown parts compare as "could be now", so a
// partial date is in the future only when its known parts are.
func (d Date) after(now time.Time) bool {
	y, m, day := now.Date()
	if d.Year != y {
		return d.Year > y
	}
	if d.Month == 0 || d.Month == int(m) {
		return d.Month != 0 && d.Day != 0 && d.Day > day
	}
	return d.Month > int(m)
}

// BirthDate interprets an MRZ date of birth (YYMMDD) with the project's
// century rule (CONTRACTS.md): the latest century in which the date is not
// in the future relative to now. It fails with ErrInvalidDate when the
// date is not a calendar date.
func BirthDate(yymmddStr string, now time.Time) (Date, error) {
	p, err := parseYYMMDD(yymmddStr)
	if err != nil {
		return Date{}, err
	}
	if p.yy < 0 {
		return Date{}, nil
	}
	year := now.Year()/100*100 + p.yy
	d, err := p.withYear(year)
	if err == nil && !d.after(now) {
		return d, nil
	}
	// In the future (or 29 February of a non-leap year in this century):
	// the previous century.
	return p.withYear(year - 100)
}

// ExpiryDate interprets an MRZ date of expiry (YYMMDD) with the project's
// century rule (CONTRACTS.md): 20yy when yy < 70, else 19yy.
func ExpiryDate(yymmddStr string) (Date, error) {
	p, err := parseYYMMDD(yymmddStr)
	if err != nil {
		return Date{}, err
	}
	if p.yy < 0 {
		return Date{}, nil
	}
	if p.yy < 70 {
		return p.withYear(2000 + p.yy)
	}
	return p.withYear(1900 + p.yy)
}

package mrz

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Specimens of ICAO 9303-4 (TD3), 9303-5 (TD1), 9303-6 (TD2) and 9303-7
// (MRV-A, MRV-B); the long-number TD1 and TD2 follow the 9303-5/-6 notes,
// and TD3-BAC carries the values of the 9303-11 App. D.2 BAC example.
const (
	td3  = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
	td1  = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
	td2  = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6"
	mrva = "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL8988901C4XXX4009078F96121096ZE184226B<<<<<<"
	mrvb = "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nL8988901C4XXX4009078F9612109<<<<<<<<"

	td1Long = "I<UTOD23145890<7349<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
	td2Long = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD23145890<UTO7408122F12041597349<<<2"
	td3BAC  = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C<3UTO6908061F9406236ZE184226B<<<<<14"
)

func TestParseSpecimens(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want MRZ
		key  string
	}{
		{"TD3", td3, MRZ{Format: TD3, DocumentCode: "P", IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: "ANNA MARIA",
			DocumentNumber: "L898902C3", DocumentNumberCheck: '6', Nationality: "UTO", DateOfBirth: "740812", DateOfBirthCheck: '2',
			Sex: "F", DateOfExpiry: "120415", DateOfExpiryCheck: '9', OptionalData: "ZE184226B", OptionalDataCheck: '1', CompositeCheck: '0'},
			"L898902C3674081221204159"},
		{"TD1", td1, MRZ{Format: TD1, DocumentCode: "I", IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: "ANNA MARIA",
			DocumentNumber: "D23145890", DocumentNumberCheck: '7', Nationality: "UTO", DateOfBirth: "740812", DateOfBirthCheck: '2',
			Sex: "F", DateOfExpiry: "120415", DateOfExpiryCheck: '9', CompositeCheck: '6'},
			"D23145890774081221204159"},
		{"TD2", td2, MRZ{Format: TD2, DocumentCode: "I", IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: "ANNA MARIA",
			DocumentNumber: "D23145890", DocumentNumberCheck: '7', Nationality: "UTO", DateOfBirth: "740812", DateOfBirthCheck: '2',
			Sex: "F", DateOfExpiry: "120415", DateOfExpiryCheck: '9', CompositeCheck: '6'},
			"D23145890774081221204159"},
		{"MRV-A", mrva, MRZ{Format: MRVA, DocumentCode: "V", IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: "ANNA MARIA",
			DocumentNumber: "L8988901C", DocumentNumberCheck: '4', Nationality: "XXX", DateOfBirth: "400907", DateOfBirthCheck: '8',
			Sex: "F", DateOfExpiry: "961210", DateOfExpiryCheck: '9', OptionalData: "6ZE184226B"},
			"L8988901C440090789612109"},
		{"MRV-B", mrvb, MRZ{Format: MRVB, DocumentCode: "V", IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: "ANNA MARIA",
			DocumentNumber: "L8988901C", DocumentNumberCheck: '4', Nationality: "XXX", DateOfBirth: "400907", DateOfBirthCheck: '8',
			Sex: "F", DateOfExpiry: "961210", DateOfExpiryCheck: '9'},
			"L8988901C440090789612109"},
		{"TD1 long number", td1Long, MRZ{Format: TD1, DocumentCode: "I", IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: "ANNA MARIA",
			DocumentNumber: "D23145890734", DocumentNumberCheck: '9', Nationality: "UTO", DateOfBirth: "740812", DateOfBirthCheck: '2',
			Sex: "F", DateOfExpiry: "120415", DateOfExpiryCheck: '9', CompositeCheck: '6'},
			"D23145890734974081221204159"},
		{"TD2 long number", td2Long, MRZ{Format: TD2, DocumentCode: "I", IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: "ANNA MARIA",
			DocumentNumber: "D23145890734", DocumentNumberCheck: '9', Nationality: "UTO", DateOfBirth: "740812", DateOfBirthCheck: '2',
			Sex: "F", DateOfExpiry: "120415", DateOfExpiryCheck: '9', CompositeCheck: '2'},
			"D23145890734974081221204159"},
		// ICAO 9303-11 App. D.2: the BAC example's MRZ information.
		{"TD3 BAC example", td3BAC, MRZ{Format: TD3, DocumentCode: "P", IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: "ANNA MARIA",
			DocumentNumber: "L898902C", DocumentNumberCheck: '3', Nationality: "UTO", DateOfBirth: "690806", DateOfBirthCheck: '1',
			Sex: "F", DateOfExpiry: "940623", DateOfExpiryCheck: '6', OptionalData: "ZE184226B", OptionalDataCheck: '1', CompositeCheck: '4'},
			"L898902C<369080619406236"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if err := m.Verify(); err != nil {
				t.Errorf("Verify: %v", err)
			}
			got := *m
			got.Lines, got.Raw, got.failed = nil, "", nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if want := strings.ReplaceAll(tt.in, "\n", ""); m.Raw != want {
				t.Errorf("Raw = %q, want %q", m.Raw, want)
			}
			if k := m.KeySeedInfo(); k != tt.key {
				t.Errorf("KeySeedInfo = %q, want %q", k, tt.key)
			}
		})
	}
}

func TestParseInputForms(t *testing.T) {
	l := strings.Split(td3, "\n")
	forms := map[string]string{
		"concatenated":   l[0] + l[1],
		"CRLF":           l[0] + "\r\n" + l[1] + "\r\n",
		"trailing space": l[0] + "  \n" + l[1] + " \t",
		"blank lines":    "\n\n" + l[0] + "\n\n" + l[1] + "\n\n",
	}
	for name, in := range forms {
		m, err := Parse(in)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if m.Raw != l[0]+l[1] || m.Format != TD3 {
			t.Errorf("%s: Raw %q Format %v", name, m.Raw, m.Format)
		}
	}
	// TD1 concatenated (90) and TD2 concatenated (72).
	for in, f := range map[string]Format{strings.ReplaceAll(td1, "\n", ""): TD1, strings.ReplaceAll(td2, "\n", ""): TD2, strings.ReplaceAll(mrvb, "\n", ""): MRVB} {
		m, err := Parse(in)
		if err != nil || m.Format != f {
			t.Errorf("Parse(%d chars) = %v, %v; want %v", len(in), m, err, f)
		}
	}
}

func TestParseRefusals(t *testing.T) {
	l := strings.Split(td3, "\n")
	tests := map[string]string{
		"empty":                     "",
		"one line 87":               (l[0] + l[1])[:87],
		"one line 89":               l[0] + l[1] + "<",
		"three lines of 44":         td3 + "\n" + l[1],
		"mixed lengths":             l[0] + "\n" + l[1][:36],
		"lowercase":                 strings.ToLower(l[0]) + "\n" + l[1],
		"space inside":              strings.Replace(l[0], "<<ANNA", "< ANNA", 1) + "\n" + l[1],
		"bad sex":                   l[0] + "\n" + l[1][:20] + "Q" + l[1][21:],
		"TD1 long without continue": "I<UTOD23145890<<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<",
		"TD1 long one char":         "I<UTOD23145890<7<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<",
		"TD2 long without continue": "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD23145890<UTO7408122F1204159<<<<<<<2",
		"too long":                  strings.Repeat("<", 600),
		"utf8":                      strings.Replace(l[0], "E", "É", 1) + "\n" + l[1],
	}
	for name, in := range tests {
		if m, err := Parse(in); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: Parse = %v, %v; want ErrFormat", name, m, err)
		}
	}
}

func TestVerifyCheckDigits(t *testing.T) {
	l := strings.Split(td3, "\n")
	set := func(pos int, c byte) string {
		b := []byte(l[1])
		b[pos-1] = c
		return l[0] + "\n" + string(b)
	}
	tests := []struct {
		name string
		in   string
		want []Field
	}{
		{"document number", set(10, '5'), []Field{FieldDocumentNumber, FieldComposite}},
		{"date of birth", set(20, '3'), []Field{FieldDateOfBirth, FieldComposite}},
		{"date of expiry", set(28, 'A'), []Field{FieldDateOfExpiry, FieldComposite}},
		{"personal number", set(43, '2'), []Field{FieldOptionalData, FieldComposite}},
		{"composite only", set(44, '1'), []Field{FieldComposite}},
		{"changed data", set(1, 'M'), []Field{FieldDocumentNumber, FieldComposite}},
		{"impossible dob", set(16, '3'), []Field{FieldDateOfBirth, FieldDateOfBirth, FieldComposite}},
		{"TD1 composite", strings.Replace(td1, "<<6\n", "<<7\n", 1), []Field{FieldComposite}},
		{"MRV-B dob", strings.Replace(mrvb, "4009078", "4009079", 1), []Field{FieldDateOfBirth}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := m.Failed(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Failed() = %v, want %v", got, tt.want)
			}
			err = m.Verify()
			if !errors.Is(err, ErrCheckDigit) && !errors.Is(err, ErrInvalidDate) {
				t.Fatalf("Verify = %v, want ErrCheckDigit or ErrInvalidDate", err)
			}
			var ce *CheckError
			if !errors.As(err, &ce) || ce.Field != tt.want[0] {
				t.Errorf("errors.As: %v, want field %v", ce, tt.want[0])
			}
		})
	}
	// The exact digits reported.
	m, _ := Parse(set(10, '5'))
	var ce *CheckError
	if !errors.As(m.Verify(), &ce) || ce.Got != '5' || ce.Want != '6' {
		t.Errorf("CheckError = %+v, want Got '5' Want '6'", ce)
	}
	if got := ce.Error(); got != `mrz: document_number check digit does not match the field` {
		t.Errorf("Error() = %q", got)
	}
}

// Error messages reach logs and stderr: they name the field and what is
// wrong, never the value (document numbers and dates are personal data).
func TestErrorsHideValues(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	errs := map[string]error{}
	_, errs["dob month"] = BACKeyInfo("L898902C", "741312", "940623")
	_, errs["dob day"] = BACKeyInfo("L898902C", "740132", "940623")
	_, errs["dob digits"] = BACKeyInfo("L898902C", "74x312", "940623")
	_, errs["dob length"] = BACKeyInfo("L898902C", "7413123", "940623")
	_, errs["doc charset"] = BACKeyInfo("L89-8902", "741212", "940623")
	_, errs["birth 31 April"] = BirthDate("740431", now)
	_, errs["expiry"] = ExpiryDate("941362")
	_, errs["check digit"] = CheckDigit("74x312")
	for name, err := range errs {
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		msg := err.Error()
		for _, v := range []string{"7413", "1312", "0132", "74x3", "L89", "0431", "1362", "'x'", `"x"`} {
			if strings.Contains(msg, v) {
				t.Errorf("%s: %q quotes the input (%q)", name, msg, v)
			}
		}
	}
}

func TestCheckDigit(t *testing.T) {
	tests := []struct {
		in   string
		want byte
	}{
		{"L898902C3", '6'}, {"740812", '2'}, {"120415", '9'}, {"ZE184226B<<<<<", '1'},
		{"L898902C<", '3'}, {"690806", '1'}, {"940623", '6'}, {"D23145890734", '9'},
		{"", '0'}, {"<<<<<<", '0'}, {"A", '0'}, {"Z", '5'},
	}
	for _, tt := range tests {
		got, err := CheckDigit(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("CheckDigit(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"a", "12 3", "É", "-"} {
		if _, err := CheckDigit(bad); !errors.Is(err, ErrCharset) {
			t.Errorf("CheckDigit(%q) err = %v, want ErrCharset", bad, err)
		}
	}
}

func TestDates(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	birth := []struct {
		in   string
		want string
		part bool
	}{
		{"740812", "1974-08-12", false},
		{"261127", "2026-11-27", false}, // born today
		{"261128", "1926-11-28", false}, // tomorrow is in the future
		{"000229", "2000-02-29", false},
		{"250101", "2025-01-01", false},
		{"6908<<", "1969-08", true},
		{"690800", "1969-08", true},
		{"69<<<<", "1969", true},
		{"26<<<<", "2026", true}, // this year, month unknown: not in the future
		{"2612<<", "1926-12", true},
		{"2611<<", "2026-11", true},
		{"<<<<<<", "", true},
	}
	for _, tt := range birth {
		d, err := BirthDate(tt.in, now)
		if err != nil || d.String() != tt.want || d.Partial() != tt.part {
			t.Errorf("BirthDate(%q) = %q partial %v, %v; want %q partial %v", tt.in, d, d.Partial(), err, tt.want, tt.part)
		}
	}
	expiry := []struct{ in, want string }{
		{"120415", "2012-04-15"}, {"691231", "2069-12-31"}, {"700101", "1970-01-01"}, {"991231", "1999-12-31"},
	}
	for _, tt := range expiry {
		d, err := ExpiryDate(tt.in)
		if err != nil || d.String() != tt.want {
			t.Errorf("ExpiryDate(%q) = %q, %v; want %q", tt.in, d, err, tt.want)
		}
	}
	for _, bad := range []string{"741312", "740832", "740431", "230229", "7408", "74O812", "7408<2"} {
		if _, err := ExpiryDate(bad); !errors.Is(err, ErrInvalidDate) && bad != "7408<2" {
			t.Errorf("ExpiryDate(%q) err = %v, want ErrInvalidDate", bad, err)
		}
	}
	if _, err := BirthDate("740230", now); !errors.Is(err, ErrInvalidDate) {
		t.Errorf("BirthDate(740230) err = %v, want ErrInvalidDate", err)
	}
	m, _ := Parse(td3)
	if got := m.BirthDate(now).String(); got != "1974-08-12" {
		t.Errorf("MRZ.BirthDate = %q", got)
	}
	if got := m.ExpiryDate().String(); got != "2012-04-15" {
		t.Errorf("MRZ.ExpiryDate = %q", got)
	}
}

func TestBACKeyInfo(t *testing.T) {
	tests := []struct{ doc, dob, doe, want string }{
		// ICAO 9303-11 App. D.2.
		{"L898902C", "690806", "940623", "L898902C<369080619406236"},
		{"l898902c<", "690806", "940623", "L898902C<369080619406236"},
		{"L898902C3", "740812", "120415", "L898902C3674081221204159"},
		{"D23145890734", "740812", "120415", "D23145890734974081221204159"},
		// ICAO 9303-11 App. G.1: the PACE MRZ password.
		{"T22000129", "640812", "101031", "T22000129364081251010318"},
	}
	for _, tt := range tests {
		got, err := BACKeyInfo(tt.doc, tt.dob, tt.doe)
		if err != nil || got != tt.want {
			t.Errorf("BACKeyInfo(%q,%q,%q) = %q, %v; want %q", tt.doc, tt.dob, tt.doe, got, err, tt.want)
		}
	}
	bad := []struct {
		doc, dob, doe string
		want          error
	}{
		{"", "690806", "940623", ErrFormat},
		{"<<<", "690806", "940623", ErrFormat},
		{strings.Repeat("A", 23), "690806", "940623", ErrFormat},
		{"L89-8902", "690806", "940623", ErrCharset},
		{"L898902C", "6908", "940623", ErrInvalidDate},
		{"L898902C", "691306", "940623", ErrInvalidDate},
		{"L898902C", "690806", "9406x3", ErrInvalidDate},
	}
	for _, tt := range bad {
		if _, err := BACKeyInfo(tt.doc, tt.dob, tt.doe); !errors.Is(err, tt.want) {
			t.Errorf("BACKeyInfo(%q,%q,%q) err = %v, want %v", tt.doc, tt.dob, tt.doe, err, tt.want)
		}
	}
}

func TestStrings(t *testing.T) {
	for f, want := range map[Format]string{TD1: "TD1", TD2: "TD2", TD3: "TD3", MRVA: "MRV-A", MRVB: "MRV-B", 0: "Format(0)"} {
		if f.String() != want {
			t.Errorf("%d.String() = %q", int(f), f.String())
		}
	}
	for f, want := range map[Field]string{FieldDocumentNumber: "document_number", FieldComposite: "composite", 99: "Field(99)"} {
		if f.String() != want {
			t.Errorf("%d.String() = %q", int(f), f.String())
		}
	}
}

func TestSexAndStateFillers(t *testing.T) {
	// Germany's one-letter code "D<<" and an unspecified sex '<'.
	in := "P<D<<MUSTERMANN<<ERIKA<<<<<<<<<<<<<<<<<<<<<<\nC01X00T478D<<6408125<2010315<<<<<<<<<<<<<<<4"
	m, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if m.IssuingState != "D" || m.Nationality != "D" || m.Sex != "X" || m.Surname != "MUSTERMANN" || m.GivenNames != "ERIKA" {
		t.Errorf("got %+v", m)
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		m, err := Parse(td3)
		if err != nil || m.Verify() != nil {
			b.Fatal(err)
		}
	}
}

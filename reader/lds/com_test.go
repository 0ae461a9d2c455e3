package lds

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"borderid/reader/mrz"
)

// EF.COM of ICAO 9303-11 App. D.4 (LDS 1.6, Unicode 4.0.0, DG1 and DG2).
const comICAO = "60145F0104303130365F36063034303030305C026175"

func TestParseCOM(t *testing.T) {
	raw := unhex(t, comICAO)
	c, err := ParseCOM(raw)
	if err != nil {
		t.Fatal(err)
	}
	if c.LDSVersion != "0106" || c.UnicodeVersion != "040000" || !reflect.DeepEqual(c.Files, []File{FileDG1, FileDG2}) ||
		!reflect.DeepEqual(c.Tags, []Tag{0x61, 0x75}) || len(c.Quirks) != 0 || !bytes.Equal(c.Raw, raw) {
		t.Errorf("got %+v", c)
	}
	// A tag naming no data group is kept and recorded.
	c, err = ParseCOM(unhex(t, "60155F0104303130375F36063034303030305C03617577"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Files, []File{FileDG1, FileDG2}) || len(c.Tags) != 3 || !reflect.DeepEqual(c.Quirks, []string{QuirkUnknownTagInCOM}) {
		t.Errorf("got %+v", c)
	}
}

func TestEncodeCOM(t *testing.T) {
	got, err := EncodeCOM("0106", "040000", []File{FileDG1, FileDG2})
	if err != nil || !bytes.Equal(got, unhex(t, comICAO)) {
		t.Errorf("EncodeCOM = %X, %v; want %s", got, err, comICAO)
	}
	files := []File{FileDG1, FileDG2, FileDG3, FileDG11, FileDG12, FileDG14, FileDG15}
	got, err = EncodeCOM("0107", "040000", files)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCOM(got)
	if err != nil || c.LDSVersion != "0107" || !reflect.DeepEqual(c.Files, files) {
		t.Errorf("round trip = %+v, %v", c, err)
	}
	for _, bad := range []struct {
		l, u  string
		files []File
	}{
		{"107", "040000", nil}, {"0107", "04000", nil}, {"01a7", "040000", nil},
		{"0107", "040000", []File{FileSOD}}, {"0107", "040000", []File{FileCOM}}, {"0107", "040000", []File{0}},
	} {
		if _, err := EncodeCOM(bad.l, bad.u, bad.files); err == nil {
			t.Errorf("EncodeCOM(%q, %q, %v) accepted", bad.l, bad.u, bad.files)
		}
	}
}

func TestParseCOMRefusals(t *testing.T) {
	tests := map[string]struct {
		hex  string
		want error
	}{
		"wrong outer tag":  {"61145F0104303130365F36063034303030305C026175", ErrUnexpectedTag},
		"truncated":        {"60145F0104303130365F36063034303030305C0261", ErrShortHeader},
		"trailing":         {comICAO + "00", ErrTLV},
		"no tag list":      {"60105F0104303130365F3606303430303030", ErrTLV},
		"no unicode":       {"600B5F0104303130365C026175", ErrTLV},
		"version letters":  {"60145F01043031413F5F36063034303030305C026175", ErrTLV},
		"version length":   {"60135F01033031305F36063034303030305C026175", ErrTLV},
		"inner truncated":  {"60055F010430", ErrShortHeader},
		"indefinite outer": {"6080", ErrTLV},
	}
	for name, tt := range tests {
		if _, err := ParseCOM(unhex(t, tt.hex)); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tt.want)
		}
	}
}

const mrzTD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10"

func TestDG1(t *testing.T) {
	tests := []struct {
		name, mrz, prefix string
	}{
		{"TD3", mrzTD3, "615B5F1F58"},
		{"TD1", "I<UTOD231458907<<<<<<<<<<<<<<<7408122F1204159UTO<<<<<<<<<<<6ERIKSSON<<ANNA<MARIA<<<<<<<<<<", "615D5F1F5A"},
		{"TD2", "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<D231458907UTO7408122F1204159<<<<<<<6", "614B5F1F48"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Lines or concatenated: the file holds the concatenation.
			for _, in := range []string{tt.mrz, splitLines(tt.mrz)} {
				b, err := EncodeDG1(in)
				if err != nil {
					t.Fatal(err)
				}
				want := append(unhex(t, tt.prefix), tt.mrz...)
				if !bytes.Equal(b, want) {
					t.Fatalf("EncodeDG1 = %X, want %X", b, want)
				}
				d, err := ParseDG1(b)
				if err != nil {
					t.Fatal(err)
				}
				if d.MRZ.Raw != tt.mrz || d.MRZ.Verify() != nil || !bytes.Equal(d.Raw, b) || d.MRZ.Surname != "ERIKSSON" {
					t.Errorf("ParseDG1 = %+v (verify %v)", d.MRZ, d.MRZ.Verify())
				}
			}
		})
	}
	// Two lines are accepted by EncodeDG1 and stored concatenated.
	b, err := EncodeDG1(mrzTD3[:44] + "\r\n" + mrzTD3[44:])
	if err != nil || !bytes.Equal(b[5:], []byte(mrzTD3)) {
		t.Errorf("EncodeDG1(lines) = %q, %v", b, err)
	}
	// A wrong check digit is stored and parsed; Verify reports it.
	bad := strings.Replace(mrzTD3, "C36UTO", "C35UTO", 1)
	b, err = EncodeDG1(bad)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDG1(b)
	if err != nil || !errors.Is(d.MRZ.Verify(), mrz.ErrCheckDigit) {
		t.Errorf("ParseDG1(bad check digit) = %v, verify %v", err, d.MRZ.Verify())
	}
}

func TestDG1Refusals(t *testing.T) {
	wrap := func(inner string) []byte {
		e, _ := AppendElement(nil, TagMRZ, []byte(inner))
		b, _ := AppendElement(nil, 0x61, e)
		return b
	}
	tests := map[string]struct {
		b    []byte
		want error
	}{
		"short MRZ":      {wrap(mrzTD3[:87]), mrz.ErrFormat},
		"MRZ with CR LF": {wrap(mrzTD3[:43] + "\r\n" + mrzTD3[44:87]), mrz.ErrFormat},
		"lowercase":      {wrap(strings.ToLower(mrzTD3)), mrz.ErrFormat},
		"wrong inner":    {unhex(t, "61035F1E00"), ErrUnexpectedTag},
		"wrong outer":    {unhex(t, "60035F1F00"), ErrUnexpectedTag},
		"empty":          {nil, ErrShortHeader},
	}
	for name, tt := range tests {
		if _, err := ParseDG1(tt.b); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tt.want)
		}
	}
	if _, err := EncodeDG1("P<UTO"); !errors.Is(err, mrz.ErrFormat) {
		t.Errorf("EncodeDG1(short) err = %v", err)
	}
}

// splitLines puts the MRZ's lines on separate lines.
func splitLines(m string) string {
	n := map[int]int{88: 44, 72: 36, 90: 30}[len(m)]
	var lines []string
	for i := 0; i < len(m); i += n {
		lines = append(lines, m[i:i+n])
	}
	return strings.Join(lines, "\n")
}

package lds

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// DG11 in the layout of 9303-10 §4.7.11 (written by hand): tag list with
// full name, other names, personal number, full date of birth, place of
// birth and address; other names in an A0 template with a count.
const dg11Hex = "6B5E" +
	"5C0C5F0E5F0F5F105F2B5F115F42" +
	"5F0E0E" + "4552494B53534F4E3C3C414E4E41" + // ERIKSSON<<ANNA
	"A00B020101" + "5F0F054D41524941" + // one other name: MARIA
	"5F1009" + "5A4531383432323642" + // ZE184226B
	"5F2B08" + "3139373430383132" + // 19740812
	"5F1106" + "5A454E495448" + // ZENITH
	"5F420F" + "313233204D41504C4520524F4144" + "3C" // 123 MAPLE ROAD<

func TestParseDG11(t *testing.T) {
	raw := unhex(t, dg11Hex)
	d, err := ParseDG11(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := &DG11{
		TagList:  []Tag{0x5F0E, 0x5F0F, 0x5F10, 0x5F2B, 0x5F11, 0x5F42},
		FullName: "ERIKSSON<<ANNA", OtherNames: []string{"MARIA"}, PersonalNumber: "ZE184226B",
		FullDateOfBirth: "19740812", PlaceOfBirth: "ZENITH", PermanentAddress: "123 MAPLE ROAD<", Raw: raw,
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("got  %+v\nwant %+v", d, want)
	}
	// Encoding the parsed fields gives the same bytes back.
	b, err := EncodeDG11(d)
	if err != nil || !bytes.Equal(b, raw) {
		t.Errorf("EncodeDG11 = %X, %v\nwant        %X", b, err, raw)
	}
}

func TestDG11RoundTripAll(t *testing.T) {
	in := &DG11{FullName: "A<<B", OtherNames: []string{"C", "D"}, PersonalNumber: "1", FullDateOfBirth: "19690806",
		PlaceOfBirth: "P", PermanentAddress: "Q", Telephone: "T", Profession: "R", Title: "S", PersonalSummary: "U",
		ProofOfCitizenship: []byte{0xFF, 0xD8}, OtherTDNumbers: "V", CustodyInformation: "W"}
	b, err := EncodeDG11(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseDG11(b)
	if err != nil {
		t.Fatal(err)
	}
	in.Raw = b
	in.TagList = []Tag{0x5F0E, 0x5F0F, 0x5F10, 0x5F2B, 0x5F11, 0x5F42, 0x5F12, 0x5F13, 0x5F14, 0x5F15, 0x5F16, 0x5F17, 0x5F18}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("got  %+v\nwant %+v", got, in)
	}
}

func TestDG12RoundTrip(t *testing.T) {
	in := &DG12{IssuingAuthority: "UTOPIA", DateOfIssue: "20120415", OtherPersons: []string{"X<<Y"}, Endorsements: "E",
		TaxExit: "T", ImageFront: []byte{1}, ImageRear: []byte{2}, PersonalisedAt: "20120415120000", PersonalisationSNum: "SN1"}
	b, err := EncodeDG12(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex(t, "6C5B"+"5C125F195F265F1A5F1B5F1C5F1D5F1E5F555F56"+"5F1906"+"55544F504941"); !bytes.HasPrefix(b, want) {
		t.Errorf("EncodeDG12 = %X, want prefix %X", b, want)
	}
	got, err := ParseDG12(b)
	if err != nil {
		t.Fatal(err)
	}
	in.Raw = b
	in.TagList = []Tag{0x5F19, 0x5F26, 0x5F1A, 0x5F1B, 0x5F1C, 0x5F1D, 0x5F1E, 0x5F55, 0x5F56}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("got  %+v\nwant %+v", got, in)
	}
}

func TestDG11DG12Refusals(t *testing.T) {
	tests := map[string]struct {
		parse func([]byte) error
		hex   string
		want  error
	}{
		"DG11 wrong tag":       {dg11, "6C035C0100", ErrUnexpectedTag},
		"DG11 no tag list":     {dg11, "6B045F0E0141", ErrTLV},
		"DG11 bad tag list":    {dg11, "6B055C035F8181", ErrTLV},
		"DG11 count mismatch":  {dg11, "6B0D5C025F0FA0070201025F0F0141", ErrTLV},
		"DG11 bad count":       {dg11, "6B0C5C025F0FA00602005F0F0141", ErrTLV},
		"DG11 truncated":       {dg11, "6B055C025F0F", ErrShortHeader},
		"DG11 template broken": {dg11, "6B075C025F0FA0015F", ErrShortHeader},
		"DG12 wrong tag":       {dg12, "6B035C0100", ErrUnexpectedTag},
		"DG12 no tag list":     {dg12, "6C045F190141", ErrTLV},
		"DG12 count mismatch":  {dg12, "6C0D5C025F1AA0070201025F1A0141", ErrTLV},
	}
	for name, tt := range tests {
		if err := tt.parse(unhex(t, tt.hex)); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tt.want)
		}
	}
	if _, err := EncodeDG11(&DG11{}); err == nil {
		t.Error("EncodeDG11(empty) accepted")
	}
	if _, err := EncodeDG12(&DG12{OtherPersons: make([]string, 65)}); err == nil {
		t.Error("EncodeDG12(65 persons) accepted")
	}
}

func dg11(b []byte) error { _, err := ParseDG11(b); return err }
func dg12(b []byte) error { _, err := ParseDG12(b); return err }

package lds

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestElementLength(t *testing.T) {
	tests := []struct {
		hdr  string
		want int
		err  error
	}{
		{"6014", 22, nil},             // EF.COM of 9303-11 D.4
		{"60145F0104", 22, nil},       // more bytes than the header
		{"7582", 0, ErrShortHeader},   // length bytes missing
		{"758201", 0, ErrShortHeader}, // one of two
		{"75820100", 260, nil},
		{"758100", 3, nil},   // non-minimal, accepted
		{"7581FF", 258, nil}, // 3 + 255
		{"7783010000", 5 + 65536, nil},
		{"7F6182FFFF", 5 + 65535, nil}, // two-byte tag
		{"5F1F58", 3 + 88, nil},        // DG1's MRZ element
		{"5F810105", 4 + 5, nil},       // three-byte tag
		{"5F8101", 0, ErrShortHeader},  // three-byte tag, no length
		{"5F81", 0, ErrShortHeader},    // three-byte tag cut short
		{"5F8181", 0, ErrTLV},          // four-byte tag
		{"5F81818101", 0, ErrTLV},
		{"7F", 0, ErrShortHeader},         // tag incomplete
		{"", 0, ErrShortHeader},           // nothing
		{"7780", 0, ErrTLV},               // indefinite length
		{"778500000000 01", 0, ErrTLV},    // five length bytes
		{"778401000001", 0, ErrTooLong},   // 16 MiB + 1
		{"778401000000", 6 + 16<<20, nil}, // exactly the limit
		{"0000", 0, ErrTLV},               // padding is no tag
		{"FF", 0, ErrTLV},
	}
	for _, tt := range tests {
		got, err := ElementLength(unhex(t, tt.hdr))
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("ElementLength(%s) err = %v, want %v", tt.hdr, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ElementLength(%s) = %d, %v; want %d", tt.hdr, got, err, tt.want)
		}
	}
}

func TestReadElement(t *testing.T) {
	in := unhex(t, "5F1F03414243 61820002AABB 01")
	s := cryptobyte.String(in)
	e, err := ReadElement(&s)
	if err != nil || e.Tag != 0x5F1F || string(e.Value) != "ABC" || !bytes.Equal(e.Raw, in[:6]) {
		t.Fatalf("first = %+v, %v", e, err)
	}
	e, err = ReadElement(&s)
	if err != nil || e.Tag != 0x61 || !bytes.Equal(e.Value, []byte{0xAA, 0xBB}) || !bytes.Equal(e.Raw, in[6:12]) {
		t.Fatalf("second = %+v, %v", e, err)
	}
	if _, err = ReadElement(&s); !errors.Is(err, ErrShortHeader) {
		t.Fatalf("third err = %v, want ErrShortHeader", err)
	}
	// A value running past the input.
	s = cryptobyte.String(unhex(t, "610541"))
	if _, err := ReadElement(&s); !errors.Is(err, ErrShortHeader) {
		t.Errorf("truncated value err = %v", err)
	}
}

func TestParseSingle(t *testing.T) {
	if e, err := ParseSingle(unhex(t, "6101AA"), 0x61); err != nil || e.Value[0] != 0xAA {
		t.Errorf("ParseSingle = %+v, %v", e, err)
	}
	if _, err := ParseSingle(unhex(t, "6101AA"), 0x60); !errors.Is(err, ErrUnexpectedTag) {
		t.Errorf("wrong tag err = %v", err)
	}
	if _, err := ParseSingle(unhex(t, "6101AA00"), 0x61); !errors.Is(err, ErrTLV) {
		t.Errorf("trailing err = %v", err)
	}
	if _, err := ParseElements(unhex(t, "6101AA62")); !errors.Is(err, ErrShortHeader) {
		t.Errorf("ParseElements truncated err = %v", err)
	}
}

func TestAppendElement(t *testing.T) {
	tests := []struct {
		tag  Tag
		n    int
		want string // header
	}{
		{0x61, 0, "6100"}, {0x61, 127, "617F"}, {0x61, 128, "618180"}, {0x61, 255, "6181FF"},
		{0x5F1F, 256, "5F1F820100"}, {0x7F61, 65535, "7F6182FFFF"}, {0x75, 65536, "7583010000"},
		{0x5F8101, 1, "5F810101"},
	}
	for _, tt := range tests {
		got, err := AppendElement(nil, tt.tag, make([]byte, tt.n))
		if err != nil {
			t.Fatal(err)
		}
		hdr := unhex(t, tt.want)
		if !bytes.Equal(got[:len(hdr)], hdr) || len(got) != len(hdr)+tt.n {
			t.Errorf("AppendElement(%s, %d) header %X, want %s", tt.tag, tt.n, got[:len(hdr)], tt.want)
		}
		if n, err := ElementLength(got); err != nil || n != len(got) {
			t.Errorf("ElementLength of encoded = %d, %v", n, err)
		}
	}
	if _, err := AppendElement(nil, 0x75, make([]byte, MaxElementLength+1)); !errors.Is(err, ErrTooLong) {
		t.Errorf("oversized err = %v", err)
	}
}

func TestTag(t *testing.T) {
	for tag, want := range map[Tag]string{0x61: "61", 0x5F1F: "5F1F", 0x7F61: "7F61", 0x5F8101: "5F8101"} {
		if tag.String() != want {
			t.Errorf("%d.String() = %q, want %q", uint32(tag), tag.String(), want)
		}
	}
	for tag, want := range map[Tag]bool{0x61: true, 0x5F1F: false, 0x7F61: true, 0x02: false, 0xA1: true, 0x80: false} {
		if tag.Constructed() != want {
			t.Errorf("%s.Constructed() = %v", tag, !want)
		}
	}
}

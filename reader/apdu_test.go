package reader

import (
	"bytes"
	"errors"
	"testing"
)

func TestCommandBytes(t *testing.T) {
	big := bytes.Repeat([]byte{0xAB}, 256)
	tests := []struct {
		name string
		cmd  Command
		want string
	}{
		{"case 1", Command{CLA: 0x00, INS: 0xA4, P1: 0x04, P2: 0x0C}, "00A4040C"},
		{"case 2 short", Command{INS: 0x84, Ne: 8}, "0084000008"},
		{"case 2 Ne=256", Command{INS: 0xB0, Ne: 256}, "00B0000000"},
		{"case 3 short", Command{INS: 0xA4, P1: 0x02, P2: 0x0C, Data: []byte{0x01, 0x1E}}, "00A4020C02011E"},
		{"case 4 short", Command{INS: 0x82, Data: []byte{1, 2}, Ne: 40}, "0082000002010228"},
		{"case 2 extended", Command{INS: 0xB0, Ne: 257}, "00B00000000101"},
		{"case 2 Ne=65536", Command{INS: 0xB0, Ne: 65536}, "00B00000000000"},
		{"case 4 extended by Ne", Command{INS: 0xB1, Data: []byte{0x54, 0x02, 0x80, 0x00}, Ne: 1000}, "00B100000000045402800003E8"},
		{"case 3 extended", Command{INS: 0xD6, Data: big}, "00D6000000010" + "0" + hexRepeat("AB", 256)},
		{"case 4 extended Ne=65536", Command{INS: 0xD6, Data: big, Ne: 65536}, "00D60000000100" + hexRepeat("AB", 256) + "0000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cmd.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tc.want); !bytes.Equal(got, want) {
				t.Errorf("got %X, want %X", got, want)
			}
		})
	}
}

func hexRepeat(s string, n int) string {
	b := make([]byte, 0, len(s)*n)
	for i := 0; i < n; i++ {
		b = append(b, s...)
	}
	return string(b)
}

func TestCommandBytesRefusals(t *testing.T) {
	for _, c := range []Command{
		{Ne: -1},
		{Ne: 65537},
		{Data: make([]byte, 65536)},
	} {
		if _, err := c.Bytes(); !errors.Is(err, ErrInvalidCommand) {
			t.Errorf("%v: err %v, want ErrInvalidCommand", c, err)
		}
	}
}

func TestParseResponse(t *testing.T) {
	r, err := ParseResponse([]byte{0x60, 0x14, 0x90, 0x00})
	if err != nil || r.SW != SWSuccess || !bytes.Equal(r.Data, []byte{0x60, 0x14}) {
		t.Fatalf("got %+v, %v", r, err)
	}
	r, err = ParseResponse([]byte{0x6A, 0x82})
	if err != nil || r.SW != SWFileNotFound || r.Data != nil {
		t.Fatalf("got %+v, %v", r, err)
	}
	for _, b := range [][]byte{nil, {0x90}, make([]byte, 65539)} {
		if _, err := ParseResponse(b); !errors.Is(err, ErrMalformedResponse) {
			t.Errorf("%d bytes: err %v, want ErrMalformedResponse", len(b), err)
		}
	}
}

func TestStatusWord(t *testing.T) {
	tests := []struct {
		sw   StatusWord
		want string
	}{
		{SWSuccess, "9000 success"},
		{SWSecurityNotSatisfied, "6982 security status not satisfied"},
		{SWFileNotFound, "6A82 file not found"},
		{0x6110, "6110 16 response bytes available"},
		{0x6100, "6100 256 response bytes available"},
		{0x6C20, "6C20 wrong Le, exact length 32"},
		{0x6283, "6283 warning"},
		{0x6F12, "6F12 error"},
	}
	for _, tc := range tests {
		if got := tc.sw.String(); got != tc.want {
			t.Errorf("%04X: %q, want %q", uint16(tc.sw), got, tc.want)
		}
	}
	if n, ok := StatusWord(0x6C00).ExactLength(); !ok || n != 256 {
		t.Errorf("6C00: %d %v", n, ok)
	}
	if _, ok := SWSuccess.BytesAvailable(); ok {
		t.Error("9000 has no bytes available")
	}
	errs := []struct {
		sw     StatusWord
		target error
		want   bool
	}{
		{0x6982, ErrAccessDenied, true},
		{0x6A82, ErrFileNotFound, true},
		{0x6700, ErrWrongLength, true},
		{0x6C10, ErrWrongLength, true},
		{0x6A82, ErrAccessDenied, false},
		{0x9000, ErrFileNotFound, false},
	}
	for _, e := range errs {
		if got := errors.Is(error(&SWError{Cmd: "X", SW: e.sw}), e.target); got != e.want {
			t.Errorf("%v is %v: %v", e.sw, e.target, got)
		}
	}
}

func FuzzParseResponse(f *testing.F) {
	f.Add([]byte{0x90, 0x00})
	f.Add([]byte{0x87, 0x09, 0x01, 0x9F, 0xF0, 0xEC, 0x34, 0xF9, 0x92, 0x26, 0x51, 0x99, 0x02, 0x90, 0x00, 0x90, 0x00})
	f.Add([]byte{0x6A})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResponse(b)
		if err != nil {
			if len(b) >= 2 && len(b) <= 65538 {
				t.Fatalf("valid length %d refused: %v", len(b), err)
			}
			return
		}
		if len(r.Data) != len(b)-2 || !bytes.Equal(r.Data, b[:len(b)-2]) {
			t.Fatalf("data %X from %X", r.Data, b)
		}
		if uint16(r.SW) != uint16(b[len(b)-2])<<8|uint16(b[len(b)-1]) {
			t.Fatalf("SW %v from %X", r.SW, b)
		}
	})
}

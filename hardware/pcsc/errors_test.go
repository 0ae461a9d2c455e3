package pcsc

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestErrorIs(t *testing.T) {
	sentinels := []error{ErrNoService, ErrNoReaders, ErrReaderUnavailable, ErrNoCard,
		ErrCardRemoved, ErrSharingViolation, ErrTimeout, ErrCancelled}
	tests := []struct {
		code Error
		want error // nil: matches no sentinel
	}{
		{0x8010001D, ErrNoService},
		{0x8010001E, ErrNoService},
		{0x8010002E, ErrNoReaders},
		{0x80100017, ErrReaderUnavailable},
		{0x80100009, ErrReaderUnavailable},
		{0x8010000C, ErrNoCard},
		{0x80100069, ErrCardRemoved},
		{0x80100068, ErrCardRemoved},
		{0x80100067, ErrCardRemoved},
		{0x8010000B, ErrSharingViolation},
		{0x8010000A, ErrTimeout},
		{0x80100002, ErrCancelled},
		{0x80100012, ErrCancelled},
		{0x80100016, nil}, // not transacted
		{0x80100066, nil}, // unresponsive card
		{0x80100001, nil},
	}
	for _, tc := range tests {
		wrapped := fmt.Errorf("op: %w", tc.code)
		for _, s := range sentinels {
			if got := errors.Is(wrapped, s); got != (s == tc.want) {
				t.Errorf("errors.Is(%v, %q) = %v", tc.code, s, got)
			}
		}
		var e Error
		if !errors.As(wrapped, &e) || e != tc.code {
			t.Errorf("errors.As(%v) = %v", tc.code, e)
		}
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		code Error
		str  string
		err  string
	}{
		{ErrCodeRemovedCard, "SCARD_W_REMOVED_CARD", "pcsc: SCARD_W_REMOVED_CARD (0x80100069)"},
		{ErrCodeNoService, "SCARD_E_NO_SERVICE", "pcsc: SCARD_E_NO_SERVICE (0x8010001D)"},
		{0x80100099, "SCARD_0x80100099", "pcsc: SCARD_0x80100099 (0x80100099)"},
	}
	for _, tc := range tests {
		if tc.code.String() != tc.str || tc.code.Error() != tc.err {
			t.Errorf("%#x: String %q Error %q, want %q %q", uint32(tc.code), tc.code.String(), tc.code.Error(), tc.str, tc.err)
		}
	}
}

func TestTypeStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{ShareExclusive.String(), "exclusive"},
		{ShareShared.String(), "shared"},
		{ProtocolT1.String(), "T=1"},
		{(ProtocolT0 | ProtocolT1).String(), "T=0|T=1"},
		{Protocol(0x10).String(), "Protocol(0x10)"},
		{ResetCard.String(), "reset"},
		{UnpowerCard.String(), "unpower"},
		{StateUnaware.String(), "unaware"},
		{(StatePresent | StateExclusive | StateChanged | 0x30000).String(), "changed|present|exclusive(events=3)"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestParseMultiString(t *testing.T) {
	tests := []struct {
		in   []byte
		want []string
	}{
		{[]byte("Virtual PCD 00 00\x00Virtual PCD 00 01\x00\x00"), []string{"Virtual PCD 00 00", "Virtual PCD 00 01"}},
		{[]byte("a\x00\x00"), []string{"a"}},
		{[]byte("\x00"), nil},
		{nil, nil},
		{[]byte("unterminated"), []string{"unterminated"}},
		{[]byte("a\x00b"), []string{"a", "b"}},
		{[]byte("a\x00\x00b\x00"), []string{"a"}}, // the empty string ends the list
	}
	for _, tc := range tests {
		if got := parseMultiString(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("parseMultiString(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzParseMultiString(f *testing.F) {
	f.Add([]byte("Virtual PCD 00 00\x00Virtual PCD 00 01\x00Virtual PCD 2 00 00\x00\x00"))
	f.Add([]byte("\x00"))
	f.Add([]byte("x"))
	f.Fuzz(func(t *testing.T, in []byte) {
		names := parseMultiString(in)
		total := 0
		for _, n := range names {
			if n == "" || bytes.IndexByte([]byte(n), 0) >= 0 {
				t.Fatalf("bad name %q", n)
			}
			total += len(n) + 1
		}
		if total > len(in)+1 {
			t.Fatalf("names longer than input")
		}
	})
}

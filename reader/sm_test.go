package reader

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"borderid/internal/smcrypto"
)

const (
	d4KSenc = "979EC13B1CBFE9DCD01AB0FED307EAE5"
	d4KSmac = "F1CB1F1FB5ADF208806B89DC579DC1F8"
)

func newD4(t testing.TB) SecureMessaging {
	t.Helper()
	m, err := NewSM(smcrypto.TDES, unhex(t, d4KSenc), unhex(t, d4KSmac), unhex(t, "887022120C06C226"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// ICAO 9303-11 App. D.4: SELECT EF.COM and two READ BINARY, protected
// commands and unprotected answers byte for byte.
func TestSMD4(t *testing.T) {
	tr := &scripted{t: t, ex: []exchange{
		{"0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800", "990290008E08FA855A5D4C50A8ED9000"},
		{"0CB000000D9701048E08ED6705417E96BA5500", "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"},
		{"0CB000040D9701128E082EA28A70F3C7B53500", "871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000"},
	}}
	s := NewSession(tr, SessionOptions{})
	m := newD4(t)
	s.SetSecureMessaging(m)
	ctx := context.Background()
	steps := []struct {
		cmd  Command
		data string
		ssc  string
	}{
		{Command{INS: 0xA4, P1: 0x02, P2: 0x0C, Data: []byte{0x01, 0x1E}}, "", "887022120C06C228"},
		{Command{INS: 0xB0, Ne: 4}, "60145F01", "887022120C06C22A"},
		{Command{INS: 0xB0, P2: 0x04, Ne: 0x12}, "04303130365F36063034303030305C026175", "887022120C06C22C"},
	}
	var file []byte
	for i, st := range steps {
		r, err := s.Transmit(ctx, st.cmd)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if r.SW != SWSuccess || !bytes.Equal(r.Data, unhex(t, st.data)) {
			t.Fatalf("step %d: %v %X, want 9000 %s", i, r.SW, r.Data, st.data)
		}
		if got := m.(*sm).ssc; !bytes.Equal(got, unhex(t, st.ssc)) {
			t.Errorf("step %d: SSC %X, want %s", i, got, st.ssc)
		}
		file = append(file, r.Data...)
	}
	tr.done()
	if want := unhex(t, "60145F0104303130365F36063034303030305C026175"); !bytes.Equal(file, want) {
		t.Errorf("EF.COM %X", file)
	}
	if q := s.Quirks(); len(q) != 0 {
		t.Errorf("quirks %v for a conforming chip", q)
	}
}

// The published AES session: MSE:Set AT with SSC 00..BB. The plain
// command has no Le; the protected one still carries Le = 00.
func TestSMAESVector(t *testing.T) {
	ssc := make([]byte, 16)
	ssc[15] = 0xBA
	m, err := NewSM(smcrypto.AES128, unhex(t, "cc86415f2ed7e8fd663b754265695ae1"), unhex(t, "581e84b8ee06c4d3eee30461498d7fb3"), ssc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Protect(Command{CLA: 0x00, INS: 0x22, P1: 0x41, P2: 0xA4, Data: unhex(t, "800A04007F000702020302028401C3")})
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex(t, "0C2241A41D871101980953D37F67558690045D78A853B18A8E08929767A2CEF172E200"); !bytes.Equal(got, want) {
		t.Fatalf("got  %X\nwant %X", got, want)
	}
}

func TestNewSMRefusals(t *testing.T) {
	k16, k8 := make([]byte, 16), make([]byte, 8)
	for _, c := range []struct {
		c               smcrypto.Cipher
		kenc, kmac, ssc []byte
	}{
		{0, k16, k16, k8},
		{smcrypto.TDES, k8, k16, k8},
		{smcrypto.TDES, k16, k16, k16},
		{smcrypto.AES128, k16, k16, k8},
		{smcrypto.AES256, k16, k16, k16},
	} {
		if _, err := NewSM(c.c, c.kenc, c.kmac, c.ssc); !errors.Is(err, smcrypto.ErrCipher) {
			t.Errorf("%v %d/%d/%d: %v", c.c, len(c.kenc), len(c.kmac), len(c.ssc), err)
		}
	}
}

// cardSide is the chip's half of a secure messaging session, written for
// the tests from 9303-11 §9.8 independently of sm.go: it checks protected
// commands and builds protected answers.
type cardSide struct {
	c          smcrypto.Cipher
	kenc, kmac []byte
	ssc        []byte
}

func newCardSide(t testing.TB, c smcrypto.Cipher, kenc, kmac, ssc []byte) *cardSide {
	return &cardSide{c: c, kenc: append([]byte{}, kenc...), kmac: append([]byte{}, kmac...), ssc: append([]byte{}, ssc...)}
}

func (cs *cardSide) inc() {
	for i := len(cs.ssc) - 1; i >= 0; i-- {
		cs.ssc[i]++
		if cs.ssc[i] != 0 {
			return
		}
	}
}

// respOpts shapes one protected answer.
type respOpts struct {
	odd      bool // DO85 instead of DO87
	noDO99   bool
	do99     []byte // a different DO99 value
	badMAC   bool
	noSSCInc bool
}

func tlv(tag byte, v []byte) []byte {
	switch {
	case len(v) < 0x80:
		return append([]byte{tag, byte(len(v))}, v...)
	case len(v) < 0x100:
		return append([]byte{tag, 0x81, byte(len(v))}, v...)
	}
	return append([]byte{tag, 0x82, byte(len(v) >> 8), byte(len(v))}, v...)
}

// protect builds the protected response APDU for data and sw.
func (cs *cardSide) protect(data []byte, sw StatusWord, o respOpts) []byte {
	cs.inc()
	var dos []byte
	if len(data) > 0 {
		iv, _ := smcrypto.SSCIV(cs.c, cs.kenc, cs.ssc)
		ct, _ := smcrypto.EncryptCBC(cs.c, cs.kenc, iv, smcrypto.Pad(data, cs.c.BlockSize()))
		if o.odd {
			dos = append(dos, tlv(0x85, ct)...)
		} else {
			dos = append(dos, tlv(0x87, append([]byte{1}, ct...))...)
		}
	}
	if !o.noDO99 {
		v := []byte{byte(sw >> 8), byte(sw)}
		if o.do99 != nil {
			v = o.do99
		}
		dos = append(dos, tlv(0x99, v)...)
	}
	mac, _ := smcrypto.MAC(cs.c, cs.kmac, append(append([]byte{}, cs.ssc...), dos...))
	if o.badMAC {
		mac[7] ^= 1
	}
	dos = append(dos, tlv(0x8E, mac)...)
	return append(dos, byte(sw>>8), byte(sw))
}

// aesPair returns a reader-side and a card-side AES-128 session that agree.
func aesPair(t testing.TB) (SecureMessaging, *cardSide) {
	kenc := unhex(t, "cc86415f2ed7e8fd663b754265695ae1")
	kmac := unhex(t, "581e84b8ee06c4d3eee30461498d7fb3")
	ssc := make([]byte, 16)
	m, err := NewSM(smcrypto.AES128, kenc, kmac, ssc)
	if err != nil {
		t.Fatal(err)
	}
	return m, newCardSide(t, smcrypto.AES128, kenc, kmac, ssc)
}

func tdesPair(t testing.TB) (SecureMessaging, *cardSide) {
	ssc := unhex(t, "887022120C06C226")
	return newD4(t), newCardSide(t, smcrypto.TDES, unhex(t, d4KSenc), unhex(t, d4KSmac), ssc)
}

// Every way a response can fail to authenticate is refused, no data comes
// back, and the session is finished.
func TestUnprotectRefusals(t *testing.T) {
	readCmd := Command{INS: 0xB0, Ne: 16}
	data := []byte("sixteen bytes!!!")
	tests := []struct {
		name   string
		resp   func(cs *cardSide) []byte
		target error
		cause  error
	}{
		{"bad MAC", func(cs *cardSide) []byte { return cs.protect(data, SWSuccess, respOpts{badMAC: true}) }, ErrSecureMessaging, ErrBadMAC},
		{"missing MAC", func(cs *cardSide) []byte {
			r := cs.protect(data, SWSuccess, respOpts{})
			return append(r[:len(r)-2-10], 0x90, 0x00) // DO8E cut off
		}, ErrSecureMessaging, ErrDowngrade},
		{"missing MAC with error status", func(cs *cardSide) []byte {
			r := cs.protect(data, SWSuccess, respOpts{})
			return append(r[:len(r)-2-10], 0x6A, 0x80)
		}, ErrSecureMessaging, ErrMissingMAC},
		{"unprotected 9000", func(cs *cardSide) []byte { return []byte{0x90, 0x00} }, ErrSecureMessaging, ErrDowngrade},
		{"unprotected data 9000", func(cs *cardSide) []byte { return append(append([]byte{}, data...), 0x90, 0x00) }, ErrSecureMessaging, ErrDowngrade},
		{"unprotected data 6282", func(cs *cardSide) []byte { return append(append([]byte{}, data[:4]...), 0x62, 0x82) }, ErrSecureMessaging, ErrDowngrade},
		{"unprotected 6282 no data", func(cs *cardSide) []byte { return []byte{0x62, 0x82} }, ErrSecureMessaging, ErrDowngrade},
		{"DO99 mismatch", func(cs *cardSide) []byte { return cs.protect(data, SWSuccess, respOpts{do99: []byte{0x62, 0x82}}) }, ErrSecureMessaging, ErrSWMismatch},
		// Without DO99 the trailer is not MAC-covered: only 9000 is taken.
		{"no DO99, trailer 6A82", func(cs *cardSide) []byte { return cs.protect(nil, SWFileNotFound, respOpts{noDO99: true}) }, ErrSecureMessaging, ErrSWMismatch},
		{"no DO99, trailer 6982", func(cs *cardSide) []byte { return cs.protect(nil, SWSecurityNotSatisfied, respOpts{noDO99: true}) }, ErrSecureMessaging, ErrSWMismatch},
		{"no DO99, trailer 6282 with data", func(cs *cardSide) []byte { return cs.protect(data[:4], SWEndOfFile, respOpts{noDO99: true}) }, ErrSecureMessaging, ErrSWMismatch},
		{"no DO99, trailer rewritten", func(cs *cardSide) []byte {
			r := cs.protect(data, SWSuccess, respOpts{noDO99: true})
			r[len(r)-2], r[len(r)-1] = 0x6C, 0x04
			return r
		}, ErrSecureMessaging, ErrSWMismatch},
		{"unprotected 61xx", func(cs *cardSide) []byte { return []byte{0x61, 0x10} }, ErrSecureMessaging, ErrMalformedSM},
		{"DO99 wrong size", func(cs *cardSide) []byte { return cs.protect(data, SWSuccess, respOpts{do99: []byte{0x90}}) }, ErrSecureMessaging, ErrMalformedSM},
		{"MAC before data", func(cs *cardSide) []byte {
			r := cs.protect(data, SWSuccess, respOpts{})
			n := len(r) - 2
			return append(append(append([]byte{}, r[n-10:n]...), r[:n-10]...), 0x90, 0x00)
		}, ErrSecureMessaging, ErrMalformedSM},
		{"unknown DO", func(cs *cardSide) []byte {
			return append([]byte{0x53, 0x01, 0x00, 0x8E, 0x08, 1, 2, 3, 4, 5, 6, 7, 8}, 0x6A, 0x80)
		}, ErrSecureMessaging, ErrMalformedSM},
		{"truncated DO", func(cs *cardSide) []byte { return []byte{0x87, 0x20, 0x01, 0x6A, 0x80} }, ErrSecureMessaging, ErrMalformedSM},
		{"dropped 6987", func(cs *cardSide) []byte { return []byte{0x69, 0x87} }, ErrSMDropped, nil},
		{"dropped 6988", func(cs *cardSide) []byte { return []byte{0x69, 0x88} }, ErrSMDropped, nil},
		{"one status byte", func(cs *cardSide) []byte { return []byte{0x90} }, ErrSecureMessaging, ErrMalformedSM},
	}
	for _, pair := range []struct {
		name string
		mk   func(testing.TB) (SecureMessaging, *cardSide)
	}{{"3DES", tdesPair}, {"AES", aesPair}} {
		for _, tc := range tests {
			t.Run(pair.name+"/"+tc.name, func(t *testing.T) {
				m, cs := pair.mk(t)
				if _, err := m.Protect(readCmd); err != nil {
					t.Fatal(err)
				}
				cs.inc() // the card counted the command
				r, err := m.Unprotect(tc.resp(cs))
				if !errors.Is(err, tc.target) || (tc.cause != nil && !errors.Is(err, tc.cause)) {
					t.Fatalf("err %v, want %v / %v", err, tc.target, tc.cause)
				}
				if r.Data != nil {
					t.Fatalf("data %X returned with an error", r.Data)
				}
				if _, err := m.Protect(readCmd); !errors.Is(err, ErrSecureMessaging) {
					t.Fatalf("session still usable after a failure: %v", err)
				}
			})
		}
	}
}

// Accepted answers: protected data, protected errors, DO85, and the two
// tolerated quirks with exactly their stated effect on the SSC.
func TestUnprotectAccepts(t *testing.T) {
	data := []byte{0x53, 0x03, 1, 2, 3}
	for _, pair := range []struct {
		name string
		mk   func(testing.TB) (SecureMessaging, *cardSide)
	}{{"3DES", tdesPair}, {"AES", aesPair}} {
		t.Run(pair.name, func(t *testing.T) {
			m, cs := pair.mk(t)
			roundTrip := func(cmd Command, resp func() []byte, wantData []byte, wantSW StatusWord) {
				t.Helper()
				if _, err := m.Protect(cmd); err != nil {
					t.Fatal(err)
				}
				cs.inc()
				r, err := m.Unprotect(resp())
				if err != nil {
					t.Fatal(err)
				}
				if r.SW != wantSW || !bytes.Equal(r.Data, wantData) {
					t.Fatalf("got %v %X, want %v %X", r.SW, r.Data, wantSW, wantData)
				}
			}
			read := Command{INS: 0xB0, Ne: 5}
			roundTrip(read, func() []byte { return cs.protect(data, SWSuccess, respOpts{}) }, data, SWSuccess)
			// 6282 with data counts when MAC-protected.
			roundTrip(read, func() []byte { return cs.protect(data[:2], SWEndOfFile, respOpts{}) }, data[:2], SWEndOfFile)
			roundTrip(Command{INS: 0xB1, Data: []byte{0x54, 0x02, 0x80, 0x00}, Ne: 5}, func() []byte { return cs.protect(data, SWSuccess, respOpts{odd: true}) }, data, SWSuccess)
			roundTrip(read, func() []byte { return cs.protect(nil, SWSecurityNotSatisfied, respOpts{}) }, nil, SWSecurityNotSatisfied)
			if q := m.Quirks(); len(q) != 0 {
				t.Fatalf("quirks %v", q)
			}
			// Quirk (c): no DO99; the status comes from the trailer.
			roundTrip(read, func() []byte { return cs.protect(data, SWSuccess, respOpts{noDO99: true}) }, data, SWSuccess)
			// Quirk (a): an unprotected error; the chip did not count the
			// response, so the next protected answer must still verify.
			if _, err := m.Protect(read); err != nil {
				t.Fatal(err)
			}
			cs.inc()
			r, err := m.Unprotect([]byte{0x6A, 0x82})
			if err != nil || r.SW != SWFileNotFound || r.Data != nil {
				t.Fatalf("unprotected 6A82: %+v %v", r, err)
			}
			roundTrip(read, func() []byte { return cs.protect(data, SWSuccess, respOpts{}) }, data, SWSuccess)
			if got, want := m.Quirks(), []Quirk{QuirkSMNoDO99, QuirkSMUnprotectedError}; !equalQuirks(got, want) {
				t.Fatalf("quirks %v, want %v", got, want)
			}
		})
	}
}

// An unprotected 6Cxx is an unprotected error like the others: the
// caller steps down, the SSC is not incremented for it.
func TestUnprotectExactLength(t *testing.T) {
	m, cs := tdesPair(t)
	data := []byte("sixteen bytes!!!")
	if _, err := m.Protect(Command{INS: 0xB0, Ne: 200}); err != nil {
		t.Fatal(err)
	}
	cs.inc()
	r, err := m.Unprotect([]byte{0x6C, 0x10})
	if err != nil || r.SW != 0x6C10 || r.Data != nil {
		t.Fatalf("unprotected 6C10: %+v %v", r, err)
	}
	if _, err := m.Protect(Command{INS: 0xB0, Ne: 16}); err != nil {
		t.Fatal(err)
	}
	cs.inc()
	if r, err = m.Unprotect(cs.protect(data, SWSuccess, respOpts{})); err != nil || !bytes.Equal(r.Data, data) {
		t.Fatalf("after 6C10: %+v %v", r, err)
	}
	if got := m.Quirks(); !equalQuirks(got, []Quirk{QuirkSMUnprotectedError}) {
		t.Fatalf("quirks %v", got)
	}
}

// Once an unprotected error status was taken, a drop (6987/6988) or a MAC
// failure is what an injected status causes (the SSCs drifted apart): it
// fails with ErrUntrustedStatus and is not an ErrSMDropped a caller would
// answer by redoing access control.
func TestUnprotectAfterUnprotectedError(t *testing.T) {
	data := []byte("sixteen bytes!!!")
	tests := []struct {
		name  string
		resp  func(cs *cardSide) []byte
		cause error
	}{
		{"6988", func(cs *cardSide) []byte { return []byte{0x69, 0x88} }, nil},
		{"6987", func(cs *cardSide) []byte { return []byte{0x69, 0x87} }, nil},
		// The attacker swallowed a protected answer: the card counted it,
		// the reader did not.
		{"MAC under a drifted SSC", func(cs *cardSide) []byte { cs.inc(); return cs.protect(data, SWSuccess, respOpts{}) }, ErrBadMAC},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, cs := tdesPair(t)
			read := Command{INS: 0xB0, Ne: 16}
			if _, err := m.Protect(read); err != nil {
				t.Fatal(err)
			}
			cs.inc()
			if _, err := m.Unprotect([]byte{0x6A, 0x82}); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Protect(read); err != nil {
				t.Fatal(err)
			}
			cs.inc()
			r, err := m.Unprotect(tc.resp(cs))
			if !errors.Is(err, ErrSecureMessaging) || !errors.Is(err, ErrUntrustedStatus) || errors.Is(err, ErrSMDropped) {
				t.Fatalf("err %v", err)
			}
			if tc.cause != nil && !errors.Is(err, tc.cause) {
				t.Fatalf("err %v, want %v", err, tc.cause)
			}
			if !strings.Contains(err.Error(), "cannot be trusted") || r.Data != nil {
				t.Fatalf("err %q data %X", err, r.Data)
			}
		})
	}
	// Without an earlier unprotected error a drop stays an ErrSMDropped.
	m, cs := tdesPair(t)
	if _, err := m.Protect(Command{INS: 0xB0, Ne: 16}); err != nil {
		t.Fatal(err)
	}
	cs.inc()
	if _, err := m.Unprotect([]byte{0x69, 0x88}); !errors.Is(err, ErrSMDropped) || errors.Is(err, ErrUntrustedStatus) {
		t.Fatalf("plain drop: %v", err)
	}
}

func equalQuirks(a, b []Quirk) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSMSequence(t *testing.T) {
	m, _ := tdesPair(t)
	if _, err := m.Unprotect([]byte{0x90, 0x00}); !errors.Is(err, ErrSMState) {
		t.Errorf("Unprotect before Protect: %v", err)
	}
	m, _ = tdesPair(t)
	if _, err := m.Protect(Command{INS: 0xB0, Ne: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Protect(Command{INS: 0xB0, Ne: 1}); !errors.Is(err, ErrSMState) {
		t.Errorf("Protect twice: %v", err)
	}
	m, _ = tdesPair(t)
	if _, err := m.Protect(Command{CLA: 0x0C, INS: 0xB0, Ne: 1}); !errors.Is(err, ErrInvalidCommand) {
		t.Errorf("already protected CLA: %v", err)
	}
}

// Protect's length encodings: DO97 as one byte (00 for 256) in short
// commands, two bytes in extended ones. The protected command's Le is 00
// when short and, when extended, the size of the protected answer to the
// plain Ne (DO87 with the padded data, DO99, DO8E), not 0000: a chip that
// advertised a smaller maximum must not be asked for more.
func TestProtectLengths(t *testing.T) {
	tests := []struct {
		aes      bool
		ins      byte
		ne       int
		do97     string
		trailing string
	}{
		{false, 0xB0, 4, "970104", "00"},
		{false, 0xB0, 256, "970100", "00"},
		// 3DES: 1008 bytes of cryptogram + 01 in DO87 (87 82 03F1), 14 more.
		{false, 0xB0, 1000, "970203E8", "0403"},
		{false, 0xB0, 300, "9702012C", "0143"},
		// AES: 1008 bytes of cryptogram as well.
		{true, 0xB0, 1000, "970203E8", "0403"},
		// Odd INS: DO85 has no padding-content indicator.
		{false, 0xB1, 1000, "970203E8", "0402"},
		// Beyond 65536 the largest Le (0000) is all there is.
		{false, 0xB0, 65536, "97020000", "0000"},
		{false, 0xB0, 65503, "9702FFDF", "FFF3"},
	}
	for _, tc := range tests {
		m, _ := tdesPair(t)
		if tc.aes {
			m, _ = aesPair(t)
		}
		cmd := Command{INS: tc.ins, Ne: tc.ne}
		if tc.ins == 0xB1 {
			cmd.Data = []byte{0x54, 0x02, 0x80, 0x00}
		}
		b, err := m.Protect(cmd)
		if err != nil {
			t.Fatal(err)
		}
		do97 := unhex(t, tc.do97)
		if !bytes.Contains(b, do97) || !bytes.HasSuffix(b, unhex(t, tc.trailing)) {
			t.Errorf("Ne %d: %X lacks %s or trailing %s", tc.ne, b, tc.do97, tc.trailing)
		}
		extended := len(tc.trailing) == 4
		if extended != (b[4] == 0x00) {
			t.Errorf("Ne %d: %X extended=%v", tc.ne, b, extended)
		}
	}
}

func TestMaxPlainNe(t *testing.T) {
	tests := []struct {
		c     smcrypto.Cipher
		limit int
		odd   bool
		want  int
	}{
		{smcrypto.TDES, 256, false, 231},
		{smcrypto.AES128, 256, false, 223},
		{smcrypto.AES256, 256, true, 223},
		{smcrypto.TDES, 256, true, 231},
		{smcrypto.AES128, 65536, false, 65503},
		{smcrypto.TDES, 1000, false, 975},
	}
	for _, tc := range tests {
		if got := maxPlainNe(tc.c, tc.limit, tc.odd); got != tc.want {
			t.Errorf("%v limit %d odd %v: %d, want %d", tc.c, tc.limit, tc.odd, got, tc.want)
		}
		// The protected answer for the result fits and one more byte does not.
		n := tc.want
		size := func(n int) int {
			ct := (n/tc.c.BlockSize() + 1) * tc.c.BlockSize()
			v := ct
			if !tc.odd {
				v++
			}
			return 1 + berLenSize(v) + v + 14
		}
		if size(n) > tc.limit || size(n+1) <= tc.limit {
			t.Errorf("%v limit %d: size(%d)=%d size(%d)=%d", tc.c, tc.limit, n, size(n), n+1, size(n+1))
		}
	}
}

// FuzzUnprotect feeds arbitrary answers to a fresh session: it never
// panics and never returns data unless the answer carries a MAC that
// verifies (checked independently with the card side's key).
func FuzzUnprotect(f *testing.F) {
	f.Add(unhex(f, "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"), false)
	f.Add(unhex(f, "990290008E08FA855A5D4C50A8ED9000"), false)
	f.Add([]byte{0x6A, 0x82}, true)
	f.Add([]byte{0x69, 0x87}, false)
	f.Add(unhex(f, "871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000"), true)
	f.Fuzz(func(t *testing.T, resp []byte, aes bool) {
		var m SecureMessaging
		var cs *cardSide
		if aes {
			m, cs = aesPair(t)
		} else {
			// SSC ...C229 so the D.4 READ BINARY answer is valid here.
			ssc := unhex(t, "887022120C06C228")
			var err error
			m, err = NewSM(smcrypto.TDES, unhex(t, d4KSenc), unhex(t, d4KSmac), ssc)
			if err != nil {
				t.Fatal(err)
			}
			cs = newCardSide(t, smcrypto.TDES, unhex(t, d4KSenc), unhex(t, d4KSmac), ssc)
		}
		if _, err := m.Protect(Command{INS: 0xB0, Ne: 4}); err != nil {
			t.Fatal(err)
		}
		cs.inc()
		cs.inc()
		r, err := m.Unprotect(resp)
		if err != nil {
			if r.Data != nil {
				t.Fatal("data with an error")
			}
			return
		}
		if r.Data == nil {
			return
		}
		// Data came back: the answer must end in a DO8E that verifies over
		// SSC || everything before it.
		if len(resp) < 12 {
			t.Fatalf("data from a %d-byte answer", len(resp))
		}
		body := resp[:len(resp)-2]
		mac := body[len(body)-8:]
		if body[len(body)-10] != 0x8E || body[len(body)-9] != 0x08 {
			t.Fatalf("data without a trailing DO8E: %X", resp)
		}
		want, _ := smcrypto.MAC(cs.c, cs.kmac, append(append([]byte{}, cs.ssc...), body[:len(body)-10]...))
		if !bytes.Equal(want, mac) {
			t.Fatalf("data accepted with an invalid MAC: %X", resp)
		}
	})
}

func BenchmarkProtectUnprotect(b *testing.B) {
	data := bytes.Repeat([]byte{0x5A}, 223)
	for _, pair := range []struct {
		name string
		mk   func(testing.TB) (SecureMessaging, *cardSide)
	}{{"3DES", tdesPair}, {"AES", aesPair}} {
		b.Run(pair.name, func(b *testing.B) {
			m, cs := pair.mk(b)
			cmd := Command{INS: 0xB0, Ne: 223}
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := m.Protect(cmd); err != nil {
					b.Fatal(err)
				}
				cs.inc()
				resp := cs.protect(data, SWSuccess, respOpts{})
				if _, err := m.Unprotect(resp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

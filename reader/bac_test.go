package reader

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"borderid/internal/smcrypto"
)

// ICAO 9303-11 App. D.2: keys from the MRZ key-seed information.
func TestBACKeysD2(t *testing.T) {
	kenc, kmac, err := BACKeys("L898902C<369080619406236")
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex(t, "AB94FDECF2674FDFB9B391F85D7F76F2"); !bytes.Equal(kenc, want) {
		t.Errorf("Kenc %X, want %X", kenc, want)
	}
	if want := unhex(t, "7962D9ECE03D1ACD4C76089DCE131543"); !bytes.Equal(kmac, want) {
		t.Errorf("Kmac %X, want %X", kmac, want)
	}
	if _, _, err := BACKeys(""); !errors.Is(err, ErrBACFailed) {
		t.Errorf("empty key-seed: %v", err)
	}
}

const (
	d3Info     = "L898902C<369080619406236"
	d3RndIFD   = "781723860C06C226"
	d3KIFD     = "0B795240CB7049B01C19B33E32804F0B"
	d3ExtAuth  = "0082000028" + "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2" + "5F1448EEA8AD90A7" + "28"
	d3Response = "46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F" + "2F2D235D074D7449" + "9000"
)

// ICAO 9303-11 App. D.3: the EXTERNAL AUTHENTICATE command byte for byte
// and the session keys and SSC that follow.
func TestBACD3(t *testing.T) {
	tr := &scripted{t: t, ex: []exchange{
		{"0084000008", "4608F919887022129000"},
		{d3ExtAuth, d3Response},
	}}
	s := NewSession(tr, SessionOptions{})
	got, err := BAC(context.Background(), s, d3Info, bytes.NewReader(unhex(t, d3RndIFD+d3KIFD)))
	if err != nil {
		t.Fatal(err)
	}
	tr.done()
	m := got.(*sm)
	for _, c := range []struct {
		name      string
		got, want []byte
	}{
		{"KSenc", m.kenc, unhex(t, "979EC13B1CBFE9DCD01AB0FED307EAE5")},
		{"KSmac", m.kmac, unhex(t, "F1CB1F1FB5ADF208806B89DC579DC1F8")},
		{"SSC", m.ssc, unhex(t, "887022120C06C226")},
	} {
		if !bytes.Equal(c.got, c.want) {
			t.Errorf("%s %X, want %X", c.name, c.got, c.want)
		}
	}
	if m.Cipher() != smcrypto.TDES || s.SecureMessaging() != got {
		t.Error("session does not use the new 3DES channel")
	}
	if s.APDUs() != 2 || s.Bytes() != 5+10+46+42 {
		t.Errorf("stats %d APDUs %d bytes", s.APDUs(), s.Bytes())
	}
}

func TestBACRefusals(t *testing.T) {
	badMAC := d3Response[:64+14] + "48" + "9000" // last MAC byte changed
	tests := []struct {
		name   string
		ex     []exchange
		target error
	}{
		{"wrong MRZ 6300", []exchange{{"0084000008", "4608F919887022129000"}, {d3ExtAuth, "6300"}}, ErrBACFailed},
		{"6982", []exchange{{"0084000008", "4608F919887022129000"}, {d3ExtAuth, "6982"}}, ErrBACFailed},
		{"challenge refused", []exchange{{"0084000008", "6D00"}}, ErrBACFailed},
		{"short challenge", []exchange{{"0084000008", "4608F9199000"}}, ErrBACFailed},
		{"bad MAC from chip", []exchange{{"0084000008", "4608F919887022129000"}, {d3ExtAuth, badMAC}}, ErrSecureMessaging},
		{"short answer", []exchange{{"0084000008", "4608F919887022129000"}, {d3ExtAuth, "46B9342A9000"}}, ErrSecureMessaging},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := &scripted{t: t, ex: tc.ex}
			s := NewSession(tr, SessionOptions{})
			_, err := BAC(context.Background(), s, d3Info, bytes.NewReader(unhex(t, d3RndIFD+d3KIFD)))
			if !errors.Is(err, tc.target) {
				t.Fatalf("err %v, want %v", err, tc.target)
			}
			if s.SecureMessaging() != nil {
				t.Error("secure messaging installed after a failed BAC")
			}
			tr.done()
		})
	}
}

// A chip whose answer carries a valid MAC but not our challenge (a replay
// of another session's answer) is refused.
func TestBACReplayedAnswer(t *testing.T) {
	// Same chip, same keys, but the terminal's RND.IFD differs from D.3:
	// the chip's recorded D.3 answer no longer matches.
	kenc, kmac, _ := BACKeys(d3Info)
	rndIFD := unhex(t, "0000000000000001")
	S := append(append(append([]byte{}, rndIFD...), unhex(t, "4608F91988702212")...), unhex(t, d3KIFD)...)
	e, _ := smcrypto.EncryptCBC(smcrypto.TDES, kenc, make([]byte, 8), S)
	m, _ := smcrypto.RetailMAC(kmac, e)
	cmd := "0082000028" + hexOf(e) + hexOf(m) + "28"
	tr := &scripted{t: t, ex: []exchange{{"0084000008", "4608F919887022129000"}, {cmd, d3Response}}}
	_, err := BAC(context.Background(), NewSession(tr, SessionOptions{}), d3Info, bytes.NewReader(append(rndIFD, unhex(t, d3KIFD)...)))
	if !errors.Is(err, ErrSecureMessaging) {
		t.Fatalf("err %v, want ErrSecureMessaging", err)
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

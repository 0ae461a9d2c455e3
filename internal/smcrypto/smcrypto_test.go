package smcrypto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

func h(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// ICAO 9303-11 App. D.2 and D.3 (../shared/vectors/icao9303.md).
func TestDeriveKeyBAC(t *testing.T) {
	tests := []struct {
		name    string
		seed    string
		counter uint32
		want    string
	}{
		{"D.2 Kenc", "239AB9CB282DAF66231DC5A4DF6BFBAE", CounterEnc, "AB94FDECF2674FDFB9B391F85D7F76F2"},
		{"D.2 Kmac", "239AB9CB282DAF66231DC5A4DF6BFBAE", CounterMAC, "7962D9ECE03D1ACD4C76089DCE131543"},
		{"D.3 KSenc", "0036D272F5C350ACAC50C3F572D23600", CounterEnc, "979EC13B1CBFE9DCD01AB0FED307EAE5"},
		{"D.3 KSmac", "0036D272F5C350ACAC50C3F572D23600", CounterMAC, "F1CB1F1FB5ADF208806B89DC579DC1F8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DeriveKey(TDES, h(tt.seed), tt.counter)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, h(tt.want)) {
				t.Errorf("got %X, want %s", got, tt.want)
			}
		})
	}
}

// No ICAO example prints an AES KDF output on its own (the PACE examples
// pin it through the tokens, tested with PACE); here: sizes and hash choice.
func TestDeriveKeyAESSizes(t *testing.T) {
	seed := h("00112233445566778899AABBCCDDEEFF")
	for _, c := range []Cipher{AES128, AES192, AES256} {
		k, err := DeriveKey(c, seed, CounterEnc)
		if err != nil {
			t.Fatal(err)
		}
		if len(k) != c.KeySize() {
			t.Errorf("%v: key %d bytes", c, len(k))
		}
	}
	// AES-128 uses SHA-1 like 3DES, without parity adjustment.
	a, _ := DeriveKey(AES128, seed, CounterMAC)
	d, _ := DeriveKey(TDES, seed, CounterMAC)
	for i := range a {
		if a[i]&^1 != d[i]&^1 {
			t.Fatalf("AES-128 and 3DES KDF differ beyond parity at byte %d", i)
		}
	}
	// AES-192 is a prefix of AES-256 (both SHA-256).
	k192, _ := DeriveKey(AES192, seed, CounterEnc)
	k256, _ := DeriveKey(AES256, seed, CounterEnc)
	if !bytes.Equal(k192, k256[:24]) {
		t.Error("AES-192 key is not the SHA-256 prefix")
	}
	if _, err := DeriveKey(Cipher(0), seed, 1); !errors.Is(err, ErrCipher) {
		t.Errorf("unknown cipher: %v", err)
	}
}

// App. D.3: E_IFD and M_IFD.
func TestBACCryptogram(t *testing.T) {
	kenc := h("AB94FDECF2674FDFB9B391F85D7F76F2")
	kmac := h("7962D9ECE03D1ACD4C76089DCE131543")
	s := h("781723860C06C2264608F919887022120B795240CB7049B01C19B33E32804F0B")
	e, err := EncryptCBC(TDES, kenc, make([]byte, 8), s)
	if err != nil {
		t.Fatal(err)
	}
	if want := h("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"); !bytes.Equal(e, want) {
		t.Errorf("E_IFD %X", e)
	}
	m, err := MAC(TDES, kmac, e)
	if err != nil {
		t.Fatal(err)
	}
	if want := h("5F1448EEA8AD90A7"); !bytes.Equal(m, want) {
		t.Errorf("M_IFD %X", m)
	}
	r, err := DecryptCBC(TDES, kenc, make([]byte, 8), h("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F"))
	if err != nil {
		t.Fatal(err)
	}
	if want := h("4608F91988702212781723860C06C2260B4F80323EB3191CB04970CB4052790B"); !bytes.Equal(r, want) {
		t.Errorf("R %X", r)
	}
}

// App. D.4: the MAC of the protected SELECT EF.COM.
func TestSMMAC3DES(t *testing.T) {
	ksmac := h("F1CB1F1FB5ADF208806B89DC579DC1F8")
	// SSC || padded header || DO87
	n := append(h("887022120C06C227"), Pad(h("0CA4020C"), 8)...)
	n = append(n, h("8709016375432908C044F6")...)
	m, err := MAC(TDES, ksmac, n)
	if err != nil {
		t.Fatal(err)
	}
	if want := h("BF8B92D635FF24F8"); !bytes.Equal(m, want) {
		t.Errorf("CC %X", m)
	}
}

// The published AES session (vectors file): MSE:Set AT protected with SSC 0..0BB.
func TestSMAES(t *testing.T) {
	kenc := h("cc86415f2ed7e8fd663b754265695ae1")
	kmac := h("581e84b8ee06c4d3eee30461498d7fb3")
	ssc := h("000000000000000000000000000000BB")
	iv, err := SSCIV(AES128, kenc, ssc)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := EncryptCBC(AES128, kenc, iv, Pad(h("800A04007F000702020302028401C3"), 16))
	if err != nil {
		t.Fatal(err)
	}
	if want := h("980953D37F67558690045D78A853B18A"); !bytes.Equal(ct, want) {
		t.Fatalf("DO87 cryptogram %X", ct)
	}
	n := append(append([]byte{}, ssc...), Pad(h("0C2241A4"), 16)...)
	n = append(n, 0x87, 0x11, 0x01)
	n = append(n, ct...)
	m, err := MAC(AES128, kmac, n)
	if err != nil {
		t.Fatal(err)
	}
	if want := h("929767A2CEF172E2"); !bytes.Equal(m, want) {
		t.Errorf("MAC %X", m)
	}
}

// NIST SP 800-38B App. D.1 (AES-128) examples 1-4.
func TestCMACSP80038B(t *testing.T) {
	key := h("2b7e151628aed2a6abf7158809cf4f3c")
	msg := h("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
	tests := []struct {
		n    int
		want string
	}{
		{0, "bb1d6929e95937287fa37d129b756746"},
		{16, "070a16b46b4d4144f79bdd9dd04a287c"},
		{40, "dfa66747de9ae63030ca32611497c827"},
		{64, "51f0bebf7e3b9d92fc49741779363cfe"},
	}
	for _, tt := range tests {
		got, err := CMAC(key, msg[:tt.n])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, h(tt.want)) {
			t.Errorf("len %d: %X, want %s", tt.n, got, tt.want)
		}
	}
}

func TestPadUnpad(t *testing.T) {
	tests := []struct{ in, padded string }{
		{"", "8000000000000000"},
		{"01", "0180000000000000"},
		{"0102030405060708", "01020304050607088000000000000000"},
		{"01020304050607", "0102030405060780"},
	}
	for _, tt := range tests {
		p := Pad(h(tt.in), 8)
		if !bytes.Equal(p, h(tt.padded)) {
			t.Errorf("Pad(%s) = %X", tt.in, p)
		}
		u, err := Unpad(p)
		if err != nil || !bytes.Equal(u, h(tt.in)) {
			t.Errorf("Unpad(%X) = %X, %v", p, u, err)
		}
	}
	for _, bad := range []string{"", "00", "0000", "0102", "8001"} {
		if _, err := Unpad(h(bad)); !errors.Is(err, ErrPadding) {
			t.Errorf("Unpad(%s): %v, want ErrPadding", bad, err)
		}
	}
}

func TestKeyLengthRefused(t *testing.T) {
	if _, err := NewBlock(AES256, make([]byte, 16)); !errors.Is(err, ErrCipher) {
		t.Errorf("AES-256 with 16-byte key: %v", err)
	}
	if _, err := RetailMAC(make([]byte, 8), nil); !errors.Is(err, ErrCipher) {
		t.Errorf("retail MAC 8-byte key: %v", err)
	}
	if _, err := SSCIV(AES128, make([]byte, 16), make([]byte, 8)); !errors.Is(err, ErrCipher) {
		t.Errorf("AES with 8-byte SSC: %v", err)
	}
	if _, err := DecryptCBC(TDES, make([]byte, 16), make([]byte, 8), make([]byte, 7)); !errors.Is(err, ErrCipher) {
		t.Errorf("partial block: %v", err)
	}
}

func FuzzUnpad(f *testing.F) {
	f.Add(h("0180000000000000"))
	f.Add(h("00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := Unpad(b)
		if err != nil {
			return
		}
		if len(u) >= len(b) || b[len(u)] != 0x80 {
			t.Fatalf("Unpad(%X) = %X", b, u)
		}
	})
}

func BenchmarkMAC(b *testing.B) {
	msg := make([]byte, 256)
	for _, c := range []Cipher{TDES, AES128} {
		key := make([]byte, c.KeySize())
		b.Run(c.String(), func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if _, err := MAC(c, key, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package pace

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"borderid/internal/smcrypto"
)

// FuzzDecryptCAMData: A_IC comes from the chip; any bytes either decrypt to
// padded data or are refused, and a success re-encrypts to the same bytes.
func FuzzDecryptCAMData(f *testing.F) {
	ksenc := hx(f, cam.ksenc)
	a, _ := EncryptCAMData(smcrypto.AES128, ksenc, hx(f, cam.caIC))
	f.Add(a)
	f.Add(make([]byte, 16))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, aIC []byte) {
		ca, err := DecryptCAMData(smcrypto.AES128, ksenc, aIC)
		if err != nil {
			return
		}
		back, err := EncryptCAMData(smcrypto.AES128, ksenc, ca)
		if err != nil || !bytes.Equal(back, aIC) {
			t.Fatalf("round trip: %X -> %X -> %X (%v)", aIC, ca, back, err)
		}
	})
}

// FuzzDecryptNonce: z comes from the chip.
func FuzzDecryptNonce(f *testing.F) {
	f.Add(hx(f, g1.z), uint8(2))
	f.Add([]byte{1, 2, 3}, uint8(1))
	ciphers := []smcrypto.Cipher{smcrypto.TDES, smcrypto.AES128, smcrypto.AES192, smcrypto.AES256}
	f.Fuzz(func(t *testing.T, z []byte, ci uint8) {
		c := ciphers[int(ci)%len(ciphers)]
		kpi, _ := KeyFromCAN("123456", c)
		s, err := DecryptNonce(c, kpi, z)
		if err != nil {
			return
		}
		if back, err := EncryptNonce(c, kpi, s); err != nil || !bytes.Equal(back, z) {
			t.Fatalf("round trip failed")
		}
		// The decrypted nonce feeds R; it must never panic there either.
		tn := make([]byte, c.KeySize())
		_, _ = PRF(c, s, tn, 256)
	})
}

// FuzzPeerPublicKey: the chip's (or terminal's) ephemeral public key is
// attacker-chosen; every domain either refuses it with a typed error or
// agrees on a fixed-length secret.
func FuzzPeerPublicKey(f *testing.F) {
	f.Add(hx(f, g1.pkIC), uint8(13))
	f.Add(hx(f, g2.pkIC), uint8(0))
	f.Add([]byte{0}, uint8(12))
	f.Add([]byte{4}, uint8(8))
	ids := []int{0, 8, 9, 12, 13}
	privs := map[int][]byte{}
	for _, id := range ids {
		d := domain(f, id)
		priv, _, err := d.GenerateKey(rand.Reader, nil)
		if err != nil {
			f.Fatal(err)
		}
		privs[id] = priv
	}
	f.Fuzz(func(t *testing.T, pub []byte, which uint8) {
		id := ids[int(which)%len(ids)]
		d := domain(t, id)
		verr := d.ValidatePublic(pub)
		k, err := d.SharedSecret(privs[id], pub)
		if (verr == nil) != (err == nil) {
			t.Fatalf("ValidatePublic %v but SharedSecret %v", verr, err)
		}
		if err == nil && len(k) != map[KeyAgreement]int{DH: d.ElementLen(), ECDH: (d.ElementLen() - 1) / 2}[d.KeyAgreement()] {
			t.Fatalf("K of %d bytes", len(k))
		}
		_, _ = d.MapIntegrated(pub)
		_, _ = d.MapGeneric([]byte{1}, pub)
		_, _ = d.Comp(pub)
	})
}

// FuzzEncodePublicKeyDO: the object always starts 7F49 with a DER length
// that covers the rest, and ends with the key.
func FuzzEncodePublicKeyDO(f *testing.F) {
	f.Add(hx(f, g1.pkIC), true)
	f.Add(hx(f, g2.pkIC), false)
	f.Fuzz(func(t *testing.T, pub []byte, ecdh bool) {
		ka := DH
		if ecdh {
			ka = ECDH
		}
		do, err := EncodePublicKeyDO(oidECDHGMAES128, pub, ka)
		if err != nil {
			return
		}
		if do[0] != 0x7F || do[1] != 0x49 || !bytes.HasSuffix(do, pub) {
			t.Fatalf("%X", do)
		}
		n, hdr := 0, 0
		switch {
		case do[2] < 0x80:
			n, hdr = int(do[2]), 3
		case do[2] == 0x81:
			n, hdr = int(do[3]), 4
		case do[2] == 0x82:
			n, hdr = int(do[3])<<8|int(do[4]), 5
		default:
			t.Fatalf("length form %X", do[2])
		}
		if hdr+n != len(do) {
			t.Fatalf("length %d, object %d", n, len(do))
		}
	})
}

func TestErrorsAreDistinct(t *testing.T) {
	errs := []error{ErrPassword, ErrNonce, ErrPRF, ErrToken, ErrCAMData, ErrCAM, ErrMapping, ErrUnknownParameterID}
	for i, a := range errs {
		for j, b := range errs {
			if i != j && errors.Is(a, b) {
				t.Errorf("%v is %v", a, b)
			}
		}
	}
}

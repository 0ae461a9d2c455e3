package envelope_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"borderid/internal/envelope"
	"borderid/internal/envelope/envelopetest"
)

// FuzzOpen: Open of any Sealed, with any ad, never panics and never
// succeeds unless the input is the record sealed here (or a legitimate
// copy of it); every refusal is ErrDecrypt.
func FuzzOpen(f *testing.F) {
	ctx := context.Background()
	kw := envelopetest.NewWrapper(f)
	ad := envelope.AD("rec", "face")
	pt := []byte("plaintext")
	s, err := envelope.Seal(ctx, kw, pt, ad)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(int64(s.KEKVersion), s.WrappedKey, s.Nonce, s.Ciphertext, ad)
	f.Add(int64(0), []byte{}, []byte{}, []byte{}, []byte{})
	f.Add(int64(-1), s.WrappedKey, s.Nonce[:23], s.Ciphertext, ad)
	f.Add(int64(1<<40), s.WrappedKey, s.Nonce, s.Ciphertext[:16], ad)
	f.Fuzz(func(t *testing.T, v int64, wrapped, nonce, ct, a []byte) {
		in := envelope.Sealed{KEKVersion: int(v), WrappedKey: wrapped, Nonce: nonce, Ciphertext: ct}
		got, err := envelope.Open(ctx, kw, in, a)
		if err != nil {
			if !errors.Is(err, envelope.ErrDecrypt) || got != nil {
				t.Fatalf("Open: %q, %v", got, err)
			}
			return
		}
		same := int(v) == s.KEKVersion && bytes.Equal(wrapped, s.WrappedKey) && bytes.Equal(nonce, s.Nonce) &&
			bytes.Equal(ct, s.Ciphertext) && bytes.Equal(a, ad)
		if !same || !bytes.Equal(got, pt) {
			t.Fatalf("forged record opened: %q", got)
		}
	})
}

// FuzzUnmarshalBinary: the binary form's parser never panics, and what it
// accepts re-encodes to the same bytes.
func FuzzUnmarshalBinary(f *testing.F) {
	kw := envelopetest.NewWrapper(f)
	s, err := envelope.Seal(context.Background(), kw, []byte("x"), envelope.AD("a", "b"))
	if err != nil {
		f.Fatal(err)
	}
	b, err := s.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{1, 0, 0, 0, 1, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var s envelope.Sealed
		if err := s.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, envelope.ErrFormat) {
				t.Fatal(err)
			}
			return
		}
		again, err := s.MarshalBinary()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("re-encoding differs: %v", err)
		}
	})
}

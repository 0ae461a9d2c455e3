package ec

import (
	"crypto"
	"crypto/sha256"
	"errors"
	"io"
	"testing"
)

// TestNilRandomSource: every function that reads randomness refuses a nil
// source with ErrNoRandomness instead of panicking in io.ReadFull, and a
// source that runs dry gives a wrapped read error, on every curve.
func TestNilRandomSource(t *testing.T) {
	h := sha256.Sum256([]byte("nil rand"))
	for _, c := range Curves() {
		t.Run(c.Name(), func(t *testing.T) {
			k, err := NewPrivateKey(c, []byte{7})
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				name string
				call func(io.Reader) error
			}{
				{"Curve.Sign", func(r io.Reader) error { _, _, err := c.Sign(r, k.Bytes(), h[:]); return err }},
				{"Curve.GenerateKey", func(r io.Reader) error { _, _, err := c.GenerateKey(r, nil); return err }},
				{"GeneratePrivateKey", func(r io.Reader) error { _, err := GeneratePrivateKey(c, r); return err }},
				{"PrivateKey.Sign", func(r io.Reader) error { _, err := k.Sign(r, h[:], crypto.SHA256); return err }},
				{"PrivateKey.SignPlain", func(r io.Reader) error { _, err := k.SignPlain(r, h[:]); return err }},
			} {
				if err := tc.call(nil); !errors.Is(err, ErrNoRandomness) {
					t.Errorf("%s(nil): %v, want ErrNoRandomness", tc.name, err)
				}
				if err := tc.call(eofReader{}); err == nil || !errors.Is(err, io.EOF) {
					t.Errorf("%s(empty source): %v, want a wrapped io.EOF", tc.name, err)
				}
			}
		})
	}
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

package signer_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"io"
	"strings"
	"testing"

	"borderid/internal/signer"
	"borderid/internal/signer/softhsmtest"
)

// TestPKCS11SignVerify: keys generated inside a SoftHSM2 token, sensitive
// and non-extractable, sign through signer.Signer; the signatures verify
// with the public key the token gives.
func TestPKCS11SignVerify(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	ctx := context.Background()
	keys := []struct {
		label string
		id    []byte
		gen   func() crypto.PublicKey
	}{
		{"p256", []byte{0x01}, func() crypto.PublicKey { return tk.GenerateECDSA(t, "p256", []byte{0x01}, elliptic.P256()) }},
		{"p384", []byte{0x02}, func() crypto.PublicKey { return tk.GenerateECDSA(t, "p384", []byte{0x02}, elliptic.P384()) }},
		{"rsa2048", []byte{0x03, 0x00}, func() crypto.PublicKey { return tk.GenerateRSA(t, "rsa2048", []byte{0x03, 0x00}, 2048) }},
	}
	pubs := make(map[string]crypto.PublicKey)
	for _, k := range keys {
		pubs[k.label] = k.gen()
		attrs := tk.Attributes(t, k.label)
		if !attrs["CKA_SENSITIVE"] || attrs["CKA_EXTRACTABLE"] || !attrs["CKA_NEVER_EXTRACTABLE"] || !attrs["CKA_ALWAYS_SENSITIVE"] {
			t.Fatalf("%s: attributes %v: want sensitive, never extractable", k.label, attrs)
		}
	}
	msg := []byte("ID_IC || r_IC || Comp(PK_IFD)")
	for _, k := range keys {
		for _, by := range []struct {
			name      string
			label, id string
		}{
			{"label", k.label, ""},
			{"id", "", string(k.id)},
			{"label and id", k.label, string(k.id)},
		} {
			t.Run(k.label+"/"+by.name, func(t *testing.T) {
				uri := tk.URI(by.label, []byte(by.id))
				s, err := signer.OpenURI(ctx, uri, tk.PIN)
				if err != nil {
					t.Fatalf("%s: %v", uri, err)
				}
				defer s.Close()
				switch want := pubs[k.label].(type) {
				case *ecdsa.PublicKey:
					got, ok := s.Public().(*ecdsa.PublicKey)
					if !ok || !got.Equal(want) {
						t.Fatalf("public key %T differs", s.Public())
					}
					h := crypto.SHA256
					if want.Curve == elliptic.P384() {
						h = crypto.SHA384
					}
					d := digest(h, msg)
					sig, err := s.Sign(rand.Reader, d, h)
					if err != nil {
						t.Fatal(err)
					}
					if !ecdsa.VerifyASN1(want, d, sig) {
						t.Fatal("ECDSA DER signature does not verify")
					}
					d[0] ^= 1
					if ecdsa.VerifyASN1(want, d, sig) {
						t.Fatal("signature verifies for another digest")
					}
				case *rsa.PublicKey:
					got, ok := s.Public().(*rsa.PublicKey)
					if !ok || !got.Equal(want) || want.N.BitLen() != 2048 {
						t.Fatalf("public key %T differs", s.Public())
					}
					d := digest(crypto.SHA256, msg)
					sig, err := s.Sign(rand.Reader, d, crypto.SHA256)
					if err != nil {
						t.Fatal(err)
					}
					if err := rsa.VerifyPKCS1v15(want, crypto.SHA256, d, sig); err != nil {
						t.Fatalf("PKCS#1 v1.5: %v", err)
					}
					for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA512} {
						d := digest(h, msg)
						pss := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}
						sig, err := s.Sign(rand.Reader, d, pss)
						if err != nil {
							t.Fatalf("PSS %v: %v", h, err)
						}
						if err := rsa.VerifyPSS(want, h, d, sig, pss); err != nil {
							t.Fatalf("PSS %v: %v", h, err)
						}
					}
					// The token cannot size an automatic salt.
					if _, err := s.Sign(rand.Reader, d, &rsa.PSSOptions{Hash: crypto.SHA256}); !errors.Is(err, signer.ErrUnsupported) {
						t.Fatalf("PSS auto salt: %v", err)
					}
				}
				// Digest of the wrong length, no hash, unknown hash.
				if _, err := s.Sign(rand.Reader, make([]byte, 20), crypto.SHA256); err == nil {
					t.Fatal("20-byte digest for SHA-256 signed")
				}
				if _, err := s.Sign(rand.Reader, make([]byte, 32), nil); err == nil {
					t.Fatal("signed without opts")
				}
				if _, err := s.Sign(rand.Reader, make([]byte, 16), crypto.MD5); !errors.Is(err, signer.ErrUnsupported) {
					t.Fatalf("MD5: %v", err)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				if err := s.Close(); err != nil {
					t.Fatalf("second Close: %v", err)
				}
				if _, err := s.Sign(rand.Reader, digest(crypto.SHA256, msg), crypto.SHA256); !errors.Is(err, signer.ErrClosed) {
					t.Fatalf("Sign after Close: %v", err)
				}
			})
		}
	}

	// The PIN written in the URI, when none is passed in; the one passed
	// in wins over it.
	t.Run("pin-value", func(t *testing.T) {
		s, err := signer.OpenURI(ctx, tk.URI("p256", nil)+"&pin-value="+tk.PIN, "")
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		s, err = signer.OpenURI(ctx, tk.URI("p256", nil)+"&pin-value=wrong-pin", tk.PIN)
		if err != nil {
			t.Fatalf("passed-in PIN does not win: %v", err)
		}
		s.Close()
	})

	// Refusals. No other context of the token is open here: a wrong PIN
	// would otherwise pass (see the package documentation).
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		uri  string
		pin  string
		want error
	}{
		{"wrong PIN", ctx, tk.URI("p256", nil), "0000-wrong", signer.ErrPIN},
		{"wrong PIN in the URI", ctx, tk.URI("p256", nil) + "&pin-value=0000-wrong", "", signer.ErrPIN},
		{"no PIN", ctx, tk.URI("p256", nil), "", signer.ErrNoPIN},
		{"pin-source", ctx, tk.URI("p256", nil) + "&pin-source=file:/etc/pin", "", signer.ErrUnsupported},
		{"absent label", ctx, tk.URI("absent", nil), tk.PIN, signer.ErrKeyNotFound},
		{"absent id", ctx, tk.URI("", []byte{0x7F}), tk.PIN, signer.ErrKeyNotFound},
		{"label and id of two keys", ctx, tk.URI("p256", []byte{0x02}), tk.PIN, signer.ErrKeyNotFound},
		{"absent token", ctx, strings.Replace(tk.URI("p256", nil), "token="+tk.Label, "token=other", 1), tk.PIN, signer.ErrTokenNotFound},
		{"absent serial", ctx, strings.Replace(tk.URI("p256", nil), "token="+tk.Label, "serial=0000", 1), tk.PIN, signer.ErrTokenNotFound},
		{"absent module", ctx, strings.Replace(tk.URI("p256", nil), tk.Module, "/nonexistent/libpkcs11.so", 1), tk.PIN, signer.ErrModule},
		{"module not a PKCS#11 library", ctx, strings.Replace(tk.URI("p256", nil), tk.Module, "/etc/hostname", 1), tk.PIN, signer.ErrModule},
		{"module is a folder", ctx, strings.Replace(tk.URI("p256", nil), tk.Module, "/usr/lib", 1), tk.PIN, signer.ErrModule},
		{"no module-path", ctx, "pkcs11:token=" + tk.Label + ";object=p256", tk.PIN, signer.ErrNoModule},
		{"module-name only", ctx, "pkcs11:token=" + tk.Label + ";object=p256?module-name=softhsm2", tk.PIN, signer.ErrNoModule},
		{"type public", ctx, strings.Replace(tk.URI("p256", nil), "type=private", "type=public", 1), tk.PIN, signer.ErrUnsupported},
		{"no token", ctx, "pkcs11:object=p256?module-path=" + tk.Module, tk.PIN, signer.ErrUnsupported},
		{"token and serial", ctx, strings.Replace(tk.URI("p256", nil), "pkcs11:", "pkcs11:serial=1;", 1), tk.PIN, signer.ErrUnsupported},
		{"manufacturer", ctx, strings.Replace(tk.URI("p256", nil), "pkcs11:", "pkcs11:manufacturer=SoftHSM;", 1), tk.PIN, signer.ErrUnsupported},
		{"vendor path attribute", ctx, strings.Replace(tk.URI("p256", nil), "pkcs11:", "pkcs11:objet=p384;", 1), tk.PIN, signer.ErrUnsupported},
		{"no key named", ctx, "pkcs11:token=" + tk.Label + "?module-path=" + tk.Module, tk.PIN, signer.ErrUnsupported},
		{"malformed", ctx, "pkcs11:token=%zz", tk.PIN, signer.ErrURI},
		{"cancelled", cancelled, tk.URI("p256", nil), tk.PIN, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := signer.OpenURI(tc.ctx, tc.uri, tc.pin)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("%s: %v, want %v", tc.uri, err, tc.want)
			}
			if tc.pin != "" && strings.Contains(err.Error(), tc.pin) {
				t.Fatalf("the error shows the PIN: %v", err)
			}
		})
	}
	if _, err := signer.Open(ctx, nil, tk.PIN); !errors.Is(err, signer.ErrURI) {
		t.Fatalf("nil URI: %v", err)
	}

	// The login state is per token and process (package documentation):
	// while a Signer is open, another Open passes whatever PIN it has.
	t.Run("login shared in the process", func(t *testing.T) {
		s, err := signer.OpenURI(ctx, tk.URI("p256", nil), tk.PIN)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		s2, err := signer.OpenURI(ctx, tk.URI("p384", nil), "0000-wrong")
		if err != nil {
			t.Skipf("the module refuses a second login with a wrong PIN (%v): stricter than documented", err)
		}
		s2.Close()
	})
}

func digest(h crypto.Hash, msg []byte) []byte {
	switch h {
	case crypto.SHA384:
		d := sha512.Sum384(msg)
		return d[:]
	case crypto.SHA512:
		d := sha512.Sum512(msg)
		return d[:]
	}
	d := sha256.Sum256(msg)
	return d[:]
}

var _ io.Closer = (*signer.Signer)(nil)

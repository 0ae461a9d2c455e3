package signer

import (
	"context"
	"crypto"
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"
)

// A fake token behind the package's one small interface: what SoftHSM2
// cannot easily be made to do.

type fakeKey struct {
	pub crypto.PublicKey
	err error
}

func (k fakeKey) Public() crypto.PublicKey { return k.pub }
func (k fakeKey) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return []byte{1}, k.err
}
func (k fakeKey) Delete() error { return nil }

type fakeToken struct {
	keys   []crypto11.Signer
	err    error
	closed atomic.Int32
}

func (f *fakeToken) FindKeyPairs(id, label []byte) ([]crypto11.Signer, error) { return f.keys, f.err }
func (f *fakeToken) Close() error                                             { f.closed.Add(1); return nil }

// fakeURI names an existing file as the module, so Open's stat passes.
func fakeURI(t *testing.T) *URI {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &URI{Token: "t", Object: "k", ModulePath: exe}
}

func TestOpenFakeToken(t *testing.T) {
	ctx := context.Background()
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, tc := range []struct {
		name    string
		tok     *fakeToken
		confErr error
		want    error
	}{
		{"two keys", &fakeToken{keys: []crypto11.Signer{fakeKey{pub: &ecKey.PublicKey}, fakeKey{pub: &ecKey.PublicKey}}}, nil, ErrAmbiguousKey},
		{"DSA key", &fakeToken{keys: []crypto11.Signer{fakeKey{pub: &dsa.PublicKey{}}}}, nil, ErrKeyType},
		{"incomplete EC key", &fakeToken{keys: []crypto11.Signer{fakeKey{pub: &ecdsa.PublicKey{}}}}, nil, ErrKeyType},
		{"search fails", &fakeToken{err: errors.New("device error")}, nil, ErrHSM},
		{"PIN locked", nil, pkcs11.Error(pkcs11.CKR_PIN_LOCKED), ErrPIN},
		{"token removed", nil, pkcs11.Error(pkcs11.CKR_TOKEN_NOT_PRESENT), ErrTokenNotFound},
		{"other PKCS#11 error", nil, pkcs11.Error(pkcs11.CKR_DEVICE_ERROR), ErrHSM},
		{"other error", nil, errors.New("something"), ErrHSM},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := open(ctx, fakeURI(t), "1234", func(*crypto11.Config) (token, error) {
				if tc.confErr != nil {
					return nil, tc.confErr
				}
				return tc.tok, nil
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
			if tc.tok != nil && tc.tok.closed.Load() != 1 {
				t.Fatalf("token closed %d times after a failed Open", tc.tok.closed.Load())
			}
		})
	}
	t.Run("sign error wrapped", func(t *testing.T) {
		tok := &fakeToken{keys: []crypto11.Signer{fakeKey{pub: &ecKey.PublicKey, err: errors.New("CKR_DEVICE_ERROR")}}}
		s, err := open(ctx, fakeURI(t), "1234", func(*crypto11.Config) (token, error) { return tok, nil })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sign(rand.Reader, make([]byte, 32), crypto.SHA256); !errors.Is(err, ErrHSM) {
			t.Fatalf("%v", err)
		}
		s.Close()
		s.Close()
		if tok.closed.Load() != 1 {
			t.Fatalf("closed %d times", tok.closed.Load())
		}
	})
	// The context ends while the module is still logging in: Open
	// returns, and the token it was opening is closed when it arrives.
	t.Run("context ends during login", func(t *testing.T) {
		tok := &fakeToken{keys: []crypto11.Signer{fakeKey{pub: &ecKey.PublicKey}}}
		release := make(chan struct{})
		cctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		_, err := open(cctx, fakeURI(t), "1234", func(*crypto11.Config) (token, error) {
			<-release
			return tok, nil
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%v", err)
		}
		close(release)
		deadline := time.Now().Add(2 * time.Second)
		for tok.closed.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if tok.closed.Load() != 1 {
			t.Fatal("the late token was not closed")
		}
	})
	t.Run("config", func(t *testing.T) {
		u := fakeURI(t)
		u.HasSlotID, u.SlotID, u.Token = true, 7, ""
		u.ID, u.Object = []byte{9}, ""
		var got *crypto11.Config
		s, err := open(ctx, u, "", func(c *crypto11.Config) (token, error) {
			got = c
			return &fakeToken{keys: []crypto11.Signer{fakeKey{pub: &ecKey.PublicKey}}}, nil
		})
		if !errors.Is(err, ErrNoPIN) || s != nil {
			t.Fatalf("%v", err)
		}
		u.PINValue = "from-uri"
		u.VendorQuery = map[string]string{"x-ignored": "1"}
		if s, err = open(ctx, u, "", func(c *crypto11.Config) (token, error) {
			got = c
			return &fakeToken{keys: []crypto11.Signer{fakeKey{pub: &ecKey.PublicKey}}}, nil
		}); err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got.SlotNumber == nil || *got.SlotNumber != 7 || got.TokenLabel != "" || got.Pin != "from-uri" || got.Path != u.ModulePath {
			t.Fatalf("config %+v", got)
		}
	})
}

package hsm

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"

	"borderid/internal/envelope"
)

var ctx = context.Background()

func mustOpen(t testing.TB, home string) *Token {
	t.Helper()
	tok, err := Open(ctx, home)
	if err != nil {
		t.Fatalf("Open(%s): %v", home, err)
	}
	return tok
}

// initLabels are the EC keys `borderid init` makes.
var initLabels = []string{"csca", "ds", "mlsigner", "status-signer", "audit-signer", "cvca", "dv", "is"}

// TestKeysNeverLeave: every key init makes is sensitive and never
// extractable as the token reports it, may be used only for its purpose,
// and the token refuses to read its value.
func TestKeysNeverLeave(t *testing.T) {
	own(t, func(t *testing.T, home string) {
		tok := mustOpen(t, home)
		defer tok.Close()
		for _, l := range initLabels {
			if _, created, err := tok.EnsureECKey(l, elliptic.P256()); err != nil || !created {
				t.Fatalf("EnsureECKey(%s): %v %v", l, created, err)
			}
		}
		if created, err := tok.EnsureKEK(1); err != nil || !created {
			t.Fatalf("EnsureKEK: %v %v", created, err)
		}
		if created, err := tok.EnsureIndexKey(); err != nil || !created {
			t.Fatalf("EnsureIndexKey: %v %v", created, err)
		}
		keys, err := tok.Keys()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{IndexKeyLabel: "GENERIC-SECRET-256", "kek-v1": "AES-256"}
		for _, l := range initLabels {
			want[l] = "EC P-256"
		}
		if len(keys) != len(want) {
			t.Fatalf("Keys: %d keys, want %d: %+v", len(keys), len(want), keys)
		}
		for _, k := range keys {
			if want[k.Label] != k.Type {
				t.Errorf("%s: type %q, want %q", k.Label, k.Type, want[k.Label])
			}
			if !k.Sensitive || k.Extractable || !k.NeverExtractable || !k.AlwaysSensitive {
				t.Errorf("%s: %+v: want sensitive, never extractable", k.Label, k)
			}
		}
		if !slices.IsSortedFunc(keys, func(a, b KeyInfo) int { return strings.Compare(a.Label, b.Label) }) {
			t.Error("Keys not sorted by label")
		}

		// C_GetAttributeValue(CKA_VALUE) is refused for every one of them.
		ds, err := tok.c.FindKeyPair(nil, []byte("ds"))
		if err != nil {
			t.Fatal(err)
		}
		kek, err := tok.kek(1)
		if err != nil {
			t.Fatal(err)
		}
		ix, err := tok.findIndexKey()
		if err != nil {
			t.Fatal(err)
		}
		for name, k := range map[string]any{"ds": ds, "kek-v1": kek, IndexKeyLabel: ix} {
			a, err := tok.c.GetAttribute(k, crypto11.CkaValue)
			if err == nil || !strings.Contains(err.Error(), "CKR_ATTRIBUTE_SENSITIVE") {
				t.Errorf("%s: CKA_VALUE read: %v, %v", name, a, err)
			}
		}

		// One use each.
		uses := []crypto11.AttributeType{pkcs11.CKA_SIGN, pkcs11.CKA_VERIFY, pkcs11.CKA_ENCRYPT, pkcs11.CKA_DECRYPT,
			pkcs11.CKA_WRAP, pkcs11.CKA_UNWRAP, pkcs11.CKA_DERIVE, pkcs11.CKA_TOKEN, pkcs11.CKA_PRIVATE}
		names := []string{"sign", "verify", "encrypt", "decrypt", "wrap", "unwrap", "derive", "token", "private"}
		for _, tc := range []struct {
			name string
			key  any
			want string
		}{
			{"ds", ds, "sign token private"},
			{"kek-v1", kek, "encrypt decrypt token private"},
			{IndexKeyLabel, ix, "sign token private"},
		} {
			// Asked one by one: an attribute a key type lacks (verify on a
			// private key) is an error, which counts as false.
			var got []string
			for i, u := range uses {
				a, err := tok.c.GetAttribute(tc.key, u)
				if err == nil && a != nil && len(a.Value) > 0 && a.Value[0] != 0 {
					got = append(got, names[i])
				}
			}
			if s := strings.Join(got, " "); s != tc.want {
				t.Errorf("%s: uses %q, want %q", tc.name, s, tc.want)
			}
		}

		// The token refuses an HMAC with the KEK (CKA_SIGN false).
		if _, err := hmacSum(kek, []byte("x")); err == nil {
			t.Error("HMAC with the KEK")
		}
	})
}

// TestOpenIdempotent: a second Open finds the same token, keys, PINs and
// index; nothing is created twice.
func TestOpenIdempotent(t *testing.T) {
	own(t, func(t *testing.T, home string) {
		tok := mustOpen(t, home)
		// Layout and modes.
		for path, mode := range map[string]os.FileMode{
			"hsm": 0o700 | os.ModeDir, "hsm/tokens": 0o700 | os.ModeDir, "hsm/softhsm2.conf": 0o600,
			"secrets": 0o700 | os.ModeDir, "secrets/hsm-pin": 0o600, "secrets/hsm-so-pin": 0o600,
		} {
			fi, err := os.Stat(filepath.Join(home, path))
			if err != nil || fi.Mode() != mode {
				t.Errorf("%s: %v, mode %v, want %v", path, err, fi.Mode(), mode)
			}
		}
		conf, _ := os.ReadFile(filepath.Join(home, "hsm/softhsm2.conf"))
		for _, line := range []string{"directories.tokendir = " + filepath.Join(home, "hsm/tokens"), "objectstore.backend = file", "log.level = ERROR"} {
			if !bytes.Contains(conf, []byte(line+"\n")) {
				t.Errorf("softhsm2.conf lacks %q:\n%s", line, conf)
			}
		}
		if got := os.Getenv("SOFTHSM2_CONF"); got != filepath.Join(home, "hsm/softhsm2.conf") {
			t.Errorf("SOFTHSM2_CONF = %q", got)
		}
		pin1, _ := os.ReadFile(filepath.Join(home, "secrets/hsm-pin"))
		so1, _ := os.ReadFile(filepath.Join(home, "secrets/hsm-so-pin"))
		pinRE := regexp.MustCompile(`^[A-Z2-7]{24}\n$`)
		if !pinRE.Match(pin1) || !pinRE.Match(so1) || bytes.Equal(pin1, so1) {
			t.Errorf("PINs %q %q: want two different 24-character base32 strings", pin1, so1)
		}

		s, created, err := tok.EnsureECKey("ds", elliptic.P256())
		if err != nil || !created {
			t.Fatal(created, err)
		}
		kc, err := tok.EnsureKEK(1)
		if err != nil || !kc {
			t.Fatal(kc, err)
		}
		ic, err := tok.EnsureIndexKey()
		if err != nil || !ic {
			t.Fatal(ic, err)
		}
		idx1, err := tok.Indexer().Index(ctx, "document-number", []byte("L898902C3"))
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := envelope.Seal(ctx, tok.KeyWrapper(), []byte("face"), envelope.AD("a", "face"))
		if err != nil {
			t.Fatal(err)
		}
		// A second Token of the same home while the first is open.
		tok2 := mustOpen(t, home)
		if _, c, err := tok2.EnsureECKey("ds", elliptic.P256()); err != nil || c {
			t.Fatalf("second Token: EnsureECKey created %v, %v", c, err)
		}
		if err := tok2.Close(); err != nil {
			t.Fatal(err)
		}
		if err := tok.Close(); err != nil {
			t.Fatal(err)
		}
		if err := tok.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, err := tok.Signer("ds"); !errors.Is(err, ErrClosed) {
			t.Fatalf("Signer after Close: %v", err)
		}
		if _, err := s.Sign(rand.Reader, make([]byte, 32), crypto.SHA256); !errors.Is(err, ErrClosed) {
			t.Fatalf("Sign after Close: %v", err)
		}
		if _, _, err := tok.KeyWrapper().Wrap(ctx, make([]byte, 32), nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("Wrap after Close: %v", err)
		}
		if _, err := tok.EnsureKEK(2); !errors.Is(err, ErrClosed) {
			t.Fatalf("EnsureKEK after Close: %v", err)
		}

		tok = mustOpen(t, home)
		defer tok.Close()
		s2, created, err := tok.EnsureECKey("ds", elliptic.P256())
		if err != nil || created {
			t.Fatalf("EnsureECKey after reopen: created %v, %v", created, err)
		}
		if !s2.Public().(*ecdsa.PublicKey).Equal(s.Public()) {
			t.Fatal("another ds key after reopen")
		}
		if c, err := tok.EnsureKEK(1); err != nil || c {
			t.Fatalf("EnsureKEK after reopen: %v %v", c, err)
		}
		if c, err := tok.EnsureIndexKey(); err != nil || c {
			t.Fatalf("EnsureIndexKey after reopen: %v %v", c, err)
		}
		idx2, err := tok.Indexer().Index(ctx, "document-number", []byte("L898902C3"))
		if err != nil || !bytes.Equal(idx1, idx2) {
			t.Fatalf("index after reopen: %x vs %x, %v", idx1, idx2, err)
		}
		if pt, err := envelope.Open(ctx, tok.KeyWrapper(), sealed, envelope.AD("a", "face")); err != nil || string(pt) != "face" {
			t.Fatalf("record after reopen: %q, %v", pt, err)
		}
		keys, err := tok.Keys()
		if err != nil || len(keys) != 3 {
			t.Fatalf("Keys after reopen: %+v, %v", keys, err)
		}
		pin2, _ := os.ReadFile(filepath.Join(home, "secrets/hsm-pin"))
		so2, _ := os.ReadFile(filepath.Join(home, "secrets/hsm-so-pin"))
		if !bytes.Equal(pin1, pin2) || !bytes.Equal(so1, so2) {
			t.Fatal("PIN files changed by a second Open")
		}
		if vs, err := tok.KEKVersions(); err != nil || !slices.Equal(vs, []int{1}) {
			t.Fatalf("KEKVersions %v, %v", vs, err)
		}
	})
}

// TestOtherHome: one home per process, even after Close; the same home
// again is fine.
func TestOtherHome(t *testing.T) {
	own(t, func(t *testing.T, home string) {
		tok := mustOpen(t, home)
		other := t.TempDir()
		if _, err := Open(ctx, other); !errors.Is(err, ErrOtherHome) {
			t.Fatalf("Open of another home: %v", err)
		}
		tok.Close()
		if _, err := Open(ctx, other); !errors.Is(err, ErrOtherHome) {
			t.Fatalf("Open of another home after Close: %v", err)
		}
		if ents, _ := os.ReadDir(other); len(ents) != 0 {
			t.Fatalf("the refused home was written: %v", ents)
		}
		// The same home, spelt differently.
		rel, err := filepath.Rel(mustGetwd(t), home)
		if err != nil {
			t.Fatal(err)
		}
		tok = mustOpen(t, rel)
		defer tok.Close()
		if tok.Home() != home {
			t.Fatalf("Home() = %s", tok.Home())
		}
		if _, err := Open(ctx, ""); err == nil {
			t.Fatal("Open of an empty home")
		}
		ended, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := Open(ended, home); !errors.Is(err, context.Canceled) {
			t.Fatalf("Open with an ended context: %v", err)
		}
	})
}

func mustGetwd(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

// TestSecretsRefused: a home whose PIN files are missing (for an existing
// token), open to others, not files, or wrong is refused with a clear
// error, and nothing is overwritten.
func TestSecretsRefused(t *testing.T) {
	own(t, func(t *testing.T, home string) {
		tok := mustOpen(t, home)
		tok.Close()
		pinPath := filepath.Join(home, "secrets/hsm-pin")
		pin, err := os.ReadFile(pinPath)
		if err != nil {
			t.Fatal(err)
		}
		restore := func() {
			if fi, err := os.Stat(filepath.Join(home, "s")); err == nil && fi.IsDir() {
				os.Remove(filepath.Join(home, "secrets"))
				os.Rename(filepath.Join(home, "s"), filepath.Join(home, "secrets"))
			}
			os.Chmod(filepath.Join(home, "secrets"), 0o700)
			os.RemoveAll(pinPath)
			if err := os.WriteFile(pinPath, pin, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name  string
			setup func()
			want  error
			msg   string
		}{
			{"PIN file missing", func() { os.Remove(pinPath) }, ErrSecrets, "missing but the token exists"},
			{"PIN file open to others", func() { os.Chmod(pinPath, 0o644) }, ErrSecrets, "chmod 600"},
			{"secrets folder writable by others", func() { os.Chmod(filepath.Join(home, "secrets"), 0o777) }, ErrSecrets, "chmod 700"},
			{"secrets folder a file", func() {
				os.Rename(filepath.Join(home, "secrets"), filepath.Join(home, "s"))
				os.WriteFile(filepath.Join(home, "secrets"), nil, 0o600)
			}, ErrSecrets, "not a directory"},
			{"PIN file a folder", func() { os.Remove(pinPath); os.Mkdir(pinPath, 0o700) }, ErrSecrets, "not a regular file"},
			{"PIN file empty", func() { os.WriteFile(pinPath, nil, 0o600) }, ErrSecrets, "does not hold a PIN"},
			{"wrong PIN", func() { os.WriteFile(pinPath, []byte("AAAAAAAAAAAAAAAAAAAAAAAA\n"), 0o600) }, ErrHSM, "CKR_PIN_INCORRECT"},
		} {
			tc.setup()
			_, err := Open(ctx, home)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%s: %v; want %v with %q", tc.name, err, tc.want, tc.msg)
			}
			if err != nil && strings.Contains(err.Error(), strings.TrimSpace(string(pin))) {
				t.Errorf("%s: the error shows the PIN", tc.name)
			}
			restore()
		}
		// The right PIN still opens (the wrong one locked nothing), also
		// with a secrets folder others may search but not write.
		os.Chmod(filepath.Join(home, "secrets"), 0o755)
		tok = mustOpen(t, home)
		tok.Close()
		os.Chmod(filepath.Join(home, "secrets"), 0o700)
		if got, _ := os.ReadFile(pinPath); !bytes.Equal(got, pin) {
			t.Fatal("PIN file changed")
		}
	})
}

// TestWrapUnwrap: the HSM wrapper round-trips, and every mismatch is
// ErrDecrypt (an unknown version also ErrKEKNotFound), never ErrHSM.
func TestWrapUnwrap(t *testing.T) {
	own(t, func(t *testing.T, home string) {
		tok := mustOpen(t, home)
		defer tok.Close()
		kw := tok.KeyWrapper()
		dek := bytes.Repeat([]byte{0x5a}, 32)
		ad := envelope.AD("app-7", "face")
		if _, _, err := kw.Wrap(ctx, dek, ad); !errors.Is(err, ErrKEKNotFound) || errors.Is(err, envelope.ErrDecrypt) {
			t.Fatalf("Wrap without a KEK: %v", err)
		}
		if _, err := tok.EnsureKEK(1); err != nil {
			t.Fatal(err)
		}
		v, wrapped, err := kw.Wrap(ctx, dek, ad)
		if err != nil || v != 1 || len(wrapped) != 12+32+16 {
			t.Fatalf("Wrap: %d, %d bytes, %v", v, len(wrapped), err)
		}
		if bytes.Contains(wrapped, dek[:8]) {
			t.Fatal("data key visible in the wrapped key")
		}
		_, wrapped2, _ := kw.Wrap(ctx, dek, ad)
		if bytes.Equal(wrapped[:12], wrapped2[:12]) {
			t.Fatal("two wraps share a nonce")
		}
		got, err := kw.Unwrap(ctx, 1, wrapped, ad)
		if err != nil || !bytes.Equal(got, dek) {
			t.Fatalf("Unwrap: %x, %v", got, err)
		}
		bad := func(name string, v int, w, a []byte, notFound bool) {
			t.Helper()
			got, err := kw.Unwrap(ctx, v, w, a)
			if !errors.Is(err, envelope.ErrDecrypt) || errors.Is(err, ErrHSM) || got != nil || errors.Is(err, ErrKEKNotFound) != notFound {
				t.Errorf("%s: %x, %v", name, got, err)
			}
		}
		bad("other ad", 1, wrapped, envelope.AD("app-8", "face"), false)
		bad("no ad", 1, wrapped, nil, false)
		for i := range wrapped {
			w := slices.Clone(wrapped)
			w[i] ^= 0x04
			bad(fmt.Sprintf("byte %d flipped", i), 1, w, ad, false)
		}
		bad("truncated", 1, wrapped[:len(wrapped)-1], ad, false)
		bad("tag only", 1, wrapped[:12+16], ad, false)
		bad("too short", 1, wrapped[:27], ad, false)
		bad("empty", 1, nil, ad, false)
		bad("unknown version", 2, wrapped, ad, true)
		bad("version 0", 0, wrapped, ad, true)
		bad("version -1", -1, wrapped, ad, true)
		ended, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := kw.Unwrap(ended, 1, wrapped, ad); !errors.Is(err, context.Canceled) {
			t.Fatalf("Unwrap with an ended context: %v", err)
		}

		// envelope over the real wrapper.
		face := bytes.Repeat([]byte("\xff\xd8\xff\xe0JFIF"), 100)
		s, err := envelope.Seal(ctx, kw, face, ad)
		if err != nil || s.KEKVersion != 1 {
			t.Fatalf("Seal: %v", err)
		}
		if pt, err := envelope.Open(ctx, kw, s, ad); err != nil || !bytes.Equal(pt, face) {
			t.Fatalf("Open: %v", err)
		}
		for _, a := range [][]byte{envelope.AD("app-7", "finger-1"), envelope.AD("app-70", "face"), envelope.AD("face", "app-7")} {
			if _, err := envelope.Open(ctx, kw, s, a); !errors.Is(err, envelope.ErrDecrypt) {
				t.Fatalf("Open with %q: %v", a, err)
			}
		}
	})
}

// TestRotation: a new KEK version takes over new records at once, old
// records still open, Rewrap moves them, and destroying the old version
// makes what was not moved unreadable.
func TestRotation(t *testing.T) {
	own(t, func(t *testing.T, home string) {
		tok := mustOpen(t, home)
		defer tok.Close()
		kw := tok.KeyWrapper()
		if _, err := tok.EnsureKEK(1); err != nil {
			t.Fatal(err)
		}
		adA, adB := envelope.AD("a", "face"), envelope.AD("b", "face")
		sA, err := envelope.Seal(ctx, kw, []byte("record a"), adA)
		if err != nil {
			t.Fatal(err)
		}
		sB, err := envelope.Seal(ctx, kw, []byte("record b"), adB)
		if err != nil {
			t.Fatal(err)
		}
		if err := tok.DestroyKEK(1); !errors.Is(err, ErrKEKVersion) {
			t.Fatalf("destroying the only KEK: %v", err)
		}
		if c, err := tok.EnsureKEK(2); err != nil || !c {
			t.Fatalf("EnsureKEK(2): %v %v", c, err)
		}
		if vs, _ := tok.KEKVersions(); !slices.Equal(vs, []int{1, 2}) {
			t.Fatalf("KEKVersions %v", vs)
		}
		sC, err := envelope.Seal(ctx, kw, []byte("record c"), adA)
		if err != nil || sC.KEKVersion != 2 {
			t.Fatalf("Seal after rotation: version %d, %v", sC.KEKVersion, err)
		}
		if pt, err := envelope.Open(ctx, kw, sA, adA); err != nil || string(pt) != "record a" {
			t.Fatalf("old record after rotation: %v", err)
		}
		if err := tok.DestroyKEK(2); !errors.Is(err, ErrKEKVersion) {
			t.Fatalf("destroying the current KEK: %v", err)
		}
		rA, err := envelope.Rewrap(ctx, kw, sA, adA)
		if err != nil || rA.KEKVersion != 2 || !bytes.Equal(rA.Ciphertext, sA.Ciphertext) || !bytes.Equal(rA.Nonce, sA.Nonce) {
			t.Fatalf("Rewrap: %+v, %v", rA.KEKVersion, err)
		}
		if err := tok.DestroyKEK(1); err != nil {
			t.Fatal(err)
		}
		if vs, _ := tok.KEKVersions(); !slices.Equal(vs, []int{2}) {
			t.Fatalf("KEKVersions after destroy %v", vs)
		}
		if pt, err := envelope.Open(ctx, kw, rA, adA); err != nil || string(pt) != "record a" {
			t.Fatalf("rewrapped record: %v", err)
		}
		if _, err := envelope.Open(ctx, kw, sB, adB); !errors.Is(err, envelope.ErrDecrypt) || !errors.Is(err, ErrKEKNotFound) {
			t.Fatalf("record left under the destroyed version: %v", err)
		}
		if _, err := envelope.Open(ctx, kw, sA, adA); !errors.Is(err, envelope.ErrDecrypt) {
			t.Fatalf("old copy of a rewrapped record: %v", err)
		}
		if err := tok.DestroyKEK(1); !errors.Is(err, ErrKEKNotFound) {
			t.Fatalf("destroying v1 twice: %v", err)
		}
		if _, err := tok.EnsureKEK(1); !errors.Is(err, ErrKEKVersion) {
			t.Fatalf("re-creating a destroyed version: %v", err)
		}
		for _, v := range []int{0, -1} {
			if _, err := tok.EnsureKEK(v); !errors.Is(err, ErrKEKVersion) {
				t.Fatalf("EnsureKEK(%d): %v", v, err)
			}
		}
		keys, _ := tok.Keys()
		for _, k := range keys {
			if k.Label == "kek-v1" {
				t.Fatal("kek-v1 still listed")
			}
		}
		if c, err := tok.EnsureKEK(5); err != nil || !c {
			t.Fatalf("skipping versions: %v", err)
		}
		if v, _, err := kw.Wrap(ctx, make([]byte, 32), nil); err != nil || v != 5 {
			t.Fatalf("Wrap after EnsureKEK(5): %d, %v", v, err)
		}
	})
}

// TestAcrossProcesses: what one process stores, another opens; the
// blind index is the same in both and differs on another token; a KEK
// version created by another process is used at once by a Token already
// open.
func TestAcrossProcesses(t *testing.T) {
	home, phase, ok := child(t)
	if !ok {
		homeA, homeB := t.TempDir(), t.TempDir()
		runChild(t, homeA, "write")
		runChild(t, homeA, "read")
		runChild(t, homeB, "other-token")
		a, _ := os.ReadFile(filepath.Join(homeA, "index"))
		b, _ := os.ReadFile(filepath.Join(homeB, "index"))
		if len(a) != 64 || len(b) != 64 || bytes.Equal(a, b) {
			t.Fatalf("indexes of two tokens: %s %s", a, b)
		}
		return
	}
	ad := envelope.AD("rec-1", "DG2")
	switch phase {
	case "write", "other-token":
		tok := mustOpen(t, home)
		defer tok.Close()
		if _, err := tok.EnsureKEK(1); err != nil {
			t.Fatal(err)
		}
		if _, err := tok.EnsureIndexKey(); err != nil {
			t.Fatal(err)
		}
		ix, err := tok.Indexer().Index(ctx, "document-number", []byte("L898902C3"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := envelope.Seal(ctx, tok.KeyWrapper(), []byte("chip file"), ad)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(home, "index"), []byte(hex.EncodeToString(ix)), 0o600)
		os.WriteFile(filepath.Join(home, "sealed"), b, 0o600)
	case "read":
		tok := mustOpen(t, home)
		defer tok.Close()
		if c, err := tok.EnsureKEK(1); err != nil || c {
			t.Fatalf("EnsureKEK(1) in a second process: %v %v", c, err)
		}
		ix, err := tok.Indexer().Index(ctx, "document-number", []byte("L898902C3"))
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := os.ReadFile(filepath.Join(home, "index")); hex.EncodeToString(ix) != string(want) {
			t.Fatalf("index %x in this process, %s in the other", ix, want)
		}
		b, _ := os.ReadFile(filepath.Join(home, "sealed"))
		var s envelope.Sealed
		if err := s.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if pt, err := envelope.Open(ctx, tok.KeyWrapper(), s, ad); err != nil || string(pt) != "chip file" {
			t.Fatalf("record of another process: %q, %v", pt, err)
		}
		// Another process adds kek-v2 while this Token is open
		// (`borderid keys rotate` beside `serve`): Wraps here use it
		// within KEKCacheTTL.
		runChild(t, home, "rotate")
		time.Sleep(KEKCacheTTL + 100*time.Millisecond)
		if v, _, err := tok.KeyWrapper().Wrap(ctx, make([]byte, 32), ad); err != nil || v != 2 {
			t.Fatalf("Wrap after another process rotated: version %d, %v", v, err)
		}
		if vs, _ := tok.KEKVersions(); !slices.Equal(vs, []int{1, 2}) {
			t.Fatalf("KEKVersions %v", vs)
		}
		// Another process makes v3, rewraps the record and destroys v1
		// and v2 at once: the next Wrap here does not use the destroyed
		// v2 it still has listed, and the old record no longer opens.
		runChild(t, home, "rewrap-destroy")
		if v, w, err := tok.KeyWrapper().Wrap(ctx, make([]byte, 32), ad); err != nil || v != 3 {
			t.Fatalf("Wrap after another process destroyed v2: version %d, %v", v, err)
		} else if _, err := tok.KeyWrapper().Unwrap(ctx, v, w, ad); err != nil {
			t.Fatal(err)
		}
		if _, err := envelope.Open(ctx, tok.KeyWrapper(), s, ad); !errors.Is(err, envelope.ErrDecrypt) {
			t.Fatalf("record under a KEK destroyed by another process: %v", err)
		}
		b, _ = os.ReadFile(filepath.Join(home, "sealed"))
		if err := s.UnmarshalBinary(b); err != nil || s.KEKVersion != 3 {
			t.Fatalf("rewrapped record: version %d, %v", s.KEKVersion, err)
		}
		if pt, err := envelope.Open(ctx, tok.KeyWrapper(), s, ad); err != nil || string(pt) != "chip file" {
			t.Fatalf("record rewrapped by another process: %q, %v", pt, err)
		}
	case "rotate":
		tok := mustOpen(t, home)
		defer tok.Close()
		if c, err := tok.EnsureKEK(2); err != nil || !c {
			t.Fatalf("EnsureKEK(2): %v %v", c, err)
		}
	case "rewrap-destroy":
		tok := mustOpen(t, home)
		defer tok.Close()
		if _, err := tok.EnsureKEK(3); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(home, "sealed"))
		var s envelope.Sealed
		if err := s.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		r, err := envelope.Rewrap(ctx, tok.KeyWrapper(), s, ad)
		if err != nil || r.KEKVersion != 3 {
			t.Fatalf("Rewrap: %d, %v", r.KEKVersion, err)
		}
		b, _ = r.MarshalBinary()
		os.WriteFile(filepath.Join(home, "sealed"), b, 0o600)
		for _, v := range []int{1, 2} {
			if err := tok.DestroyKEK(v); err != nil {
				t.Fatal(err)
			}
		}
	default:
		t.Fatalf("phase %q", phase)
	}
}

// TestECKeys: EnsureECKey finds or generates, never duplicates; the
// signatures verify with crypto/ecdsa; refusals.
func TestECKeys(t *testing.T) {
	own(t, func(t *testing.T, home string) {
		tok := mustOpen(t, home)
		defer tok.Close()
		msg := []byte("SignedAttributes of an EF.SOD")
		for _, tc := range []struct {
			label string
			curve elliptic.Curve
			h     crypto.Hash
			sum   func([]byte) []byte
		}{
			{"ds", elliptic.P256(), crypto.SHA256, func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }},
			{"csca", elliptic.P384(), crypto.SHA384, func(b []byte) []byte { s := sha512.Sum384(b); return s[:] }},
		} {
			s, created, err := tok.EnsureECKey(tc.label, tc.curve)
			if err != nil || !created {
				t.Fatalf("%s: %v %v", tc.label, created, err)
			}
			pub := s.Public().(*ecdsa.PublicKey)
			if pub.Curve != tc.curve {
				t.Fatalf("%s: curve %s", tc.label, pub.Curve.Params().Name)
			}
			d := tc.sum(msg)
			sig, err := s.Sign(rand.Reader, d, tc.h)
			if err != nil {
				t.Fatal(err)
			}
			if !ecdsa.VerifyASN1(pub, d, sig) {
				t.Fatalf("%s: signature does not verify", tc.label)
			}
			d[0] ^= 1
			if ecdsa.VerifyASN1(pub, d, sig) {
				t.Fatalf("%s: signature verifies another digest", tc.label)
			}
			s2, err := tok.Signer(tc.label)
			if err != nil || !s2.Public().(*ecdsa.PublicKey).Equal(pub) {
				t.Fatalf("Signer(%s): %v", tc.label, err)
			}
			if _, c, err := tok.EnsureECKey(tc.label, tc.curve); err != nil || c {
				t.Fatalf("%s again: %v %v", tc.label, c, err)
			}
			if _, err := s2.Sign(rand.Reader, make([]byte, 20), tc.h); err == nil {
				t.Fatalf("%s: signed a digest of the wrong length", tc.label)
			}
		}
		if _, _, err := tok.EnsureECKey("ds", elliptic.P384()); !errors.Is(err, ErrKeyMismatch) {
			t.Fatalf("ds on another curve: %v", err)
		}
		if _, _, err := tok.EnsureECKey("x", elliptic.P224()); !errors.Is(err, ErrKeyMismatch) {
			t.Fatalf("P-224: %v", err)
		}
		for _, l := range []string{"", "kek-v1", "kek-v9", IndexKeyLabel, "DS", "a b", strings.Repeat("a", 65)} {
			if _, _, err := tok.EnsureECKey(l, elliptic.P256()); !errors.Is(err, ErrLabel) {
				t.Fatalf("label %q: %v", l, err)
			}
		}
		if _, err := tok.Signer("mlsigner"); !errors.Is(err, ErrKeyNotFound) {
			t.Fatalf("Signer of a missing key: %v", err)
		}
		if _, err := tok.Indexer().Index(ctx, "p", nil); !errors.Is(err, ErrKeyNotFound) {
			t.Fatalf("Index without the key: %v", err)
		}
		keys, err := tok.Keys()
		if err != nil || len(keys) != 2 || keys[0].Label != "csca" || keys[0].Type != "EC P-384" || keys[1].Type != "EC P-256" {
			t.Fatalf("Keys: %+v, %v", keys, err)
		}
	})
}

func TestIndexer(t *testing.T) {
	own(t, func(t *testing.T, home string) {
		tok := mustOpen(t, home)
		defer tok.Close()
		if _, err := tok.EnsureIndexKey(); err != nil {
			t.Fatal(err)
		}
		ix := tok.Indexer()
		a, err := ix.Index(ctx, "document-number", []byte("L898902C3"))
		if err != nil || len(a) != 32 {
			t.Fatalf("%x, %v", a, err)
		}
		again, _ := ix.Index(ctx, "document-number", []byte("L898902C3"))
		if !bytes.Equal(a, again) {
			t.Fatal("not deterministic")
		}
		for _, tc := range []struct {
			purpose string
			value   string
		}{{"document-number", "L898902C4"}, {"other", "L898902C3"}, {"document-numberL", "898902C3"}, {"", ""}} {
			b, err := ix.Index(ctx, tc.purpose, []byte(tc.value))
			if err != nil || bytes.Equal(a, b) {
				t.Fatalf("%q %q: %x, %v", tc.purpose, tc.value, b, err)
			}
		}
		// A large value (many HMAC blocks) works too.
		if _, err := ix.Index(ctx, "p", make([]byte, 1<<20)); err != nil {
			t.Fatal(err)
		}
	})
}

// TestConcurrent: 16 goroutines seal, open, index and sign at once; 16
// concurrent EnsureECKey of one label make one key.
func TestConcurrent(t *testing.T) {
	own(t, func(t *testing.T, home string) {
		tok := mustOpen(t, home)
		defer tok.Close()
		if _, err := tok.EnsureKEK(1); err != nil {
			t.Fatal(err)
		}
		if _, err := tok.EnsureIndexKey(); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		created := 0
		errs := make(chan error, 16*50)
		for g := range 16 {
			wg.Go(func() {
				s, c, err := tok.EnsureECKey("is", elliptic.P256())
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if c {
					created++
				}
				mu.Unlock()
				pub := s.Public().(*ecdsa.PublicKey)
				want, _ := tok.Indexer().Index(ctx, "n", []byte{byte(g)})
				for i := range 20 {
					ad := envelope.AD(fmt.Sprintf("r%d-%d", g, i), "face")
					pt := []byte(fmt.Sprintf("record %d %d", g, i))
					sealed, err := envelope.Seal(ctx, tok.KeyWrapper(), pt, ad)
					if err != nil {
						errs <- err
						return
					}
					got, err := envelope.Open(ctx, tok.KeyWrapper(), sealed, ad)
					if err != nil || !bytes.Equal(got, pt) {
						errs <- fmt.Errorf("open: %q, %v", got, err)
						return
					}
					ix, err := tok.Indexer().Index(ctx, "n", []byte{byte(g)})
					if err != nil || !bytes.Equal(ix, want) {
						errs <- fmt.Errorf("index: %v", err)
						return
					}
					d := sha256.Sum256(pt)
					sig, err := s.Sign(rand.Reader, d[:], crypto.SHA256)
					if err != nil || !ecdsa.VerifyASN1(pub, d[:], sig) {
						errs <- fmt.Errorf("sign: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if created != 1 {
			t.Fatalf("%d goroutines created the key", created)
		}
		keys, _ := tok.Keys()
		n := 0
		for _, k := range keys {
			if k.Label == "is" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d keys labelled is", n)
		}
	})
}

func TestParseKEKLabel(t *testing.T) {
	for s, want := range map[string]int{"kek-v1": 1, "kek-v42": 42, "kek-v2147483647": 2147483647} {
		if v, ok := parseKEKLabel(s); !ok || v != want {
			t.Errorf("%q: %d %v", s, v, ok)
		}
	}
	for _, s := range []string{"kek-v", "kek-v0", "kek-v01", "kek-v-1", "kek-v+1", "kek-v1a", "kek-v2147483648", "KEK-v1", "kek-v١"} {
		if v, ok := parseKEKLabel(s); ok {
			t.Errorf("%q accepted as %d", s, v)
		}
	}
}

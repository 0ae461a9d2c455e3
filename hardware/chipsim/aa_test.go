package chipsim

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"borderid/internal/ec"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Test keys are made once per test binary: RSA key generation is slow.
var (
	aaRSA1024 = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(1024) })
	aaRSA2048 = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	aaP256    = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

func mustRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func pkcs8(t testing.TB, k any) []byte {
	t.Helper()
	b, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// aaChip is a chip with Active Authentication in an established 3DES
// session (the App. D keys), the application selected.
func aaChip(t testing.TB, cfg Config, opts ...Option) (*Chip, *term) {
	t.Helper()
	c := newChip(t, cfg, opts...)
	tm := setVecSession(t, c)
	if _, sw := tm.sm(t, c, "00A4040C", hx(t, "A0000002471001"), -1); sw != 0x9000 {
		t.Fatalf("SELECT: %04X", sw)
	}
	return c, tm
}

// internalAuth sends INTERNAL AUTHENTICATE under secure messaging.
func internalAuth(t testing.TB, c *Chip, tm *term, challenge []byte, ext bool) ([]byte, uint16) {
	t.Helper()
	resp := txb(t, c, tm.protect(t, hx(t, "00880000"), challenge, 0, ext))
	d, sw, err := tm.unprotect(resp)
	if err != nil {
		t.Fatalf("INTERNAL AUTHENTICATE: %X: %v", resp, err)
	}
	return d, sw
}

// checkRSA9796 verifies an RSA Active Authentication answer the long way,
// from ISO/IEC 9796-2 scheme 1: F = s^e mod n = 6A || M1 || H(M1 || M2)
// || trailer, M1 filling the capacity.
func checkRSA9796(t *testing.T, pub *rsa.PublicKey, sig, challenge, trailer []byte, h crypto.Hash) {
	t.Helper()
	l := pub.Size()
	if len(sig) != l {
		t.Fatalf("signature of %d bytes, want %d", len(sig), l)
	}
	f := new(big.Int).Exp(new(big.Int).SetBytes(sig), big.NewInt(int64(pub.E)), pub.N).FillBytes(make([]byte, l))
	if f[0] != 0x6A {
		t.Fatalf("header byte %02X, want 6A", f[0])
	}
	if !bytes.HasSuffix(f, trailer) {
		t.Fatalf("trailer %X, want %X", f[l-len(trailer):], trailer)
	}
	hs := l - len(trailer) - h.Size()
	m1 := f[1:hs]
	hh := h.New()
	hh.Write(m1)
	hh.Write(challenge)
	if !bytes.Equal(hh.Sum(nil), f[hs:l-len(trailer)]) {
		t.Fatalf("hash of M1 || challenge does not match")
	}
}

func TestInternalAuthenticateRSA(t *testing.T) {
	trailers := []struct {
		name  string
		bytes []byte
		h     crypto.Hash
	}{
		{"", []byte{0xBC}, crypto.SHA1}, // default
		{"BC", []byte{0xBC}, crypto.SHA1},
		{"33CC", []byte{0x33, 0xCC}, crypto.SHA1},
		{"38CC", []byte{0x38, 0xCC}, crypto.SHA224},
		{"34CC", []byte{0x34, 0xCC}, crypto.SHA256},
		{"36CC", []byte{0x36, 0xCC}, crypto.SHA384},
		{"35cc", []byte{0x35, 0xCC}, crypto.SHA512},
	}
	keys := []struct {
		name string
		key  func() *rsa.PrivateKey
		ext  bool
	}{
		{"RSA-1024", aaRSA1024, false},
		{"RSA-2048", aaRSA2048, true}, // 256 bytes need extended length under SM
	}
	challenge := hx(t, "0102030405060708")
	for _, k := range keys {
		for _, tr := range trailers {
			t.Run(k.name+"/"+tr.name, func(t *testing.T) {
				key := k.key()
				der := pkcs8(t, key)
				if tr.name == "BC" {
					der = x509.MarshalPKCS1PrivateKey(key) // PKCS#1 too
				}
				cfg := Config{ExtendedLength: k.ext, ActiveAuthentication: &AAConfig{Trailer: tr.name, Key: der}}
				c, tm := aaChip(t, cfg)
				sig, sw := internalAuth(t, c, tm, challenge, k.ext)
				if sw != 0x9000 {
					t.Fatalf("SW %04X", sw)
				}
				checkRSA9796(t, &key.PublicKey, sig, challenge, tr.bytes, tr.h)
			})
		}
	}
}

func TestInternalAuthenticateECDSA(t *testing.T) {
	key := aaP256()
	challenge := hx(t, "A1A2A3A4A5A6A7A8")
	digest := crypto.SHA256.New()
	digest.Write(challenge)
	d := digest.Sum(nil)
	for _, format := range []string{"", "plain", "der"} {
		t.Run("P-256/"+format, func(t *testing.T) {
			der, err := x509.MarshalECPrivateKey(key) // SEC 1
			if err != nil {
				t.Fatal(err)
			}
			if format == "plain" {
				der = pkcs8(t, key)
			}
			c, tm := aaChip(t, Config{ActiveAuthentication: &AAConfig{Hash: "SHA-256", SignatureFormat: format, Key: der}})
			sig, sw := internalAuth(t, c, tm, challenge, false)
			if sw != 0x9000 {
				t.Fatalf("SW %04X", sw)
			}
			if format == "der" {
				if !ecdsa.VerifyASN1(&key.PublicKey, d, sig) {
					t.Fatalf("DER signature does not verify: %X", sig)
				}
				return
			}
			if len(sig) != 64 {
				t.Fatalf("plain signature of %d bytes", len(sig))
			}
			r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
			if !ecdsa.Verify(&key.PublicKey, d, r, s) {
				t.Fatalf("plain signature does not verify: %X", sig)
			}
		})
	}
}

// TestAAFixedLength: plain r || s and RSA signatures keep their leading
// zero bytes (TR-03111 §5.2.1; 9796-2 signatures are as long as n).
func TestAAFixedLength(t *testing.T) {
	n := 600
	if testing.Short() {
		n = 100
	}
	c, tm := aaChip(t, Config{ActiveAuthentication: &AAConfig{Hash: "SHA-256", Key: pkcs8(t, aaP256())}})
	zeros := 0
	for i := range n {
		sig, sw := internalAuth(t, c, tm, []byte{byte(i), byte(i >> 8), 3, 4, 5, 6, 7, 8}, false)
		if sw != 0x9000 || len(sig) != 64 {
			t.Fatalf("signature %d: %d bytes, SW %04X", i, len(sig), sw)
		}
		if sig[0] == 0 || sig[32] == 0 {
			zeros++
		}
	}
	t.Logf("ECDSA: %d of %d signatures had r or s with a zero top byte", zeros, n)

	// RSA is deterministic given the chip's random source, so the count
	// of signatures with a zero top byte is fixed for the key; the key is
	// random, so only the length is asserted.
	key := aaRSA1024()
	c, tm = aaChip(t, Config{ActiveAuthentication: &AAConfig{Key: pkcs8(t, key)}})
	zeros = 0
	for i := range n / 2 {
		ch := []byte{byte(i), byte(i >> 8), 3, 4, 5, 6, 7, 8}
		sig, sw := internalAuth(t, c, tm, ch, false)
		if sw != 0x9000 {
			t.Fatalf("SW %04X", sw)
		}
		checkRSA9796(t, &key.PublicKey, sig, ch, []byte{0xBC}, crypto.SHA1)
		if sig[0] == 0 {
			zeros++
		}
	}
	t.Logf("RSA: %d of %d signatures had a zero top byte", zeros, n/2)
}

func TestInternalAuthenticateRefusals(t *testing.T) {
	rsaCfg := Config{ActiveAuthentication: &AAConfig{Key: pkcs8(t, aaRSA1024())}}
	ch := hx(t, "0102030405060708")

	t.Run("before access control", func(t *testing.T) {
		c := newChip(t, rsaCfg)
		if got := tx(t, c, selectApp); got != "9000" {
			t.Fatal(got)
		}
		if got := tx(t, c, "00880000080102030405060708"+"00"); got != "6982" {
			t.Fatalf("got %s want 6982", got)
		}
	})
	t.Run("no AA key", func(t *testing.T) {
		c, tm := aaChip(t, Config{})
		if _, sw := internalAuth(t, c, tm, ch, false); sw != 0x6D00 {
			t.Fatalf("SW %04X want 6D00", sw)
		}
	})
	tests := []struct {
		name string
		hdr  string
		data []byte
		le   int
		want uint16
	}{
		{"Lc 7", "00880000", ch[:7], 0, 0x6700},
		{"Lc 9", "00880000", append(bytes.Clone(ch), 9), 0, 0x6700},
		{"no data", "00880000", nil, 0, 0x6700},
		{"no Le", "00880000", ch, -1, 0x6700},
		{"P1 01", "00880100", ch, 0, 0x6A86},
		{"P2 01", "00880001", ch, 0, 0x6A86},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, tm := aaChip(t, rsaCfg)
			if _, sw := tm.sm(t, c, tc.hdr, tc.data, tc.le); sw != tc.want {
				t.Fatalf("SW %04X want %04X", sw, tc.want)
			}
		})
	}
	t.Run("RSA-2048 under short 3DES SM", func(t *testing.T) {
		// 256 signature bytes do not fit a short protected response.
		c, tm := aaChip(t, Config{ActiveAuthentication: &AAConfig{Key: pkcs8(t, aaRSA2048())}})
		if _, sw := internalAuth(t, c, tm, ch, false); sw != 0x6700 {
			t.Fatalf("SW %04X want 6700", sw)
		}
	})
}

func TestAAConfigRefusals(t *testing.T) {
	rsaKey := pkcs8(t, aaRSA1024())
	ecKey := pkcs8(t, aaP256())
	small, err := rsa.GenerateKey(rand.Reader, 1024+4)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		aa   AAConfig
	}{
		{"no key", AAConfig{}},
		{"garbage key", AAConfig{Key: []byte("not a key")}},
		{"unknown trailer", AAConfig{Key: rsaKey, Trailer: "31CC"}},
		{"hash on RSA", AAConfig{Key: rsaKey, Hash: "SHA-256"}},
		{"format on RSA", AAConfig{Key: rsaKey, SignatureFormat: "der"}},
		{"EC without hash", AAConfig{Key: ecKey}},
		{"EC with unknown hash", AAConfig{Key: ecKey, Hash: "MD5"}},
		{"EC with trailer", AAConfig{Key: ecKey, Hash: "SHA-256", Trailer: "BC"}},
		{"EC unknown format", AAConfig{Key: ecKey, Hash: "SHA-256", SignatureFormat: "raw"}},
		{"modulus not whole bytes", AAConfig{Key: pkcs8(t, small)}},
		{"key file with a path", AAConfig{Key: rsaKey, KeyFile: "../aa.key"}},
		{"key file named like an LDS file", AAConfig{Key: rsaKey, KeyFile: "DG15"}},
		{"key file named chip.json", AAConfig{Key: rsaKey, KeyFile: ConfigFile}},
		{"hidden key file", AAConfig{Key: rsaKey, KeyFile: ".aa"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			aa := tc.aa
			_, err := NewIdentity(specimenFiles(t), Config{ActiveAuthentication: &aa})
			if !errors.Is(err, ErrInvalidIdentity) {
				t.Fatalf("err = %v, want ErrInvalidIdentity", err)
			}
		})
	}
}

func TestAAIdentityFolder(t *testing.T) {
	key := aaRSA1024()
	der := x509.MarshalPKCS1PrivateKey(key)
	dir := t.TempDir()
	id, err := NewIdentity(specimenFiles(t), Config{ActiveAuthentication: &AAConfig{Trailer: "34CC", Key: der}})
	if err != nil {
		t.Fatal(err)
	}
	if err := id.Save(dir); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, DefaultAAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", st.Mode().Perm())
	}
	js, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte(`"active_authentication"`)) || !bytes.Contains(js, []byte(`"34CC"`)) || bytes.Contains(js, []byte(`"Key"`)) {
		t.Fatalf("chip.json: %s", js)
	}
	back, err := LoadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	if aa := back.Config.ActiveAuthentication; aa == nil || !bytes.Equal(aa.Key, der) || aa.Trailer != "34CC" {
		t.Fatalf("loaded %+v", back.Config.ActiveAuthentication)
	}

	// A PEM key under another name.
	dir2 := t.TempDir()
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8(t, aaP256())})
	if err := os.WriteFile(filepath.Join(dir2, "ecdsa.pem"), pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := `{"version":1,"document_number":"L898902C","date_of_birth":"690806","date_of_expiry":"940623",
		"active_authentication":{"key_file":"ecdsa.pem","hash":"SHA-256","signature_format":"der"}}`
	if err := os.WriteFile(filepath.Join(dir2, ConfigFile), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadIdentity(dir2); err != nil {
		t.Fatal(err)
	}
	// The key file named in chip.json must exist.
	if err := os.Remove(filepath.Join(dir2, "ecdsa.pem")); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadIdentity(dir2); !errors.Is(err, ErrInvalidIdentity) {
		t.Fatalf("missing key file: %v", err)
	}
}

func BenchmarkInternalAuthenticate(b *testing.B) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"RSA-2048", Config{ActiveAuthentication: &AAConfig{Key: pkcs8(b, aaRSA2048())}}},
		{"P-256", Config{ActiveAuthentication: &AAConfig{Hash: "SHA-256", Key: pkcs8(b, aaP256())}}},
	}
	ch := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	for _, tc := range cases {
		b.Run(tc.name+"/sign", func(b *testing.B) {
			s, err := tc.cfg.ActiveAuthentication.signer()
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := s.sign(rand.Reader, ch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// The raw private-key operation of the same keys: a constant-time
	// modexp with d (as the chip does it, without CRT) and crypto/ecdsa.
	b.Run("RSA-2048/raw-crypto-rsa-crt", func(b *testing.B) {
		k := aaRSA2048()
		d := make([]byte, 32)
		for b.Loop() {
			if _, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, d); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("P-256/raw-ecdsa-sign", func(b *testing.B) {
		k := aaP256()
		d := make([]byte, 32)
		for b.Loop() {
			if _, _, err := ecdsa.Sign(rand.Reader, k, d); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// bpKeys encodes a brainpoolP256r1 key two ways crypto/x509 cannot read:
// SEC 1 with the RFC 5639 OID, and PKCS#8 with explicit parameters.
func bpKeys(t testing.TB, k *ec.PrivateKey) (sec1, pkcs8Explicit []byte) {
	t.Helper()
	c := k.Curve()
	ecPriv := func(named bool) []byte {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(1)
			b.AddASN1OctetString(k.Bytes())
			if named {
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 7})
				})
			}
			b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1BitString(k.PublicKey().Bytes())
			})
		})
		return b.BytesOrPanic()
	}
	p, a, bb, gx, gy, n, _ := c.Params()
	l := c.ByteLen()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1})
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 840, 10045, 1, 1})
					b.AddASN1BigInt(p)
				})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1OctetString(a.FillBytes(make([]byte, l)))
					b.AddASN1OctetString(bb.FillBytes(make([]byte, l)))
				})
				g := append([]byte{4}, gx.FillBytes(make([]byte, l))...)
				b.AddASN1OctetString(append(g, gy.FillBytes(make([]byte, l))...))
				b.AddASN1BigInt(n)
				b.AddASN1Int64(1)
			})
		})
		b.AddASN1OctetString(ecPriv(false))
	})
	return ecPriv(true), b.BytesOrPanic()
}

func TestInternalAuthenticateBrainpool(t *testing.T) {
	c := ec.BrainpoolP256r1()
	k, err := ec.GeneratePrivateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, p8 := bpKeys(t, k)
	ch := hx(t, "0011223344556677")
	h := crypto.SHA256.New()
	h.Write(ch)
	digest := h.Sum(nil)
	for _, tc := range []struct {
		name, format string
		key          []byte
	}{{"SEC 1 named/plain", "plain", sec1}, {"PKCS#8 explicit/der", "der", p8}} {
		t.Run(tc.name, func(t *testing.T) {
			chip, tm := aaChip(t, Config{ActiveAuthentication: &AAConfig{Hash: "SHA-256", SignatureFormat: tc.format, Key: tc.key}})
			sig, sw := internalAuth(t, chip, tm, ch, false)
			if sw != 0x9000 {
				t.Fatalf("SW %04X", sw)
			}
			if tc.format == "der" {
				if !k.PublicKey().VerifyASN1(digest, sig) {
					t.Fatalf("DER signature does not verify: %X", sig)
				}
				return
			}
			if len(sig) != 64 || !c.Verify(k.PublicKey().Point(), digest, sig[:32], sig[32:]) {
				t.Fatalf("plain signature does not verify: %X", sig)
			}
		})
	}
	// A key whose PKCS#8 and SEC 1 parts name different curves.
	other, err := ec.GeneratePrivateKey(ec.BrainpoolP384r1(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherSEC1, _ := bpKeys(t, other) // names brainpoolP256r1 with a 384-bit scalar
	if _, err := NewIdentity(specimenFiles(t), Config{ActiveAuthentication: &AAConfig{Hash: "SHA-256", Key: otherSEC1}}); !errors.Is(err, ErrInvalidIdentity) {
		t.Fatalf("scalar out of range for the named curve: %v", err)
	}
}

// FuzzAAPrivateKey: a key file of any content is refused or read, never a
// panic.
func FuzzAAPrivateKey(f *testing.F) {
	k, err := ec.GeneratePrivateKey(ec.BrainpoolP256r1(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	sec1, p8 := bpKeys(f, k)
	f.Add(sec1)
	f.Add(p8)
	f.Add(pkcs8(f, aaP256()))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, cfg := range []AAConfig{{Key: b}, {Key: b, Hash: "SHA-256"}} {
			s, err := cfg.signer()
			if (s == nil) == (err == nil) {
				t.Fatalf("signer %v err %v", s, err)
			}
		}
	})
}

package reader_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
	"slices"
	"sync"
	"testing"

	"borderid/hardware/chipsim"
	"borderid/internal/ec"
	"borderid/reader"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
	"borderid/reader/mrz"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Test keys, made once per test binary (RSA generation is slow).
var (
	aaRSA1024  = sync.OnceValue(func() *rsa.PrivateKey { return mustRSAKey(1024) })
	aaRSA1024b = sync.OnceValue(func() *rsa.PrivateKey { return mustRSAKey(1024) })
	aaRSA2048  = sync.OnceValue(func() *rsa.PrivateKey { return mustRSAKey(2048) })
	aaP256     = sync.OnceValue(func() *ecdsa.PrivateKey { return mustECKey(elliptic.P256()) })
	aaP256b    = sync.OnceValue(func() *ecdsa.PrivateKey { return mustECKey(elliptic.P256()) })
	aaP384     = sync.OnceValue(func() *ecdsa.PrivateKey { return mustECKey(elliptic.P384()) })
)

func mustRSAKey(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func mustECKey(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// ecdsa-plain-SHA* of BSI TR-03111 §5.2.1.
func plainOID(n int) asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, n}
}

func aaInfo(oid asn1.ObjectIdentifier) *lds.ActiveAuthenticationInfo {
	return &lds.ActiveAuthenticationInfo{Version: 1, SignatureAlgorithm: oid}
}

func dg15Of(t testing.TB, pub any) *lds.DG15 {
	t.Helper()
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return dg15FromSPKI(t, spki)
}

func dg15FromSPKI(t testing.TB, spki []byte) *lds.DG15 {
	t.Helper()
	raw, err := lds.AppendElement(nil, lds.FileDG15.Tag(), spki)
	if err != nil {
		t.Fatal(err)
	}
	d, err := lds.ParseDG15(raw)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func pkcs8Of(t testing.TB, k any) []byte {
	t.Helper()
	b, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// aaSession is a chip with aa as its Active Authentication configuration
// and a reader session on it after BAC, ready for INTERNAL AUTHENTICATE.
func aaSession(t testing.TB, aa *chipsim.AAConfig, ext bool) *reader.Session {
	t.Helper()
	m := specimen.DefaultMRZ()
	parsed, err := mrz.Parse(m)
	if err != nil {
		t.Fatal(err)
	}
	flat := bytes.ReplaceAll([]byte(m), []byte("\n"), nil)
	dg1 := append([]byte{0x61, byte(3 + len(flat)), 0x5F, 0x1F, byte(len(flat))}, flat...)
	id, err := chipsim.NewIdentity(map[string][]byte{"DG1": dg1}, chipsim.Config{ExtendedLength: ext, ActiveAuthentication: aa})
	if err != nil {
		t.Fatal(err)
	}
	chip, err := chipsim.New(id, chipsim.WithRand(newRand(7)))
	if err != nil {
		t.Fatal(err)
	}
	el, err := reader.ExtendedLengthFromATR(chip.ATR())
	if err != nil {
		t.Fatal(err)
	}
	s := reader.NewSession(chip, reader.SessionOptions{Extended: el})
	ctx := context.Background()
	if err := s.SelectApplication(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.BAC(ctx, s, parsed.KeySeedInfo(), newRand(8)); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestActiveAuthenticationChipsim: reader against the independent chip
// after BAC, every trailer on RSA-1024 and RSA-2048 (extended length),
// ECDSA plain and DER.
func TestActiveAuthenticationChipsim(t *testing.T) {
	type tc struct {
		name      string
		priv      crypto.Signer
		aa        chipsim.AAConfig
		ext       bool
		info      *lds.ActiveAuthenticationInfo
		hash      crypto.Hash
		trailer   reader.AATrailer
		format    reader.AASignatureFormat
		quirks    []string
		curve     string
		keyBits   int
		recovered int       // length of M1
		dg15      *lds.DG15 // nil: from priv
	}
	trailers := []struct {
		name string
		t    reader.AATrailer
		h    crypto.Hash
	}{
		{"BC", reader.AATrailerImplicit, crypto.SHA1},
		{"33CC", reader.AATrailerSHA1, crypto.SHA1},
		{"38CC", reader.AATrailerSHA224, crypto.SHA224},
		{"34CC", reader.AATrailerSHA256, crypto.SHA256},
		{"36CC", reader.AATrailerSHA384, crypto.SHA384},
		{"35CC", reader.AATrailerSHA512, crypto.SHA512},
	}
	var tests []tc
	for _, k := range []struct {
		name string
		key  *rsa.PrivateKey
		ext  bool
	}{{"RSA-1024", aaRSA1024(), false}, {"RSA-2048", aaRSA2048(), true}} {
		for _, tr := range trailers {
			tests = append(tests, tc{
				name: k.name + "/" + tr.name, priv: k.key, ext: k.ext,
				aa:   chipsim.AAConfig{Trailer: tr.name, Key: pkcs8Of(t, k.key)},
				hash: tr.h, trailer: tr.t, format: reader.AAFormatISO9796_2, keyBits: k.key.N.BitLen(),
				recovered: k.key.Size() - 1 - tr.h.Size() - tr.t.Size(),
			})
		}
	}
	tests = append(tests,
		tc{name: "P-256/plain", priv: aaP256(), aa: chipsim.AAConfig{Hash: "SHA-256", Key: pkcs8Of(t, aaP256())},
			info: aaInfo(plainOID(3)), hash: crypto.SHA256, format: reader.AAFormatECDSAPlain, curve: "P-256", keyBits: 256},
		tc{name: "P-256/DER", priv: aaP256(), aa: chipsim.AAConfig{Hash: "SHA-256", SignatureFormat: "der", Key: pkcs8Of(t, aaP256())},
			info: aaInfo(plainOID(3)), hash: crypto.SHA256, format: reader.AAFormatECDSADER, curve: "P-256", keyBits: 256,
			quirks: []string{"aa_ecdsa_der"}},
		tc{name: "P-256/X9.62 OID SHA-1", priv: aaP256(), aa: chipsim.AAConfig{Hash: "SHA-1", Key: pkcs8Of(t, aaP256())},
			info: aaInfo(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}), hash: crypto.SHA1, format: reader.AAFormatECDSAPlain, curve: "P-256", keyBits: 256},
		tc{name: "P-384/plain SHA-384", priv: aaP384(), aa: chipsim.AAConfig{Hash: "SHA-384", Key: pkcs8Of(t, aaP384())},
			info: aaInfo(plainOID(4)), hash: crypto.SHA384, format: reader.AAFormatECDSAPlain, curve: "P-384", keyBits: 384},
	)
	bpDER, bpDG15 := brainpoolKey(t)
	for _, f := range []struct{ name, format, quirk string }{{"plain", "plain", ""}, {"DER", "der", "aa_ecdsa_der"}} {
		var q []string
		fm := reader.AAFormatECDSAPlain
		if f.quirk != "" {
			q, fm = []string{f.quirk}, reader.AAFormatECDSADER
		}
		tests = append(tests, tc{name: "brainpoolP256r1/" + f.name, dg15: bpDG15,
			aa:   chipsim.AAConfig{Hash: "SHA-256", SignatureFormat: f.format, Key: bpDER},
			info: aaInfo(plainOID(3)), hash: crypto.SHA256, format: fm, curve: "brainpoolP256r1", keyBits: 256, quirks: q})
	}
	ch := []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			aa := tt.aa
			s := aaSession(t, &aa, tt.ext)
			dg15 := tt.dg15
			if dg15 == nil {
				dg15 = dg15Of(t, tt.priv.Public())
			}
			res, err := reader.ActiveAuthenticate(context.Background(), s, dg15, ch, tt.info)
			if err != nil {
				t.Fatal(err)
			}
			if res.Hash != tt.hash || res.Trailer != tt.trailer || res.Format != tt.format || res.Curve != tt.curve || res.KeyBits != tt.keyBits {
				t.Fatalf("result %v %v %v %q %d, want %v %v %v %q %d", res.Hash, res.Trailer, res.Format, res.Curve, res.KeyBits,
					tt.hash, tt.trailer, tt.format, tt.curve, tt.keyBits)
			}
			if !bytes.Equal(res.Challenge, ch) || len(res.Recovered) != tt.recovered {
				t.Fatalf("challenge %X, recovered %d bytes want %d", res.Challenge, len(res.Recovered), tt.recovered)
			}
			if got := s.Quirks(); !slices.Equal(got, tt.quirks) {
				t.Fatalf("quirks %v want %v", got, tt.quirks)
			}
			// The same answer must fail for another challenge: the chip
			// echoing a signature of a modified challenge is refused.
			other := bytes.Clone(ch)
			other[7] ^= 1
			key, err := reader.ParseAAPublicKey(dg15)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := key.Verify(other, res.Signature, tt.info); !errors.Is(err, reader.ErrAAFailed) {
				t.Fatalf("modified challenge: %v", err)
			}
			for _, cut := range []int{1, len(res.Signature) / 2, len(res.Signature)} {
				if _, err := key.Verify(ch, res.Signature[:len(res.Signature)-cut], tt.info); !errors.Is(err, reader.ErrAAFailed) {
					t.Fatalf("signature truncated by %d: %v", cut, err)
				}
			}
			if _, err := key.Verify(ch, append(bytes.Clone(res.Signature), 0), tt.info); !errors.Is(err, reader.ErrAAFailed) {
				t.Fatalf("signature with a byte appended: %v", err)
			}
		})
	}
}

// TestActiveAuthenticationRefusals: every way the exchange can go wrong
// ends in an error, never a result.
func TestActiveAuthenticationRefusals(t *testing.T) {
	ctx := context.Background()
	ch := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	rsaAA := func() *chipsim.AAConfig { return &chipsim.AAConfig{Key: pkcs8Of(t, aaRSA1024())} }
	ecAA := func() *chipsim.AAConfig { return &chipsim.AAConfig{Hash: "SHA-256", Key: pkcs8Of(t, aaP256())} }
	sha256Info := aaInfo(plainOID(3))
	tests := []struct {
		name      string
		aa        *chipsim.AAConfig
		ext       bool
		dg15      *lds.DG15
		challenge []byte
		info      *lds.ActiveAuthenticationInfo
		want      error
	}{
		{"RSA signature by another key", rsaAA(), false, dg15Of(t, &aaRSA1024b().PublicKey), ch, nil, reader.ErrAAFailed},
		{"ECDSA signature by another key", ecAA(), false, dg15Of(t, &aaP256b().PublicKey), ch, sha256Info, reader.ErrAAFailed},
		{"ECDSA with the wrong hash", ecAA(), false, dg15Of(t, &aaP256().PublicKey), ch, aaInfo(plainOID(4)), reader.ErrAAFailed},
		{"RSA key, chip signs with ECDSA", ecAA(), false, dg15Of(t, &aaRSA1024().PublicKey), ch, nil, reader.ErrAAFailed},
		{"EC key without ActiveAuthenticationInfo", ecAA(), false, dg15Of(t, &aaP256().PublicKey), ch, nil, reader.ErrAANotSupported},
		{"EC key with RIPEMD-160", ecAA(), false, dg15Of(t, &aaP256().PublicKey), ch, aaInfo(plainOID(6)), reader.ErrAANotSupported},
		{"DG15 present but the chip refuses INTERNAL AUTHENTICATE (6D00)", nil, false, dg15Of(t, &aaRSA1024().PublicKey), ch, nil, reader.ErrAAFailed},
		{"no DG15", rsaAA(), false, nil, ch, nil, reader.ErrAANotSupported},
		{"RSA-2048 without extended length", &chipsim.AAConfig{Key: pkcs8Of(t, aaRSA2048())}, false, dg15Of(t, &aaRSA2048().PublicKey), ch, nil, reader.ErrWrongLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := aaSession(t, tt.aa, tt.ext)
			res, err := reader.ActiveAuthenticate(ctx, s, tt.dg15, tt.challenge, tt.info)
			if res != nil || !errors.Is(err, tt.want) {
				t.Fatalf("res %v, err %v, want %v", res, err, tt.want)
			}
		})
	}
	t.Run("challenge length", func(t *testing.T) {
		s := aaSession(t, rsaAA(), false)
		for _, c := range [][]byte{{}, ch[:7], append(bytes.Clone(ch), 9)} {
			if res, err := reader.ActiveAuthenticate(ctx, s, dg15Of(t, &aaRSA1024().PublicKey), c, nil); res != nil || err == nil {
				t.Fatalf("challenge of %d bytes accepted", len(c))
			}
		}
	})
	t.Run("before access control", func(t *testing.T) {
		id, err := chipsim.NewIdentity(nil, chipsim.Config{DocumentNumber: "L898902C", DateOfBirth: "690806", DateOfExpiry: "940623", ActiveAuthentication: rsaAA()})
		if err != nil {
			t.Fatal(err)
		}
		chip, err := chipsim.New(id)
		if err != nil {
			t.Fatal(err)
		}
		s := reader.NewSession(chip, reader.SessionOptions{})
		if res, err := reader.ActiveAuthenticate(ctx, s, dg15Of(t, &aaRSA1024().PublicKey), ch, nil); res != nil || err == nil {
			t.Fatal("AA without secure messaging accepted")
		}
		if s.APDUs() != 0 {
			t.Fatalf("%d APDUs sent without secure messaging", s.APDUs())
		}
	})
	t.Run("default challenge is random", func(t *testing.T) {
		s := aaSession(t, rsaAA(), false)
		a, err := reader.ActiveAuthenticate(ctx, s, dg15Of(t, &aaRSA1024().PublicKey), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := reader.ActiveAuthenticate(ctx, s, dg15Of(t, &aaRSA1024().PublicKey), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Challenge) != 8 || bytes.Equal(a.Challenge, b.Challenge) {
			t.Fatalf("challenges %X %X", a.Challenge, b.Challenge)
		}
	})
}

// rep9796 builds a 9796-2 scheme 1 representative the way the standard
// describes it (§8.1): first nibble 0 1 more-data 0, padding nibbles B
// (pad of them), border nibble A, then M1, H(M1 || M2), trailer. The
// total length is l bytes; M1 takes what is left.
func rep9796(l int, moreData bool, pad int, m2 []byte, h crypto.Hash, trailer []byte) []byte {
	// Nibbles before M1: the first nibble, pad B nibbles, the A nibble:
	// a whole number of bytes only when pad is even.
	nibbles := []byte{0x4}
	if moreData {
		nibbles[0] = 0x6
	}
	for range pad {
		nibbles = append(nibbles, 0xB)
	}
	nibbles = append(nibbles, 0xA)
	var f []byte
	for i := 0; i+1 < len(nibbles); i += 2 {
		f = append(f, nibbles[i]<<4|nibbles[i+1])
	}
	m1 := make([]byte, l-len(f)-h.Size()-len(trailer))
	for i := range m1 {
		m1[i] = byte(0xC3 ^ i)
	}
	f = append(f, m1...)
	hh := h.New()
	hh.Write(m1)
	hh.Write(m2)
	f = hh.Sum(f)
	return append(f, trailer...)
}

// TestDecode9796Scheme1 checks the decoder with representatives built
// by hand from the standard, independently of the chip's code.
func TestDecode9796Scheme1(t *testing.T) {
	m2 := []byte{8, 7, 6, 5, 4, 3, 2, 1}
	good := rep9796(128, true, 0, m2, crypto.SHA1, []byte{0xBC})
	if good[0] != 0x6A {
		t.Fatalf("hand-built header %02X", good[0])
	}
	mod := func(f []byte, i int, v byte) []byte {
		f = bytes.Clone(f)
		f[(i+len(f))%len(f)] = v
		return f
	}
	xor := func(f []byte, i int, v byte) []byte {
		f = bytes.Clone(f)
		f[(i+len(f))%len(f)] ^= v
		return f
	}
	tests := []struct {
		name    string
		f       []byte
		m2      []byte
		trailer reader.AATrailer
		m1      int
		ok      bool
	}{
		{"BC", good, m2, reader.AATrailerImplicit, 128 - 1 - 20 - 1, true},
		{"33CC", rep9796(128, true, 0, m2, crypto.SHA1, []byte{0x33, 0xCC}), m2, reader.AATrailerSHA1, 128 - 1 - 20 - 2, true},
		{"38CC", rep9796(128, true, 0, m2, crypto.SHA224, []byte{0x38, 0xCC}), m2, reader.AATrailerSHA224, 128 - 1 - 28 - 2, true},
		{"34CC", rep9796(128, true, 0, m2, crypto.SHA256, []byte{0x34, 0xCC}), m2, reader.AATrailerSHA256, 128 - 1 - 32 - 2, true},
		{"36CC", rep9796(128, true, 0, m2, crypto.SHA384, []byte{0x36, 0xCC}), m2, reader.AATrailerSHA384, 128 - 1 - 48 - 2, true},
		{"35CC", rep9796(128, true, 0, m2, crypto.SHA512, []byte{0x35, 0xCC}), m2, reader.AATrailerSHA512, 128 - 1 - 64 - 2, true},
		{"padding 6B BA", rep9796(128, true, 2, m2, crypto.SHA1, []byte{0xBC}), m2, reader.AATrailerImplicit, 128 - 2 - 20 - 1, true},
		{"padding 6B BB BA", rep9796(128, true, 4, m2, crypto.SHA1, []byte{0xBC}), m2, reader.AATrailerImplicit, 128 - 3 - 20 - 1, true},
		{"SHA-512 in 256 bytes", rep9796(256, true, 0, m2, crypto.SHA512, []byte{0x35, 0xCC}), m2, reader.AATrailerSHA512, 256 - 1 - 64 - 2, true},

		{"other challenge", good, []byte{8, 7, 6, 5, 4, 3, 2, 0}, 0, 0, false},
		{"empty challenge", good, nil, 0, 0, false},
		{"total recovery 4A", rep9796(128, false, 0, m2, crypto.SHA1, []byte{0xBC}), m2, 0, 0, false},
		{"header 2A", mod(good, 0, 0x2A), m2, 0, 0, false},
		{"header EA", mod(good, 0, 0xEA), m2, 0, 0, false},
		{"header 7A", mod(good, 0, 0x7A), m2, 0, 0, false},
		{"no border nibble 6B", mod(good, 0, 0x6B), m2, 0, 0, false},
		{"border nibble 69", mod(good, 0, 0x69), m2, 0, 0, false},
		{"padding 6B then CA", mod(rep9796(128, true, 2, m2, crypto.SHA1, []byte{0xBC}), 1, 0xCA), m2, 0, 0, false},
		{"padding 6B then BC", mod(rep9796(128, true, 2, m2, crypto.SHA1, []byte{0xBC}), 1, 0xBC), m2, 0, 0, false},
		{"padding all B", bytes.Repeat([]byte{0xBB}, 128), m2, 0, 0, false},
		{"trailer BD", mod(good, -1, 0xBD), m2, 0, 0, false},
		{"trailer 3C", mod(good, -1, 0x3C), m2, 0, 0, false},
		{"trailer 31CC (RIPEMD-160)", mod(rep9796(128, true, 0, m2, crypto.SHA1, []byte{0x33, 0xCC}), -2, 0x31), m2, 0, 0, false},
		{"trailer 37CC (Whirlpool)", mod(rep9796(128, true, 0, m2, crypto.SHA1, []byte{0x33, 0xCC}), -2, 0x37), m2, 0, 0, false},
		{"trailer 34CC over a SHA-1 hash", mod(rep9796(128, true, 0, m2, crypto.SHA1, []byte{0x33, 0xCC}), -2, 0x34), m2, 0, 0, false},
		{"hash bit flipped", xor(good, -2, 0x01), m2, 0, 0, false},
		{"M1 bit flipped", xor(good, 5, 0x80), m2, 0, 0, false},
		{"too short for SHA-512", rep9796(70, true, 0, m2, crypto.SHA1, []byte{0xBC})[:2], m2, 0, 0, false},
		{"two bytes", []byte{0x6A, 0xBC}, m2, 0, 0, false},
		{"empty", nil, m2, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m1, tr, err := reader.Decode9796Scheme1(tt.f, tt.m2)
			if !tt.ok {
				if !errors.Is(err, reader.ErrAAFailed) || m1 != nil {
					t.Fatalf("accepted or wrong error: m1 %X, %v", m1, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tr != tt.trailer || len(m1) != tt.m1 {
				t.Fatalf("trailer %v M1 %d bytes, want %v %d", tr, len(m1), tt.trailer, tt.m1)
			}
			if !bytes.Equal(m1, tt.f[len(tt.f)-tt.trailer.Size()-tt.trailer.Hash().Size()-tt.m1:len(tt.f)-tt.trailer.Size()-tt.trailer.Hash().Size()]) {
				t.Fatal("M1 is not the bytes before the hash")
			}
		})
	}
}

// rsaRaw is the RSA private-key operation, for hand-built signatures.
func rsaRaw(k *rsa.PrivateKey, f []byte) []byte {
	return new(big.Int).Exp(new(big.Int).SetBytes(f), k.D, k.N).FillBytes(make([]byte, k.Size()))
}

// TestVerifyRSAHandBuilt: RSA signatures of hand-built representatives,
// including the n - s form of 9796-2 Annex A and the refusals that only
// show after the RSA operation.
func TestVerifyRSAHandBuilt(t *testing.T) {
	k := aaRSA1024()
	key, err := reader.ParseAAPublicKey(dg15Of(t, &k.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	ch := []byte{9, 9, 9, 9, 1, 2, 3, 4}
	f := rep9796(k.Size(), true, 0, ch, crypto.SHA256, []byte{0x34, 0xCC})
	sig := rsaRaw(k, f)
	res, err := key.Verify(ch, sig, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Trailer != reader.AATrailerSHA256 || res.Algorithm != lds.PublicKeyRSA || res.KeyBits != 1024 {
		t.Fatalf("%+v", res)
	}
	// n - s: its public operation gives n - F, whose last nibble is not C.
	neg := new(big.Int).Sub(k.N, new(big.Int).SetBytes(sig)).FillBytes(make([]byte, k.Size()))
	if _, err := key.Verify(ch, neg, nil); err != nil {
		t.Fatalf("n - s: %v", err)
	}
	bad := []struct {
		name string
		sig  []byte
	}{
		{"zero", make([]byte, k.Size())},
		{"n", k.N.FillBytes(make([]byte, k.Size()))},
		{"all FF", bytes.Repeat([]byte{0xFF}, k.Size())},
		{"header byte 4A", rsaRaw(k, rep9796(k.Size(), false, 0, ch, crypto.SHA256, []byte{0x34, 0xCC}))},
		{"header byte 6B", rsaRaw(k, append([]byte{0x6B}, f[1:]...))},
		{"trailer 33CC over SHA-256", rsaRaw(k, append(bytes.Clone(f[:len(f)-2]), 0x33, 0xCC))},
		{"trailer BC", rsaRaw(k, append(bytes.Clone(f[:len(f)-1]), 0xBC))},
		{"representative 1", rsaRaw(k, []byte{1})},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			if res, err := key.Verify(ch, b.sig, nil); res != nil || !errors.Is(err, reader.ErrAAFailed) {
				t.Fatalf("res %v err %v", res, err)
			}
		})
	}
}

// explicitSPKI encodes an EC public key with explicit X9.62 parameters
// (SEC 1 §C.2, as many chips carry brainpool and even NIST keys).
func explicitSPKI(t testing.TB, pub *ecdsa.PublicKey, seed bool, cofactor int64) []byte {
	t.Helper()
	p := pub.Curve.Params()
	point, err := pub.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return explicitSPKIParams(p.P, new(big.Int).Sub(p.P, big.NewInt(3)), p.B, p.Gx, p.Gy, p.N, point, seed, cofactor)
}

func addECParameters(b *cryptobyte.Builder, p, a, bb, gx, gy, n *big.Int, seed bool, cofactor int64) {
	fl := (p.BitLen() + 7) / 8
	g := append([]byte{4}, gx.FillBytes(make([]byte, fl))...)
	g = append(g, gy.FillBytes(make([]byte, fl))...)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 840, 10045, 1, 1})
			b.AddASN1BigInt(p)
		})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1OctetString(a.FillBytes(make([]byte, fl)))
			b.AddASN1OctetString(bb.FillBytes(make([]byte, fl)))
			if seed {
				b.AddASN1BitString([]byte{0xC4, 0x9D, 0x36, 0x08})
			}
		})
		b.AddASN1OctetString(g)
		b.AddASN1BigInt(n)
		if cofactor != 0 {
			b.AddASN1Int64(cofactor)
		}
	})
}

func explicitSPKIParams(p, a, bb, gx, gy, n *big.Int, point []byte, seed bool, cofactor int64) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1})
			addECParameters(b, p, a, bb, gx, gy, n, seed, cofactor)
		})
		b.AddASN1BitString(point)
	})
	return b.BytesOrPanic()
}

// brainpoolKey is a brainpoolP256r1 key for the chip (SEC 1 ECPrivateKey
// naming the curve by its RFC 5639 OID) and its DG15 with explicit
// parameters, as real chips carry it.
func brainpoolKey(t testing.TB) (keyDER []byte, dg15 *lds.DG15) {
	t.Helper()
	c := ec.BrainpoolP256r1()
	k, err := ec.GeneratePrivateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1OctetString(k.Bytes())
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 7})
		})
	})
	p, a, bb, gx, gy, n, _ := c.Params()
	return b.BytesOrPanic(), dg15FromSPKI(t, explicitSPKIParams(p, a, bb, gx, gy, n, k.PublicKey().Bytes(), false, 1))
}

func TestParseAAPublicKey(t *testing.T) {
	pub := &aaP256().PublicKey
	sign := func(ch []byte) []byte {
		d := crypto.SHA256.New()
		d.Write(ch)
		r, s, err := ecdsa.Sign(rand.Reader, aaP256(), d.Sum(nil))
		if err != nil {
			t.Fatal(err)
		}
		return append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	}
	ch := []byte{1, 1, 2, 3, 5, 8, 13, 21}
	for _, v := range []struct {
		name     string
		seed     bool
		cofactor int64
	}{{"explicit", false, 0}, {"explicit with seed and cofactor", true, 1}} {
		t.Run(v.name, func(t *testing.T) {
			key, err := reader.ParseAAPublicKey(dg15FromSPKI(t, explicitSPKI(t, pub, v.seed, v.cofactor)))
			if err != nil {
				t.Fatal(err)
			}
			res, err := key.Verify(ch, sign(ch), aaInfo(plainOID(3)))
			if err != nil || res.Curve != "P-256" {
				t.Fatalf("res %+v err %v", res, err)
			}
		})
	}
	onCurve, _ := pub.Bytes()
	t.Run("compressed point", func(t *testing.T) {
		comp := append([]byte{2 | onCurve[64]&1}, onCurve[1:33]...)
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1})
				b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7})
			})
			b.AddASN1BitString(comp)
		})
		key, err := reader.ParseAAPublicKey(&lds.DG15{PublicKeyInfo: b.BytesOrPanic()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := key.Verify(ch, sign(ch), aaInfo(plainOID(3))); err != nil {
			t.Fatal(err)
		}
	})
	offCurve := bytes.Clone(onCurve)
	offCurve[len(offCurve)-1] ^= 1
	infinity := []byte{0}
	spkiWith := func(point []byte) []byte {
		s := explicitSPKI(t, pub, false, 0)
		return append(s[:len(s)-len(onCurve)], point...)
	}
	named := func(point []byte) []byte {
		s, _ := x509.MarshalPKIXPublicKey(pub)
		return append(s[:len(s)-len(onCurve)], point...)
	}
	refused := []struct {
		name string
		spki []byte
		want error
	}{
		{"explicit, point off the curve", spkiWith(offCurve), reader.ErrAAFailed},
		{"named, point off the curve", named(offCurve), reader.ErrAAFailed},
		{"explicit cofactor 2", explicitSPKI(t, pub, false, 2), reader.ErrAANotSupported},
	}
	for _, r := range refused {
		t.Run(r.name, func(t *testing.T) {
			d := &lds.DG15{PublicKeyInfo: r.spki, Algorithm: lds.PublicKeyEC}
			if k, err := reader.ParseAAPublicKey(d); k != nil || !errors.Is(err, r.want) {
				t.Fatalf("key %v err %v want %v", k, err, r.want)
			}
		})
	}
	// The point at infinity and a compressed point need other lengths;
	// build the SPKI around them directly.
	for _, p := range []struct {
		name  string
		point []byte
		want  error
	}{{"infinity", infinity, reader.ErrAAFailed}, {"x not on the curve", append([]byte{2}, bytes.Repeat([]byte{0xFF}, 32)...), reader.ErrAAFailed}} {
		t.Run(p.name, func(t *testing.T) {
			var b cryptobyte.Builder
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1})
					b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7})
				})
				b.AddASN1BitString(p.point)
			})
			d := &lds.DG15{PublicKeyInfo: b.BytesOrPanic(), Algorithm: lds.PublicKeyEC}
			if k, err := reader.ParseAAPublicKey(d); k != nil || !errors.Is(err, p.want) {
				t.Fatalf("key %v err %v want %v", k, err, p.want)
			}
		})
	}
	t.Run("RSA modulus not whole bytes", func(t *testing.T) {
		k, err := rsa.GenerateKey(rand.Reader, 1028)
		if err != nil {
			t.Fatal(err)
		}
		if key, err := reader.ParseAAPublicKey(dg15Of(t, &k.PublicKey)); key != nil || !errors.Is(err, reader.ErrAANotSupported) {
			t.Fatalf("key %v err %v", key, err)
		}
	})
}

// FuzzAAResponse: whatever the chip answers, nothing verifies without the
// private key, and nothing panics.
func FuzzAAResponse(f *testing.F) {
	rsaKey, err := reader.ParseAAPublicKey(dg15Of(f, &aaRSA1024().PublicKey))
	if err != nil {
		f.Fatal(err)
	}
	ecKey, err := reader.ParseAAPublicKey(dg15Of(f, &aaP256().PublicKey))
	if err != nil {
		f.Fatal(err)
	}
	info := aaInfo(plainOID(3))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, make([]byte, 128))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, make([]byte, 64))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, []byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, bytes.Repeat([]byte{0x6A}, 128))
	f.Fuzz(func(t *testing.T, ch, sig []byte) {
		if res, err := rsaKey.Verify(ch, sig, nil); res != nil || err == nil {
			t.Fatalf("random RSA answer verified: %X", sig)
		}
		if res, err := ecKey.Verify(ch, sig, info); res != nil || err == nil {
			t.Fatalf("random ECDSA answer verified: %X", sig)
		}
		m2 := ch
		if m1, _, err := reader.Decode9796Scheme1(sig, m2); m1 != nil || err == nil {
			// A random representative with the right hash of its own M1
			// is a SHA collision; fail loudly if it ever happens.
			t.Fatalf("random representative decoded: %X", sig)
		}
	})
}

// FuzzParseAAPublicKey: DG15 keys from a hostile chip never panic.
func FuzzParseAAPublicKey(f *testing.F) {
	for _, pub := range []any{&aaRSA1024().PublicKey, &aaP256().PublicKey} {
		spki, _ := x509.MarshalPKIXPublicKey(pub)
		f.Add(spki)
	}
	f.Add(explicitSPKI(f, &aaP256().PublicKey, true, 1))
	f.Fuzz(func(t *testing.T, spki []byte) {
		k, err := reader.ParseAAPublicKey(&lds.DG15{PublicKeyInfo: spki})
		if (k == nil) == (err == nil) {
			t.Fatalf("key %v err %v", k, err)
		}
		if k != nil {
			if res, err := k.Verify([]byte{1, 2, 3, 4, 5, 6, 7, 8}, spki, aaInfo(plainOID(3))); res != nil || err == nil {
				t.Fatal("verified a signature made of the key's own bytes")
			}
		}
	})
}

// BenchmarkActiveAuthentication: terminal-side CPU of checking an answer,
// beside the raw public-key operation of the same key.
func BenchmarkActiveAuthentication(b *testing.B) {
	ch := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	rk := aaRSA2048()
	f := rep9796(rk.Size(), true, 0, ch, crypto.SHA256, []byte{0x34, 0xCC})
	rsaSig := rsaRaw(rk, f)
	rsaKey, err := reader.ParseAAPublicKey(dg15Of(b, &rk.PublicKey))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("RSA-2048/verify", func(b *testing.B) {
		for b.Loop() {
			if _, err := rsaKey.Verify(ch, rsaSig, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RSA-2048/raw-modexp-e", func(b *testing.B) {
		s := new(big.Int).SetBytes(rsaSig)
		e := big.NewInt(int64(rk.E))
		for b.Loop() {
			new(big.Int).Exp(s, e, rk.N)
		}
	})
	ek := aaP256()
	d := crypto.SHA256.New()
	d.Write(ch)
	digest := d.Sum(nil)
	r, s, err := ecdsa.Sign(rand.Reader, ek, digest)
	if err != nil {
		b.Fatal(err)
	}
	ecSig := append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	ecKey, err := reader.ParseAAPublicKey(dg15Of(b, &ek.PublicKey))
	if err != nil {
		b.Fatal(err)
	}
	info := aaInfo(plainOID(3))
	b.Run("P-256/verify", func(b *testing.B) {
		for b.Loop() {
			if _, err := ecKey.Verify(ch, ecSig, info); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("P-256/raw-ecdsa-verify", func(b *testing.B) {
		for b.Loop() {
			if !ecdsa.Verify(&ek.PublicKey, digest, r, s) {
				b.Fatal("no")
			}
		}
	})
	b.Run("P-256/raw-internal-ec-verify", func(b *testing.B) {
		c := ec.P256()
		pt, err := c.NewPoint(ecKeyBytes(b, &ek.PublicKey))
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if !c.Verify(pt, digest, ecSig[:32], ecSig[32:]) {
				b.Fatal("no")
			}
		}
	})
	b.Run("RSA-1024/in-process-with-chip", func(b *testing.B) {
		sess := aaSession(b, &chipsim.AAConfig{Key: pkcs8Of(b, aaRSA1024())}, false)
		dg := dg15Of(b, &aaRSA1024().PublicKey)
		for b.Loop() {
			if _, err := reader.ActiveAuthenticate(context.Background(), sess, dg, ch, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func ecKeyBytes(t testing.TB, k *ecdsa.PublicKey) []byte {
	t.Helper()
	b, err := k.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

package envelope_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"testing"

	"borderid/internal/envelope"
	"borderid/internal/envelope/envelopetest"
)

func TestADEncoding(t *testing.T) {
	got := envelope.AD("app-1", "face")
	want := append([]byte("borderid/v1"), 0, 0, 0, 5)
	want = append(want, "app-1"...)
	want = append(want, 0, 0, 0, 4)
	want = append(want, "face"...)
	if !bytes.Equal(got, want) {
		t.Fatalf("AD = %x, want %x", got, want)
	}
	// Injective where a plain concatenation is not.
	pairs := [][2]string{{"ab", "c"}, {"a", "bc"}, {"abc", ""}, {"", "abc"}, {"", ""}, {"a\x00\x00\x00\x01", "b"}}
	seen := map[string][2]string{}
	for _, p := range pairs {
		k := string(envelope.AD(p[0], p[1]))
		if q, dup := seen[k]; dup {
			t.Fatalf("AD(%q) == AD(%q)", p, q)
		}
		seen[k] = p
	}
	if bytes.Equal(envelope.IndexMessage("ab", []byte("c")), envelope.IndexMessage("a", []byte("bc"))) {
		t.Fatal("IndexMessage is ambiguous")
	}
	wantIM := "626f7264657269642f696e6465782f7631" + "00000003" + "646f63" + "00000002" + "4142"
	if got := hex.EncodeToString(envelope.IndexMessage("doc", []byte("AB"))); got != wantIM {
		t.Fatalf("IndexMessage = %s, want %s", got, wantIM)
	}
}

func TestSealOpen(t *testing.T) {
	ctx := context.Background()
	kw := envelopetest.NewWrapper(t)
	pt := []byte("\xff\xd8\xff\xe0 a face, in JPEG")
	ad := envelope.AD("app-1", "face")
	s, err := envelope.Seal(ctx, kw, pt, ad)
	if err != nil {
		t.Fatal(err)
	}
	if s.KEKVersion != 1 || len(s.Nonce) != envelope.NonceSize || len(s.Ciphertext) != len(pt)+envelope.TagSize {
		t.Fatalf("sealed %d %d %d", s.KEKVersion, len(s.Nonce), len(s.Ciphertext))
	}
	if bytes.Contains(s.Ciphertext, pt[:4]) {
		t.Fatal("plaintext visible in ciphertext")
	}
	got, err := envelope.Open(ctx, kw, s, ad)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// Empty plaintext is a valid record.
	s0, err := envelope.Seal(ctx, kw, nil, ad)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := envelope.Open(ctx, kw, s0, ad); err != nil || len(got) != 0 {
		t.Fatalf("empty: %q, %v", got, err)
	}
	// Two seals of the same plaintext share nothing.
	s2, err := envelope.Seal(ctx, kw, pt, ad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(s.Nonce, s2.Nonce) || bytes.Equal(s.WrappedKey, s2.WrappedKey) || bytes.Equal(s.Ciphertext, s2.Ciphertext) {
		t.Fatal("two seals share a nonce, wrapped key or ciphertext")
	}
}

func TestOpenRefusals(t *testing.T) {
	ctx := context.Background()
	kw := envelopetest.NewWrapper(t)
	other := envelopetest.NewWrapper(t)
	pt := []byte("minutiae record")
	ad := envelope.AD("app-1", "finger-3")
	s, err := envelope.Seal(ctx, kw, pt, ad)
	if err != nil {
		t.Fatal(err)
	}
	kw.Rotate() // version 2 exists; s names version 1
	clone := func(s envelope.Sealed) envelope.Sealed {
		return envelope.Sealed{KEKVersion: s.KEKVersion, WrappedKey: slices.Clone(s.WrappedKey),
			Nonce: slices.Clone(s.Nonce), Ciphertext: slices.Clone(s.Ciphertext)}
	}
	type tc struct {
		name string
		kw   envelope.KeyWrapper
		s    envelope.Sealed
		ad   []byte
	}
	cases := []tc{
		{"wrong ad", kw, s, []byte("something else")},
		{"nil ad", kw, s, nil},
		{"other record id", kw, s, envelope.AD("app-2", "finger-3")},
		{"other kind", kw, s, envelope.AD("app-1", "finger-4")},
		{"swapped id and kind", kw, s, envelope.AD("finger-3", "app-1")},
		{"other KEK version", kw, func() envelope.Sealed { c := clone(s); c.KEKVersion = 2; return c }(), ad},
		{"unknown KEK version", kw, func() envelope.Sealed { c := clone(s); c.KEKVersion = 9; return c }(), ad},
		{"zero KEK version", kw, func() envelope.Sealed { c := clone(s); c.KEKVersion = 0; return c }(), ad},
		{"other wrapper", other, s, ad},
		{"short nonce", kw, func() envelope.Sealed { c := clone(s); c.Nonce = c.Nonce[:12]; return c }(), ad},
		{"short ciphertext", kw, func() envelope.Sealed { c := clone(s); c.Ciphertext = c.Ciphertext[:15]; return c }(), ad},
		{"truncated ciphertext", kw, func() envelope.Sealed { c := clone(s); c.Ciphertext = c.Ciphertext[:len(c.Ciphertext)-1]; return c }(), ad},
		{"no wrapped key", kw, func() envelope.Sealed { c := clone(s); c.WrappedKey = nil; return c }(), ad},
		{"truncated wrapped key", kw, func() envelope.Sealed { c := clone(s); c.WrappedKey = c.WrappedKey[:len(c.WrappedKey)-1]; return c }(), ad},
	}
	// A flipped bit at every byte of every field.
	for i := range s.WrappedKey {
		c := clone(s)
		c.WrappedKey[i] ^= 0x01
		cases = append(cases, tc{"flip wrapped key", kw, c, ad})
	}
	for i := range s.Nonce {
		c := clone(s)
		c.Nonce[i] ^= 0x80
		cases = append(cases, tc{"flip nonce", kw, c, ad})
	}
	for i := range s.Ciphertext {
		c := clone(s)
		c.Ciphertext[i] ^= 0x10
		cases = append(cases, tc{"flip ciphertext", kw, c, ad})
	}
	for i := range ad {
		a := slices.Clone(ad)
		a[i] ^= 0x01
		cases = append(cases, tc{"flip ad", kw, s, a})
	}
	// Another record's wrapped key with this record's ciphertext.
	s2, err := envelope.Seal(ctx, kw, pt, ad)
	if err != nil {
		t.Fatal(err)
	}
	mixed := clone(s2)
	mixed.WrappedKey = slices.Clone(s.WrappedKey)
	mixed.KEKVersion = s.KEKVersion
	cases = append(cases, tc{"wrapped key of another record", kw, mixed, ad})
	for _, c := range cases {
		got, err := envelope.Open(ctx, c.kw, c.s, c.ad)
		if !errors.Is(err, envelope.ErrDecrypt) || got != nil {
			t.Fatalf("%s: Open = %q, %v; want ErrDecrypt", c.name, got, err)
		}
	}
	// Unknown versions are also ErrKEKNotFound.
	c := clone(s)
	c.KEKVersion = 9
	if _, err := envelope.Open(ctx, kw, c, ad); !errors.Is(err, envelope.ErrKEKNotFound) {
		t.Fatalf("unknown version: %v", err)
	}
	// The original still opens: nothing above changed s.
	if got, err := envelope.Open(ctx, kw, s, ad); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("original: %q, %v", got, err)
	}
}

// An error of the wrapper that is not an authentication failure is not
// ErrDecrypt: callers must tell a bad record from an unreachable HSM.
func TestOpenWrapperFailureIsNotErrDecrypt(t *testing.T) {
	kw := envelopetest.NewWrapper(t)
	ad := envelope.AD("r", "k")
	s, err := envelope.Seal(context.Background(), kw, []byte("x"), ad)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := envelope.Open(ctx, kw, s, ad); !errors.Is(err, context.Canceled) || errors.Is(err, envelope.ErrDecrypt) {
		t.Fatalf("Open with ended context: %v", err)
	}
	if _, err := envelope.Seal(ctx, kw, []byte("x"), ad); !errors.Is(err, context.Canceled) {
		t.Fatalf("Seal with ended context: %v", err)
	}
	if _, err := envelope.Seal(context.Background(), nil, []byte("x"), ad); err == nil {
		t.Fatal("Seal without a wrapper")
	}
}

func TestRewrap(t *testing.T) {
	ctx := context.Background()
	kw := envelopetest.NewWrapper(t)
	pt := []byte("chip identity file")
	ad := envelope.AD("chip-9", "DG2")
	s1, err := envelope.Seal(ctx, kw, pt, ad)
	if err != nil {
		t.Fatal(err)
	}
	if v := kw.Rotate(); v != 2 {
		t.Fatalf("Rotate = %d", v)
	}
	// New records use the new version; old ones still open.
	s3, err := envelope.Seal(ctx, kw, pt, ad)
	if err != nil || s3.KEKVersion != 2 {
		t.Fatalf("Seal after Rotate: version %d, %v", s3.KEKVersion, err)
	}
	if got, err := envelope.Open(ctx, kw, s1, ad); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("old record after Rotate: %v", err)
	}
	s2, err := envelope.Rewrap(ctx, kw, s1, ad)
	if err != nil {
		t.Fatal(err)
	}
	if s2.KEKVersion != 2 || !bytes.Equal(s2.Ciphertext, s1.Ciphertext) || !bytes.Equal(s2.Nonce, s1.Nonce) || bytes.Equal(s2.WrappedKey, s1.WrappedKey) {
		t.Fatalf("Rewrap: version %d, ciphertext kept %v", s2.KEKVersion, bytes.Equal(s2.Ciphertext, s1.Ciphertext))
	}
	// Rewrap with the wrong ad is refused and wraps nothing.
	wraps, _ := kw.Calls()
	if _, err := envelope.Rewrap(ctx, kw, s1, envelope.AD("chip-9", "DG3")); !errors.Is(err, envelope.ErrDecrypt) {
		t.Fatalf("Rewrap wrong ad: %v", err)
	}
	// A wrapped key that unwraps but does not open the ciphertext is not
	// rewrapped either.
	bad := s1
	bad.Ciphertext = slices.Clone(s1.Ciphertext)
	bad.Ciphertext[0] ^= 1
	if _, err := envelope.Rewrap(ctx, kw, bad, ad); !errors.Is(err, envelope.ErrDecrypt) {
		t.Fatalf("Rewrap damaged ciphertext: %v", err)
	}
	if w, _ := kw.Calls(); w != wraps {
		t.Fatalf("a refused Rewrap wrapped %d keys", w-wraps)
	}
	kw.Destroy(1)
	if got, err := envelope.Open(ctx, kw, s2, ad); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("rewrapped record after destroying v1: %q, %v", got, err)
	}
	if _, err := envelope.Open(ctx, kw, s1, ad); !errors.Is(err, envelope.ErrDecrypt) || !errors.Is(err, envelope.ErrKEKNotFound) {
		t.Fatalf("record under destroyed v1: %v", err)
	}
	if _, err := envelope.Rewrap(ctx, kw, s1, ad); !errors.Is(err, envelope.ErrDecrypt) {
		t.Fatalf("Rewrap under destroyed v1: %v", err)
	}
	if got := kw.Versions(); !slices.Equal(got, []int{2}) {
		t.Fatalf("Versions = %v", got)
	}
}

func TestBinaryForm(t *testing.T) {
	ctx := context.Background()
	kw := envelopetest.NewWrapper(t)
	ad := envelope.AD("chip-1", "SOD")
	s, err := envelope.Seal(ctx, kw, []byte("signed object"), ad)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 1 || len(b) != 1+4+2+len(s.WrappedKey)+1+24+4+len(s.Ciphertext) {
		t.Fatalf("encoding %x", b[:8])
	}
	var got envelope.Sealed
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got.KEKVersion != s.KEKVersion || !bytes.Equal(got.WrappedKey, s.WrappedKey) || !bytes.Equal(got.Nonce, s.Nonce) || !bytes.Equal(got.Ciphertext, s.Ciphertext) {
		t.Fatal("round trip differs")
	}
	if pt, err := envelope.Open(ctx, kw, got, ad); err != nil || string(pt) != "signed object" {
		t.Fatalf("%q, %v", pt, err)
	}
	for i := 0; i < len(b); i++ {
		if err := new(envelope.Sealed).UnmarshalBinary(b[:i]); !errors.Is(err, envelope.ErrFormat) {
			t.Fatalf("truncated to %d: %v", i, err)
		}
	}
	if err := new(envelope.Sealed).UnmarshalBinary(append(slices.Clone(b), 0)); !errors.Is(err, envelope.ErrFormat) {
		t.Fatalf("trailing byte: %v", err)
	}
	b2 := slices.Clone(b)
	b2[0] = 2
	if err := new(envelope.Sealed).UnmarshalBinary(b2); !errors.Is(err, envelope.ErrFormat) {
		t.Fatalf("format 2: %v", err)
	}
	for _, bad := range []envelope.Sealed{{}, {KEKVersion: 1, WrappedKey: []byte{1}, Nonce: make([]byte, 12), Ciphertext: make([]byte, 16)}} {
		if _, err := bad.MarshalBinary(); !errors.Is(err, envelope.ErrFormat) {
			t.Fatalf("MarshalBinary of %+v: %v", bad, err)
		}
	}
}

func TestIndexer(t *testing.T) {
	ctx := context.Background()
	key := bytes.Repeat([]byte{7}, 32)
	ix := envelopetest.NewIndexerWithKey(key)
	got, err := ix.Index(ctx, "document-number", []byte("L898902C3"))
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, key)
	m.Write(envelope.IndexMessage("document-number", []byte("L898902C3")))
	if !bytes.Equal(got, m.Sum(nil)) || len(got) != 32 {
		t.Fatalf("Index = %x", got)
	}
	other, err := ix.Index(ctx, "other-purpose", []byte("L898902C3"))
	if err != nil || len(other) != 32 {
		t.Fatalf("Index, other purpose: %x %v", other, err)
	}
	if bytes.Equal(got, other) {
		t.Fatal("purpose does not separate")
	}
	r, err := envelopetest.NewIndexer(t).Index(ctx, "document-number", []byte("L898902C3"))
	if err != nil || len(r) != 32 {
		t.Fatalf("Index, other key: %x %v", r, err)
	}
	if bytes.Equal(got, r) {
		t.Fatal("index does not depend on the key")
	}
}

package lds

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
	"reflect"
	"testing"
)

// A fixed RSA-1024 key (the modulus is 0xC0...01 style test data: only
// the encoding matters here) and a fixed P-256 point.
func spkiRSA(t testing.TB) []byte {
	n := new(rsa.PublicKey)
	n.N = new(big.Int).SetBytes(bytes.Repeat([]byte{0xC3}, 128))
	n.E = 65537
	b, err := x509.MarshalPKIXPublicKey(n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func spkiEC(t testing.TB) []byte {
	// The P-256 base point.
	c := elliptic.P256()
	pt := elliptic.Marshal(c, c.Params().Gx, c.Params().Gy) //nolint:staticcheck // test data only
	k, err := ecdsa.ParseUncompressedPublicKey(c, pt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDG15(t *testing.T) {
	for _, tt := range []struct {
		name string
		spki []byte
		alg  PublicKeyAlgorithm
		oid  asn1.ObjectIdentifier
	}{
		{"RSA", spkiRSA(t), PublicKeyRSA, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}},
		{"EC", spkiEC(t), PublicKeyEC, asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}},
	} {
		b, err := EncodeDG15(tt.spki)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := AppendElement([]byte(nil), 0x6F, tt.spki)
		if !bytes.Equal(b, want) {
			t.Errorf("%s: EncodeDG15 = %X", tt.name, b)
		}
		d, err := ParseDG15(b)
		if err != nil {
			t.Fatal(err)
		}
		if d.Algorithm != tt.alg || !d.AlgorithmOID.Equal(tt.oid) || !bytes.Equal(d.PublicKeyInfo, tt.spki) || !bytes.Equal(d.Raw, b) {
			t.Errorf("%s: got %+v", tt.name, d)
		}
	}
	if PublicKeyRSA.String() != "RSA" || PublicKeyEC.String() != "EC" || PublicKeyUnknown.String() != "unknown" || PublicKeyAlgorithm(7).String() != "PublicKeyAlgorithm(7)" {
		t.Error("PublicKeyAlgorithm.String")
	}
}

func TestDG15Refusals(t *testing.T) {
	ed, err := x509.MarshalPKIXPublicKey(ed25519.PublicKey(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	rsaKey := spkiRSA(t)
	wrap := func(v []byte) []byte { b, _ := AppendElement(nil, 0x6F, v); return b }
	tests := map[string]struct {
		b    []byte
		want error
	}{
		"Ed25519":        {wrap(ed), nil},
		"trailing":       {wrap(append(bytes.Clone(rsaKey), 0)), ErrTLV},
		"two keys":       {wrap(append(bytes.Clone(rsaKey), rsaKey...)), ErrTLV},
		"not a sequence": {wrap([]byte{0x04, 0x00}), ErrTLV},
		"no bit string":  {wrap(unhex(t, "300D300B06092A864886F70D010101")), ErrTLV},
		"wrong file tag": {append([]byte{0x6E}, wrap(rsaKey)[1:]...), ErrUnexpectedTag},
		"truncated":      {wrap(rsaKey)[:20], ErrShortHeader},
		"empty":          {wrap(nil), ErrTLV},
	}
	for name, tt := range tests {
		_, err := ParseDG15(tt.b)
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: err = %v, want %v", name, err, tt.want)
		}
	}
	if _, err := EncodeDG15(ed); err == nil {
		t.Error("EncodeDG15(Ed25519) accepted")
	}
}

func TestCVCA(t *testing.T) {
	tests := []struct {
		name   string
		hex    string
		cars   []string
		quirks []string
	}{
		// One CAR, zero padding to 36 bytes.
		{"one", "420B5554435643413030303031" + "000000000000000000000000000000000000000000000000", []string{"UTCVCA00001"}, nil},
		{"two", "420B5554435643413030303031420B5554435643413030303032" + "00000000000000000000", []string{"UTCVCA00001", "UTCVCA00002"}, nil},
		{"no padding", "420B5554435643413030303031", []string{"UTCVCA00001"}, nil},
		{"FF padding", "420B5554435643413030303031" + "FFFFFFFF", []string{"UTCVCA00001"}, []string{QuirkCVCAFFPadding}},
	}
	for _, tt := range tests {
		raw := unhex(t, tt.hex)
		c, err := ParseCVCA(raw)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(c.CARs, tt.cars) || !reflect.DeepEqual(c.Quirks, tt.quirks) || !bytes.Equal(c.Raw, raw) {
			t.Errorf("%s: got %+v", tt.name, c)
		}
	}
	b, err := EncodeCVCA("UTCVCA00001", "UTCVCA00002")
	if err != nil || !bytes.Equal(b, unhex(t, tests[1].hex)) {
		t.Errorf("EncodeCVCA = %X, %v", b, err)
	}
	bad := map[string]string{
		"empty":         "",
		"only padding":  "0000",
		"three":         "42014142014242014300",
		"wrong tag":     "4301410000",
		"empty CAR":     "4200",
		"long CAR":      "421141414141414141414141414141414141",
		"unprintable":   "42020141",
		"truncated":     "420B55544356",
		"mixed padding": "42014100FF",
	}
	for name, h := range bad {
		if c, err := ParseCVCA(unhex(t, h)); err == nil {
			t.Errorf("%s: ParseCVCA = %+v", name, c)
		}
	}
	for _, cars := range [][]string{nil, {"A", "B", "C"}, {""}, {"AAAAAAAAAAAAAAAAA"}} {
		if _, err := EncodeCVCA(cars...); err == nil {
			t.Errorf("EncodeCVCA(%q) accepted", cars)
		}
	}
}

func TestATRInfo(t *testing.T) {
	tests := []struct {
		name      string
		hex       string
		cmd, resp int
		caps      []byte
		quirks    []string
	}{
		// Card capabilities, then 7F66 with 0x0400 and 0x010000 (65536).
		{"caps and lengths", "4703F80000" + "7F6609" + "02020400" + "0203010000" + "00", 1024, 65536, []byte{0xF8, 0, 0}, []string{QuirkATRInfoPadding}},
		{"with padding", "7F6608020204000202FFFF" + "000000", 1024, 65535, nil, []string{QuirkATRInfoPadding}},
		{"leading zero", "7F660A0203000400020300FFFF", 1024, 65535, nil, nil},
		{"no 7F66", "4703F80000", 0, 0, []byte{0xF8, 0, 0}, nil},
	}
	for _, tt := range tests {
		raw := unhex(t, tt.hex)
		a, err := ParseATRInfo(raw)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if a.MaxCommandLength != tt.cmd || a.MaxResponseLength != tt.resp || !bytes.Equal(a.CardCapabilities, tt.caps) ||
			!reflect.DeepEqual(a.Quirks, tt.quirks) || !bytes.Equal(a.Raw, raw) {
			t.Errorf("%s: got %+v", tt.name, a)
		}
	}
	b, err := EncodeATRInfo(1024, 65536)
	if err != nil || !bytes.Equal(b, unhex(t, "7F6609020204000203010000")) {
		t.Errorf("EncodeATRInfo = %X, %v", b, err)
	}
	b, _ = EncodeATRInfo(255, 128)
	if !bytes.Equal(b, unhex(t, "7F660802020 0FF02020080")) {
		t.Errorf("EncodeATRInfo(255, 128) = %X", b)
	}
	bad := map[string]string{
		"empty":         "",
		"only padding":  "0000",
		"one integer":   "7F660402020400",
		"zero length":   "7F66060201000201 01",
		"too large":     "7F660C020400020000020400010000",
		"five bytes":    "7F660E02050000000400020400010000",
		"broken inside": "7F66030202 04",
		"truncated":     "7F660A0202",
	}
	for name, h := range bad {
		if a, err := ParseATRInfo(unhex(t, h)); err == nil {
			t.Errorf("%s: ParseATRInfo = %+v", name, a)
		}
	}
	for _, v := range [][2]int{{0, 1}, {1, 0}, {-1, 5}, {70000, 5}} {
		if _, err := EncodeATRInfo(v[0], v[1]); err == nil {
			t.Errorf("EncodeATRInfo(%v) accepted", v)
		}
	}
}

package cvc

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestParseRefusals(t *testing.T) {
	tc := newECChain(t, chainOpts{})
	ik := tc.isKey.(*ecdsa.PrivateKey)
	good := tc.isRaw

	// Every strict prefix is refused as malformed, never a panic.
	for n := 0; n < len(good); n++ {
		if _, err := Parse(good[:n]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("prefix of %d bytes: %v", n, err)
		}
	}

	withExtra := func(extra []byte) []byte {
		return signRaw(t, isTemplate(t, ik, ReadDG3), tc.dv.CHR, tc.dvKey, ECDSASHA256, tc.domain, extra)
	}
	ext := appendTLV(nil, tagExtensions, appendTLV(nil, tagDiscretionary,
		append(mustOID(t, "0.4.0.127.0.7.3.1.3.1.1"), appendTLV(nil, 0x80, bytes.Repeat([]byte{0xAB}, 32))...)))
	profile1 := bytes.Replace(good, []byte{0x5F, 0x29, 0x01, 0x00}, []byte{0x5F, 0x29, 0x01, 0x01}, 1)
	afterSig := rewrap(t, tagCVCertificate, good, []byte{0x5F, 0x4C, 0x00})
	badLen := append([]byte{0x7F, 0x21, 0x82, 0xFF, 0xFF}, good[3:]...)

	for _, tt := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"trailing byte", append(append([]byte(nil), good...), 0), ErrMalformed},
		{"length 65535", badLen, ErrMalformed},
		{"length of length 3", append([]byte{0x7F, 0x21, 0x83, 0x00, 0x00, 0xD0}, good[3:]...), ErrMalformed},
		{"indefinite length", append([]byte{0x7F, 0x21, 0x80}, good[3:]...), ErrMalformed},
		{"length past the end", []byte{0x7F, 0x21, 0x81, 0xD0, 0x7F, 0x4E}, ErrMalformed},
		{"three-byte tag", []byte{0x7F, 0xA1, 0x01, 0x00}, ErrMalformed},
		{"not a certificate", []byte{0x30, 0x03, 0x02, 0x01, 0x00}, ErrMalformed},
		{"unknown data object in the body", withExtra([]byte{0x5F, 0x4C, 0x01, 0x00}), ErrUnknownCritical},
		{"data object after the extensions", withExtra(append(append([]byte(nil), ext...), 0x53, 0x01, 0x00)), ErrUnknownCritical},
		{"profile identifier 1", profile1, ErrUnknownCritical},
		{"data object after the signature", afterSig, ErrUnknownCritical},
		{"extension without OID", withExtra(appendTLV(nil, tagExtensions, appendTLV(nil, tagDiscretionary, []byte{0x80, 0x00}))), ErrMalformed},
		{"extensions not templates", withExtra(appendTLV(nil, tagExtensions, []byte{0x06, 0x01, 0x00})), ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.in)
			if !errors.Is(err, tt.want) || c != nil {
				t.Fatalf("Parse = %v, %v; want %v", c, err, tt.want)
			}
		})
	}

	// Extensions are non-critical (TR-03110-3 C.3): parsed, kept, and the
	// chain still verifies.
	withExt := mustParse(t, withExtra(ext))
	if len(withExt.Extensions) != 1 || withExt.Extensions[0].OID.String() != "0.4.0.127.0.7.3.1.3.1.1" {
		t.Fatalf("extensions %+v", withExt.Extensions)
	}
	if err := VerifyChain(tc.cvca, []*Certificate{tc.dv, withExt}, now); err != nil {
		t.Errorf("certificate with an extension: %v", err)
	}

	// Body fields out of order, or missing, are malformed.
	for _, tt := range []struct{ name, from, to string }{
		{"CAR missing", "420B", "440B"},
		{"CHR tag", "5F200B", "5F210B"},
		{"CHAT tag", "7F4C0E", "7F4D0E"},
	} {
		raw := bytes.Replace(tc.dvRaw, unhex(t, tt.from), unhex(t, tt.to), 1)
		if bytes.Equal(raw, tc.dvRaw) {
			t.Fatalf("%s: pattern not found", tt.name)
		}
		if _, err := Parse(raw); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func mustOID(t testing.TB, s string) []byte {
	t.Helper()
	var arcs []int
	n := 0
	for _, ch := range s + "." {
		if ch == '.' {
			arcs = append(arcs, n)
			n = 0
			continue
		}
		n = n*10 + int(ch-'0')
	}
	b, err := oidElement(arcs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzParse checks that Parse never panics, that what it accepts
// round-trips through the raw bytes it keeps, and that the body it keeps
// is a prefix of the certificate it came from.
func FuzzParse(f *testing.F) {
	tc := newECChain(f, chainOpts{})
	for _, b := range [][]byte{tc.cvcaRaw, tc.dvRaw, tc.isRaw} {
		f.Add(b)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*.cvcert"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			if c != nil {
				t.Fatal("certificate with an error")
			}
			return
		}
		if !bytes.Equal(c.Raw, b) {
			t.Fatal("Raw is not the input")
		}
		if !bytes.Contains(b, c.Body) || len(c.Signature) == 0 {
			t.Fatal("body or signature lost")
		}
		// Verification never panics on what parsed (a mutated key or
		// signature reaches the curve code here).
		if CheckKey(&c.PublicKey, tc.domain) == nil {
			_ = VerifySignature(&c.PublicKey, tc.domain, c.Body, c.Signature)
		}
		if c.Role != RoleCVCA {
			_, _ = Authorize(tc.cvca, []*Certificate{tc.dv, c}, now)
		}
	})
}

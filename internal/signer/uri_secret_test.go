package signer

import (
	"errors"
	"strings"
	"testing"
)

// A refused URI's error never quotes an attribute value: is.uri's
// pin-value is a PIN, and the error reaches stderr. "Qx" marks every
// value; neither it nor the offending character may appear.
func TestParseURIErrorsQuoteNoValue(t *testing.T) {
	for _, tc := range []struct {
		name, uri string
		leak      []string
	}{
		{"pin-value with a character to encode", "pkcs11:object=is?pin-value=Qx<9", []string{"Qx", "<"}},
		{"pin-value with a space", "pkcs11:object=is?pin-value=Qx 9", []string{"Qx", "' '", `" "`}},
		{"pin-value with a bad escape", "pkcs11:object=is?pin-value=Qx%G9", []string{"Qx", "%G"}},
		{"pin-value truncated escape", "pkcs11:object=is?pin-value=Qx%9", []string{"Qx", "%9"}},
		{"pin-value as a path attribute", "pkcs11:pin-value=Qx9", []string{"Qx"}},
		{"text with NUL", "pkcs11:object=Qx%00?pin-value=1", []string{"Qx"}},
		{"module-path not absolute", "pkcs11:object=is?module-path=Qxlib.so", []string{"Qx"}},
		{"type", "pkcs11:type=Qxkey", []string{"Qx"}},
		{"slot-id", "pkcs11:slot-id=Qx1", []string{"Qx"}},
		{"slot-id out of range", "pkcs11:slot-id=99999999999999999999999", []string{"99999"}},
		{"library-version", "pkcs11:library-version=Qx.1", []string{"Qx"}},
		{"attribute without =", "pkcs11:object=is?Qxpin", []string{"Qx"}},
		{"vendor attribute not UTF-8", "pkcs11:object=is?x-v=Qx%FF", []string{"Qx"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseURI(tc.uri)
			if !errors.Is(err, ErrURI) {
				t.Fatalf("ParseURI: %v, want ErrURI", err)
			}
			for _, l := range tc.leak {
				if strings.Contains(err.Error(), l) {
					t.Errorf("error %q quotes %q", err, l)
				}
			}
		})
	}
}

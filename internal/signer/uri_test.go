package signer

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// The examples of RFC 7512 §3.3, each with what it must parse to.
func TestParseURIRFC7512Examples(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want URI
	}{
		{"pkcs11:", URI{}},
		{"pkcs11:object=my-pubkey;type=public", URI{Object: "my-pubkey", Type: TypePublic}},
		{"pkcs11:object=my-key;type=private?pin-source=file:/etc/token",
			URI{Object: "my-key", Type: TypePrivate, PINSource: "file:/etc/token"}},
		{"pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=?pin-source=file:/etc/token_pin",
			URI{Token: "The Software PKCS#11 Softtoken", Manufacturer: "Snake Oil, Inc.", Model: "1.0",
				Object: "my-certificate", Type: TypeCert, ID: []byte{0x69, 0x95, 0x3E, 0x5C, 0xF4, 0xBD, 0xEC, 0x91},
				PINSource: "file:/etc/token_pin"}},
		{"pkcs11:object=my-sign-key;type=private?module-name=mypkcs11",
			URI{Object: "my-sign-key", Type: TypePrivate, ModuleName: "mypkcs11"}},
		{"pkcs11:object=my-sign-key;type=private?module-path=/mnt/libmypkcs11.so.1",
			URI{Object: "my-sign-key", Type: TypePrivate, ModulePath: "/mnt/libmypkcs11.so.1"}},
		{"pkcs11:token=Software%20PKCS%2311%20softtoken;manufacturer=Snake%20Oil,%20Inc.?pin-value=the-pin",
			URI{Token: "Software PKCS#11 softtoken", Manufacturer: "Snake Oil, Inc.", PINValue: "the-pin"}},
		{"pkcs11:slot-description=Sun%20Metaslot", URI{SlotDescription: "Sun Metaslot"}},
		{"pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;library-description=Soft%20Token%20Library;library-version=1.23",
			URI{LibraryManufacturer: "Snake Oil, Inc.", LibraryDescription: "Soft Token Library", LibraryVersion: "1.23"}},
		{"pkcs11:token=My%20token%25%20created%20by%20Joe;library-version=3;id=%01%02%03%Ba%dd%Ca%fe%04%05%06",
			URI{Token: "My token% created by Joe", LibraryVersion: "3",
				ID: []byte{1, 2, 3, 0xBA, 0xDD, 0xCA, 0xFE, 4, 5, 6}}},
		{"pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;object=my-certificate;type=cert",
			URI{Token: "A name with a substring %;", Object: "my-certificate", Type: TypeCert}},
		{"pkcs11:token=Name%20with%20a%20small%20A%20with%20acute:%20%C3%A1;object=my-certificate;type=cert",
			URI{Token: "Name with a small A with acute: á", Object: "my-certificate", Type: TypeCert}},
		{"pkcs11:token=my-token;object=my-certificate;type=cert;vendor-aaa=value-a?pin-source=file:/etc/token_pin&vendor-bbb=value-b",
			URI{Token: "my-token", Object: "my-certificate", Type: TypeCert, PINSource: "file:/etc/token_pin",
				VendorPath: map[string]string{"vendor-aaa": "value-a"}, VendorQuery: map[string]string{"vendor-bbb": "value-b"}}},
		// borderid's own shape, the reserved characters each component
		// may carry unencoded, a slot-id and the scheme in capitals.
		{"pkcs11:token=borderid;object=is;id=%01%02;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234",
			URI{Token: "borderid", Object: "is", ID: []byte{1, 2}, Type: TypePrivate,
				ModulePath: "/usr/lib/softhsm/libsofthsm2.so", PINValue: "1234"}},
		{"pkcs11:token=:[]@!$'()*+,=&?x-attr=:[]@!$'()*+,=/?|",
			URI{Token: ":[]@!$'()*+,=&", VendorQuery: map[string]string{"x-attr": ":[]@!$'()*+,=/?|"}}},
		{"PKCS11:slot-id=0;id=", URI{HasSlotID: true}},
		{"pkcs11:slot-id=18446744073709551615", URI{SlotID: 1<<64 - 1, HasSlotID: true}},
		{"pkcs11:?", URI{}},
	} {
		u, err := ParseURI(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(*u, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.in, *u, tc.want)
		}
		// String re-encodes everything but the PIN.
		back, err := ParseURI(u.String())
		if err != nil {
			t.Errorf("%s: String %q: %v", tc.in, u.String(), err)
			continue
		}
		want := *u
		want.PINValue = ""
		if !reflect.DeepEqual(*back, want) {
			t.Errorf("%s: String %q parses to %+v", tc.in, u.String(), *back)
		}
		if u.PINValue != "" && strings.Contains(u.String(), u.PINValue) {
			t.Errorf("%s: String shows the PIN: %s", tc.in, u.String())
		}
	}
}

func TestParseURIRefusals(t *testing.T) {
	for _, in := range []string{
		"",
		"pkcs11",
		"pkcs1:token=a",
		"http://example.com/",
		" pkcs11:token=a",
		"pkcs11:token",                           // no "="
		"pkcs11:=a",                              // empty name
		"pkcs11:token=a;",                        // empty attribute after ";"
		"pkcs11:;token=a",                        // empty attribute before
		"pkcs11:token=a?module-path=/a&",         // empty query attribute
		"pkcs11:token=a;token=b",                 // twice
		"pkcs11:id=%01;id=%02",                   // twice
		"pkcs11:token=a b",                       // space not encoded
		"pkcs11:token=a/b",                       // "/" not allowed in the path
		"pkcs11:token=a#frag",                    // no fragment
		"pkcs11:token=%",                         // truncated
		"pkcs11:token=%4",                        // truncated
		"pkcs11:token=%G1",                       // not hex
		"pkcs11:token=%1g",                       // not hex
		"pkcs11:token=%FF",                       // not UTF-8
		"pkcs11:token=%00",                       // NUL in a label
		"pkcs11:type=key",                        // not a type
		"pkcs11:type=Private",                    // types are lower case
		"pkcs11:slot-id=",                        // 1*DIGIT
		"pkcs11:slot-id=-1",                      // digits only
		"pkcs11:slot-id=%31",                     // "1" encoded: decoded first, then fine? no: see below
		"pkcs11:slot-id=18446744073709551616",    // overflows CK_SLOT_ID
		"pkcs11:library-version=1.",              // major.minor
		"pkcs11:library-version=.1",              // major.minor
		"pkcs11:library-version=v1",              // digits
		"pkcs11:module-path=/a",                  // query attribute in the path
		"pkcs11:?token=a",                        // path attribute in the query
		"pkcs11:?module-path=lib.so",             // relative module path
		"pkcs11:?pin-value=1&pin-source=file:/p", // both PIN attributes
		"pkcs11:?module-path=/a;b",               // ";" not allowed in the query
		"pkcs11:tok.en=a",                        // "." not a name character
		"pkcs11:x-v=%FF",                         // vendor values are UTF-8 too
		"pkcs11:token=" + strings.Repeat("a", maxURILen),
	} {
		if in == "pkcs11:slot-id=%31" {
			// Percent-decoding comes first: %31 is "1", a valid slot-id.
			if u, err := ParseURI(in); err != nil || !u.HasSlotID || u.SlotID != 1 {
				t.Errorf("%s: %v %+v", in, err, u)
			}
			continue
		}
		if u, err := ParseURI(in); !errors.Is(err, ErrURI) {
			t.Errorf("%q: %v %+v, want ErrURI", in, err, u)
		}
	}
}

func TestURIStringEncodes(t *testing.T) {
	u := &URI{Token: "a;b&c=d é", Object: "is", ID: []byte{0, 0xFF, 'A'}, Type: TypePrivate,
		ModulePath: "/usr/lib/x y.so", PINValue: "secret"}
	const want = "pkcs11:token=a%3Bb%26c%3Dd%20%C3%A9;object=is;id=%00%FF%41;type=private?module-path=/usr/lib/x%20y.so"
	if got := u.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	for _, ty := range []ObjectType{TypeAny, TypePublic, TypePrivate, TypeCert, TypeSecretKey, TypeData, 99} {
		if ty.String() == "" {
			t.Errorf("ObjectType %d has no name", ty)
		}
	}
}

// FuzzParseURI: no panic; whatever parses re-encodes to a URI that
// parses to the same value (minus the PIN), and never shows the PIN.
func FuzzParseURI(f *testing.F) {
	for _, s := range []string{
		"pkcs11:",
		"pkcs11:token=borderid;object=is;id=%01%02;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234",
		"pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=?pin-source=file:/etc/token_pin",
		"pkcs11:token=my-token;object=my-certificate;type=cert;vendor-aaa=value-a?pin-source=file:/etc/token_pin&vendor-bbb=value-b",
		"pkcs11:slot-id=3;library-version=1.23",
		"pkcs11:token=%",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURI(s)
		if err != nil {
			if !errors.Is(err, ErrURI) {
				t.Fatalf("%q: error not ErrURI: %v", s, err)
			}
			return
		}
		enc := u.String()
		back, err := ParseURI(enc)
		if err != nil {
			t.Fatalf("%q: String %q: %v", s, enc, err)
		}
		want := *u
		want.PINValue = ""
		if !reflect.DeepEqual(*back, want) {
			t.Fatalf("%q: String %q parses to %+v, want %+v", s, enc, *back, want)
		}
		if len(u.ID) > 0 && !bytes.Equal(back.ID, u.ID) {
			t.Fatalf("id changed")
		}
	})
}

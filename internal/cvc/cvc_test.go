package cvc

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"borderid/internal/ec"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// fixedKey is a P-256 key from a fixed scalar, so that bodies are stable.
func fixedKey(t testing.TB, c elliptic.Curve, seed byte) *ecdsa.PrivateKey {
	t.Helper()
	n := (c.Params().N.BitLen() + 7) / 8
	d := bytes.Repeat([]byte{seed}, n)
	d[0] = 0x01 // below the order on every NIST curve
	k, err := ecdsa.ParseRawPrivateKey(c, d)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testChain is a CVCA -> DV -> IS chain made by Create.
type testChain struct {
	cvcaKey, dvKey, isKey crypto.Signer
	cvcaRaw, dvRaw, isRaw []byte
	cvca, dv, is          *Certificate
	domain                *ECDomain
}

// chainOpts vary a test chain.
type chainOpts struct {
	curve  elliptic.Curve
	ec     *ec.Curve // instead of curve: keys of internal/ec
	alg    Algorithm
	dvRole Role
	rights [3]Rights
}

func newECChain(t testing.TB, o chainOpts) *testChain {
	t.Helper()
	if o.curve == nil {
		o.curve = elliptic.P256()
	}
	if o.alg == AlgorithmUnknown {
		o.alg = ECDSASHA256
	}
	if o.dvRole == RoleIS {
		o.dvRole = RoleDVDomestic
	}
	if o.rights == [3]Rights{} {
		o.rights = [3]Rights{ReadDG3 | ReadDG4, ReadDG3 | ReadDG4, ReadDG3}
	}
	tc := &testChain{}
	key := func(seed byte) crypto.Signer {
		if o.ec != nil {
			return fixedECKey(t, o.ec, seed)
		}
		return fixedKey(t, o.curve, seed)
	}
	tc.cvcaKey, tc.dvKey, tc.isKey = key(0x11), key(0x22), key(0x33)
	var err error
	if tc.domain, err = DomainOf(tc.cvcaKey.Public()); err != nil {
		t.Fatal(err)
	}
	ck, dk, ik := tc.cvcaKey, tc.dvKey, tc.isKey
	mk := func(pub crypto.PublicKey, d *ECDomain) *PublicKey {
		pk, err := NewPublicKey(o.alg, pub, d)
		if err != nil {
			t.Fatal(err)
		}
		return pk
	}
	tc.cvcaRaw = mustCreate(t, Template{CHR: "UTCVCA00001", Role: RoleCVCA, Rights: o.rights[0],
		PublicKey: mk(ck.Public(), tc.domain), Effective: day(2026, 1, 1), Expiration: day(2029, 12, 31)},
		Issuer{Key: ck})
	tc.cvca = mustParse(t, tc.cvcaRaw)
	tc.dvRaw = mustCreate(t, Template{CHR: "UTDVCA00001", Role: o.dvRole, Rights: o.rights[1],
		PublicKey: mk(dk.Public(), nil), Effective: day(2026, 6, 1), Expiration: day(2027, 12, 31)},
		Issuer{Cert: tc.cvca, Key: ck})
	tc.dv = mustParse(t, tc.dvRaw)
	tc.isRaw = mustCreate(t, Template{CHR: "UTIS0000001", Role: RoleIS, Rights: o.rights[2],
		PublicKey: mk(ik.Public(), nil), Effective: day(2026, 11, 1), Expiration: day(2026, 12, 31)},
		Issuer{Cert: tc.dv, Key: dk, Domain: tc.domain})
	tc.is = mustParse(t, tc.isRaw)
	return tc
}

// fixedECKey is an internal/ec key from a fixed scalar.
func fixedECKey(t testing.TB, c *ec.Curve, seed byte) *ec.PrivateKey {
	t.Helper()
	d := bytes.Repeat([]byte{seed}, c.ScalarLen())
	d[0] = 0x01 // below the order of every curve
	k, err := ec.NewPrivateKey(c, d)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newRSAChain is a CVCA -> DV foreign -> IS chain of RSA-2048 keys (one
// key pair reused for CVCA and IS, to keep key generation cheap).
func newRSAChain(t testing.TB, alg Algorithm) *testChain {
	t.Helper()
	k1, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pk := func(k *rsa.PrivateKey) *PublicKey {
		p, err := NewPublicKey(alg, &k.PublicKey, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tc := &testChain{cvcaKey: k1, dvKey: k2, isKey: k1}
	tc.cvcaRaw = mustCreate(t, Template{CHR: "UTCVCA00002", Role: RoleCVCA, Rights: ReadDG3 | ReadDG4,
		PublicKey: pk(k1), Effective: day(2026, 1, 1), Expiration: day(2028, 1, 1)}, Issuer{Key: k1})
	tc.cvca = mustParse(t, tc.cvcaRaw)
	tc.dvRaw = mustCreate(t, Template{CHR: "UTDVRSA0001", Role: RoleDVForeign, Rights: ReadDG3 | ReadDG4,
		PublicKey: pk(k2), Effective: day(2026, 1, 1), Expiration: day(2028, 1, 1)}, Issuer{Cert: tc.cvca, Key: k1})
	tc.dv = mustParse(t, tc.dvRaw)
	tc.isRaw = mustCreate(t, Template{CHR: "UTISRSA0001", Role: RoleIS, Rights: ReadDG4,
		PublicKey: pk(k1), Effective: day(2026, 1, 1), Expiration: day(2028, 1, 1)}, Issuer{Cert: tc.dv, Key: k2})
	tc.is = mustParse(t, tc.isRaw)
	return tc
}

func mustCreate(t testing.TB, tmpl Template, iss Issuer) []byte {
	t.Helper()
	b, err := Create(rand.Reader, tmpl, iss)
	if err != nil {
		t.Fatalf("Create %s: %v", tmpl.CHR, err)
	}
	return b
}

func mustParse(t testing.TB, b []byte) *Certificate {
	t.Helper()
	c, err := Parse(b)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

var now = day(2026, 11, 27)

func TestChainRoundTrip(t *testing.T) {
	tc := newECChain(t, chainOpts{})
	rights, err := Authorize(tc.cvca, []*Certificate{tc.dv, tc.is}, now)
	if err != nil {
		t.Fatal(err)
	}
	if rights != ReadDG3 {
		t.Errorf("rights = %v, want ReadDG3", rights)
	}
	for _, c := range []struct {
		cert      *Certificate
		car, chr  string
		role      Role
		rights    Rights
		eff, exp  time.Time
		hasDomain bool
	}{
		{tc.cvca, "UTCVCA00001", "UTCVCA00001", RoleCVCA, ReadDG3 | ReadDG4, day(2026, 1, 1), day(2029, 12, 31), true},
		{tc.dv, "UTCVCA00001", "UTDVCA00001", RoleDVDomestic, ReadDG3 | ReadDG4, day(2026, 6, 1), day(2027, 12, 31), false},
		{tc.is, "UTDVCA00001", "UTIS0000001", RoleIS, ReadDG3, day(2026, 11, 1), day(2026, 12, 31), false},
	} {
		if c.cert.CAR != c.car || c.cert.CHR != c.chr || c.cert.Role != c.role || c.cert.Rights != c.rights ||
			!c.cert.Effective.Equal(c.eff) || !c.cert.Expiration.Equal(c.exp) || (c.cert.PublicKey.Domain != nil) != c.hasDomain {
			t.Errorf("%s: got CAR %s role %v rights %v %v..%v domain %v", c.chr, c.cert.CAR, c.cert.Role, c.cert.Rights,
				c.cert.Effective, c.cert.Expiration, c.cert.PublicKey.Domain != nil)
		}
		if c.cert.PublicKey.Algorithm != ECDSASHA256 || !c.cert.TerminalType.Equal(OIDInspectionSystem()) {
			t.Errorf("%s: algorithm %v type %v", c.chr, c.cert.PublicKey.Algorithm, c.cert.TerminalType)
		}
		if len(c.cert.Signature) != 64 {
			t.Errorf("%s: signature of %d bytes, want plain 64", c.chr, len(c.cert.Signature))
		}
	}
	// The effective authorization is the AND along the chain (C.4).
	tc2 := newECChain(t, chainOpts{rights: [3]Rights{ReadDG4, ReadDG3 | ReadDG4, ReadDG3 | ReadDG4}})
	if r, err := Authorize(tc2.cvca, []*Certificate{tc2.dv, tc2.is}, now); err != nil || r != ReadDG4 {
		t.Errorf("AND of rights: %v, %v; want ReadDG4", r, err)
	}
	tc3 := newECChain(t, chainOpts{rights: [3]Rights{ReadDG3, ReadDG4, ReadDG3 | ReadDG4}})
	if r, err := Authorize(tc3.cvca, []*Certificate{tc3.dv, tc3.is}, now); err != nil || r != 0 {
		t.Errorf("disjoint rights: %v, %v; want none", r, err)
	}
}

// TestBodyLayout asserts the exact bytes of a body: TR-03110-3 Table C.1
// order, minimal lengths, unpacked BCD dates, CHAT with id-IS.
func TestBodyLayout(t *testing.T) {
	k := fixedKey(t, elliptic.P256(), 0x22)
	pk, err := NewPublicKey(ECDSASHA256, &k.PublicKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := buildBody(Template{CHR: "UTDVCA00001", Role: RoleDVForeign, Rights: ReadDG3,
		PublicKey: pk, Effective: day(2026, 2, 28), Expiration: day(2030, 10, 9)}, "UTCVCA00001")
	if err != nil {
		t.Fatal(err)
	}
	pt, _ := k.PublicKey.Bytes()
	want := unhex(t, "7F4E81945F290100"+"420B"+hex.EncodeToString([]byte("UTCVCA00001"))+
		"7F494F060A04007F0007020202020386410"+hex.EncodeToString(pt)[1:]+
		"5F200B"+hex.EncodeToString([]byte("UTDVCA00001"))+
		"7F4C0E060904007F0007030102015301"+"41"+
		"5F2506020600020208"+"5F2406030001000009")
	if !bytes.Equal(got, want) {
		t.Errorf("body\n got %X\nwant %X", got, want)
	}
}

func TestOpenPACEFixture(t *testing.T) {
	dir := filepath.Join("testdata", "openpace-bp256")
	read := func(name string) (*Certificate, []byte) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return mustParse(t, b), b
	}
	cvca, _ := read("UTCVCA00001.cvcert")
	dv, _ := read("UTDVCA00001.cvcert")
	is, _ := read("UTIS000001.cvcert")
	for _, c := range []struct {
		cert     *Certificate
		car, chr string
		role     Role
		rights   Rights
		chat     string
		exp      time.Time
	}{
		{cvca, "UTCVCA00001", "UTCVCA00001", RoleCVCA, ReadDG3 | ReadDG4, "C3", day(2030, 12, 31)},
		{dv, "UTCVCA00001", "UTDVCA00001", RoleDVDomestic, ReadDG3 | ReadDG4, "83", day(2029, 12, 31)},
		{is, "UTDVCA00001", "UTIS000001", RoleIS, ReadDG3, "01", day(2028, 12, 31)},
	} {
		if c.cert.CAR != c.car || c.cert.CHR != c.chr || c.cert.Role != c.role || c.cert.Rights != c.rights ||
			!bytes.Equal(c.cert.CHATData, unhex(t, c.chat)) || !c.cert.Effective.Equal(day(2026, 11, 27)) ||
			!c.cert.Expiration.Equal(c.exp) || c.cert.PublicKey.Algorithm != ECDSASHA256 || len(c.cert.Signature) != 64 {
			t.Errorf("%s: %+v", c.chr, c.cert)
		}
	}
	d := cvca.PublicKey.Domain
	if d == nil || d.H != 1 || d.P.Text(16) != "a9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377" ||
		len(d.G) != 65 || d.OrderLen() != 32 {
		t.Fatalf("CVCA domain %+v", d)
	}
	// Our encoder writes the same body bytes as OpenPACE for the same
	// content: an exact, independent check of the layout.
	for _, c := range []*Certificate{cvca, dv, is} {
		got, err := buildBody(Template{CHR: c.CHR, Role: c.Role, Rights: c.Rights, PublicKey: &c.PublicKey,
			Effective: c.Effective, Expiration: c.Expiration}, c.CAR)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, c.Body) {
			t.Errorf("%s: body\n got %X\nwant %X", c.CHR, got, c.Body)
		}
	}
	rights, err := Authorize(cvca, []*Certificate{dv, is}, day(2027, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if rights != ReadDG3 {
		t.Errorf("rights %v", rights)
	}
}

func TestAlgorithms(t *testing.T) {
	for _, tt := range []struct {
		alg   Algorithm
		curve elliptic.Curve
		ec    *ec.Curve
	}{
		{ECDSASHA224, nil, ec.BrainpoolP192r1()}, // digest longer than the order
		{ECDSASHA224, nil, ec.BrainpoolP224r1()},
		{ECDSASHA256, nil, ec.BrainpoolP256r1()},
		{ECDSASHA384, nil, ec.BrainpoolP320r1()},
		{ECDSASHA384, nil, ec.BrainpoolP384r1()},
		{ECDSASHA512, nil, ec.BrainpoolP512r1()},
		{ECDSASHA1, nil, ec.P192()},
		{ECDSASHA1, elliptic.P256(), nil},
		{ECDSASHA224, elliptic.P224(), nil},
		{ECDSASHA256, elliptic.P256(), nil},
		{ECDSASHA384, elliptic.P384(), nil},
		{ECDSASHA512, elliptic.P521(), nil},
		{ECDSASHA512, elliptic.P256(), nil}, // digest longer than the order: truncated (SEC 1 §4.1.3)
	} {
		name := ""
		if tt.ec != nil {
			name = tt.ec.Name()
		} else {
			name = tt.curve.Params().Name + " (crypto/ecdsa key)"
		}
		t.Run(tt.alg.String()+"/"+name, func(t *testing.T) {
			if testing.Short() && tt.ec != nil && tt.ec.BitSize() > 400 {
				t.Skip("large curve in -short")
			}
			tc := newECChain(t, chainOpts{curve: tt.curve, ec: tt.ec, alg: tt.alg})
			if err := VerifyChain(tc.cvca, []*Certificate{tc.dv, tc.is}, now); err != nil {
				t.Fatal(err)
			}
			if want := 2 * tc.domain.OrderLen(); len(tc.is.Signature) != want {
				t.Errorf("signature %d bytes, want %d", len(tc.is.Signature), want)
			}
			if got := algorithmFromOID(tt.alg.OID()); got != tt.alg {
				t.Errorf("OID round trip %v", got)
			}
		})
	}
}

func TestRSA(t *testing.T) {
	for _, alg := range []Algorithm{RSAv15SHA1, RSAv15SHA256, RSAv15SHA512, RSAPSSSHA1, RSAPSSSHA256, RSAPSSSHA512} {
		t.Run(alg.String(), func(t *testing.T) {
			tc := newRSAChain(t, alg)
			r, err := Authorize(tc.cvca, []*Certificate{tc.dv, tc.is}, now)
			if err != nil || r != ReadDG4 {
				t.Fatalf("Authorize: %v, %v", r, err)
			}
			k1 := tc.cvcaKey.(*rsa.PrivateKey)
			if tc.cvca.PublicKey.N.Cmp(k1.N) != 0 || tc.cvca.PublicKey.E.Int64() != 65537 || tc.cvca.PublicKey.Domain != nil {
				t.Error("RSA key did not round-trip")
			}
			if len(tc.is.Signature) != 256 {
				t.Errorf("signature of %d bytes", len(tc.is.Signature))
			}
			tc.is.Signature[10] ^= 1
			if err := tc.is.CheckSignatureFrom(tc.dv, nil); !errors.Is(err, ErrSignature) {
				t.Errorf("flipped RSA signature: %v", err)
			}
		})
	}
}

// TestPlainSignatureFixedLength is the property TR-03111 §5.2.1 demands:
// r and s keep the order's length even when their top byte is zero.
func TestPlainSignatureFixedLength(t *testing.T) {
	k := fixedKey(t, elliptic.P256(), 0x44)
	pk, err := NewPublicKey(ECDSASHA256, &k.PublicKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := DomainOf(&k.PublicKey)
	sawZeroR, sawZeroS := false, false
	limit := 4000
	if testing.Short() {
		limit = 600
	}
	for i := 0; i < limit && !(sawZeroR && sawZeroS); i++ {
		msg := []byte{byte(i), byte(i >> 8)}
		sig, err := Sign(rand.Reader, k, ECDSASHA256, nil, msg)
		if err != nil {
			t.Fatal(err)
		}
		if len(sig) != 64 {
			t.Fatalf("signature of %d bytes", len(sig))
		}
		if sig[0] == 0 || sig[32] == 0 {
			sawZeroR = sawZeroR || sig[0] == 0
			sawZeroS = sawZeroS || sig[32] == 0
			if err := VerifySignature(pk, d, msg, sig); err != nil {
				t.Fatalf("signature with a zero top byte: %v", err)
			}
		}
	}
	if (!sawZeroR || !sawZeroS) && !testing.Short() {
		// Each half has a zero top byte with probability 1/256: missing
		// one in 4000 signatures happens with probability below 1e-6.
		t.Errorf("no zero top byte seen (r %v, s %v)", sawZeroR, sawZeroS)
	}
}

func TestPlainFromDER(t *testing.T) {
	for _, tt := range []struct {
		name, der string
		n         int
		want      string // "" means refused
	}{
		{"short r", "3006020101020102", 2, "00010002"},
		{"sign byte", "300802020080020200FF", 2, "008000FF"},
		{"exact", "30080202123402025678", 2, "12345678"},
		{"too long", "3009020312345602025678", 2, ""},
		{"negative r", "3006020181020101", 2, ""},
		{"zero s", "3006020101020100", 2, ""},
		{"trailing", "300602010102010100", 2, ""},
		{"extra int", "3009020101020101020101", 2, ""},
		{"not a sequence", "3106020101020101", 2, ""},
		{"truncated", "30060201010201", 2, ""},
		{"empty", "", 2, ""},
	} {
		got, err := PlainFromDER(unhex(t, tt.der), tt.n)
		if tt.want == "" {
			if !errors.Is(err, ErrSignature) {
				t.Errorf("%s: got %X, %v; want refusal", tt.name, got, err)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, unhex(t, tt.want)) {
			t.Errorf("%s: got %X, %v; want %s", tt.name, got, err, tt.want)
		}
	}
}

func TestDates(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Time
	}{
		{"020600020208", day(2026, 2, 28)},
		{"020800020209", day(2028, 2, 29)},
		{"000000010001", day(2000, 1, 1)},
		{"090901020301", day(2099, 12, 31)},
		{"020700020209", time.Time{}}, // 2027-02-29
		{"020601030002", time.Time{}}, // month 13
		{"020600000001", time.Time{}}, // month 0
		{"020600010000", time.Time{}}, // day 0
		{"02060001000A", time.Time{}}, // not a digit
		{"3236303130", time.Time{}},   // five bytes
	} {
		got, err := parseDate(unhex(t, tt.in))
		if tt.want.IsZero() {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: %v, %v; want refusal", tt.in, got, err)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("%s: %v, %v", tt.in, got, err)
			continue
		}
		enc, err := encodeDate(got)
		if err != nil || hex.EncodeToString(enc) != strings.ToLower(tt.in) {
			t.Errorf("encode %v: %X, %v", got, enc, err)
		}
	}
	if _, err := encodeDate(day(1999, 12, 31)); err == nil {
		t.Error("1999 encoded")
	}
}

func TestStrings(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{RoleCVCA.String(), "CVCA"},
		{RoleDVDomestic.String(), "DV domestic"},
		{RoleDVForeign.String(), "DV foreign"},
		{RoleIS.String(), "IS"},
		{Role(7).String(), "Role(7)"},
		{(ReadDG3 | ReadDG4).String(), "ReadDG3|ReadDG4"},
		{Rights(0).String(), "none"},
		{Rights(0x21).String(), "ReadDG3|RFU(0x20)"},
		{ECDSASHA256.String(), "id-TA-ECDSA-SHA-256"},
		{RSAPSSSHA512.String(), "id-TA-RSA-PSS-SHA-512"},
		{ECDSASHA256.OID().String(), "0.4.0.127.0.7.2.2.2.2.3"},
		{RSAv15SHA512.OID().String(), "0.4.0.127.0.7.2.2.2.1.5"},
		{AlgorithmUnknown.String(), "Algorithm(0)"},
		{OIDInspectionSystem().String(), "0.4.0.127.0.7.3.1.2.1"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func cryptoString(b []byte) cryptobyte.String { return cryptobyte.String(b) }

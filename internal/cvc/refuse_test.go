package cvc

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"math/big"
	"testing"
	"time"

	"borderid/internal/ec"
)

// signRaw builds a certificate without Create's policy checks, to present
// the verifier with what a forger or a broken CA would send.
func signRaw(t testing.TB, tmpl Template, car string, key crypto.Signer, alg Algorithm, domain *ECDomain, extra []byte) []byte {
	t.Helper()
	body, err := buildBody(tmpl, car)
	if err != nil {
		t.Fatal(err)
	}
	if extra != nil {
		body = rewrap(t, tagBody, body, extra)
	}
	sig, err := Sign(rand.Reader, key, alg, domain, body)
	if err != nil {
		t.Fatal(err)
	}
	return appendTLV(nil, tagCVCertificate, append(body, appendTLV(nil, tagSignature, sig)...))
}

// rewrap appends extra to the value of the single element e (tag t).
func rewrap(t testing.TB, tg tag, e, extra []byte) []byte {
	t.Helper()
	c := cryptoString(e)
	el, err := readElement(&c)
	if err != nil || el.tag != tg {
		t.Fatalf("rewrap: %v %v", el.tag, err)
	}
	return appendTLV(nil, tg, append(append([]byte(nil), el.value...), extra...))
}

func isTemplate(t testing.TB, k *ecdsa.PrivateKey, rights Rights) Template {
	t.Helper()
	pk, err := NewPublicKey(ECDSASHA256, &k.PublicKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	return Template{CHR: "UTIS0000009", Role: RoleIS, Rights: rights, PublicKey: pk,
		Effective: day(2026, 11, 1), Expiration: day(2026, 12, 31)}
}

func TestAuthorizeRefusals(t *testing.T) {
	tc := newECChain(t, chainOpts{})
	ik := tc.isKey.(*ecdsa.PrivateKey)

	// An IS signed by the CVCA itself, claiming to come from it.
	isByCVCA := mustParse(t, signRaw(t, isTemplate(t, ik, ReadDG3), tc.cvca.CHR, tc.cvcaKey, ECDSASHA256, tc.domain, nil))
	// A DV signed by the DV.
	dvTmpl := Template{CHR: "UTDVCA00002", Role: RoleDVDomestic, Rights: ReadDG3, PublicKey: &tc.dv.PublicKey,
		Effective: day(2026, 1, 1), Expiration: day(2027, 1, 1)}
	dvByDV := mustParse(t, signRaw(t, dvTmpl, tc.dv.CHR, tc.dvKey, ECDSASHA256, tc.domain, nil))
	// An IS whose rights byte was raised from 01 to 03 after signing.
	raised := bytes.Replace(tc.isRaw, []byte{0x53, 0x01, 0x01}, []byte{0x53, 0x01, 0x03}, 1)
	if bytes.Equal(raised, tc.isRaw) {
		t.Fatal("rights byte not found")
	}
	// A valid signature from another DV with the same CHR... the CAR
	// names a DV that is not the one presented.
	otherCAR := mustParse(t, signRaw(t, isTemplate(t, ik, ReadDG3), "UTDVCA00099", tc.dvKey, ECDSASHA256, tc.domain, nil))
	// An IS key that is not on the curve, and one at infinity.
	badPoint := isTemplate(t, ik, ReadDG3)
	pt := append([]byte(nil), badPoint.PublicKey.Point...)
	pt[64] ^= 1
	badPoint.PublicKey = &PublicKey{Algorithm: ECDSASHA256, Point: pt}
	offCurve := mustParse(t, signRaw(t, badPoint, tc.dv.CHR, tc.dvKey, ECDSASHA256, tc.domain, nil))
	badPoint.PublicKey = &PublicKey{Algorithm: ECDSASHA256, Point: []byte{0}}
	infinity := mustParse(t, signRaw(t, badPoint, tc.dv.CHR, tc.dvKey, ECDSASHA256, tc.domain, nil))
	// A DV that brings domain parameters of another curve.
	d384, _ := DomainOf(&fixedKey(t, elliptic.P384(), 1).PublicKey)
	dvOther := dvTmpl
	dvOther.CHR = tc.dv.CHR
	dvOther.PublicKey = &PublicKey{Algorithm: ECDSASHA256, Point: tc.dv.PublicKey.Point, Domain: d384}
	dvForeignDomain := mustParse(t, signRaw(t, dvOther, tc.cvca.CHR, tc.cvcaKey, ECDSASHA256, tc.domain, nil))
	// An IS certificate for an Authentication Terminal (id-AT).
	atRaw := bytes.Replace(tc.isRaw, []byte{0x03, 0x01, 0x02, 0x01, 0x53}, []byte{0x03, 0x01, 0x02, 0x02, 0x53}, 1)
	at := mustParse(t, atRaw)

	mod := func(c *Certificate, f func(*Certificate)) *Certificate {
		cp := *c
		f(&cp)
		return &cp
	}
	flipSig := mod(tc.is, func(c *Certificate) {
		c.Signature = append([]byte(nil), c.Signature...)
		c.Signature[5] ^= 0x80
	})
	shortSig := mod(tc.is, func(c *Certificate) { c.Signature = c.Signature[:63] })
	zeroSig := mod(tc.is, func(c *Certificate) { c.Signature = make([]byte, 64) })
	nSig := mod(tc.is, func(c *Certificate) {
		// r = n: out of range, must not verify.
		c.Signature = make([]byte, 64)
		tc.domain.N.FillBytes(c.Signature[:32])
		copy(c.Signature[32:], tc.is.Signature[32:])
	})
	isAsCVCA := mod(tc.cvca, func(c *Certificate) { c.Role = RoleIS })
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rpk, _ := NewPublicKey(RSAv15SHA256, &rsaKey.PublicKey, nil)
	rsaCVCA := mustParse(t, mustCreate(t, Template{CHR: "UTCVCA00001", Role: RoleCVCA, Rights: 3, PublicKey: rpk,
		Effective: day(2026, 1, 1), Expiration: day(2028, 1, 1)}, Issuer{Key: rsaKey}))
	dvUnderRSA := mustParse(t, signRaw(t, Template{CHR: tc.dv.CHR, Role: RoleDVDomestic, Rights: 3,
		PublicKey: &PublicKey{Algorithm: ECDSASHA256, Point: tc.dv.PublicKey.Point},
		Effective: day(2026, 1, 1), Expiration: day(2027, 1, 1)}, rsaCVCA.CHR, rsaKey, RSAv15SHA256, nil, nil))

	for _, tt := range []struct {
		name  string
		cvca  *Certificate
		chain []*Certificate
		now   time.Time
		want  error
	}{
		{"flipped signature", tc.cvca, []*Certificate{tc.dv, flipSig}, now, ErrSignature},
		{"63-byte signature", tc.cvca, []*Certificate{tc.dv, shortSig}, now, ErrSignature},
		{"zero signature", tc.cvca, []*Certificate{tc.dv, zeroSig}, now, ErrSignature},
		{"r equal to n", tc.cvca, []*Certificate{tc.dv, nSig}, now, ErrSignature},
		{"rights raised after signing", tc.cvca, []*Certificate{tc.dv, mustParse(t, raised)}, now, ErrSignature},
		{"CAR not the issuer's CHR", tc.cvca, []*Certificate{tc.dv, otherCAR}, now, ErrChain},
		{"IS signed by the CVCA", tc.cvca, []*Certificate{isByCVCA}, now, ErrChain},
		{"IS signed by the CVCA after a DV", tc.cvca, []*Certificate{tc.dv, isByCVCA}, now, ErrChain},
		{"IS signed by the CVCA, no DV", tc.cvca, []*Certificate{isByCVCA, tc.is}, now, ErrChain},
		{"DV signed by a DV", tc.cvca, []*Certificate{tc.dv, dvByDV, tc.is}, now, ErrChain},
		{"DV only", tc.cvca, []*Certificate{tc.dv}, now, ErrChain},
		{"ends with a DV", tc.cvca, []*Certificate{tc.dv, tc.dv}, now, ErrChain},
		{"IS twice", tc.cvca, []*Certificate{tc.dv, tc.is, tc.is}, now, ErrChain},
		{"nil certificate", tc.cvca, []*Certificate{tc.dv, nil}, now, ErrChain},
		{"nil trust point", nil, []*Certificate{tc.dv, tc.is}, now, ErrChain},
		{"trust point not a CVCA", isAsCVCA, []*Certificate{tc.dv, tc.is}, now, ErrChain},
		{"IS expired", tc.cvca, []*Certificate{tc.dv, tc.is}, day(2027, 1, 1), ErrExpired},
		{"IS not yet effective", tc.cvca, []*Certificate{tc.dv, tc.is}, day(2026, 10, 31).Add(23 * time.Hour), ErrExpired},
		{"CVCA expired", tc.cvca, []*Certificate{tc.dv, tc.is}, day(2030, 1, 1), ErrExpired},
		{"IS key off the curve", tc.cvca, []*Certificate{tc.dv, offCurve}, now, ErrInvalidKey},
		{"IS key at infinity", tc.cvca, []*Certificate{tc.dv, infinity}, now, ErrInvalidKey},
		{"DV with another domain", tc.cvca, []*Certificate{dvForeignDomain, tc.is}, now, ErrInvalidKey},
		{"EC DV under an RSA CVCA", rsaCVCA, []*Certificate{dvUnderRSA, tc.is}, now, ErrInvalidKey},
		{"terminal type id-AT", tc.cvca, []*Certificate{tc.dv, at}, now, ErrUnknownCritical},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Authorize(tt.cvca, tt.chain, tt.now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Authorize = %v, %v; want %v", r, err, tt.want)
			}
			if r != 0 {
				t.Errorf("rights %v granted on refusal", r)
			}
		})
	}

	// The boundaries are whole UTC days: the last second of the
	// expiration day is valid, whatever the caller's time zone.
	for _, at := range []time.Time{
		day(2026, 12, 31).Add(24*time.Hour - time.Second),
		day(2026, 11, 1),
		time.Date(2027, 1, 1, 9, 0, 0, 0, time.FixedZone("UTC+14", 14*3600)), // 2026-12-31 19:00 UTC
	} {
		if err := VerifyChain(tc.cvca, []*Certificate{tc.dv, tc.is}, at); err != nil {
			t.Errorf("at %v: %v", at, err)
		}
	}
}

func TestLinkCertificate(t *testing.T) {
	tc := newECChain(t, chainOpts{})
	// The new CVCA key lives on P-384: DV and IS under it inherit that
	// domain from the link certificate, not from the old trust point.
	nk := fixedKey(t, elliptic.P384(), 0x55)
	nd, _ := DomainOf(&nk.PublicKey)
	npk, err := NewPublicKey(ECDSASHA384, &nk.PublicKey, nd)
	if err != nil {
		t.Fatal(err)
	}
	link := mustParse(t, mustCreate(t, Template{CHR: "UTCVCA00002", Role: RoleCVCA, Rights: ReadDG3 | ReadDG4,
		PublicKey: npk, Effective: day(2026, 6, 1), Expiration: day(2031, 1, 1)}, Issuer{Cert: tc.cvca, Key: tc.cvcaKey}))
	if link.CAR != "UTCVCA00001" || link.IsSelfSigned() {
		t.Fatalf("link CAR %s", link.CAR)
	}
	dk := fixedKey(t, elliptic.P384(), 0x66)
	dpk, _ := NewPublicKey(ECDSASHA384, &dk.PublicKey, nil)
	dv := mustParse(t, mustCreate(t, Template{CHR: "UTDVCA00002", Role: RoleDVForeign, Rights: ReadDG3,
		PublicKey: dpk, Effective: day(2026, 6, 1), Expiration: day(2030, 6, 1)}, Issuer{Cert: link, Key: nk}))
	ik := fixedKey(t, elliptic.P384(), 0x77)
	ipk, _ := NewPublicKey(ECDSASHA384, &ik.PublicKey, nil)
	is := mustParse(t, mustCreate(t, Template{CHR: "UTIS0000002", Role: RoleIS, Rights: ReadDG3 | ReadDG4,
		PublicKey: ipk, Effective: day(2026, 6, 1), Expiration: day(2030, 6, 1)}, Issuer{Cert: dv, Key: dk, Domain: nd}))
	r, err := Authorize(tc.cvca, []*Certificate{link, dv, is}, now)
	if err != nil || r != ReadDG3 {
		t.Fatalf("via link: %v, %v", r, err)
	}
	// The old CVCA has expired by 2030-01-01; its link certificate carries on.
	if _, err := Authorize(tc.cvca, []*Certificate{link, dv, is}, day(2030, 1, 1)); err != nil {
		t.Errorf("expired trust point with a valid link: %v", err)
	}
	// The new CVCA as trust point directly.
	if _, err := Authorize(link, []*Certificate{dv, is}, now); err != nil {
		t.Errorf("link as trust point: %v", err)
	}
	// Without the link, the DV does not chain.
	if _, err := Authorize(tc.cvca, []*Certificate{dv, is}, now); !errors.Is(err, ErrChain) {
		t.Errorf("missing link: %v", err)
	}
	// A link certificate without domain parameters is refused.
	noDom := *link
	noDom.PublicKey.Domain = nil
	if _, err := Authorize(tc.cvca, []*Certificate{&noDom, dv, is}, now); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("link without domain: %v", err)
	}
}

func TestCreateRefusals(t *testing.T) {
	tc := newECChain(t, chainOpts{})
	ik := tc.isKey.(*ecdsa.PrivateKey)
	withDomain, _ := NewPublicKey(ECDSASHA256, &ik.PublicKey, tc.domain)
	base := isTemplate(t, ik, ReadDG3)
	for _, tt := range []struct {
		name string
		tmpl func(Template) Template
		iss  Issuer
		want error
	}{
		{"self-signed IS", nil, Issuer{Key: ik}, ErrChain},
		{"IS issued by the CVCA", nil, Issuer{Cert: tc.cvca, Key: tc.cvcaKey}, ErrChain},
		{"DV issued by a DV", func(t Template) Template { t.Role = RoleDVDomestic; return t }, Issuer{Cert: tc.dv, Key: tc.dvKey, Domain: tc.domain}, ErrChain},
		{"IS with domain parameters", func(t Template) Template { t.PublicKey = withDomain; return t }, Issuer{Cert: tc.dv, Key: tc.dvKey, Domain: tc.domain}, ErrInvalidKey},
		{"CVCA without domain parameters", func(t Template) Template { t.Role = RoleCVCA; return t }, Issuer{Key: ik}, ErrInvalidKey},
		{"IS without the DV's domain", nil, Issuer{Cert: tc.dv, Key: tc.dvKey}, ErrInvalidKey},
		{"wrong signing key", nil, Issuer{Cert: tc.dv, Key: tc.cvcaKey, Domain: tc.domain}, ErrSignature},
		{"no key", nil, Issuer{Cert: tc.dv, Domain: tc.domain}, ErrInvalidKey},
		{"rights beyond six bits", func(t Template) Template { t.Rights = 0x40; return t }, Issuer{Cert: tc.dv, Key: tc.dvKey, Domain: tc.domain}, ErrMalformed},
		{"short CHR", func(t Template) Template { t.CHR = "UT1"; return t }, Issuer{Cert: tc.dv, Key: tc.dvKey, Domain: tc.domain}, ErrMalformed},
		{"expires before effective", func(t Template) Template { t.Expiration = day(2026, 1, 1); return t }, Issuer{Cert: tc.dv, Key: tc.dvKey, Domain: tc.domain}, ErrMalformed},
		{"year 2100", func(t Template) Template { t.Expiration = day(2100, 1, 1); return t }, Issuer{Cert: tc.dv, Key: tc.dvKey, Domain: tc.domain}, ErrMalformed},
		{"key off the curve", func(t Template) Template {
			p := append([]byte(nil), t.PublicKey.Point...)
			p[10] ^= 1
			t.PublicKey = &PublicKey{Algorithm: ECDSASHA256, Point: p}
			return t
		}, Issuer{Cert: tc.dv, Key: tc.dvKey, Domain: tc.domain}, ErrInvalidKey},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := base
			if tt.tmpl != nil {
				tmpl = tt.tmpl(tmpl)
			}
			b, err := Create(rand.Reader, tmpl, tt.iss)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Create = %X, %v; want %v", b, err, tt.want)
			}
		})
	}
}

func TestVerifySignatureRefusals(t *testing.T) {
	tc := newECChain(t, chainOpts{})
	msg := []byte("challenge")
	sig, err := Sign(rand.Reader, tc.isKey, ECDSASHA256, tc.domain, msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifySignature(&tc.is.PublicKey, tc.domain, msg, sig); err != nil {
		t.Fatal(err)
	}
	unknown := tc.is.PublicKey
	unknown.Algorithm = AlgorithmUnknown
	smallRSA := &PublicKey{Algorithm: RSAv15SHA256, N: new(big.Int).Lsh(big.NewInt(1), 511), E: big.NewInt(65537)}
	evenE := &PublicKey{Algorithm: RSAv15SHA256, N: new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 2047), big.NewInt(1)), E: big.NewInt(65536)}
	for _, tt := range []struct {
		name   string
		pub    *PublicKey
		domain *ECDomain
		msg    []byte
		want   error
	}{
		{"other message", &tc.is.PublicKey, tc.domain, []byte("challengE"), ErrSignature},
		{"no domain", &tc.is.PublicKey, nil, msg, ErrInvalidKey},
		{"unknown algorithm", &unknown, tc.domain, msg, ErrUnsupportedAlgorithm},
		{"nil key", nil, tc.domain, msg, ErrInvalidKey},
		{"512-bit RSA", smallRSA, nil, msg, ErrInvalidKey},
		{"even RSA exponent", evenE, nil, msg, ErrInvalidKey},
		{"unknown curve", &tc.is.PublicKey, &ECDomain{P: big.NewInt(23), A: big.NewInt(1), B: big.NewInt(1), G: []byte{4, 3, 10}, N: big.NewInt(7), H: 4}, msg, ErrUnsupportedAlgorithm},
	} {
		if err := VerifySignature(tt.pub, tt.domain, tt.msg, sig); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

// opaqueSigner hides the concrete key type, as an HSM-backed
// crypto.Signer does: no SignPlain, and optionally a Public() of a type
// this package does not know.
type opaqueSigner struct {
	k      crypto.Signer
	hidePK bool
}

func (o opaqueSigner) Public() crypto.PublicKey {
	if o.hidePK {
		return struct{}{}
	}
	return o.k.Public()
}

func (o opaqueSigner) Sign(r io.Reader, d []byte, opts crypto.SignerOpts) ([]byte, error) {
	return o.k.Sign(r, d, opts)
}

func TestSignerKinds(t *testing.T) {
	tc := newECChain(t, chainOpts{ec: ec.BrainpoolP256r1()})
	msg := []byte("ID_IC || r_IC || Comp(PK)")
	for _, tt := range []struct {
		name   string
		key    crypto.Signer
		domain *ECDomain
		want   error
	}{
		{"ec key, plain directly", tc.isKey, nil, nil},
		{"ec key behind crypto.Signer, DER converted", opaqueSigner{k: tc.isKey}, nil, nil},
		{"opaque public key, order from the domain", opaqueSigner{k: tc.isKey, hidePK: true}, tc.domain, nil},
		{"opaque public key, no domain", opaqueSigner{k: tc.isKey, hidePK: true}, nil, ErrInvalidKey},
		{"domain of another order", tc.isKey, DomainOfCurve(ec.BrainpoolP384r1()), ErrInvalidKey},
		// Same order length, another curve: the chip would refuse the
		// signature (TR-03110-3 D.3.3), so Sign does.
		{"domain of another curve, same order length", tc.isKey, DomainOfCurve(ec.P256()), ErrInvalidKey},
		{"DER signer, domain of another curve", opaqueSigner{k: tc.isKey}, DomainOfCurve(ec.P256()), ErrInvalidKey},
		{"the key's own domain", tc.isKey, tc.domain, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sig, err := Sign(rand.Reader, tt.key, ECDSASHA256, tt.domain, msg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Sign: %v, want %v", err, tt.want)
			}
			if err != nil {
				return
			}
			if len(sig) != 64 {
				t.Fatalf("signature of %d bytes", len(sig))
			}
			if err := VerifySignature(&tc.is.PublicKey, tc.domain, msg, sig); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := Sign(rand.Reader, tc.isKey, AlgorithmUnknown, nil, msg); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("unknown algorithm: %v", err)
	}
}

package chipsim

// Active Authentication, card side: ICAO 9303-11 §6.1. The chip answers
// INTERNAL AUTHENTICATE (00 88 00 00 08 RND.IFD 00) with a signature of
// the terminal's challenge made with the private key whose public half is
// in DG15:
//
//   - RSA: ISO/IEC 9796-2 digital signature scheme 1 with partial message
//     recovery (9303-11 §6.1.2.1). M1 is a fresh nonce that fills the
//     capacity, M2 the challenge; the representative is
//     6A || M1 || H(M1 || M2) || trailer, with trailer BC (implicit SHA-1)
//     or an ISO/IEC 10118-3 hash identifier followed by CC; the signature
//     is F^d mod n, computed in constant time (bigmod).
//   - ECDSA (BSI TR-03111 §4.2.1) over the challenge with the configured
//     hash, as plain r || s (TR-03111 §5.2.1) or, like some real chips,
//     DER.
//
// Written from the standards, independently of reader/activeauth.go.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	_ "crypto/sha1" // hashes a configuration may name
	_ "crypto/sha256"
	_ "crypto/sha512"

	"borderid/internal/ec"

	"filippo.io/bigmod"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// insInternalAuthenticate is INTERNAL AUTHENTICATE (ISO/IEC 7816-4 §11.5.2).
const insInternalAuthenticate instruction = 0x88

// DefaultAAKeyFile is the name of the Active Authentication private key in
// an identity folder when chip.json does not name another.
const DefaultAAKeyFile = "aa.key"

// AAConfig configures Active Authentication: chip.json's
// "active_authentication" object (docs/chip-identity.md). The private key
// lives in its own file of the identity folder, never in chip.json.
type AAConfig struct {
	// KeyFile is the key's file name in the identity folder (a plain
	// name, no directories); default DefaultAAKeyFile. The file holds a
	// DER (or PEM) private key: RSA as PKCS#1 or PKCS#8, EC as SEC 1 or
	// PKCS#8.
	KeyFile string `json:"key_file,omitempty"`
	// Trailer (RSA only) is the ISO/IEC 9796-2 trailer: "BC" (implicit
	// SHA-1, the default) or "33CC" (SHA-1), "38CC" (SHA-224), "34CC"
	// (SHA-256), "36CC" (SHA-384), "35CC" (SHA-512).
	Trailer string `json:"trailer,omitempty"`
	// Hash (ECDSA only, required) is the hash DG14's
	// ActiveAuthenticationInfo names: "SHA-1", "SHA-224", "SHA-256",
	// "SHA-384" or "SHA-512".
	Hash string `json:"hash,omitempty"`
	// SignatureFormat (ECDSA only) is "plain" (r || s, the default) or
	// "der" (the X9.62 SEQUENCE some chips send).
	SignatureFormat string `json:"signature_format,omitempty"`
	// Key is the content of KeyFile: LoadIdentity reads it and Save
	// writes it (0600). It is never part of chip.json.
	Key []byte `json:"-"`
}

func (a *AAConfig) clone() *AAConfig {
	if a == nil {
		return nil
	}
	c := *a
	c.Key = bytes.Clone(a.Key)
	return &c
}

// keyFile resolves the default of KeyFile.
func (a *AAConfig) keyFile() string {
	if a.KeyFile == "" {
		return DefaultAAKeyFile
	}
	return a.KeyFile
}

func (a *AAConfig) checkKeyFile() error {
	return sideFile{field: "active_authentication key_file", what: "active authentication key"}.check(a.keyFile())
}

// loadKey reads the key file of an identity folder.
func (a *AAConfig) loadKey(dir string) error {
	if a == nil {
		return nil
	}
	b, err := sideFile{field: "active_authentication key_file", what: "active authentication key"}.load(dir, a.keyFile())
	if err != nil {
		return err
	}
	a.Key = b
	return nil
}

// saveKey writes the key file into an identity folder.
func (a *AAConfig) saveKey(dir string) error {
	if a == nil {
		return nil
	}
	return writeFile(dir, a.keyFile(), a.Key)
}

// aaSigner is a resolved AAConfig: what INTERNAL AUTHENTICATE needs.
type aaSigner struct {
	// RSA
	n       *bigmod.Modulus
	d       []byte // private exponent, big-endian, as long as n
	size    int    // bytes of n
	trailer []byte // BC, or hash identifier || CC
	// ECDSA: crypto/ecdsa for the NIST curves crypto/x509 reads,
	// internal/ec for brainpool
	ec  *ecdsa.PrivateKey
	ecx *ec.PrivateKey
	der bool

	hash crypto.Hash
}

// rsaTrailers maps the trailers of 9303-11 §6.1.2.1 to their hashes
// (ISO/IEC 10118-3 identifiers 33 SHA-1, 34 SHA-256, 35 SHA-512,
// 36 SHA-384, 38 SHA-224).
func rsaTrailer(name string) ([]byte, crypto.Hash, bool) {
	switch strings.ToUpper(name) {
	case "", "BC":
		return []byte{0xBC}, crypto.SHA1, true
	case "33CC":
		return []byte{0x33, 0xCC}, crypto.SHA1, true
	case "38CC":
		return []byte{0x38, 0xCC}, crypto.SHA224, true
	case "34CC":
		return []byte{0x34, 0xCC}, crypto.SHA256, true
	case "36CC":
		return []byte{0x36, 0xCC}, crypto.SHA384, true
	case "35CC":
		return []byte{0x35, 0xCC}, crypto.SHA512, true
	}
	return nil, 0, false
}

func ecdsaHashByName(name string) (crypto.Hash, bool) {
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA224, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		if strings.EqualFold(name, h.String()) {
			return h, true
		}
	}
	return 0, false
}

// parseAAPrivateKey accepts PKCS#1, PKCS#8 and SEC 1, DER or PEM.
func parseAAPrivateKey(b []byte) (crypto.Signer, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	if k, err := x509.ParsePKCS1PrivateKey(b); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(b); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(b)
	if err != nil {
		// crypto/x509 knows only the NIST curves; brainpool keys (named
		// or with explicit parameters) are read here.
		if k, err := parseCurveKey(b); err == nil {
			return k, nil
		}
		return nil, errors.New("not a PKCS#1, PKCS#8 or SEC 1 private key (or a curve this chip cannot sign on)")
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported key type %T", k)
	}
	return s, nil
}

// signer checks the configuration and prepares the key. A nil AAConfig
// means no Active Authentication (INTERNAL AUTHENTICATE is 6D00).
func (a *AAConfig) signer() (*aaSigner, error) {
	if a == nil {
		return nil, nil
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: active_authentication: %s", ErrInvalidIdentity, fmt.Sprintf(format, args...))
	}
	if err := a.checkKeyFile(); err != nil {
		return nil, err
	}
	if len(a.Key) == 0 {
		return nil, bad("no key (file %s)", a.keyFile())
	}
	k, err := parseAAPrivateKey(a.Key)
	if err != nil {
		return nil, bad("%v", err)
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		if a.Hash != "" || a.SignatureFormat != "" {
			return nil, bad("hash and signature_format are for ECDSA keys; RSA keys take a trailer")
		}
		tr, h, ok := rsaTrailer(a.Trailer)
		if !ok {
			return nil, bad("trailer %q (BC, 33CC, 38CC, 34CC, 36CC, 35CC)", a.Trailer)
		}
		bits := k.N.BitLen()
		// The representative is built in whole bytes (9796-2 §8.1 with a
		// modulus of 8·L bits) and has to hold header, hash and trailer.
		if bits%8 != 0 || bits < 1024 || bits > 8192 {
			return nil, bad("RSA modulus of %d bits (a multiple of 8 from 1024 to 8192)", bits)
		}
		size := bits / 8
		n, err := bigmod.NewModulus(k.N.FillBytes(make([]byte, size)))
		if err != nil {
			return nil, bad("RSA modulus: %v", err)
		}
		return &aaSigner{n: n, d: k.D.FillBytes(make([]byte, size)), size: size, trailer: tr, hash: h}, nil
	case *ecdsa.PrivateKey, *ec.PrivateKey:
		if a.Trailer != "" {
			return nil, bad("trailer is for RSA keys")
		}
		h, ok := ecdsaHashByName(a.Hash)
		if !ok {
			return nil, bad("hash %q (SHA-1, SHA-224, SHA-256, SHA-384, SHA-512) is required for ECDSA", a.Hash)
		}
		s := &aaSigner{hash: h}
		if e, ok := k.(*ecdsa.PrivateKey); ok {
			s.ec = e
		} else {
			s.ecx = k.(*ec.PrivateKey)
		}
		switch strings.ToLower(a.SignatureFormat) {
		case "", "plain":
		case "der":
			s.der = true
		default:
			return nil, bad("signature_format %q (plain or der)", a.SignatureFormat)
		}
		return s, nil
	}
	return nil, bad("unsupported key type %T", k)
}

// sign answers a challenge.
func (s *aaSigner) sign(rnd io.Reader, challenge []byte) ([]byte, error) {
	if s.ec != nil || s.ecx != nil {
		return s.signECDSA(rnd, challenge)
	}
	return s.signRSA(rnd, challenge)
}

// signRSA is the signature process of ISO/IEC 9796-2 scheme 1 with
// partial recovery. With a modulus of 8·L bits the representative F has
// L bytes: the first byte 6A is the header 01, the more-data bit 1 (M2,
// the challenge, is not recovered), one padding bit 0 and the border
// nibble A; M1 fills the rest up to the hash and trailer, so no padding
// nibbles B are needed.
func (s *aaSigner) signRSA(rnd io.Reader, challenge []byte) ([]byte, error) {
	hl := s.hash.Size()
	m1Len := s.size - 1 - hl - len(s.trailer)
	f := make([]byte, 0, s.size)
	f = append(f, 0x6A)
	m1 := make([]byte, m1Len)
	if _, err := io.ReadFull(rnd, m1); err != nil {
		return nil, err
	}
	f = append(f, m1...)
	h := s.hash.New()
	h.Write(m1)
	h.Write(challenge)
	f = h.Sum(f)
	f = append(f, s.trailer...)
	// F < 2^(8L-1) <= n: F is a residue as it stands.
	x, err := bigmod.NewNat().SetBytes(f, s.n)
	if err != nil {
		return nil, err
	}
	// Exp runs in time independent of the exponent's value (fixed
	// window over all of d's bytes): d is the chip's secret.
	return bigmod.NewNat().Exp(x, s.d, s.n).Bytes(s.n), nil
}

// signECDSA signs the challenge's hash; plain r || s has each integer in
// exactly the order's byte length (TR-03111 §5.2.1), leading zeros kept.
func (s *aaSigner) signECDSA(rnd io.Reader, challenge []byte) ([]byte, error) {
	h := s.hash.New()
	h.Write(challenge)
	digest := h.Sum(nil)
	if s.ecx != nil {
		if s.der {
			return s.ecx.Sign(rnd, digest, s.hash)
		}
		return s.ecx.SignPlain(rnd, digest) // ScalarLen bytes each
	}
	if s.der {
		return ecdsa.SignASN1(rnd, s.ec, digest)
	}
	r, ss, err := ecdsa.Sign(rnd, s.ec, digest)
	if err != nil {
		return nil, err
	}
	ol := (s.ec.Curve.Params().N.BitLen() + 7) / 8
	out := make([]byte, 2*ol)
	r.FillBytes(out[:ol])
	ss.FillBytes(out[ol:])
	return out, nil
}

// internalAuthenticate is INTERNAL AUTHENTICATE for Active Authentication
// (9303-11 §6.1.2): P1 P2 00 00, exactly 8 data bytes (RND.IFD), Le
// present. It is available only after access control (6982 before), and
// 6D00 on a chip without an Active Authentication key. respLimit is the
// largest plain answer that fits once wrapped; a longer signature (RSA
// 2048 under short secure messaging) is 6700.
func (c *Chip) internalAuthenticate(cmd command, respLimit int) result {
	if c.aa == nil {
		return status(swINSNotSupported)
	}
	if c.st.sess == nil {
		return status(swSecurityStatus)
	}
	if cmd.p1 != 0 || cmd.p2 != 0 {
		return status(swWrongP1P2)
	}
	if len(cmd.data) != 8 || cmd.ne == 0 {
		return status(swWrongLength)
	}
	sig, err := c.aa.sign(c.rand, cmd.data)
	if err != nil {
		return status(swNoDiagnosis)
	}
	if len(sig) > cmd.ne || len(sig) > respLimit {
		return status(swWrongLength)
	}
	return result{data: sig, sw: swOK}
}

// EC private keys crypto/x509 does not read (brainpool, RFC 5639): SEC 1
// §C.4 ECPrivateKey, bare or inside PKCS#8 (RFC 5208) with the curve in
// the AlgorithmIdentifier, the curve named (RFC 5639 §4.1 OIDs) or given
// by explicit parameters equal to a known curve's.
//
//	ECPrivateKey ::= SEQUENCE { version INTEGER (1), privateKey OCTET STRING,
//	  parameters [0] ECParameters OPTIONAL, publicKey [1] BIT STRING OPTIONAL }
//	PrivateKeyInfo ::= SEQUENCE { version INTEGER (0),
//	  AlgorithmIdentifier { id-ecPublicKey, parameters }, privateKey OCTET STRING, ... }
func parseCurveKey(b []byte) (*ec.PrivateKey, error) {
	in := cryptobyte.String(b)
	var seq cryptobyte.String
	var version int64
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() || !seq.ReadASN1Integer(&version) {
		return nil, errors.New("not a SEQUENCE with a version")
	}
	switch version {
	case 0: // PKCS#8
		var alg, params cryptobyte.String
		var tag cbasn1.Tag
		var oid asn1.ObjectIdentifier
		var inner []byte
		if !seq.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) ||
			!oid.Equal(asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}) ||
			!alg.ReadAnyASN1Element(&params, &tag) || !seq.ReadASN1Bytes(&inner, cbasn1.OCTET_STRING) {
			return nil, errors.New("not an EC PKCS#8 key")
		}
		c, err := curveFromParams(params)
		if err != nil {
			return nil, err
		}
		return ecPrivateKey(inner, c)
	case 1:
		return ecPrivateKey(b, nil)
	}
	return nil, errors.New("unknown key version")
}

// ecPrivateKey reads a SEC 1 ECPrivateKey; c is the curve from PKCS#8,
// nil when the key must name it.
func ecPrivateKey(b []byte, c *ec.Curve) (*ec.PrivateKey, error) {
	in := cryptobyte.String(b)
	var seq, params cryptobyte.String
	var version int64
	var d []byte
	var hasParams bool
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() || !seq.ReadASN1Integer(&version) || version != 1 ||
		!seq.ReadASN1Bytes(&d, cbasn1.OCTET_STRING) ||
		!seq.ReadOptionalASN1(&params, &hasParams, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!seq.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) || !seq.Empty() {
		return nil, errors.New("malformed ECPrivateKey")
	}
	if hasParams {
		pc, err := curveFromParams(params)
		if err != nil {
			return nil, err
		}
		if c != nil && pc.ID() != c.ID() {
			return nil, errors.New("ECPrivateKey and PKCS#8 name different curves")
		}
		c = pc
	}
	if c == nil {
		return nil, errors.New("EC private key without a curve")
	}
	return ec.NewPrivateKey(c, d)
}

// curveFromParams resolves a named curve OID or explicit ECParameters
// (SEC 1 §C.2, prime field, uncompressed base point) to a curve of
// internal/ec.
func curveFromParams(p cryptobyte.String) (*ec.Curve, error) {
	var oid asn1.ObjectIdentifier
	if p.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER) {
		if !p.ReadASN1ObjectIdentifier(&oid) || !p.Empty() {
			return nil, errors.New("malformed curve OID")
		}
		names := map[string]string{
			"1.3.36.3.3.2.8.1.1.3": "brainpoolP192r1", "1.3.36.3.3.2.8.1.1.5": "brainpoolP224r1",
			"1.3.36.3.3.2.8.1.1.7": "brainpoolP256r1", "1.3.36.3.3.2.8.1.1.9": "brainpoolP320r1",
			"1.3.36.3.3.2.8.1.1.11": "brainpoolP384r1", "1.3.36.3.3.2.8.1.1.13": "brainpoolP512r1",
			"1.2.840.10045.3.1.1": "P-192",
		}
		if c, ok := ec.ByName(names[oid.String()]); ok {
			return c, nil
		}
		return nil, fmt.Errorf("unknown curve %v", oid)
	}
	var seq, field, curve cryptobyte.String
	var fieldType asn1.ObjectIdentifier
	var version int64
	var a, b, g []byte
	P, n := new(big.Int), new(big.Int)
	h := int64(1)
	if !p.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Integer(&version) || version != 1 ||
		!seq.ReadASN1(&field, cbasn1.SEQUENCE) || !field.ReadASN1ObjectIdentifier(&fieldType) ||
		!fieldType.Equal(asn1.ObjectIdentifier{1, 2, 840, 10045, 1, 1}) || !field.ReadASN1Integer(P) ||
		!seq.ReadASN1(&curve, cbasn1.SEQUENCE) || !curve.ReadASN1Bytes(&a, cbasn1.OCTET_STRING) ||
		!curve.ReadASN1Bytes(&b, cbasn1.OCTET_STRING) ||
		!seq.ReadASN1Bytes(&g, cbasn1.OCTET_STRING) || !seq.ReadASN1Integer(n) {
		return nil, errors.New("malformed ECParameters")
	}
	if !seq.Empty() && (!seq.ReadASN1Integer(&h) || !seq.Empty()) {
		return nil, errors.New("malformed ECParameters cofactor")
	}
	l := (P.BitLen() + 7) / 8
	if len(g) != 1+2*l || g[0] != 4 || h != 1 {
		return nil, errors.New("unsupported ECParameters")
	}
	c, ok := ec.MatchParams(P, new(big.Int).SetBytes(a), new(big.Int).SetBytes(b),
		new(big.Int).SetBytes(g[1:1+l]), new(big.Int).SetBytes(g[1+l:]), n, 1)
	if !ok {
		return nil, errors.New("explicit parameters of an unknown curve")
	}
	return c, nil
}

package chipsim

// Chip Authentication version 1, card side: ICAO 9303-11 §6.2 with the
// APDUs of BSI TR-03110-3 (B.1 for 3DES, B.1/B.2 MSE:Set AT and GENERAL
// AUTHENTICATE for AES). The chip holds a static key pair (SK_IC, PK_IC)
// whose public half DG14 announces; the terminal sends an ephemeral
// public key PK_IFD, both compute K = KA(SK_IC, PK_IFD) and derive new
// secure messaging keys KSenc = KDF(K, 1), KSmac = KDF(K, 2) with the
// cipher of the CA protocol, SSC = 0 (9303-11 §6.2.3, §9.7.1). A clone
// that copied the files but not SK_IC cannot answer under the new keys.
//
//   - 3DES (id-CA-*-3DES-CBC-CBC): MSE:Set KAT, 0022 41A6 with
//     DO91 PK_IFD and, optionally, DO84 key reference.
//   - AES (and 3DES alike, TR-03110-3 B.2): MSE:Set AT 0022 41A4 with
//     DO80 the protocol OID's value and DO84 the key reference, then
//     GENERAL AUTHENTICATE 0086 0000 7C{80 PK_IFD} answered 7C00.
//
// The answer to MSE:Set KAT and to GENERAL AUTHENTICATE still goes out
// under the old session keys (process wraps it with the session it
// unwrapped the command with); the next command must come under the new
// ones. Refusals: before access control 6982; a PK_IFD that is not a
// valid public key of the chip key's domain 6A80; an unknown key
// reference 6A88; a protocol of the other key agreement 6A80. A refused
// command leaves the session as it was.
//
// Written from the standards, independently of reader/chipauth.go; the
// arithmetic is internal/pace's Domain (fixed-length keys and secrets,
// peer keys validated).

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"

	"borderid/internal/ec"
	"borderid/internal/pace"
	"borderid/internal/smcrypto"
	"borderid/reader/lds"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// DefaultCAKeyFile is the name of the Chip Authentication private key in
// an identity folder when chip.json does not name another.
const DefaultCAKeyFile = "ca.key"

// Status words of Chip Authentication (ISO/IEC 7816-4 §5.6).
const (
	swCANoFunction  statusWord = 0x6A81 // no Chip Authentication key
	swCAKeyNotFound statusWord = 0x6A88 // unknown key reference
)

// Data objects of the CA commands (TR-03110-3 B.1, B.2).
const (
	tagCAProtocol tag = 0x80 // MSE:Set AT: cryptographic mechanism reference (OID value)
	tagCAKeyRef   tag = 0x84 // MSE: reference of a private key (key id)
	tagCAPKKAT    tag = 0x91 // MSE:Set KAT: ephemeral public key
	tagCADynAuth  tag = 0x7C // GENERAL AUTHENTICATE: dynamic authentication data
	tagCAPKGA     tag = 0x80 // in 7C: ephemeral public key
)

// CAConfig configures Chip Authentication: chip.json's
// "chip_authentication" object (docs/chip-identity.md). The private key
// lives in its own file of the identity folder, never in chip.json.
type CAConfig struct {
	// KeyFile is the key's file name in the identity folder (a plain
	// name); default DefaultCAKeyFile. The file holds a PKCS#8 private
	// key, DER or PEM: an EC key (SEC 1 ECPrivateKey naming its curve,
	// or explicit parameters of a known curve) or an X9.42 DH key
	// (dhpublicnumber with p, g, q of an RFC 5114 group).
	KeyFile string `json:"key_file,omitempty"`
	// KeyID is the key's identifier, the keyId DG14 gives it (9303-11
	// §9.2.5). nil: the key has none, and an MSE naming one gets 6A88.
	KeyID *int `json:"key_id,omitempty"`
	// Key is the content of KeyFile: LoadIdentity reads it and Save
	// writes it (0600). It is never part of chip.json.
	Key []byte `json:"-"`
}

func (a *CAConfig) clone() *CAConfig {
	if a == nil {
		return nil
	}
	c := *a
	c.Key = bytes.Clone(a.Key)
	if a.KeyID != nil {
		id := *a.KeyID
		c.KeyID = &id
	}
	return &c
}

func (a *CAConfig) keyFile() string {
	if a.KeyFile == "" {
		return DefaultCAKeyFile
	}
	return a.KeyFile
}

func (a *CAConfig) checkKeyFile() error {
	return sideFile{field: "chip_authentication key_file", what: "chip authentication key"}.check(a.keyFile())
}

// loadKey reads the key file of an identity folder.
func (a *CAConfig) loadKey(dir string) error {
	if a == nil {
		return nil
	}
	b, err := sideFile{field: "chip_authentication key_file", what: "chip authentication key"}.load(dir, a.keyFile())
	if err != nil {
		return err
	}
	a.Key = b
	return nil
}

// saveKey writes the key file into an identity folder.
func (a *CAConfig) saveKey(dir string) error {
	if a == nil {
		return nil
	}
	return writeFile(dir, a.keyFile(), a.Key)
}

// caKey is the chip's static Chip Authentication key pair, resolved. The
// card side of PACE-CAM (9303-11 §4.4.3.5) uses the same key: SK_IC is
// priv, PK_IC (the key in EF.CardSecurity) is pub.
type caKey struct {
	domain   pace.Domain
	priv     []byte // SK_IC, domain.ScalarLen() bytes
	pub      []byte // PK_IC, domain.ElementLen() bytes (04‖X‖Y or y)
	keyID    int
	hasKeyID bool
}

// caStaticKey returns the chip's Chip Authentication key, nil when it has
// none. Fixed at New; safe to read under c.mu or without.
func (c *Chip) caStaticKey() *caKey { return c.ca }

// caState is Chip Authentication within one power-on.
type caState struct {
	// at is the cipher an MSE:Set AT selected, waiting for GENERAL
	// AUTHENTICATE; 0 when none.
	at smcrypto.Cipher
	// pkIFD is the terminal's ephemeral public key of the last successful
	// Chip Authentication (fixed-length encoding), nil before. Terminal
	// Authentication signs Comp(PK_IFD) (9303-11 §7.1, TR-03110-3 B.11.6).
	pkIFD []byte
}

// caEphemeralKey returns PK_IFD of the last successful Chip
// Authentication since power-on, nil when none: what Terminal
// Authentication's EXTERNAL AUTHENTICATE must cover. Call under c.mu.
func (c *Chip) caEphemeralKey() []byte { return c.st.ca.pkIFD }

// key resolves a CAConfig. nil means no Chip Authentication.
func (a *CAConfig) key() (*caKey, error) {
	if a == nil {
		return nil, nil
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: chip_authentication: %s", ErrInvalidIdentity, fmt.Sprintf(format, args...))
	}
	if err := a.checkKeyFile(); err != nil {
		return nil, err
	}
	if len(a.Key) == 0 {
		return nil, bad("no key (file %s)", a.keyFile())
	}
	k, err := parseCAPrivateKey(a.Key)
	if err != nil {
		return nil, bad("%v", err)
	}
	if a.KeyID != nil {
		// keyId is an INTEGER; DO84 carries it in at most four bytes here.
		if *a.KeyID < 0 || *a.KeyID > 1<<31-1 {
			return nil, bad("key_id %d outside 0..2^31-1", *a.KeyID)
		}
		k.keyID, k.hasKeyID = *a.KeyID, true
	}
	return k, nil
}

// Object identifiers of the private key encodings.
var (
	oidDHPublicNumber = asn1.ObjectIdentifier{1, 2, 840, 10046, 2, 1}     // X9.42, RFC 3279 §2.3.3
	oidDHKeyAgreement = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 3, 1} // PKCS #3
)

// parseCAPrivateKey reads a PKCS#8 (DER or PEM) EC or DH private key.
func parseCAPrivateKey(b []byte) (*caKey, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	// Brainpool, P-192 and explicit parameters: aa.go's reader.
	if k, err := parseCurveKey(b); err == nil {
		return curveCAKey(k.Curve(), k.Bytes())
	}
	if k, err := x509.ParsePKCS8PrivateKey(b); err == nil {
		e, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("unsupported key type %T (EC or DH only)", k)
		}
		c, ok := ec.ByName(e.Curve.Params().Name)
		if !ok {
			return nil, fmt.Errorf("unsupported curve %s", e.Curve.Params().Name)
		}
		d, err := e.Bytes()
		if err != nil {
			return nil, err
		}
		return curveCAKey(c, d)
	}
	return parseDHPrivateKey(b)
}

func curveCAKey(c *ec.Curve, d []byte) (*caKey, error) {
	// Parameter ids 8-18 follow the curves' order (ec.ID 1-11).
	dom, err := pace.DomainByParameterID(int(c.ID()) + 7)
	if err != nil {
		return nil, err
	}
	if dom.Name() != c.Name() {
		return nil, fmt.Errorf("no domain for %v", c)
	}
	return newCAKey(dom, d)
}

func newCAKey(dom pace.Domain, d []byte) (*caKey, error) {
	if len(d) > dom.ScalarLen() {
		return nil, errors.New("private key longer than the group order")
	}
	priv := make([]byte, dom.ScalarLen())
	copy(priv[len(priv)-len(d):], d)
	pub, err := dom.PublicKey(priv, nil)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	return &caKey{domain: dom, priv: priv, pub: pub}, nil
}

// parseDHPrivateKey reads PKCS#8 with an X9.42 (dhpublicnumber: p, g, q)
// or PKCS #3 (dhKeyAgreement: p, g) algorithm and the private value as an
// INTEGER. The group must be one of RFC 5114's (PACE ids 0-2).
//
//	PrivateKeyInfo ::= SEQUENCE { version INTEGER (0),
//	  AlgorithmIdentifier { dhpublicnumber, DomainParameters }, privateKey OCTET STRING (INTEGER x) }
func parseDHPrivateKey(b []byte) (*caKey, error) {
	in := cryptobyte.String(b)
	var seq, alg, params, inner cryptobyte.String
	var version int64
	var oid asn1.ObjectIdentifier
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() || !seq.ReadASN1Integer(&version) || version != 0 ||
		!seq.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) ||
		!alg.ReadASN1(&params, cbasn1.SEQUENCE) || !alg.Empty() ||
		!seq.ReadASN1(&inner, cbasn1.OCTET_STRING) {
		return nil, errors.New("not a PKCS#8 EC or DH private key")
	}
	p, g, q := new(big.Int), new(big.Int), new(big.Int)
	switch {
	case oid.Equal(oidDHPublicNumber):
		if !params.ReadASN1Integer(p) || !params.ReadASN1Integer(g) || !params.ReadASN1Integer(q) {
			return nil, errors.New("malformed X9.42 DomainParameters")
		}
	case oid.Equal(oidDHKeyAgreement):
		if !params.ReadASN1Integer(p) || !params.ReadASN1Integer(g) {
			return nil, errors.New("malformed PKCS #3 DHParameter")
		}
		q = nil
	default:
		return nil, fmt.Errorf("unsupported key algorithm %v", oid)
	}
	x := new(big.Int)
	if !inner.ReadASN1Integer(x) || !inner.Empty() || x.Sign() <= 0 {
		return nil, errors.New("malformed DH private value")
	}
	for _, id := range []int{0, 1, 2} {
		dom, err := pace.DomainByParameterID(id)
		if err != nil {
			return nil, err
		}
		if p.Cmp(new(big.Int).SetBytes(dom.Prime())) != 0 || g.Cmp(new(big.Int).SetBytes(dom.Generator())) != 0 ||
			(q != nil && q.Cmp(new(big.Int).SetBytes(dom.Order())) != 0) {
			continue
		}
		if x.BitLen() > 8*dom.ScalarLen() {
			return nil, errors.New("DH private value longer than q")
		}
		return newCAKey(dom, x.FillBytes(make([]byte, dom.ScalarLen())))
	}
	return nil, fmt.Errorf("DH group of %d bits is not one of RFC 5114's", p.BitLen())
}

// caSetKAT is MSE:Set KAT (P1-P2 41A6, TR-03110-3 B.1.1): Chip
// Authentication with 3DES in one command. The ephemeral key comes in
// DO91, the optional key reference in DO84.
func (c *Chip) caSetKAT(cmd command) result {
	c.st.ca.at = 0
	if c.ca == nil {
		return status(swCANoFunction)
	}
	if c.st.sess == nil {
		return status(swSecurityStatus)
	}
	var pk []byte
	var ref []byte
	var haveRef bool
	rest := cmd.data
	for len(rest) > 0 {
		t, v, r, ok := readTLV(rest)
		if !ok {
			return status(swWrongData)
		}
		switch {
		case t == tagCAPKKAT && pk == nil:
			pk = v
		case t == tagCAKeyRef && !haveRef:
			ref, haveRef = v, true
		default:
			return status(swWrongData)
		}
		rest = r
	}
	if pk == nil {
		return status(swWrongData)
	}
	if sw := c.caCheckKeyRef(ref, haveRef); sw != 0 {
		return status(sw)
	}
	return c.caAgree(smcrypto.TDES, pk)
}

// caSetAT is MSE:Set AT for Chip Authentication (P1-P2 41A4,
// TR-03110-3 B.2.1): DO80 the CA protocol's OID (value only), DO84 the
// key reference when the chip has several keys. GENERAL AUTHENTICATE
// follows.
func (c *Chip) caSetAT(cmd command) result {
	c.st.ca.at = 0
	if c.ca == nil {
		return status(swCANoFunction)
	}
	if c.st.sess == nil {
		return status(swSecurityStatus)
	}
	var oidValue, ref []byte
	var haveOID, haveRef bool
	rest := cmd.data
	for len(rest) > 0 {
		t, v, r, ok := readTLV(rest)
		if !ok {
			return status(swWrongData)
		}
		switch {
		case t == tagCAProtocol && !haveOID:
			oidValue, haveOID = v, true
		case t == tagCAKeyRef && !haveRef:
			ref, haveRef = v, true
		default:
			return status(swWrongData)
		}
		rest = r
	}
	if !haveOID {
		return status(swWrongData)
	}
	// DO80 holds the OID's content octets: re-tag them 06 to parse.
	var oid asn1.ObjectIdentifier
	der := cryptobyte.String(appendTLV([]byte{}, tag(cbasn1.OBJECT_IDENTIFIER), oidValue))
	if len(oidValue) == 0 || !der.ReadASN1ObjectIdentifier(&oid) {
		return status(swWrongData)
	}
	p, ok := lds.ProtocolForOID(oid)
	if !ok || !p.IsChipAuthentication() || p.Cipher() == 0 {
		return status(swWrongData)
	}
	want := lds.KeyAgreementECDH
	if c.ca.domain.KeyAgreement() == pace.DH {
		want = lds.KeyAgreementDH
	}
	if p.KeyAgreement() != want {
		return status(swWrongData)
	}
	if sw := c.caCheckKeyRef(ref, haveRef); sw != 0 {
		return status(sw)
	}
	c.st.ca.at = p.Cipher()
	return status(swOK)
}

// caCheckKeyRef matches DO84 against the key's id: absent is fine (one
// key), present must be the configured id.
func (c *Chip) caCheckKeyRef(ref []byte, have bool) statusWord {
	if !have {
		return 0
	}
	if len(ref) == 0 || len(ref) > 4 || !c.ca.hasKeyID {
		return swCAKeyNotFound
	}
	v := 0
	for _, b := range ref {
		v = v<<8 | int(b)
	}
	if v != c.ca.keyID {
		return swCAKeyNotFound
	}
	return 0
}

// caGeneralAuthenticate is GENERAL AUTHENTICATE after MSE:Set AT
// (TR-03110-3 B.2.2): P1-P2 0000, data 7C{80 PK_IFD}, answer 7C00.
func (c *Chip) caGeneralAuthenticate(cmd command) result {
	ci := c.st.ca.at
	c.st.ca.at = 0
	if c.st.sess == nil {
		return status(swSecurityStatus)
	}
	if cmd.p1 != 0 || cmd.p2 != 0 {
		return status(swWrongP1P2)
	}
	t, v, rest, ok := readTLV(cmd.data)
	if !ok || t != tagCADynAuth || len(rest) != 0 {
		return status(swWrongData)
	}
	t, pk, rest, ok := readTLV(v)
	if !ok || t != tagCAPKGA || len(rest) != 0 {
		return status(swWrongData)
	}
	if cmd.ne == 0 {
		return status(swWrongLength) // the answer 7C00 needs Le
	}
	r := c.caAgree(ci, pk)
	if r.sw != swOK {
		return r
	}
	if c.faults.CAEmptyAnswer {
		return status(swOK)
	}
	return result{data: []byte{byte(tagCADynAuth), 0x00}, sw: swOK}
}

// caPending reports whether an MSE:Set AT for Chip Authentication waits
// for its GENERAL AUTHENTICATE.
func (c *Chip) caPending() bool { return c.st.ca.at != 0 }

// caAgree computes K = KA(SK_IC, PK_IFD), derives the session keys with
// cipher ci and installs them with SSC 0 (9303-11 §6.2.3). The current
// command's answer is wrapped by process with the session it was
// unwrapped with, i.e. the old keys.
func (c *Chip) caAgree(ci smcrypto.Cipher, pkIFD []byte) result {
	d := c.ca.domain
	// PK_IFD must be the domain's encoding: an uncompressed point of the
	// curve, or a DH element, which a terminal may send without its
	// leading zero bytes (it is an unsigned integer); it is padded back,
	// since K and so the keys depend on nothing but its value.
	// SharedSecret validates it (on the curve and not O; 1 < y < p-1 and
	// y^q = 1).
	switch {
	case len(pkIFD) == d.ElementLen():
	case d.KeyAgreement() == pace.DH && len(pkIFD) > 0 && len(pkIFD) < d.ElementLen():
		pkIFD = append(make([]byte, d.ElementLen()-len(pkIFD)), pkIFD...)
	default:
		return status(swWrongData)
	}
	k, err := d.SharedSecret(c.ca.priv, pkIFD)
	if err != nil {
		return status(swWrongData)
	}
	kenc, kmac, err := pace.SessionKeys(ci, k)
	if err != nil {
		return status(swNoDiagnosis)
	}
	s, err := newSession(ci, kenc, kmac, make([]byte, ci.BlockSize()))
	if err != nil {
		return status(swNoDiagnosis)
	}
	c.st.sess = s
	c.st.ca.pkIFD = bytes.Clone(pkIFD)
	return status(swOK)
}

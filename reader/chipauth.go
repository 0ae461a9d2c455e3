package reader

// Chip Authentication version 1 (ICAO 9303-11 §6.2; APDUs of BSI
// TR-03110-3 B.1 and B.2), terminal side.
//
// DG14 announces the chip's static key agreement key PK_IC
// (ChipAuthenticationPublicKeyInfo) and the protocols it runs with it
// (ChipAuthenticationInfo: DH or ECDH, 3DES or AES). The terminal makes an
// ephemeral key pair in PK_IC's domain and sends PK_IFD:
//
//   - 3DES: MSE:Set KAT 0022 41A6 { 91 PK_IFD, 84 keyId if any };
//   - AES: MSE:Set AT 0022 41A4 { 80 OID, 84 keyId if any }, then
//     GENERAL AUTHENTICATE 0086 0000 7C{ 80 PK_IFD } answered 7C00.
//
// Both sides compute K = KA(SK_IFD, PK_IC), fixed length (the
// x-coordinate, or the DH value as long as p), and restart secure
// messaging with KSenc = KDF(K, 1), KSmac = KDF(K, 2) in the protocol's
// cipher and SSC = 0 (9303-11 §6.2.3, §9.7.1). Only a chip holding SK_IC
// can MAC under the new keys: the protocol is implicit, so it passes only
// when a MAC-protected answer to a following command verifies. This file
// sends that command itself (a READ BINARY of four bytes of EF.COM) and
// reports a pass only then.
//
// It deliberately does not decide whether DG14 is the issuer's: that is
// passive authentication (package verify), which must check that the
// DG14 hash in EF.SOD covers the key this returns. A pass over an
// unverified DG14 proves nothing. Chip Authentication version 2
// (TR-03110 EAC2, with a nonce and token in the answer) is not done here.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"

	"borderid/internal/ec"
	"borderid/internal/pace"
	"borderid/internal/smcrypto"
	"borderid/reader/lds"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Errors of Chip Authentication that callers branch on.
var (
	// ErrCAFailed: the chip did not prove that it holds the key DG14
	// announces: it refused the protocol (any status word other than
	// 9000 to MSE or GENERAL AUTHENTICATE), answered outside the
	// protocol, or its answer under the new keys did not verify (or did
	// not come). The check fails. A DG14 key that is not a valid key of
	// its domain fails too.
	ErrCAFailed = errors.New("reader: chip authentication failed")
	// ErrCANotSupported: DG14 offers no Chip Authentication this package
	// can run (no version 1 ChipAuthenticationInfo with a matching public
	// key, a domain other than the standardized curves and RFC 5114
	// groups, the key id asked for is absent). The check is not done,
	// which is not a pass.
	ErrCANotSupported = errors.New("reader: chip authentication not supported")
)

// Instructions and data objects of Chip Authentication (TR-03110-3 B.1,
// B.2; ISO/IEC 7816-4 §11.5.11 and §11.5.6).
const (
	insMSE                 = 0x22
	insGeneralAuthenticate = 0x86

	mseSetKAT = 0x41A6 // P1-P2: set, computation/decipherment/internal auth, KAT template
	mseSetAT  = 0x41A4 // P1-P2: set, same, authentication template

	tagCAMechanism = 0x80 // MSE:Set AT: cryptographic mechanism reference (OID value)
	tagCAKeyRef    = 0x84 // reference of a private key (keyId)
	tagCAPKKAT     = 0x91 // MSE:Set KAT: ephemeral public key
	tagCADynAuth   = 0x7C // GENERAL AUTHENTICATE dynamic authentication data
	tagCAPKGA      = 0x80 // in 7C: ephemeral public key
)

// caCheckSFI is EF.COM's short file identifier (9303-10 §3.11.1): the
// check after the key switch reads from it.
const caCheckSFI = 0x1E

// CAOptions configures ChipAuthenticate.
type CAOptions struct {
	// Rand supplies the ephemeral key pair; nil means crypto/rand.
	Rand io.Reader
	// KeyID, when Present, selects the chip's key with this keyId (DG14
	// may list several); a DG14 without it gives ErrCANotSupported.
	KeyID lds.OptionalInt
}

// CAPublicKey is a chip's static Chip Authentication key from a
// ChipAuthenticationPublicKeyInfo (DG14 or EF.CardSecurity), decoded.
type CAPublicKey struct {
	Protocol lds.Protocol // lds.PKDH or lds.PKECDH
	KeyID    lds.OptionalInt
	// Domain is the key's group; Key its fixed-length encoding in it
	// (04‖X‖Y, or y as long as p), validated.
	Domain pace.Domain
	Key    []byte
	// SubjectPublicKeyInfo is the raw SPKI the key came from.
	SubjectPublicKeyInfo []byte
}

// CAResult describes a Chip Authentication that was run.
type CAResult struct {
	Protocol     lds.Protocol // the ChipAuthenticationInfo protocol, e.g. id-CA-ECDH-AES-CBC-CMAC-128
	KeyID        lds.OptionalInt
	Domain       string // "brainpoolP256r1", "DH-2048/256", ...
	KeyAgreement lds.KeyAgreement
	Cipher       smcrypto.Cipher
	// EphemeralPublicKey is PK_IFD as sent (fixed length). Terminal
	// Authentication signs Comp(PK_IFD): see CompEphemeralPublicKey.
	EphemeralPublicKey []byte
	// ChipPublicKey is PK_IC (fixed length) and ChipPublicKeyInfo the DG14
	// SubjectPublicKeyInfo it came from: passive authentication checks
	// that the DG14 covered by EF.SOD holds them.
	ChipPublicKey     []byte
	ChipPublicKeyInfo []byte
	// Passed: a MAC-protected answer verified under the new keys.
	// ChipAuthenticate returns a result only when it is true.
	Passed bool
	// Quirks are the deviations taken (QuirkCAEmptyResponse), also
	// recorded in the session.
	Quirks []Quirk

	domain pace.Domain
}

// CompEphemeralPublicKey is Comp(PK_IFD) of TR-03110-3 A.2.2.3, which
// Terminal Authentication's signature covers: the x-coordinate for ECDH,
// SHA-1 of the DH value.
func (r *CAResult) CompEphemeralPublicKey() ([]byte, error) {
	if r == nil || r.domain == nil {
		return nil, errors.New("reader: no chip authentication domain")
	}
	return r.domain.Comp(r.EphemeralPublicKey)
}

// ChipAuthenticate runs Chip Authentication version 1 over s, which must
// have secure messaging installed (after BAC or PACE), with the keys and
// protocols of dg14 (or of EF.CardSecurity: the same SecurityInfos).
//
// It chooses a version 1 ChipAuthenticationInfo (opts.KeyID's, when
// given) whose key it can use: ECDH before DH, then AES-256, AES-192,
// AES-128, 3DES, ties in file order. On success the new secure messaging
// is installed in s, and the result has Passed set. On ErrCAFailed after
// the key switch, s holds the new (unverified) session: its secure
// messaging is finished, and reading must start again with access control.
// If the chip refuses MSE or GENERAL AUTHENTICATE, the old session stays
// installed as the chip keeps it too. Errors match ErrCAFailed,
// ErrCANotSupported, ErrSecureMessaging (an answer under the old keys
// that does not verify) or the transport's errors.
func ChipAuthenticate(ctx context.Context, s *Session, dg14 *lds.SecurityInfos, opts CAOptions) (*CAResult, error) {
	if s == nil || s.SecureMessaging() == nil {
		return nil, fmt.Errorf("reader: chip authentication needs secure messaging: %w", ErrSMState)
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	info, pk, err := chooseCA(dg14, opts.KeyID)
	if err != nil {
		return nil, err
	}
	d, ci := pk.Domain, info.Protocol.Cipher()
	skIFD, pkIFD, err := d.GenerateKey(rnd, nil)
	if err != nil {
		return nil, fmt.Errorf("reader: chip authentication ephemeral key: %w", err)
	}
	// K and the session keys are computed before the chip is asked, so
	// that nothing is left to do between its answer and the switch.
	k, err := d.SharedSecret(skIFD, pk.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: DG14 key: %w", ErrCAFailed, err)
	}
	kenc, kmac, err := pace.SessionKeys(ci, k)
	if err != nil {
		return nil, fmt.Errorf("reader: chip authentication keys: %w", err)
	}
	newSM, err := NewSM(ci, kenc, kmac, make([]byte, ci.BlockSize()))
	if err != nil {
		return nil, fmt.Errorf("reader: chip authentication keys: %w", err)
	}
	keyRef, err := caKeyRef(info.KeyID)
	if err != nil {
		return nil, err
	}

	var quirks []Quirk
	if ci == smcrypto.TDES {
		// 9303-11 §6.2.4.1 / TR-03110-3 B.1.1: one MSE:Set KAT.
		data := appendTLV(nil, tagCAPKKAT, pkIFD)
		if keyRef != nil {
			data = appendTLV(data, tagCAKeyRef, keyRef)
		}
		if err := caCommand(ctx, s, Command{INS: insMSE, P1: mseSetKAT >> 8, P2: mseSetKAT & 0xFF, Data: data}, "MSE:Set KAT", nil, false); err != nil {
			return nil, err
		}
	} else {
		// TR-03110-3 B.2.1: MSE:Set AT names the protocol; B.2.2: GENERAL
		// AUTHENTICATE carries the key.
		oid, err := oidValue(info.Protocol.OID())
		if err != nil {
			return nil, err
		}
		data := appendTLV(nil, tagCAMechanism, oid)
		if keyRef != nil {
			data = appendTLV(data, tagCAKeyRef, keyRef)
		}
		if err := caCommand(ctx, s, Command{INS: insMSE, P1: mseSetAT >> 8, P2: mseSetAT & 0xFF, Data: data}, "MSE:Set AT", nil, false); err != nil {
			return nil, err
		}
		ga := appendTLV(nil, tagCADynAuth, appendTLV(nil, tagCAPKGA, pkIFD))
		want := []byte{tagCADynAuth, 0x00}
		// An answer without any data is the quirk ca_empty_response: it
		// says as little as 7C00, and the proof is caVerify's MAC.
		// Anything else is refused.
		if err := caCommand(ctx, s, Command{INS: insGeneralAuthenticate, Data: ga, Ne: MaxShortNe}, "GENERAL AUTHENTICATE", want, true); err != nil {
			if !errors.Is(err, errCAEmptyAnswer) {
				return nil, err
			}
			quirks = append(quirks, QuirkCAEmptyResponse)
		}
	}

	// The chip has switched: 9303-11 §6.2.3, SSC = 0 and the new keys
	// from the next command on.
	s.SetSecureMessaging(newSM)
	if err := caVerify(ctx, s); err != nil {
		return nil, err
	}
	for _, q := range quirks {
		s.AddQuirk(q)
	}
	return &CAResult{
		Protocol:           info.Protocol,
		KeyID:              info.KeyID,
		Domain:             d.Name(),
		KeyAgreement:       info.Protocol.KeyAgreement(),
		Cipher:             ci,
		EphemeralPublicKey: pkIFD,
		ChipPublicKey:      bytes.Clone(pk.Key),
		ChipPublicKeyInfo:  bytes.Clone(pk.SubjectPublicKeyInfo),
		Passed:             true,
		Quirks:             quirks,
		domain:             d,
	}, nil
}

// caCommand sends one CA command under the current (old) session and
// requires 9000, and, when want is not nil, exactly that response data;
// tolerateEmpty lets an answer without any data through as
// errCAEmptyAnswer, for the caller to record as a quirk.
func caCommand(ctx context.Context, s *Session, cmd Command, name string, want []byte, tolerateEmpty bool) error {
	resp, err := s.Transmit(ctx, cmd)
	if err != nil {
		return fmt.Errorf("reader: chip authentication: %w", err)
	}
	if !resp.SW.OK() {
		return fmt.Errorf("%w: %w", ErrCAFailed, &SWError{Cmd: name, SW: resp.SW})
	}
	if want != nil && !bytes.Equal(resp.Data, want) {
		if tolerateEmpty && len(resp.Data) == 0 {
			return errCAEmptyAnswer
		}
		return fmt.Errorf("%w: %s answered %d bytes, not %X", ErrCAFailed, name, len(resp.Data), want)
	}
	return nil
}

// errCAEmptyAnswer is caCommand's tolerated answer without data.
var errCAEmptyAnswer = errors.New("reader: chip authentication: answer without data")

// caVerify sends the first command under the new keys, READ BINARY of
// four bytes of EF.COM by short file identifier (harmless: it changes
// only the current EF), and accepts any answer whose MAC verifies, a
// protected error status included: the MAC is the proof, not the data.
// An answer without a MAC (an unprotected status) proves nothing.
func caVerify(ctx context.Context, s *Session) error {
	_, err := s.Transmit(ctx, Command{INS: 0xB0, P1: 0x80 | caCheckSFI, P2: 0, Ne: 4})
	if err != nil {
		return fmt.Errorf("%w: no verified answer under the new keys: %w", ErrCAFailed, err)
	}
	if s.plainStatus {
		return fmt.Errorf("%w: the answer under the new keys carried no MAC", ErrCAFailed)
	}
	return nil
}

// caKeyRef encodes a keyId for DO84: the unsigned big-endian integer in
// the fewest bytes (one at least).
func caKeyRef(id lds.OptionalInt) ([]byte, error) {
	if !id.Present {
		return nil, nil
	}
	if id.Value < 0 || id.Value > 1<<31-1 {
		return nil, fmt.Errorf("%w: keyId %d", ErrCANotSupported, id.Value)
	}
	b := big.NewInt(int64(id.Value)).Bytes()
	if len(b) == 0 {
		b = []byte{0}
	}
	return b, nil
}

// oidValue returns the content octets of an OID's DER encoding: DO80
// carries the OID without its 06 tag and length (TR-03110-3 B.2.1).
func oidValue(oid asn1.ObjectIdentifier) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1ObjectIdentifier(oid)
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("reader: OID %v: %w", oid, err)
	}
	in := cryptobyte.String(der)
	var v cryptobyte.String
	if !in.ReadASN1(&v, cbasn1.OBJECT_IDENTIFIER) {
		return nil, fmt.Errorf("reader: OID %v", oid)
	}
	return []byte(v), nil
}

// chooseCA picks the ChipAuthenticationInfo and its public key.
func chooseCA(dg14 *lds.SecurityInfos, keyID lds.OptionalInt) (lds.ChipAuthenticationInfo, *CAPublicKey, error) {
	var none lds.ChipAuthenticationInfo
	if dg14 == nil {
		return none, nil, fmt.Errorf("%w: no DG14", ErrCANotSupported)
	}
	type cand struct {
		info lds.ChipAuthenticationInfo
		pk   *CAPublicKey
	}
	var cands []cand
	var firstErr error
	for _, info := range dg14.ChipAuthentication {
		p := info.Protocol
		if info.Version != 1 || !p.Valid() || !p.IsChipAuthentication() || p.Cipher() == 0 {
			continue
		}
		if keyID.Present && (!info.KeyID.Present || info.KeyID.Value != keyID.Value) {
			continue
		}
		pki, ok := matchCAPublicKey(dg14.ChipAuthenticationPublicKeys, info)
		if !ok {
			continue
		}
		pk, err := ParseCAPublicKey(pki)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if wantDH := p.KeyAgreement() == lds.KeyAgreementDH; wantDH != (pk.Domain.KeyAgreement() == pace.DH) {
			continue
		}
		cands = append(cands, cand{info, pk})
	}
	if len(cands) == 0 {
		if firstErr != nil {
			return none, nil, firstErr
		}
		return none, nil, fmt.Errorf("%w: no usable ChipAuthenticationInfo with its public key", ErrCANotSupported)
	}
	// ECDH before DH, then the stronger cipher, ranked as PACE ranks them
	// (cipherRank: AES-256, AES-192, AES-128, 3DES), not by lds.Protocol's
	// internal numbering. Stable: ties keep file order.
	slices.SortStableFunc(cands, func(a, b cand) int {
		ea, eb := a.info.Protocol.KeyAgreement() == lds.KeyAgreementECDH, b.info.Protocol.KeyAgreement() == lds.KeyAgreementECDH
		if ea != eb {
			if ea {
				return -1
			}
			return 1
		}
		return cipherRank(b.info.Protocol.Cipher()) - cipherRank(a.info.Protocol.Cipher())
	})
	return cands[0].info, cands[0].pk, nil
}

// matchCAPublicKey finds the public key of info: the one with the same
// keyId; without a keyId, the one without, else the only key of the
// family (9303-11 §9.2.5: keyId is needed only with several keys).
func matchCAPublicKey(keys []lds.ChipAuthenticationPublicKeyInfo, info lds.ChipAuthenticationInfo) (lds.ChipAuthenticationPublicKeyInfo, bool) {
	var same []lds.ChipAuthenticationPublicKeyInfo
	for _, k := range keys {
		if k.Protocol.KeyAgreement() == info.Protocol.KeyAgreement() {
			same = append(same, k)
		}
	}
	if info.KeyID.Present {
		for _, k := range same {
			if k.KeyID.Present && k.KeyID.Value == info.KeyID.Value {
				return k, true
			}
		}
		return lds.ChipAuthenticationPublicKeyInfo{}, false
	}
	for _, k := range same {
		if !k.KeyID.Present {
			return k, true
		}
	}
	if len(same) == 1 {
		return same[0], true
	}
	return lds.ChipAuthenticationPublicKeyInfo{}, false
}

// Algorithm identifiers a ChipAuthenticationPublicKeyInfo may carry.
var (
	oidDHPublicNumber  = asn1.ObjectIdentifier{1, 2, 840, 10046, 2, 1}         // X9.42, RFC 3279 §2.3.3
	oidDHKeyAgreement  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 3, 1}     // PKCS #3
	oidStandardizedDP  = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 2}       // TR-03110-3 A.2.1.1
	oidPKDHAlgorithm   = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 1, 1} // id-PK-DH
	oidPKECDHAlgorithm = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 1, 2} // id-PK-ECDH
)

// ParseCAPublicKey decodes the SubjectPublicKeyInfo of a
// ChipAuthenticationPublicKeyInfo (9303-11 §9.2.6, TR-03110-3 A.1.1.2,
// A.2.1): an EC key (id-ecPublicKey, or id-PK-ECDH, with a named curve or
// explicit X9.62 parameters equal to a known curve's; the BIT STRING is
// the uncompressed point) or a DH key (dhpublicnumber with X9.42
// DomainParameters, or PKCS #3 dhKeyAgreement, of an RFC 5114 group; the
// BIT STRING holds the INTEGER y), or a key whose algorithm is
// standardizedDomainParameters with a PACE parameter id. The key is
// validated in its domain. A domain this package does not know is
// ErrCANotSupported; a malformed SPKI or an invalid key, ErrCAFailed.
func ParseCAPublicKey(info lds.ChipAuthenticationPublicKeyInfo) (*CAPublicKey, error) {
	bad := func(what string) error { return fmt.Errorf("%w: DG14 public key: %s", ErrCAFailed, what) }
	in := cryptobyte.String(info.SubjectPublicKeyInfo)
	var spki, alg, bits cryptobyte.String
	var algOID asn1.ObjectIdentifier
	if !in.ReadASN1(&spki, cbasn1.SEQUENCE) || !in.Empty() ||
		!spki.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&algOID) ||
		!spki.ReadASN1(&bits, cbasn1.BIT_STRING) || !spki.Empty() {
		return nil, bad("malformed SubjectPublicKeyInfo")
	}
	var unused uint8
	if !bits.ReadUint8(&unused) || unused != 0 || bits.Empty() {
		return nil, bad("malformed BIT STRING")
	}
	key := []byte(bits)

	var d pace.Domain
	var err error
	switch {
	case algOID.Equal(oidECPublicKey) || algOID.Equal(oidPKECDHAlgorithm):
		d, err = caECDomain(alg)
	case algOID.Equal(oidDHPublicNumber) || algOID.Equal(oidPKDHAlgorithm):
		d, err = caDHDomain(alg, true)
	case algOID.Equal(oidDHKeyAgreement):
		d, err = caDHDomain(alg, false)
	case algOID.Equal(oidStandardizedDP):
		var id int64
		if !alg.ReadASN1Integer(&id) || !alg.Empty() {
			return nil, bad("malformed standardized domain parameter id")
		}
		if d, err = pace.DomainByParameterID(int(id)); err != nil {
			err = fmt.Errorf("%w: %w", ErrCANotSupported, err)
		}
	default:
		return nil, fmt.Errorf("%w: key algorithm %v", ErrCANotSupported, algOID)
	}
	if err != nil {
		return nil, err
	}
	if (d.KeyAgreement() == pace.DH) != (info.Protocol == lds.PKDH) {
		return nil, bad(fmt.Sprintf("%v key under %v", d.KeyAgreement(), info.Protocol))
	}
	if d.KeyAgreement() == pace.DH {
		// DHPublicKey ::= INTEGER (RFC 3279 §2.3.3), restored to p's length.
		in := cryptobyte.String(key)
		y := new(big.Int)
		if !in.ReadASN1Integer(y) || !in.Empty() || y.Sign() <= 0 || y.BitLen() > 8*d.ElementLen() {
			return nil, bad("malformed DH public value")
		}
		key = y.FillBytes(make([]byte, d.ElementLen()))
	} else if len(key) != d.ElementLen() || key[0] != 4 {
		return nil, fmt.Errorf("%w: EC public key is not an uncompressed point of %s", ErrCANotSupported, d.Name())
	}
	if err := d.ValidatePublic(key); err != nil {
		return nil, fmt.Errorf("%w: DG14 public key: %w", ErrCAFailed, err)
	}
	return &CAPublicKey{
		Protocol: info.Protocol, KeyID: info.KeyID, Domain: d, Key: bytes.Clone(key),
		SubjectPublicKeyInfo: bytes.Clone(info.SubjectPublicKeyInfo),
	}, nil
}

// caECDomain resolves EC parameters (what follows the algorithm OID):
// a named curve OID or explicit ECParameters matched with ec.MatchParams.
func caECDomain(params cryptobyte.String) (pace.Domain, error) {
	var c *ec.Curve
	switch {
	case params.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER):
		var oid asn1.ObjectIdentifier
		if !params.ReadASN1ObjectIdentifier(&oid) || !params.Empty() {
			return nil, fmt.Errorf("%w: DG14 public key: malformed curve OID", ErrCAFailed)
		}
		for _, nc := range namedCurves() {
			if nc.oid.Equal(oid) {
				c = nc.curve()
			}
		}
		if c == nil {
			return nil, fmt.Errorf("%w: curve %v", ErrCANotSupported, oid)
		}
	case params.PeekASN1Tag(cbasn1.SEQUENCE):
		var err error
		if c, err = caExplicitCurve(params); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: EC key without named or explicit parameters", ErrCANotSupported)
	}
	// PACE parameter ids 8-18 are the curves in ec.ID order (1-11).
	d, err := pace.DomainByParameterID(int(c.ID()) + 7)
	if err != nil || d.Name() != c.Name() {
		return nil, fmt.Errorf("%w: no domain for %v", ErrCANotSupported, c)
	}
	return d, nil
}

// caExplicitCurve reads X9.62 ECParameters (SEC 1 §C.2; prime field,
// uncompressed base point, optional seed and cofactor) and accepts them
// only when they are exactly a known curve's: a hostile DG14 cannot bring
// its own group.
func caExplicitCurve(in cryptobyte.String) (*ec.Curve, error) {
	bad := fmt.Errorf("%w: DG14 public key: malformed explicit EC parameters", ErrCAFailed)
	var seq, field, curve cryptobyte.String
	var fieldType asn1.ObjectIdentifier
	var version int64
	var a, b, base []byte
	p, n := new(big.Int), new(big.Int)
	h := int64(1)
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() || !seq.ReadASN1Integer(&version) || version != 1 ||
		!seq.ReadASN1(&field, cbasn1.SEQUENCE) || !field.ReadASN1ObjectIdentifier(&fieldType) {
		return nil, bad
	}
	if !fieldType.Equal(oidPrimeField) {
		return nil, fmt.Errorf("%w: EC field type %v", ErrCANotSupported, fieldType)
	}
	if !field.ReadASN1Integer(p) || !field.Empty() || p.Sign() <= 0 || p.BitLen() > 1024 ||
		!seq.ReadASN1(&curve, cbasn1.SEQUENCE) || !curve.ReadASN1Bytes(&a, cbasn1.OCTET_STRING) ||
		!curve.ReadASN1Bytes(&b, cbasn1.OCTET_STRING) ||
		(!curve.Empty() && (!curve.SkipASN1(cbasn1.BIT_STRING) || !curve.Empty())) ||
		!seq.ReadASN1Bytes(&base, cbasn1.OCTET_STRING) || !seq.ReadASN1Integer(n) ||
		(!seq.Empty() && (!seq.ReadASN1Integer(&h) || !seq.Empty())) {
		return nil, bad
	}
	l := (p.BitLen() + 7) / 8
	if len(base) != 1+2*l || base[0] != 4 || h < 1 || h > 1<<16 {
		return nil, fmt.Errorf("%w: EC parameters with a compressed base point or cofactor %d", ErrCANotSupported, h)
	}
	c, ok := ec.MatchParams(p, new(big.Int).SetBytes(a), new(big.Int).SetBytes(b),
		new(big.Int).SetBytes(base[1:1+l]), new(big.Int).SetBytes(base[1+l:]), n, int(h))
	if !ok {
		return nil, fmt.Errorf("%w: explicit parameters of a %d-bit curve this package does not know", ErrCANotSupported, p.BitLen())
	}
	return c, nil
}

// caDHDomain resolves DH parameters: X9.42 DomainParameters {p, g, q,
// j?, validationParms?} (withQ) or PKCS #3 DHParameter {p, g,
// privateValueLength?}, matched with the RFC 5114 groups.
func caDHDomain(params cryptobyte.String, withQ bool) (pace.Domain, error) {
	var seq cryptobyte.String
	p, g, q := new(big.Int), new(big.Int), new(big.Int)
	if !params.ReadASN1(&seq, cbasn1.SEQUENCE) || !params.Empty() ||
		!seq.ReadASN1Integer(p) || !seq.ReadASN1Integer(g) || (withQ && !seq.ReadASN1Integer(q)) {
		return nil, fmt.Errorf("%w: DG14 public key: malformed DH parameters", ErrCAFailed)
	}
	for _, id := range []int{0, 1, 2} { // the RFC 5114 groups, 9303-11 §9.5.1
		d, err := pace.DomainByParameterID(id)
		if err != nil {
			return nil, err
		}
		if p.Cmp(new(big.Int).SetBytes(d.Prime())) == 0 && g.Cmp(new(big.Int).SetBytes(d.Generator())) == 0 &&
			(!withQ || q.Cmp(new(big.Int).SetBytes(d.Order())) == 0) {
			return d, nil
		}
	}
	return nil, fmt.Errorf("%w: DH group of %d bits is not one of RFC 5114's", ErrCANotSupported, p.BitLen())
}

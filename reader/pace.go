package reader

// PACE, terminal side: ICAO Doc 9303-11 §4.4 (Password Authenticated
// Connection Establishment), with the SecurityInfos of §9.2.1 and the
// standardized domain parameters of §9.5.1.
//
// The protocol, as this file runs it:
//
//  1. Choose one PACEInfo of EF.CardAccess (ChoosePACE): PACE-CAM first, then
//     ECDH before DH, then the larger domain, then AES-256 > AES-192 >
//     AES-128 > 3DES; ties keep the file's order. Only the standardized
//     parameter ids 0-2 and 8-18 are supported; other entries are skipped
//     with a note.
//  2. MSE:Set AT (§4.4.4.1): 0022C1A4 { 80 OID, 83 password reference
//     (01 MRZ, 02 CAN), 84 parameter id }. Tag 84 is conditional in the
//     standard but always sent: chips that offer several domains require it
//     and chips that offer one accept it.
//  3. General Authenticate, chained (CLA 10) except the last (CLA 00), each
//     carrying dynamic authentication data 7C (§4.4.4.2):
//     GA1 7C{} → 7C{80 z}; s = D(Kπ, z).
//     GA2 the mapping (pace_gm.go: 81 PK_map,IFD → 82 PK_map,IC;
//     pace_im.go: 81 t → 7C{}).
//     GA3 7C{83 PK_IFD} → 7C{84 PK_IC}; PK_IC ≠ PK_IFD and valid; K.
//     GA4 7C{85 T_IFD} → 7C{86 T_IC, [87 CAR, 88 CAR], [8A A_IC for CAM]}.
//  4. T_IC is verified (in constant time), then secure messaging starts with
//     KSenc, KSmac and an all-zero send sequence counter (§9.8.2).
//  5. PACE-CAM only (pace_cam.go): decrypt A_IC, read EF.CardSecurity under
//     the new secure messaging and check KA(CA_IC, PK_IC) = PK_map,IC.
//
// All arithmetic is internal/pace's (pinned to App. G and H); this file
// owns the APDUs, the checks the terminal must make on the chip's answers
// and the choice. It deliberately does not verify EF.CardSecurity's
// signature (passive authentication, package verify: the bytes are
// returned so that it can), does not support PACE with explicit domain
// parameters (PACEDomainParameterInfo) or PACE version 1, and never falls
// back to BAC by itself: that is the caller's decision (fail closed).

import (
	"bytes"
	"context"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"sort"

	"borderid/internal/pace"
	"borderid/internal/smcrypto"
	"borderid/reader/lds"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Errors of PACE that callers branch on.
var (
	// ErrPACENotOffered: EF.CardAccess lists no PACEInfo (or there is no
	// EF.CardAccess). The chip may still do BAC.
	ErrPACENotOffered = errors.New("reader: PACE not offered by the chip")
	// ErrPACEUnsupported: the chip offers PACE, but only with parameters
	// this package does not implement (explicit domain parameters, another
	// version, an unknown protocol), or it refused the chosen parameters
	// in MSE:Set AT.
	ErrPACEUnsupported = errors.New("reader: PACE parameters not supported")
	// ErrPACEFailed: the chip refused the terminal's authentication
	// (6300 or 63Cx to a General Authenticate, typically to the token
	// T_IFD), which means a wrong password (MRZ data or CAN), or the
	// chip's token T_IC did not verify (ErrPACETokenMismatch).
	ErrPACEFailed = errors.New("reader: PACE failed (check the MRZ data or the CAN)")
	// ErrPACETokenMismatch: the chip's authentication token T_IC does not
	// verify under the agreed KSmac. Such errors also match ErrPACEFailed;
	// no secure messaging is installed.
	ErrPACETokenMismatch = errors.New("reader: PACE: chip's authentication token does not verify")
	// ErrPACEInvalidResponse: the chip's answer to a PACE command is
	// malformed (a truncated or duplicated data object, a nonce of the
	// wrong length) or carries an invalid value (a point not on the curve,
	// the point at infinity, a DH value out of range, its own public key
	// equal to the terminal's). The session is abandoned.
	ErrPACEInvalidResponse = errors.New("reader: PACE: invalid answer from the chip")
)

// PasswordType is the PACE password reference of MSE:Set AT (9303-11
// §4.4.4.1, tag 83; TR-03110-3 D.3).
type PasswordType uint8

// The passwords an eMRTD accepts for PACE.
const (
	PasswordMRZ PasswordType = 1 // key-seed information of the MRZ (reference 01)
	PasswordCAN PasswordType = 2 // card access number (reference 02)
)

// String returns "MRZ" or "CAN".
func (p PasswordType) String() string {
	switch p {
	case PasswordMRZ:
		return "MRZ"
	case PasswordCAN:
		return "CAN"
	}
	return fmt.Sprintf("PasswordType(%d)", uint8(p))
}

// Password is the shared secret PACE starts from. Its value never appears
// in String, logs or errors.
type Password struct {
	Type PasswordType
	// Secret is the MRZ key-seed information (document number, date of
	// birth, date of expiry, each with its check digit, as for BAC) or
	// the CAN's digits.
	Secret string
}

// MRZPassword is the PACE password of the MRZ key-seed information
// (reader/mrz builds it).
func MRZPassword(keySeedInfo string) Password {
	return Password{Type: PasswordMRZ, Secret: keySeedInfo}
}

// CANPassword is the PACE password of a card access number.
func CANPassword(can string) Password { return Password{Type: PasswordCAN, Secret: can} }

// String names the password's type only.
func (p Password) String() string { return p.Type.String() }

// GoString hides the secret from %#v as well.
func (p Password) GoString() string { return "reader.Password{" + p.Type.String() + "}" }

// LogValue keeps the secret out of structured logs.
func (p Password) LogValue() slog.Value { return slog.StringValue(p.Type.String()) }

// key derives Kπ (9303-11 §4.4.3.1, §9.7.3).
func (p Password) key(c smcrypto.Cipher) ([]byte, error) {
	switch p.Type {
	case PasswordMRZ:
		return pace.KeyFromMRZ(p.Secret, c)
	case PasswordCAN:
		return pace.KeyFromCAN(p.Secret, c)
	}
	return nil, fmt.Errorf("reader: PACE: unknown password type %d", uint8(p.Type))
}

// PACEOptions configures PACE.
type PACEOptions struct {
	// Rand supplies, in this order: for GM and CAM the mapping key
	// SK_map,IFD, for IM the nonce t (the cipher's key length); then
	// SK_IFD. Keys are drawn as the domain's private key length with
	// rejection of out-of-range values (internal/pace), so a test can
	// replay App. G and H. crypto/rand.Reader in production.
	Rand io.Reader
	// Logger receives debug records of the steps (protocol, domain,
	// status words; never a key, nonce or password). Nil discards them.
	Logger *slog.Logger
	// Choose, if set, restricts the choice to the PACEInfos for which it
	// returns true (a station configured to one protocol, a test of one
	// variant); the order rule still applies among them.
	Choose func(lds.PACEInfo) bool
}

// CAMStatus is the outcome of the PACE-CAM chip authentication check
// (9303-11 §4.4.3.5.2). Its String is the inspection report's result.
type CAMStatus uint8

// CAM outcomes.
const (
	CAMNotDone CAMStatus = iota // not PACE-CAM, or the check could not be made
	CAMPassed                   // KA(CA_IC, PK_IC) = PK_map,IC with PK_IC from EF.CardSecurity
	CAMFailed                   // the chip's data contradicts EF.CardSecurity
)

// String returns "not_done", "pass" or "fail".
func (s CAMStatus) String() string {
	switch s {
	case CAMNotDone:
		return "not_done"
	case CAMPassed:
		return "pass"
	case CAMFailed:
		return "fail"
	}
	return fmt.Sprintf("CAMStatus(%d)", uint8(s))
}

// Stable reason codes of PACEResult.CAMReason.
const (
	CAMReasonNotCAM            = "not_pace_cam"            // another mapping was used
	CAMReasonDataMissing       = "cam_data_missing"        // GA4's answer lacks 8A
	CAMReasonDataInvalid       = "cam_data_invalid"        // A_IC does not decrypt to a padded value
	CAMReasonCardSecurityRead  = "cardsecurity_unreadable" // EF.CardSecurity could not be read
	CAMReasonCardSecurityParse = "cardsecurity_malformed"  // EF.CardSecurity does not parse
	CAMReasonNoChipKey         = "cardsecurity_no_key"     // no usable chip authentication key for the PACE domain
	CAMReasonMismatch          = "cam_mismatch"            // CA_IC·PK_IC ≠ PK_map,IC for every key
	CAMReasonPassed            = "cam_verified"            // the check passed
)

// PACEResult describes an established PACE session.
type PACEResult struct {
	Protocol     lds.Protocol
	OID          asn1.ObjectIdentifier
	Mapping      lds.Mapping      // GM, IM or CAM
	KeyAgreement lds.KeyAgreement // ECDH or DH
	Domain       string           // access_params.domain, e.g. "brainpoolP256r1", "DH-2048/256"
	Cipher       smcrypto.Cipher
	ParameterID  int
	Password     PasswordType
	// ChipPublicKey is the chip's ephemeral public key PK_IC (fixed-length
	// encoding: 04‖X‖Y or the DH element): Terminal Authentication's ID_IC
	// is its compressed form (ChipKeyComp).
	ChipPublicKey []byte
	// CARs are the certification authority references of GA4's answer
	// (87, 88): the CVCA keys the chip trusts, for Terminal Authentication.
	CARs []string
	// CAM, CAMReason and CAMDetail give the PACE-CAM check.
	CAM       CAMStatus
	CAMReason string
	CAMDetail string
	// CAMKeyID is the keyId of the EF.CardSecurity key the check used.
	CAMKeyID lds.OptionalInt
	// CardSecurity is EF.CardSecurity as read (PACE-CAM only). Its
	// signature is not checked here: passive authentication must cover it
	// before the CAM result means anything.
	CardSecurity []byte
	// Notes explain the choice: PACEInfos skipped and why.
	Notes []string
	// Quirks are the deviations taken (QuirkCAMShortCAIC), also recorded
	// in the session.
	Quirks []Quirk

	domain pace.Domain
}

// AccessControl is the report's access_control: "PACE-GM", "PACE-IM" or
// "PACE-CAM".
func (r *PACEResult) AccessControl() string { return "PACE-" + r.Mapping.String() }

// ChipKeyComp is Comp(PK_IC) of TR-03110-3 A.2.2.3: the x-coordinate for
// ECDH, SHA-1 of the element for DH (Terminal Authentication's ID_IC after
// PACE).
func (r *PACEResult) ChipKeyComp() ([]byte, error) {
	if r == nil || r.domain == nil {
		return nil, errors.New("reader: PACE: no session")
	}
	return r.domain.Comp(r.ChipPublicKey)
}

// paceChoice is one usable PACEInfo.
type paceChoice struct {
	info   lds.PACEInfo
	domain pace.Domain
	index  int
}

// orderBits is the bit length of the domain's group order.
func orderBits(d pace.Domain) int { return new(big.Int).SetBytes(d.Order()).BitLen() }

func cipherRank(c smcrypto.Cipher) int {
	switch c {
	case smcrypto.AES256:
		return 4
	case smcrypto.AES192:
		return 3
	case smcrypto.AES128:
		return 2
	case smcrypto.TDES:
		return 1
	}
	return 0
}

// better reports whether a is preferred to b by the rule of the package
// comment; equal candidates keep the file's order (a stable sort).
func better(a, b paceChoice) bool {
	aCAM, bCAM := a.info.Protocol.Mapping() == lds.MappingCAM, b.info.Protocol.Mapping() == lds.MappingCAM
	if aCAM != bCAM {
		return aCAM
	}
	aEC, bEC := a.domain.KeyAgreement() == pace.ECDH, b.domain.KeyAgreement() == pace.ECDH
	if aEC != bEC {
		return aEC
	}
	if x, y := a.domain.PrimeBits(), b.domain.PrimeBits(); x != y {
		return x > y
	}
	if x, y := orderBits(a.domain), orderBits(b.domain); x != y {
		return x > y
	}
	return cipherRank(a.info.Protocol.Cipher()) > cipherRank(b.info.Protocol.Cipher())
}

// paceCandidates lists the usable PACEInfos best first, with a note for
// each one skipped.
func paceCandidates(infos *lds.SecurityInfos, keep func(lds.PACEInfo) bool) ([]paceChoice, []string, error) {
	if infos == nil || len(infos.PACE) == 0 {
		return nil, nil, ErrPACENotOffered
	}
	var out []paceChoice
	var notes []string
	for i, pi := range infos.PACE {
		skip := func(why string) { notes = append(notes, fmt.Sprintf("PACEInfo %d (%v): %s", i+1, pi.Protocol, why)) }
		switch {
		case !pi.Protocol.Valid() || !pi.Protocol.IsPACE() || pi.Protocol.Cipher() == 0:
			skip("not a PACE protocol with a cipher")
			continue
		case pi.Protocol.Mapping() == lds.MappingCAM && pi.Protocol.KeyAgreement() != lds.KeyAgreementECDH:
			skip("PACE-CAM is defined for ECDH only")
			continue
		case pi.Version != 2:
			skip(fmt.Sprintf("version %d (only version 2 is supported)", pi.Version))
			continue
		case !pi.ParameterID.Present:
			skip("explicit domain parameters (PACEDomainParameterInfo) are not supported")
			continue
		}
		d, err := pace.DomainByParameterID(pi.ParameterID.Value)
		if err != nil {
			skip(fmt.Sprintf("parameter id %d is not a standardized domain", pi.ParameterID.Value))
			continue
		}
		if want := pi.Protocol.KeyAgreement(); (want == lds.KeyAgreementECDH) != (d.KeyAgreement() == pace.ECDH) {
			skip(fmt.Sprintf("parameter id %d (%s) does not fit the protocol's key agreement %v", pi.ParameterID.Value, d.Name(), want))
			continue
		}
		if keep != nil && !keep(pi) {
			skip("excluded by the caller")
			continue
		}
		out = append(out, paceChoice{info: pi, domain: d, index: i})
	}
	if len(out) == 0 {
		return nil, notes, ErrPACEUnsupported
	}
	sort.SliceStable(out, func(i, j int) bool { return better(out[i], out[j]) })
	return out, notes, nil
}

// ChoosePACE returns the PACEInfo of cardAccess that PACE would use, with
// notes on the entries skipped. ErrPACENotOffered: no PACEInfo;
// ErrPACEUnsupported: none this package implements.
func ChoosePACE(cardAccess *lds.SecurityInfos) (lds.PACEInfo, []string, error) {
	c, notes, err := paceCandidates(cardAccess, nil)
	if err != nil {
		return lds.PACEInfo{}, notes, err
	}
	return c[0].info, notes, nil
}

// PACE runs PACE (9303-11 §4.4) over s with the best PACEInfo of
// cardAccess (EF.CardAccess, parsed) and, on success, installs the new
// secure messaging session in s. It is run in the master file, before the
// eMRTD application is selected; any previous secure messaging in s is
// discarded first (PACE's commands are plain).
//
// Errors: ErrPACENotOffered, ErrPACEUnsupported, ErrPACEFailed (wrong
// password; ErrPACETokenMismatch), ErrPACEInvalidResponse, and the
// transport's own. For PACE-CAM an error while reading EF.CardSecurity
// under the new secure messaging (a MAC failure, a torn connection) is
// returned together with the result, whose CAM is then CAMNotDone: the
// access control succeeded, the session did not survive.
func PACE(ctx context.Context, s *Session, cardAccess *lds.SecurityInfos, pw Password, opts PACEOptions) (*PACEResult, error) {
	if opts.Rand == nil {
		return nil, fmt.Errorf("reader: PACE: %w", ErrNoRandom)
	}
	if pw.Type != PasswordMRZ && pw.Type != PasswordCAN {
		return nil, fmt.Errorf("reader: PACE: unknown password type %d", uint8(pw.Type))
	}
	if pw.Secret == "" {
		return nil, fmt.Errorf("reader: PACE: empty %v password", pw.Type)
	}
	cands, notes, err := paceCandidates(cardAccess, opts.Choose)
	if err != nil {
		if len(notes) > 0 {
			return nil, fmt.Errorf("%w (%d PACEInfos skipped: %s)", err, len(notes), notes[0])
		}
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ch := cands[0]
	run := &paceRun{
		s: s, log: log, rand: opts.Rand,
		proto: ch.info.Protocol, oid: ch.info.Protocol.OID(), d: ch.domain,
		c: ch.info.Protocol.Cipher(), pw: pw,
	}
	log.Debug("pace", "protocol", run.proto.String(), "domain", run.d.Name(), "password", pw.Type.String())
	res, err := run.do(ctx)
	if res != nil {
		res.Notes = notes
	}
	return res, err
}

// paceRun is one PACE session's state.
type paceRun struct {
	s     *Session
	log   *slog.Logger
	rand  io.Reader
	proto lds.Protocol
	oid   asn1.ObjectIdentifier
	d     pace.Domain
	c     smcrypto.Cipher
	pw    Password

	// pkMapIC is the chip's mapping public key (GM, CAM): CAM checks
	// CA_IC against it.
	pkMapIC []byte
}

func (r *paceRun) do(ctx context.Context) (*PACEResult, error) {
	kpi, err := r.pw.key(r.c)
	if err != nil {
		return nil, fmt.Errorf("reader: PACE: %w", err)
	}
	r.s.SetSecureMessaging(nil)
	if err := r.mseSetAT(ctx); err != nil {
		return nil, err
	}

	// GA1 (§4.4.3.1): the chip's encrypted nonce z.
	do, err := r.generalAuthenticate(ctx, 1, nil, true, 0x80)
	if err != nil {
		return nil, err
	}
	z := do[0x80]
	if z == nil {
		return nil, fmt.Errorf("%w: GA1: no encrypted nonce (80)", ErrPACEInvalidResponse)
	}
	sNonce, err := pace.DecryptNonce(r.c, kpi, z)
	if err != nil {
		return nil, fmt.Errorf("%w: GA1: %w", ErrPACEInvalidResponse, err)
	}

	// GA2: the mapping to the ephemeral generator.
	var gen []byte
	switch r.proto.Mapping() {
	case lds.MappingGM, lds.MappingCAM:
		gen, err = r.mapGeneric(ctx, sNonce)
	case lds.MappingIM:
		gen, err = r.mapIntegrated(ctx, sNonce)
	default:
		err = fmt.Errorf("%w: mapping of %v", ErrPACEUnsupported, r.proto)
	}
	if err != nil {
		return nil, err
	}

	// GA3 (§4.4.3.4): the ephemeral key agreement on the mapped generator.
	sk, pk, err := r.d.GenerateKey(r.rand, gen)
	if err != nil {
		return nil, fmt.Errorf("reader: PACE: ephemeral key: %w", err)
	}
	do, err = r.generalAuthenticate(ctx, 3, paceDO(0x83, pk), true, 0x84)
	if err != nil {
		return nil, err
	}
	pkIC := do[0x84]
	if err := r.checkPeerKey("GA3", pkIC, pk); err != nil {
		return nil, err
	}
	k, err := r.d.SharedSecret(sk, pkIC)
	if err != nil {
		return nil, fmt.Errorf("%w: GA3: PK_IC: %w", ErrPACEInvalidResponse, err)
	}
	ksenc, ksmac, err := pace.SessionKeys(r.c, k)
	if err != nil {
		return nil, fmt.Errorf("reader: PACE: %w", err)
	}

	// GA4: mutual authentication by tokens over each other's ephemeral key.
	tIFD, err := pace.Token(r.c, ksmac, r.oid, pkIC, r.d.KeyAgreement())
	if err != nil {
		return nil, fmt.Errorf("reader: PACE: %w", err)
	}
	do, err = r.generalAuthenticate(ctx, 4, paceDO(0x85, tIFD), false, 0x86, 0x87, 0x88, 0x8A)
	if err != nil {
		return nil, err
	}
	if do[0x86] == nil {
		return nil, fmt.Errorf("%w: GA4: no authentication token (86)", ErrPACEInvalidResponse)
	}
	if err := pace.VerifyToken(r.c, ksmac, r.oid, pk, r.d.KeyAgreement(), do[0x86]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPACEFailed, ErrPACETokenMismatch)
	}
	res := &PACEResult{
		Protocol:      r.proto,
		OID:           r.proto.OID(),
		Mapping:       r.proto.Mapping(),
		KeyAgreement:  r.proto.KeyAgreement(),
		Domain:        r.d.Name(),
		Cipher:        r.c,
		ParameterID:   r.d.ParameterID(),
		Password:      r.pw.Type,
		ChipPublicKey: bytes.Clone(pkIC),
		CAM:           CAMNotDone,
		CAMReason:     CAMReasonNotCAM,
		domain:        r.d,
	}
	for _, tag := range []byte{0x87, 0x88} {
		if car := do[tag]; car != nil {
			res.CARs = append(res.CARs, string(car))
		}
	}

	// §4.4.3.4 / §9.8.2: secure messaging with the session keys, SSC 0.
	sm, err := NewSM(r.c, ksenc, ksmac, make([]byte, r.c.BlockSize()))
	if err != nil {
		return nil, fmt.Errorf("reader: PACE: %w", err)
	}
	r.s.SetSecureMessaging(sm)
	r.log.Debug("pace established", "protocol", r.proto.String(), "cars", len(res.CARs))

	if r.proto.Mapping() == lds.MappingCAM {
		if err := r.chipAuthenticationMapping(ctx, res, ksenc, do[0x8A]); err != nil {
			return res, err
		}
	}
	return res, nil
}

// mseSetAT selects the protocol, password and domain (§4.4.4.1).
func (r *paceRun) mseSetAT(ctx context.Context) error {
	oidContent, err := oidBytes(r.oid)
	if err != nil {
		return fmt.Errorf("reader: PACE: %w", err)
	}
	var data []byte
	data = append(data, paceDO(0x80, oidContent)...)
	data = append(data, paceDO(0x83, []byte{byte(r.pw.Type)})...)
	data = append(data, paceDO(0x84, []byte{byte(r.d.ParameterID())})...)
	resp, err := r.s.Transmit(ctx, Command{CLA: 0x00, INS: insManageSecEnv, P1: 0xC1, P2: 0xA4, Data: data})
	if err != nil {
		return fmt.Errorf("reader: PACE MSE:Set AT: %w", err)
	}
	sw := resp.SW
	switch {
	case sw == SWSuccess:
	case sw&0xFFF0 == 0x63C0 && sw != 0x63C0:
		// TR-03110-3 B.1: a retry counter warning (PIN-like passwords);
		// processing goes on.
		r.log.Debug("pace MSE:Set AT warning", "sw", sw.String())
	case sw == 0x6A80 || sw == 0x6A81 || sw == 0x6A86 || sw == 0x6A88 || sw == 0x6D00 || sw == 0x6E00:
		return fmt.Errorf("%w: %w", ErrPACEUnsupported, &SWError{Cmd: "MSE:Set AT", SW: sw})
	default:
		return fmt.Errorf("%w: %w", ErrPACEFailed, &SWError{Cmd: "MSE:Set AT", SW: sw})
	}
	if len(resp.Data) != 0 {
		return fmt.Errorf("%w: MSE:Set AT answered with data", ErrPACEInvalidResponse)
	}
	return nil
}

// maxGAObject bounds one data object in a General Authenticate answer: a
// P-521 point is 133 bytes, a 2048-bit DH value 256, A_IC at most 80.
const maxGAObject = 1024

// generalAuthenticate sends GA step n with the data objects in body
// wrapped in 7C, chained (CLA 10) when more follows, and returns the data
// objects of the answer among want. An answer must be 9000 with one 7C
// and nothing after it; inside, each object at most once. Objects not in
// want are ignored (lenient parse), which never skips a check: everything
// the protocol needs is looked up and checked by the caller.
func (r *paceRun) generalAuthenticate(ctx context.Context, n int, body []byte, chained bool, want ...byte) (map[byte][]byte, error) {
	cla := byte(0x00)
	if chained {
		cla = 0x10
	}
	data := paceDO(0x7C, body)
	ne := MaxShortNe
	if len(data) > MaxShortNc || r.d.ElementLen()+8 > MaxShortNe {
		// DH-2048 values do not fit a short APDU either way.
		ne = MaxExtendedNe
	}
	name := fmt.Sprintf("GENERAL AUTHENTICATE %d", n)
	resp, err := r.s.Transmit(ctx, Command{CLA: cla, INS: insGeneralAuth, Data: data, Ne: ne})
	if err != nil {
		return nil, fmt.Errorf("reader: PACE %s: %w", name, err)
	}
	r.log.Debug("pace", "step", n, "sw", resp.SW.String(), "len", len(resp.Data))
	if resp.SW != SWSuccess {
		return nil, fmt.Errorf("%w: %w", ErrPACEFailed, &SWError{Cmd: name, SW: resp.SW})
	}
	do, err := parseDynamicAuthData(resp.Data, want)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrPACEInvalidResponse, name, err)
	}
	return do, nil
}

// errGAData is the cause of a malformed 7C answer.
var errGAData = errors.New("malformed dynamic authentication data")

// parseDynamicAuthData parses 7C { tag value ... } (9303-11 §4.4.4.2). An
// empty answer (no 7C at all) is taken as 7C00, which some chips send for
// IM's GA2.
func parseDynamicAuthData(b []byte, want []byte) (map[byte][]byte, error) {
	out := make(map[byte][]byte, len(want))
	if len(b) == 0 {
		return out, nil
	}
	in := cryptobyte.String(b)
	var inner cryptobyte.String
	if !in.ReadASN1(&inner, cbasn1.Tag(0x7C)) {
		return nil, fmt.Errorf("%w: not one 7C object", errGAData)
	}
	if !in.Empty() {
		return nil, fmt.Errorf("%w: %d bytes after 7C", errGAData, len(in))
	}
	seen := make(map[byte]bool)
	for !inner.Empty() {
		var v cryptobyte.String
		var tag cbasn1.Tag
		if !inner.ReadAnyASN1(&v, &tag) {
			return nil, fmt.Errorf("%w: truncated data object", errGAData)
		}
		t := byte(tag)
		if seen[t] {
			return nil, fmt.Errorf("%w: data object %02X twice", errGAData, t)
		}
		seen[t] = true
		if len(v) > maxGAObject {
			return nil, fmt.Errorf("%w: data object %02X of %d bytes", errGAData, t, len(v))
		}
		if bytes.IndexByte(want, t) >= 0 {
			out[t] = bytes.Clone(v)
		}
	}
	return out, nil
}

// checkPeerKey checks a public key from the chip: present, of the fixed
// length, valid in the domain (ValidatePublic: on the curve and not O; for
// DH 1 < y < p-1 and in the order-q subgroup) and not an echo of the
// terminal's own (§4.4.3.4: the terminal SHALL check PK_IC ≠ PK_IFD).
func (r *paceRun) checkPeerKey(step string, peer, own []byte) error {
	if peer == nil {
		return fmt.Errorf("%w: %s: no public key", ErrPACEInvalidResponse, step)
	}
	if len(peer) != r.d.ElementLen() {
		return fmt.Errorf("%w: %s: public key of %d bytes, want %d", ErrPACEInvalidResponse, step, len(peer), r.d.ElementLen())
	}
	if bytes.Equal(peer, own) {
		return fmt.Errorf("%w: %s: the chip's public key equals the terminal's", ErrPACEInvalidResponse, step)
	}
	if err := r.d.ValidatePublic(peer); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrPACEInvalidResponse, step, err)
	}
	return nil
}

// tlv encodes one BER-TLV data object with a one-byte tag and a DER
// length (the forms 9303-11's examples use: 7C0A, 7C43, 7C818381 8180).
func paceDO(tag byte, v []byte) []byte {
	out := []byte{tag}
	switch n := len(v); {
	case n < 0x80:
		out = append(out, byte(n))
	case n <= 0xFF:
		out = append(out, 0x81, byte(n))
	default:
		out = append(out, 0x82, byte(n>>8), byte(n))
	}
	return append(out, v...)
}

// oidBytes returns the content octets of an OID's DER encoding: the value
// of MSE:Set AT's tag 80.
func oidBytes(oid asn1.ObjectIdentifier) ([]byte, error) {
	der, err := asn1.Marshal(oid)
	if err != nil {
		return nil, err
	}
	in := cryptobyte.String(der)
	var content cryptobyte.String
	if !in.ReadASN1(&content, cbasn1.OBJECT_IDENTIFIER) {
		return nil, errors.New("OID encoding")
	}
	return content, nil
}

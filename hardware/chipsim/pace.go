package chipsim

// PACE, card side: ICAO 9303-11 §4.4 (protocol), §4.4.4 (APDUs), §9.2.1
// (PACEInfo) and §9.5.1 (standardized domain parameters), for the generic
// mapping (pace_gm.go), the integrated mapping (pace_im.go) and the chip
// authentication mapping (pace_cam.go), over ECDH and DH.
//
// The conversation:
//
//	MSE:Set AT   00 22 C1A4  80 OID, 83 password reference, [84 parameter id]
//	GA 1         10 86 0000  7C00                 → 7C{80 z = E(Kπ, s)}
//	GA 2 (GM)    10 86 0000  7C{81 PK_map,IFD}    → 7C{82 PK_map,IC}
//	GA 2 (IM)    10 86 0000  7C{81 t}             → 7C00
//	GA 3         10 86 0000  7C{83 PK_IFD}        → 7C{84 PK_IC}
//	GA 4         00 86 0000  7C{85 T_IFD}         → 7C{86 T_IC, [87 CAR, 88 CAR], [8A A_IC]}
//
// after which secure messaging starts with KSenc, KSmac from K and an SSC of
// zero (9303-11 §9.8.2). Which PACEInfos the chip offers is read from its
// EF.CardAccess; an entry this chip cannot run (a parameter id that is not
// standardized, a key agreement that does not match the domain, explicit
// domain parameters) is served in the file but refused by MSE:Set AT.
//
// Refusals: MSE:Set AT answers 6A80 for an OID the chip does not offer, a
// password it does not have, a parameter id that does not match (or is
// missing while the OID is offered with several) and any other malformed
// data; a GENERAL AUTHENTICATE without a preceding MSE:Set AT, or after the
// protocol ended, is 6985; malformed dynamic authentication data or an
// invalid public key is 6A80; a wrong T_IFD (the terminal used another
// password, or was not there) is 6300. Every refusal of a GENERAL
// AUTHENTICATE aborts the run: the terminal starts again with MSE:Set AT,
// and a new nonce is drawn. A wrong password shows only at step 4, as a
// token mismatch, so the chip leaks nothing else about it.
//
// Chaining (ISO/IEC 7816-4 §5.4.1): steps 1 to 3 must come with CLA 10
// ("more commands follow") and step 4 with CLA 00, the framing 9303-11
// §4.4.4 gives and App. G prints; a step 4 with CLA 10 is 6883 and a step 1-3 with CLA 00 is
// 6985, both aborting the run. CLA 10 with any other INS is 6884.
//
// The order in which the chip draws randomness (WithRand) is fixed, so that
// tests can replay the worked examples: s at step 1, SK_map,IC at step 2
// (GM and CAM), SK_IC at step 3.
//
// Written from the standards, independently of the terminal side in package
// reader; the arithmetic (Kπ, nonce encryption, mappings, tokens, session
// keys, CAM data) is internal/pace's, pinned to App. G and H.
//
// Not implemented: PACE with PIN or PUK (password references 03, 04), explicit
// domain parameters (PACEDomainParameterInfo), CHAT-based access rights
// (a 7F4C in MSE:Set AT is accepted and ignored), and PACE under an existing
// secure messaging session (answered 6985: PACE runs in clear).

import (
	"bytes"
	"encoding/asn1"
	"fmt"
	"io"

	"borderid/internal/pace"
	"borderid/internal/smcrypto"
	"borderid/reader/lds"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Instructions and class byte of PACE (9303-11 §4.4.4).
const (
	insManageSE            instruction = 0x22 // MANAGE SECURITY ENVIRONMENT, ISO/IEC 7816-4 §11.5.11
	insGeneralAuthenticate instruction = 0x86 // GENERAL AUTHENTICATE, ISO/IEC 7816-4 §11.5.5

	// claChain is CLA 10: command chaining, "not the last command of a
	// chain" (ISO/IEC 7816-4 §5.4.1).
	claChain byte = 0x10
)

// Status words of chaining (ISO/IEC 7816-4 §5.6, Table 6).
const (
	swLastCommandExpected  statusWord = 0x6883
	swChainingNotSupported statusWord = 0x6884
)

// Data object tags of MSE:Set AT and the dynamic authentication data
// (9303-11 §4.4.4.1, §4.4.4.2).
const (
	tagPACEOID      tag = 0x80   // MSE: protocol OID (content octets); GA1 response: z
	tagPACEPassword tag = 0x83   // MSE: password reference
	tagPACEParamID  tag = 0x84   // MSE: domain parameter id
	tagCHAT         tag = 0x7F4C // MSE: certificate holder authorization template
	tagDynAuth      tag = 0x7C   // GA: dynamic authentication data
	tagMappingIFD   tag = 0x81   // GA2: PK_map,IFD (GM) or t (IM)
	tagMappingIC    tag = 0x82   // GA2 response: PK_map,IC (GM)
	tagEphemeralIFD tag = 0x83   // GA3: PK_IFD
	tagEphemeralIC  tag = 0x84   // GA3 response: PK_IC
	tagTokenIFD     tag = 0x85   // GA4: T_IFD
	tagTokenIC      tag = 0x86   // GA4 response: T_IC
	tagCAR1         tag = 0x87   // GA4 response: most recent CVCA reference
	tagCAR2         tag = 0x88   // GA4 response: previous CVCA reference
	tagEncryptedCAM tag = 0x8A   // GA4 response: A_IC (PACE-CAM)
)

// Limits of the PACE commands.
const (
	maxPACEMSEData       = 0xFF // MSE:Set AT data is short (9303-11 §4.4.4.1)
	paceMSEDataMinLength = 6    // 80 01 xx 83 01 yy: the least that can name a protocol and a password
	maxCARLength         = 16   // TR-03110-3 A.6.1: a CAR is at most 16 characters
	paceVersion          = 2    // 9303-11 §9.2.1: PACEInfo version
	passwordRefLen       = 1    // DO83 holds one byte
	paceParamIDMaxValue  = 31   // §9.5.1: ids 0-31 (standardized and reserved)
	paceGAParamP1P2      = 0x0000
)

// PACEConfig is chip.json's "pace" object (docs/chip-identity.md). The
// PACE protocols themselves come from EF.CardAccess.
type PACEConfig struct {
	// BAC: whether the chip still answers Basic Access Control beside
	// PACE. nil means true. With false, GET CHALLENGE and EXTERNAL
	// AUTHENTICATE outside secure messaging are 6982, as on PACE-only
	// chips; EF.CardAccess must then offer a PACE the chip can run.
	BAC *bool `json:"bac,omitempty"`
}

func (p *PACEConfig) clone() *PACEConfig {
	if p == nil {
		return nil
	}
	c := *p
	if p.BAC != nil {
		b := *p.BAC
		c.BAC = &b
	}
	return &c
}

// bacAllowed resolves the default of BAC.
func (p *PACEConfig) bacAllowed() bool { return p == nil || p.BAC == nil || *p.BAC }

// passwordRef is the PACE password reference of MSE:Set AT (9303-11
// §4.4.4.1, §9.7.3).
type passwordRef byte

const (
	passwordMRZ passwordRef = 1
	passwordCAN passwordRef = 2
	passwordPIN passwordRef = 3
	passwordPUK passwordRef = 4
)

func (p passwordRef) String() string {
	switch p {
	case passwordMRZ:
		return "MRZ"
	case passwordCAN:
		return "CAN"
	case passwordPIN:
		return "PIN"
	case passwordPUK:
		return "PUK"
	}
	return fmt.Sprintf("password reference %02X", byte(p))
}

// paceOffer is one PACEInfo of EF.CardAccess that the chip can run.
type paceOffer struct {
	proto lds.Protocol
	oid   []byte // content octets of the OID, as DO80 of MSE:Set AT carries them
	d     pace.Domain
	ci    smcrypto.Cipher
}

// paceCard is what the chip knows about PACE, fixed at New.
type paceCard struct {
	offers  []paceOffer
	mrzInfo string   // 9303-11 §9.7.2, the MRZ password
	can     string   // "" when the chip has no CAN
	bac     bool     // BAC still allowed
	cars    [][]byte // EF.CVCA's references, for DO87/DO88 of GA4
}

// resolvePACE reads the PACE offers from EF.CardAccess and checks the
// configuration. A CardAccess that does not parse offers nothing (chips
// with broken files exist, and readers are tested against them); entries
// the chip cannot run are skipped. A CAN that is not six digits or BAC
// disabled without a PACE to run make the identity invalid (and checkCAM
// refuses PACE-CAM without a static key on its curve).
func resolvePACE(files map[string][]byte, cfg Config, mrzInfo string) (*paceCard, error) {
	pc := &paceCard{mrzInfo: mrzInfo, can: cfg.CAN, bac: cfg.PACE.bacAllowed()}
	if cfg.CAN != "" && !sixDigits(cfg.CAN) {
		return nil, fmt.Errorf("%w: can must be six digits", ErrInvalidIdentity)
	}
	if ca, ok := files["CardAccess"]; ok {
		if infos, err := lds.ParseCardAccess(ca); err == nil {
			for _, info := range infos.PACE {
				if o, ok := newPACEOffer(info); ok {
					pc.offers = append(pc.offers, o)
				}
			}
		}
	}
	if !pc.bac && len(pc.offers) == 0 {
		return nil, fmt.Errorf("%w: pace.bac is false but EF.CardAccess offers no PACE this chip can run", ErrInvalidIdentity)
	}
	if cv, ok := files["CVCA"]; ok {
		if c, err := lds.ParseCVCA(cv); err == nil {
			for _, car := range c.CARs {
				if len(car) > 0 && len(car) <= maxCARLength {
					pc.cars = append(pc.cars, []byte(car))
				}
			}
		}
	}
	return pc, nil
}

func sixDigits(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// newPACEOffer turns a PACEInfo into an offer, or false when the chip
// cannot run it: version 2, a cipher, a standardized parameter id whose key
// agreement matches the protocol's (9303-11 §9.2.1, §9.5.1).
func newPACEOffer(info lds.PACEInfo) (paceOffer, bool) {
	p := info.Protocol
	if !p.IsPACE() || p.Cipher() == 0 || info.Version != paceVersion || !info.ParameterID.Present {
		return paceOffer{}, false
	}
	d, err := pace.DomainByParameterID(info.ParameterID.Value)
	if err != nil {
		return paceOffer{}, false
	}
	switch {
	case p.KeyAgreement() == lds.KeyAgreementECDH && d.KeyAgreement() == pace.ECDH:
	case p.KeyAgreement() == lds.KeyAgreementDH && d.KeyAgreement() == pace.DH:
	default:
		return paceOffer{}, false
	}
	der, err := asn1.Marshal(p.OID())
	if err != nil {
		return paceOffer{}, false
	}
	s := cryptobyte.String(der)
	var content cryptobyte.String
	if !s.ReadASN1(&content, cbasn1.OBJECT_IDENTIFIER) {
		return paceOffer{}, false
	}
	return paceOffer{proto: p, oid: []byte(content), d: d, ci: p.Cipher()}, true
}

// paceStep is where a PACE run stands: the GENERAL AUTHENTICATE the chip
// expects next.
type paceStep int

const (
	paceExpectNonce     paceStep = iota + 1 // after MSE:Set AT: GA1, encrypted nonce
	paceExpectMapping                       // GA2, mapping
	paceExpectAgreement                     // GA3, key agreement
	paceExpectToken                         // GA4, mutual authentication
)

func (s paceStep) String() string {
	switch s {
	case paceExpectNonce:
		return "step 1 (encrypted nonce)"
	case paceExpectMapping:
		return "step 2 (mapping)"
	case paceExpectAgreement:
		return "step 3 (key agreement)"
	case paceExpectToken:
		return "step 4 (mutual authentication)"
	}
	return fmt.Sprintf("paceStep(%d)", int(s))
}

// paceState is a PACE run in progress; the chip forgets it at power-off.
type paceState struct {
	step  paceStep
	offer paceOffer
	kpi   []byte // Kπ
	s     []byte // the nonce
	// GM and CAM: the chip's mapping key pair and the terminal's key.
	skMap, pkMap, pkMapIFD []byte
	gen                    []byte // the mapped generator Ĝ / ĝ
	skIC, pkIC, pkIFD      []byte // ephemeral key agreement
	ksenc, ksmac           []byte
}

// wipe overwrites the run's secrets (best effort: the GC may have copies).
func (st *paceState) wipe() {
	for _, b := range [][]byte{st.kpi, st.s, st.skMap, st.skIC, st.ksenc, st.ksmac} {
		clear(b)
	}
}

// abortPACE ends a PACE run.
func (c *Chip) abortPACE() {
	if c.st.pace != nil {
		c.st.pace.wipe()
		c.st.pace = nil
	}
}

// paceSetAT is MSE:Set AT for PACE (9303-11 §4.4.4.1): it selects the
// protocol, the password and the domain parameters of the run that
// follows. Any run in progress ends.
func (c *Chip) paceSetAT(cmd command) result {
	c.abortPACE()
	if c.st.sess != nil {
		return status(swConditionsOfUse)
	}
	if len(cmd.data) < paceMSEDataMinLength || len(cmd.data) > maxPACEMSEData {
		return status(swWrongData)
	}
	var oid, ref, param []byte
	var haveOID, haveRef, haveParam, haveCHAT bool
	rest := cmd.data
	for len(rest) > 0 {
		t, v, r, ok := readTLV(rest)
		if !ok {
			return status(swWrongData)
		}
		var seen *bool
		switch t {
		case tagPACEOID:
			oid, seen = v, &haveOID
		case tagPACEPassword:
			ref, seen = v, &haveRef
		case tagPACEParamID:
			param, seen = v, &haveParam
		case tagCHAT:
			seen = &haveCHAT
		default:
			return status(swWrongData)
		}
		if *seen {
			return status(swWrongData) // each object at most once
		}
		*seen = true
		rest = r
	}
	if !haveOID || !haveRef || len(ref) != passwordRefLen {
		return status(swWrongData)
	}
	paramID := -1
	if haveParam {
		// A one-byte integer: the standardized ids are 0-31 (§9.5.1).
		if len(param) != 1 || param[0] > paceParamIDMaxValue {
			return status(swWrongData)
		}
		paramID = int(param[0])
	}
	var match []paceOffer
	for _, o := range c.pace.offers {
		if bytes.Equal(o.oid, oid) && (paramID < 0 || o.d.ParameterID() == paramID) {
			match = append(match, o)
		}
	}
	// Without DO84 the OID must name exactly one offer; with it, the
	// pair must be one the chip offers.
	if len(match) != 1 {
		return status(swWrongData)
	}
	o := match[0]
	kpi, err := c.pace.passwordKey(passwordRef(ref[0]), o.ci)
	if err != nil {
		return status(swWrongData)
	}
	c.st.pace = &paceState{step: paceExpectNonce, offer: o, kpi: kpi}
	return status(swOK)
}

// passwordKey derives Kπ for the referenced password (9303-11 §9.7.3).
func (pc *paceCard) passwordKey(ref passwordRef, ci smcrypto.Cipher) ([]byte, error) {
	switch ref {
	case passwordMRZ:
		return pace.KeyFromMRZ(pc.mrzInfo, ci)
	case passwordCAN:
		if pc.can == "" {
			return nil, fmt.Errorf("chipsim: no CAN")
		}
		return pace.KeyFromCAN(pc.can, ci)
	}
	return nil, fmt.Errorf("chipsim: PACE with %v is not implemented", ref)
}

// generalAuthenticate is GENERAL AUTHENTICATE for PACE (9303-11 §4.4.4.2).
// Any refusal ends the run.
func (c *Chip) generalAuthenticate(cmd command) result {
	st := c.st.pace
	if st == nil || c.st.sess != nil {
		return status(swConditionsOfUse)
	}
	r := c.paceStep(st, cmd)
	if r.sw != swOK {
		c.abortPACE()
	}
	return r
}

func (c *Chip) paceStep(st *paceState, cmd command) result {
	if uint16(cmd.p1)<<8|uint16(cmd.p2) != paceGAParamP1P2 {
		return status(swWrongP1P2)
	}
	last := st.step == paceExpectToken
	switch {
	case last && cmd.cla == claChain:
		return status(swLastCommandExpected)
	case !last && cmd.cla != claChain:
		return status(swConditionsOfUse)
	}
	if cmd.data == nil || cmd.ne == 0 {
		return status(swWrongLength) // case 4: data and Le
	}
	var want tag
	switch st.step {
	case paceExpectMapping:
		want = tagMappingIFD
	case paceExpectAgreement:
		want = tagEphemeralIFD
	case paceExpectToken:
		want = tagTokenIFD
	}
	v, ok := dynamicAuthData(cmd.data, want)
	if !ok {
		return status(swWrongData)
	}
	var r result
	switch st.step {
	case paceExpectNonce:
		r = c.paceNonce(st)
	case paceExpectMapping:
		if st.offer.proto.Mapping() == lds.MappingIM {
			r = c.paceMapIntegrated(st, v)
		} else {
			r = c.paceMapGeneric(st, v) // GM and CAM map alike (§4.4.3.5)
		}
	case paceExpectAgreement:
		r = c.paceAgree(st, v)
	case paceExpectToken:
		r = c.paceAuthenticate(st, v)
	default:
		return status(swConditionsOfUse)
	}
	if r.sw == swOK && len(r.data) > cmd.ne {
		return status(swWrongLength)
	}
	return r
}

// dynamicAuthData reads the command's 7C template. With want 0 it must be
// empty (step 1); otherwise it must hold exactly one non-empty object with
// tag want. Nothing may follow the template.
func dynamicAuthData(data []byte, want tag) ([]byte, bool) {
	t, inner, rest, ok := readTLV(data)
	if !ok || t != tagDynAuth || len(rest) != 0 {
		return nil, false
	}
	if want == 0 {
		return nil, len(inner) == 0
	}
	t, v, rest, ok := readTLV(inner)
	if !ok || t != want || len(rest) != 0 || len(v) == 0 {
		return nil, false
	}
	return v, true
}

// dynAuthResponse wraps response objects in 7C.
func dynAuthResponse(objs ...[]byte) []byte {
	return appendTLV(nil, tagDynAuth, bytes.Join(objs, nil))
}

// nonceLen is the length of s: one block, or as many blocks as a key needs,
// because the integrated mapping encrypts s under t and takes a key from
// the result (9303-11 §4.4.3.3.2): 16 bytes for 3DES and AES-128, 32 for
// AES-192 and AES-256.
func nonceLen(ci smcrypto.Cipher) int {
	bs, ks := ci.BlockSize(), ci.KeySize()
	return (max(bs, ks) + bs - 1) / bs * bs
}

// paceNonce is step 1 (§4.4.3.1): a random s, sent as z = E(Kπ, s).
func (c *Chip) paceNonce(st *paceState) result {
	st.s = make([]byte, nonceLen(st.offer.ci))
	if _, err := io.ReadFull(c.rand, st.s); err != nil {
		return status(swNoDiagnosis)
	}
	z, err := pace.EncryptNonce(st.offer.ci, st.kpi, st.s)
	if err != nil {
		return status(swNoDiagnosis)
	}
	st.step = paceExpectMapping
	return result{data: dynAuthResponse(appendTLV(nil, tagPACEOID, z)), sw: swOK}
}

// paceAgree is step 3 (§4.4.3.4, first half): the ephemeral key agreement
// on the mapped generator. The terminal's key is validated (on the curve
// and not the point at infinity; 1 < y < p-1 and y^q = 1 for DH), must
// differ from the chip's, and K gives the session keys.
func (c *Chip) paceAgree(st *paceState, pkIFD []byte) result {
	d := st.offer.d
	if d.ValidatePublic(pkIFD) != nil {
		return status(swWrongData)
	}
	sk, pk, err := d.GenerateKey(c.rand, st.gen)
	if err != nil {
		return status(swNoDiagnosis)
	}
	st.skIC, st.pkIC = sk, pk
	if bytes.Equal(pk, pkIFD) {
		return status(swWrongData)
	}
	k, err := d.SharedSecret(sk, pkIFD)
	if err != nil {
		return status(swWrongData)
	}
	st.ksenc, st.ksmac, err = pace.SessionKeys(st.offer.ci, k)
	clear(k)
	if err != nil {
		return status(swNoDiagnosis)
	}
	st.pkIFD = bytes.Clone(pkIFD)
	st.step = paceExpectToken
	return result{data: dynAuthResponse(appendTLV(nil, tagEphemeralIC, pk)), sw: swOK}
}

// paceAuthenticate is step 4 (§4.4.3.4, second half): the terminal's token
// T_IFD over PK_IC must verify (else 6300: wrong password, or no terminal
// at all); the chip answers T_IC over PK_IFD, the CVCA references it
// trusts, and for PACE-CAM its encrypted chip authentication data; secure
// messaging starts with the session keys and an SSC of zero (§9.8.2).
func (c *Chip) paceAuthenticate(st *paceState, tIFD []byte) result {
	o := st.offer
	oid := o.proto.OID()
	ka := o.d.KeyAgreement()
	if pace.VerifyToken(o.ci, st.ksmac, oid, st.pkIC, ka, tIFD) != nil {
		return status(swVerifyFailed)
	}
	tIC, err := pace.Token(o.ci, st.ksmac, oid, st.pkIFD, ka)
	if err != nil {
		return status(swNoDiagnosis)
	}
	objs := [][]byte{appendTLV(nil, tagTokenIC, tIC)}
	for i, car := range c.pace.cars[:min(len(c.pace.cars), 2)] {
		objs = append(objs, appendTLV(nil, []tag{tagCAR1, tagCAR2}[i], car))
	}
	if o.proto.Mapping() == lds.MappingCAM {
		a, err := c.camData(st)
		if err != nil {
			return status(swNoDiagnosis)
		}
		objs = append(objs, appendTLV(nil, tagEncryptedCAM, a))
	}
	sess, err := newSession(o.ci, st.ksenc, st.ksmac, make([]byte, o.ci.BlockSize()))
	if err != nil {
		return status(swNoDiagnosis)
	}
	// ID_IC of Terminal Authentication is Comp(PK_IC) (ta.go).
	comp, err := o.d.Comp(st.pkIC)
	if err != nil {
		return status(swNoDiagnosis)
	}
	// The response goes out in clear (the command came in clear); every
	// command after it must be protected.
	c.abortPACE()
	c.st.sess = sess
	c.accessControl(comp)
	return result{data: dynAuthResponse(objs...), sw: swOK}
}

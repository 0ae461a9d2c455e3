package lds

// SecurityInfos (ICAO 9303-11 §9.2; BSI TR-03110-3 A.1.1): the SET OF
// SecurityInfo a chip publishes to announce PACE (EF.CardAccess), chip
// authentication and terminal authentication (DG14, EF.CardSecurity) and
// active authentication with ECDSA (DG14).
//
//	SecurityInfos ::= SET OF SecurityInfo
//	SecurityInfo ::= SEQUENCE { protocol OBJECT IDENTIFIER,
//	                            requiredData ANY DEFINED BY protocol,
//	                            optionalData ANY DEFINED BY protocol OPTIONAL }
//
// Entries are sorted by kind into typed slices; an entry whose OID this
// package does not know is kept raw in Unknown and is never an error (the
// list grows with every new protocol). A known OID with a malformed body is
// an error. The reader chooses what to run from these; it never trusts DG14
// before passive authentication, nor EF.CardSecurity before its signature is
// checked, which package verify does.

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"time"

	"borderid/internal/cms"
	"borderid/internal/smcrypto"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// DG14Tag is the tag of DG14 (9303-10 §4.7.14).
const DG14Tag Tag = 0x6E

// SecurityInfosMaxSize bounds EF.CardAccess, DG14 and EF.CardSecurity.
// Real ones are below 4 KiB (DG14 with DH keys near 2 KiB).
const SecurityInfosMaxSize = 64 << 10

// securityInfosMaxEntries bounds the number of SecurityInfo in one set.
const securityInfosMaxEntries = 64

// ErrSecurityInfo reports malformed SecurityInfos.
var ErrSecurityInfo = errors.New("lds: malformed SecurityInfos")

// Protocol is a SecurityInfo protocol OID this package knows. The low byte
// is the cipher arc (1 3DES, 2 AES-128, 3 AES-192, 4 AES-256, 0 none) and
// the high byte the family, so that the OID is computed, not tabled.
type Protocol uint16

// Protocol families (high byte of Protocol) and their OID arcs under
// bsi-de 0.4.0.127.0.7.2.2 (TR-03110-3 A.1.1) or icao-mrtd-security.
const (
	protoFamPACEDHGM    = 0x01 // id-PACE 0.4.0.127.0.7.2.2.4 .1
	protoFamPACEECDHGM  = 0x02 // .2
	protoFamPACEDHIM    = 0x03 // .3
	protoFamPACEECDHIM  = 0x04 // .4
	protoFamPACEECDHCAM = 0x06 // .6 (9303-11 §9.2.3; no 3DES)
	protoFamCADH        = 0x11 // id-CA 0.4.0.127.0.7.2.2.3 .1
	protoFamCAECDH      = 0x12 // .2
	protoFamPKDH        = 0x21 // id-PK 0.4.0.127.0.7.2.2.1 .1
	protoFamPKECDH      = 0x22 // .2
	protoFamTA          = 0x30 // id-TA 0.4.0.127.0.7.2.2.2
	protoFamAA          = 0x40 // id-icao-mrtd-security-aaProtocolObject 2.23.136.1.1.5
)

// The protocols. PACE and CA protocols with a cipher identify a
// PACEInfo / ChipAuthenticationInfo; those without (PACEDHGM, CADH, ...)
// identify the matching DomainParameterInfo.
const (
	PACEDHGM3DES   Protocol = protoFamPACEDHGM<<8 | 1
	PACEDHGMAES128 Protocol = protoFamPACEDHGM<<8 | 2
	PACEDHGMAES192 Protocol = protoFamPACEDHGM<<8 | 3
	PACEDHGMAES256 Protocol = protoFamPACEDHGM<<8 | 4

	PACEECDHGM3DES   Protocol = protoFamPACEECDHGM<<8 | 1
	PACEECDHGMAES128 Protocol = protoFamPACEECDHGM<<8 | 2
	PACEECDHGMAES192 Protocol = protoFamPACEECDHGM<<8 | 3
	PACEECDHGMAES256 Protocol = protoFamPACEECDHGM<<8 | 4

	PACEDHIM3DES   Protocol = protoFamPACEDHIM<<8 | 1
	PACEDHIMAES128 Protocol = protoFamPACEDHIM<<8 | 2
	PACEDHIMAES192 Protocol = protoFamPACEDHIM<<8 | 3
	PACEDHIMAES256 Protocol = protoFamPACEDHIM<<8 | 4

	PACEECDHIM3DES   Protocol = protoFamPACEECDHIM<<8 | 1
	PACEECDHIMAES128 Protocol = protoFamPACEECDHIM<<8 | 2
	PACEECDHIMAES192 Protocol = protoFamPACEECDHIM<<8 | 3
	PACEECDHIMAES256 Protocol = protoFamPACEECDHIM<<8 | 4

	PACEECDHCAMAES128 Protocol = protoFamPACEECDHCAM<<8 | 2
	PACEECDHCAMAES192 Protocol = protoFamPACEECDHCAM<<8 | 3
	PACEECDHCAMAES256 Protocol = protoFamPACEECDHCAM<<8 | 4

	CADH3DES   Protocol = protoFamCADH<<8 | 1
	CADHAES128 Protocol = protoFamCADH<<8 | 2
	CADHAES192 Protocol = protoFamCADH<<8 | 3
	CADHAES256 Protocol = protoFamCADH<<8 | 4

	CAECDH3DES   Protocol = protoFamCAECDH<<8 | 1
	CAECDHAES128 Protocol = protoFamCAECDH<<8 | 2
	CAECDHAES192 Protocol = protoFamCAECDH<<8 | 3
	CAECDHAES256 Protocol = protoFamCAECDH<<8 | 4

	// Domain parameter protocols (no cipher arc).
	PACEDHGM    Protocol = protoFamPACEDHGM << 8
	PACEECDHGM  Protocol = protoFamPACEECDHGM << 8
	PACEDHIM    Protocol = protoFamPACEDHIM << 8
	PACEECDHIM  Protocol = protoFamPACEECDHIM << 8
	PACEECDHCAM Protocol = protoFamPACEECDHCAM << 8
	CADH        Protocol = protoFamCADH << 8
	CAECDH      Protocol = protoFamCAECDH << 8

	PKDH       Protocol = protoFamPKDH << 8   // id-PK-DH
	PKECDH     Protocol = protoFamPKECDH << 8 // id-PK-ECDH
	ProtocolTA Protocol = protoFamTA << 8     // id-TA
	ProtocolAA Protocol = protoFamAA << 8     // id-icao-mrtd-security-aaProtocolObject
)

func (p Protocol) family() int    { return int(p >> 8) }
func (p Protocol) cipherArc() int { return int(p & 0xff) }

// Valid reports whether p is one of the constants above.
func (p Protocol) Valid() bool {
	f, c := p.family(), p.cipherArc()
	switch f {
	case protoFamPACEDHGM, protoFamPACEECDHGM, protoFamPACEDHIM, protoFamPACEECDHIM, protoFamCADH, protoFamCAECDH:
		return c <= 4
	case protoFamPACEECDHCAM:
		return c == 0 || (c >= 2 && c <= 4)
	case protoFamPKDH, protoFamPKECDH, protoFamTA, protoFamAA:
		return c == 0
	}
	return false
}

// OID returns the protocol's object identifier (a new slice each call).
func (p Protocol) OID() asn1.ObjectIdentifier {
	if !p.Valid() {
		return nil
	}
	bsi := asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2}
	var oid asn1.ObjectIdentifier
	f := p.family()
	switch {
	case f < 0x10:
		oid = append(bsi, 4, f)
	case f < 0x20:
		oid = append(bsi, 3, f-0x10)
	case f < 0x30:
		oid = append(bsi, 1, f-0x20)
	case f == protoFamTA:
		return append(bsi, 2)
	default:
		return asn1.ObjectIdentifier{2, 23, 136, 1, 1, 5}
	}
	if c := p.cipherArc(); c != 0 {
		oid = append(oid, c)
	}
	return oid
}

// ProtocolForOID returns the Protocol an OID names, or false.
func ProtocolForOID(oid asn1.ObjectIdentifier) (Protocol, bool) {
	if oid.Equal(asn1.ObjectIdentifier{2, 23, 136, 1, 1, 5}) {
		return ProtocolAA, true
	}
	bsi := asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2}
	if len(oid) < len(bsi)+1 || !slices.Equal(oid[:len(bsi)], bsi) {
		return 0, false
	}
	rest := oid[len(bsi):]
	var base int
	switch rest[0] {
	case 4:
		base = 0
	case 3:
		base = 0x10
	case 1:
		base = 0x20
	case 2:
		if len(rest) == 1 {
			return ProtocolTA, true
		}
		return 0, false
	default:
		return 0, false
	}
	if len(rest) < 2 || len(rest) > 3 || rest[1] < 1 || rest[1] > 6 {
		return 0, false
	}
	p := Protocol((base + rest[1]) << 8)
	if len(rest) == 3 {
		if rest[2] < 1 || rest[2] > 4 {
			return 0, false
		}
		p |= Protocol(rest[2])
	}
	if !p.Valid() {
		return 0, false
	}
	return p, true
}

// String returns the protocol's ASN.1 name, e.g.
// "id-PACE-ECDH-GM-AES-CBC-CMAC-128".
func (p Protocol) String() string {
	if !p.Valid() {
		return fmt.Sprintf("Protocol(%#04x)", uint16(p))
	}
	var name string
	switch p.family() {
	case protoFamPACEDHGM:
		name = "id-PACE-DH-GM"
	case protoFamPACEECDHGM:
		name = "id-PACE-ECDH-GM"
	case protoFamPACEDHIM:
		name = "id-PACE-DH-IM"
	case protoFamPACEECDHIM:
		name = "id-PACE-ECDH-IM"
	case protoFamPACEECDHCAM:
		name = "id-PACE-ECDH-CAM"
	case protoFamCADH:
		name = "id-CA-DH"
	case protoFamCAECDH:
		name = "id-CA-ECDH"
	case protoFamPKDH:
		return "id-PK-DH"
	case protoFamPKECDH:
		return "id-PK-ECDH"
	case protoFamTA:
		return "id-TA"
	case protoFamAA:
		return "id-icao-mrtd-security-aaProtocolObject"
	}
	switch p.cipherArc() {
	case 1:
		name += "-3DES-CBC-CBC"
	case 2:
		name += "-AES-CBC-CMAC-128"
	case 3:
		name += "-AES-CBC-CMAC-192"
	case 4:
		name += "-AES-CBC-CMAC-256"
	}
	return name
}

// IsPACE reports whether p is a PACE protocol (with or without cipher).
func (p Protocol) IsPACE() bool { return p.Valid() && p.family() < 0x10 }

// IsChipAuthentication reports whether p is an id-CA protocol.
func (p Protocol) IsChipAuthentication() bool {
	return p.Valid() && (p.family() == protoFamCADH || p.family() == protoFamCAECDH)
}

// Mapping is the PACE mapping (9303-11 §4.4.3.3).
type Mapping int

const (
	MappingNone Mapping = iota
	MappingGM           // generic mapping
	MappingIM           // integrated mapping
	MappingCAM          // chip authentication mapping
)

// String returns "GM", "IM" or "CAM" ("" for MappingNone).
func (m Mapping) String() string {
	switch m {
	case MappingNone:
		return ""
	case MappingGM:
		return "GM"
	case MappingIM:
		return "IM"
	case MappingCAM:
		return "CAM"
	}
	return fmt.Sprintf("Mapping(%d)", int(m))
}

// Mapping returns the PACE mapping of p, MappingNone for other protocols.
func (p Protocol) Mapping() Mapping {
	if !p.Valid() {
		return MappingNone
	}
	switch p.family() {
	case protoFamPACEDHGM, protoFamPACEECDHGM:
		return MappingGM
	case protoFamPACEDHIM, protoFamPACEECDHIM:
		return MappingIM
	case protoFamPACEECDHCAM:
		return MappingCAM
	}
	return MappingNone
}

// KeyAgreement is the key agreement of PACE or chip authentication.
type KeyAgreement int

const (
	KeyAgreementNone KeyAgreement = iota
	KeyAgreementDH                // finite-field Diffie-Hellman
	KeyAgreementECDH              // elliptic-curve Diffie-Hellman
)

// String returns "DH" or "ECDH", the report's access_params.key_agreement.
func (k KeyAgreement) String() string {
	switch k {
	case KeyAgreementNone:
		return ""
	case KeyAgreementDH:
		return "DH"
	case KeyAgreementECDH:
		return "ECDH"
	}
	return fmt.Sprintf("KeyAgreement(%d)", int(k))
}

// KeyAgreement returns DH or ECDH for PACE, CA and PK protocols.
func (p Protocol) KeyAgreement() KeyAgreement {
	if !p.Valid() {
		return KeyAgreementNone
	}
	switch p.family() {
	case protoFamPACEDHGM, protoFamPACEDHIM, protoFamCADH, protoFamPKDH:
		return KeyAgreementDH
	case protoFamPACEECDHGM, protoFamPACEECDHIM, protoFamPACEECDHCAM, protoFamCAECDH, protoFamPKECDH:
		return KeyAgreementECDH
	}
	return KeyAgreementNone
}

// Cipher returns the secure messaging cipher p selects, or 0 when p names
// none (domain parameter, PK, TA and AA protocols).
func (p Protocol) Cipher() smcrypto.Cipher {
	if !p.Valid() {
		return 0
	}
	switch p.cipherArc() {
	case 1:
		return smcrypto.TDES
	case 2:
		return smcrypto.AES128
	case 3:
		return smcrypto.AES192
	case 4:
		return smcrypto.AES256
	}
	return 0
}

// OptionalInt is an optional INTEGER field (parameterId, keyId).
type OptionalInt struct {
	Value   int
	Present bool
}

// PACEInfo announces one PACE configuration (9303-11 §9.2.1).
type PACEInfo struct {
	Raw      []byte
	Protocol Protocol
	Version  int // 2 for this version of PACE
	// ParameterID is a standardized domain parameter id (9303-11 §9.5.1,
	// e.g. 13 brainpoolP256r1) or a reference to a PACEDomainParameterInfo.
	ParameterID OptionalInt
}

// PACEDomainParameterInfo carries explicit PACE domain parameters
// (9303-11 §9.2.2).
type PACEDomainParameterInfo struct {
	Raw             []byte
	Protocol        Protocol // PACEDHGM, PACEECDHGM, ...
	DomainParameter cms.AlgorithmIdentifier
	ParameterID     OptionalInt
}

// ChipAuthenticationInfo announces chip authentication (9303-11 §9.2.5,
// TR-03110-3 A.1.1.2).
type ChipAuthenticationInfo struct {
	Raw      []byte
	Protocol Protocol // CADH3DES .. CAECDHAES256
	Version  int      // 1 (CA in 9303-11) or 2 (EAC2)
	KeyID    OptionalInt
}

// ChipAuthenticationDomainParameterInfo carries CA domain parameters
// (TR-03110-3 A.1.1.2).
type ChipAuthenticationDomainParameterInfo struct {
	Raw             []byte
	Protocol        Protocol // CADH or CAECDH
	DomainParameter cms.AlgorithmIdentifier
	KeyID           OptionalInt
}

// ChipAuthenticationPublicKeyInfo carries the chip's static key agreement
// key (9303-11 §9.2.6).
type ChipAuthenticationPublicKeyInfo struct {
	Raw      []byte
	Protocol Protocol // PKDH or PKECDH
	// SubjectPublicKeyInfo is the raw SEQUENCE (algorithm with explicit or
	// named domain parameters, and the public key).
	SubjectPublicKeyInfo []byte
	KeyID                OptionalInt
}

// TerminalAuthenticationInfo announces terminal authentication
// (9303-11 §9.2.7, TR-03110-3 A.1.1.3).
type TerminalAuthenticationInfo struct {
	Raw     []byte
	Version int // 1 or 2
	// EFCVCA is the raw FileID SEQUENCE of older chips (absent from
	// version 2 infos); nil when absent.
	EFCVCA []byte
}

// ActiveAuthenticationInfo names the signature algorithm of active
// authentication when it is not RSA (9303-11 §9.2.9, ECDSA chips).
type ActiveAuthenticationInfo struct {
	Raw                []byte
	Version            int // 1
	SignatureAlgorithm asn1.ObjectIdentifier
}

// UnknownSecurityInfo is an entry with an OID this package does not know.
type UnknownSecurityInfo struct {
	Raw      []byte
	Protocol asn1.ObjectIdentifier
}

// SecurityInfos is a parsed SET OF SecurityInfo, sorted by kind. Order
// within each slice is the order in the file.
type SecurityInfos struct {
	Raw                                []byte // the SET, as read
	PACE                               []PACEInfo
	PACEDomainParameters               []PACEDomainParameterInfo
	ChipAuthentication                 []ChipAuthenticationInfo
	ChipAuthenticationDomainParameters []ChipAuthenticationDomainParameterInfo
	ChipAuthenticationPublicKeys       []ChipAuthenticationPublicKeyInfo
	TerminalAuthentication             []TerminalAuthenticationInfo
	ActiveAuthentication               []ActiveAuthenticationInfo
	Unknown                            []UnknownSecurityInfo
}

func siErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrSecurityInfo, fmt.Sprintf(format, a...))
}

// ParseSecurityInfos parses a DER SET OF SecurityInfo that fills b (the
// content of EF.CardAccess, or the value inside DG14's 6E or
// EF.CardSecurity's eContent).
func ParseSecurityInfos(b []byte) (*SecurityInfos, error) {
	if len(b) > SecurityInfosMaxSize {
		return nil, siErr("%d bytes, limit %d", len(b), SecurityInfosMaxSize)
	}
	s := cryptobyte.String(b)
	var set cryptobyte.String
	if !s.ReadASN1(&set, cbasn1.SET) || !s.Empty() {
		return nil, siErr("not one SET")
	}
	out := &SecurityInfos{Raw: b}
	for n := 0; !set.Empty(); n++ {
		if n == securityInfosMaxEntries {
			return nil, siErr("more than %d entries", securityInfosMaxEntries)
		}
		var raw cryptobyte.String
		if !set.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
			return nil, siErr("entry %d is not a SEQUENCE", n)
		}
		if err := out.add([]byte(raw)); err != nil {
			return nil, fmt.Errorf("entry %d: %w", n, err)
		}
	}
	return out, nil
}

// readSmallInt reads a non-negative INTEGER that fits an int32 (versions,
// parameter and key ids).
func readSmallInt(s *cryptobyte.String, out *int) bool {
	var v int64
	if !s.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || v < 0 || v > 1<<31-1 {
		return false
	}
	*out = int(v)
	return true
}

// readOptionalInt reads an optional trailing INTEGER.
func readOptionalInt(s *cryptobyte.String, out *OptionalInt) bool {
	if !s.PeekASN1Tag(cbasn1.INTEGER) {
		return true
	}
	out.Present = true
	return readSmallInt(s, &out.Value)
}

func readAlgID(s *cryptobyte.String) (cms.AlgorithmIdentifier, bool) {
	var a cms.AlgorithmIdentifier
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&a.Algorithm) {
		return a, false
	}
	if !seq.Empty() {
		var p cryptobyte.String
		var tag cbasn1.Tag
		if !seq.ReadAnyASN1Element(&p, &tag) || !seq.Empty() {
			return a, false
		}
		a.Parameters = []byte(p)
	}
	return a, true
}

func (out *SecurityInfos) add(raw []byte) error {
	s := cryptobyte.String(raw)
	var seq cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&oid) {
		return siErr("SecurityInfo without protocol OID")
	}
	p, known := ProtocolForOID(oid)
	if !known {
		// Kept whole (the element was read as one well-formed SEQUENCE
		// starting with an OID); its body is the protocol's business.
		out.Unknown = append(out.Unknown, UnknownSecurityInfo{Raw: raw, Protocol: oid})
		return nil
	}
	bad := func(what string) error { return siErr("%v: %s", p, what) }
	switch {
	case p.IsPACE() && p.Cipher() != 0:
		e := PACEInfo{Raw: raw, Protocol: p}
		if !readSmallInt(&seq, &e.Version) || !readOptionalInt(&seq, &e.ParameterID) || !seq.Empty() {
			return bad("PACEInfo")
		}
		out.PACE = append(out.PACE, e)
	case p.IsPACE():
		e := PACEDomainParameterInfo{Raw: raw, Protocol: p}
		var ok bool
		if e.DomainParameter, ok = readAlgID(&seq); !ok || !readOptionalInt(&seq, &e.ParameterID) || !seq.Empty() {
			return bad("PACEDomainParameterInfo")
		}
		out.PACEDomainParameters = append(out.PACEDomainParameters, e)
	case p.IsChipAuthentication() && p.Cipher() != 0:
		e := ChipAuthenticationInfo{Raw: raw, Protocol: p}
		if !readSmallInt(&seq, &e.Version) || !readOptionalInt(&seq, &e.KeyID) || !seq.Empty() {
			return bad("ChipAuthenticationInfo")
		}
		out.ChipAuthentication = append(out.ChipAuthentication, e)
	case p.IsChipAuthentication():
		e := ChipAuthenticationDomainParameterInfo{Raw: raw, Protocol: p}
		var ok bool
		if e.DomainParameter, ok = readAlgID(&seq); !ok || !readOptionalInt(&seq, &e.KeyID) || !seq.Empty() {
			return bad("ChipAuthenticationDomainParameterInfo")
		}
		out.ChipAuthenticationDomainParameters = append(out.ChipAuthenticationDomainParameters, e)
	case p == PKDH || p == PKECDH:
		e := ChipAuthenticationPublicKeyInfo{Raw: raw, Protocol: p}
		var spki cryptobyte.String
		if !seq.ReadASN1Element(&spki, cbasn1.SEQUENCE) || !readOptionalInt(&seq, &e.KeyID) || !seq.Empty() {
			return bad("ChipAuthenticationPublicKeyInfo")
		}
		e.SubjectPublicKeyInfo = []byte(spki)
		out.ChipAuthenticationPublicKeys = append(out.ChipAuthenticationPublicKeys, e)
	case p == ProtocolTA:
		e := TerminalAuthenticationInfo{Raw: raw}
		if !readSmallInt(&seq, &e.Version) {
			return bad("TerminalAuthenticationInfo version")
		}
		if !seq.Empty() {
			var fid cryptobyte.String
			if !seq.ReadASN1Element(&fid, cbasn1.SEQUENCE) || !seq.Empty() {
				return bad("TerminalAuthenticationInfo efCVCA")
			}
			e.EFCVCA = []byte(fid)
		}
		out.TerminalAuthentication = append(out.TerminalAuthentication, e)
	case p == ProtocolAA:
		e := ActiveAuthenticationInfo{Raw: raw}
		if !readSmallInt(&seq, &e.Version) || !seq.ReadASN1ObjectIdentifier(&e.SignatureAlgorithm) || !seq.Empty() {
			return bad("ActiveAuthenticationInfo")
		}
		out.ActiveAuthentication = append(out.ActiveAuthentication, e)
	}
	return nil
}

// ParseCardAccess parses EF.CardAccess: a bare SecurityInfos
// (9303-10 §3.11.3).
func ParseCardAccess(b []byte) (*SecurityInfos, error) {
	return ParseSecurityInfos(b)
}

// ParseDG14 parses DG14: tag 6E around SecurityInfos (9303-10 §4.7.14).
func ParseDG14(b []byte) (*SecurityInfos, error) {
	if len(b) > SecurityInfosMaxSize {
		return nil, siErr("DG14 of %d bytes, limit %d", len(b), SecurityInfosMaxSize)
	}
	el, err := ParseSingle(b, DG14Tag)
	if err != nil {
		return nil, fmt.Errorf("%w: DG14: %w", ErrSecurityInfo, err)
	}
	return ParseSecurityInfos(el.Value)
}

// SignedSecurityInfos is a parsed EF.CardSecurity: the SignedData and the
// SecurityInfos of its eContent.
type SignedSecurityInfos struct {
	SignedData    *cms.SignedData
	SecurityInfos *SecurityInfos
}

// ParseCardSecurity parses EF.CardSecurity (9303-11 §9.2; TR-03110-3
// A.1.2.2): a CMS ContentInfo, eContentType id-SecurityObject, whose
// eContent is SecurityInfos. The signature is not checked here.
func ParseCardSecurity(b []byte) (*SignedSecurityInfos, error) {
	if len(b) > SecurityInfosMaxSize {
		return nil, siErr("EF.CardSecurity of %d bytes, limit %d", len(b), SecurityInfosMaxSize)
	}
	sd, err := cms.ParseSignedData(b)
	if err != nil {
		return nil, fmt.Errorf("%w: EF.CardSecurity: %w", ErrSecurityInfo, err)
	}
	if !sd.EContentType.Equal(cms.OIDSecurityObject()) {
		return nil, siErr("EF.CardSecurity eContentType %v, want id-SecurityObject", sd.EContentType)
	}
	if sd.EContent == nil {
		return nil, siErr("EF.CardSecurity without eContent")
	}
	infos, err := ParseSecurityInfos(sd.EContent)
	if err != nil {
		return nil, err
	}
	return &SignedSecurityInfos{SignedData: sd, SecurityInfos: infos}, nil
}

// EncodeSecurityInfos encodes the typed entries of infos (Raw fields are
// ignored, Unknown entries are copied raw) as a DER SET OF SecurityInfo:
// the content of EF.CardAccess. Protocols must match the entry kind.
func EncodeSecurityInfos(infos *SecurityInfos) ([]byte, error) {
	if infos == nil {
		return nil, errors.New("lds: EncodeSecurityInfos: nil")
	}
	var elems [][]byte
	add := func(p Protocol, want func(Protocol) bool, body func(b *cryptobyte.Builder)) error {
		if !p.Valid() || !want(p) {
			return fmt.Errorf("lds: EncodeSecurityInfos: protocol %v in the wrong entry kind", p)
		}
		b := cryptobyte.NewBuilder(nil)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(p.OID())
			body(b)
		})
		e, err := b.Bytes()
		if err != nil {
			return fmt.Errorf("lds: EncodeSecurityInfos: %v: %w", p, err)
		}
		elems = append(elems, e)
		return nil
	}
	optInt := func(b *cryptobyte.Builder, o OptionalInt) {
		if o.Present {
			b.AddASN1Int64(int64(o.Value))
		}
	}
	algID := func(b *cryptobyte.Builder, a cms.AlgorithmIdentifier) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(a.Algorithm)
			b.AddBytes(a.Parameters)
		})
	}
	isPACEInfo := func(p Protocol) bool { return p.IsPACE() && p.Cipher() != 0 }
	isPACEDP := func(p Protocol) bool { return p.IsPACE() && p.Cipher() == 0 }
	isCAInfo := func(p Protocol) bool { return p.IsChipAuthentication() && p.Cipher() != 0 }
	isCADP := func(p Protocol) bool { return p.IsChipAuthentication() && p.Cipher() == 0 }
	isPK := func(p Protocol) bool { return p == PKDH || p == PKECDH }
	var err error
	for _, e := range infos.PACE {
		err = errors.Join(err, add(e.Protocol, isPACEInfo, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(e.Version))
			optInt(b, e.ParameterID)
		}))
	}
	for _, e := range infos.PACEDomainParameters {
		err = errors.Join(err, add(e.Protocol, isPACEDP, func(b *cryptobyte.Builder) {
			algID(b, e.DomainParameter)
			optInt(b, e.ParameterID)
		}))
	}
	for _, e := range infos.ChipAuthentication {
		err = errors.Join(err, add(e.Protocol, isCAInfo, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(e.Version))
			optInt(b, e.KeyID)
		}))
	}
	for _, e := range infos.ChipAuthenticationDomainParameters {
		err = errors.Join(err, add(e.Protocol, isCADP, func(b *cryptobyte.Builder) {
			algID(b, e.DomainParameter)
			optInt(b, e.KeyID)
		}))
	}
	for _, e := range infos.ChipAuthenticationPublicKeys {
		spki := cryptobyte.String(e.SubjectPublicKeyInfo)
		var inner cryptobyte.String
		if !spki.ReadASN1(&inner, cbasn1.SEQUENCE) || !spki.Empty() {
			err = errors.Join(err, errors.New("lds: EncodeSecurityInfos: SubjectPublicKeyInfo is not one SEQUENCE"))
			continue
		}
		err = errors.Join(err, add(e.Protocol, isPK, func(b *cryptobyte.Builder) {
			b.AddBytes(e.SubjectPublicKeyInfo)
			optInt(b, e.KeyID)
		}))
	}
	for _, e := range infos.TerminalAuthentication {
		err = errors.Join(err, add(ProtocolTA, func(p Protocol) bool { return true }, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(e.Version))
			b.AddBytes(e.EFCVCA)
		}))
	}
	for _, e := range infos.ActiveAuthentication {
		if len(e.SignatureAlgorithm) == 0 {
			err = errors.Join(err, errors.New("lds: EncodeSecurityInfos: ActiveAuthenticationInfo without signature algorithm"))
			continue
		}
		err = errors.Join(err, add(ProtocolAA, func(p Protocol) bool { return true }, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(e.Version))
			b.AddASN1ObjectIdentifier(e.SignatureAlgorithm)
		}))
	}
	for _, e := range infos.Unknown {
		s := cryptobyte.String(e.Raw)
		var inner cryptobyte.String
		if !s.ReadASN1(&inner, cbasn1.SEQUENCE) || !s.Empty() {
			err = errors.Join(err, errors.New("lds: EncodeSecurityInfos: unknown entry is not one SEQUENCE"))
			continue
		}
		elems = append(elems, e.Raw)
	}
	if err != nil {
		return nil, err
	}
	if len(elems) == 0 {
		return nil, errors.New("lds: EncodeSecurityInfos: no entries")
	}
	if len(elems) > securityInfosMaxEntries {
		return nil, fmt.Errorf("lds: EncodeSecurityInfos: %d entries, limit %d", len(elems), securityInfosMaxEntries)
	}
	// DER SET OF: ascending order of the encodings (X.690 §11.6).
	slices.SortFunc(elems, bytes.Compare)
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, e := range elems {
			b.AddBytes(e)
		}
	})
	return b.Bytes()
}

// EncodeDG14 encodes DG14: tag 6E around EncodeSecurityInfos.
func EncodeDG14(infos *SecurityInfos) ([]byte, error) {
	set, err := EncodeSecurityInfos(infos)
	if err != nil {
		return nil, err
	}
	return AppendElement(nil, DG14Tag, set)
}

// EncodeCardSecurity encodes EF.CardSecurity: SecurityInfos signed with
// cms.Sign under eContentType id-SecurityObject. A real chip's
// EF.CardSecurity is signed by a Document Signer like EF.SOD.
func EncodeCardSecurity(infos *SecurityInfos, cert *x509.Certificate, key crypto.Signer, h crypto.Hash, signingTime time.Time) ([]byte, error) {
	set, err := EncodeSecurityInfos(infos)
	if err != nil {
		return nil, err
	}
	sd, err := cms.Sign(cms.OIDSecurityObject(), set, cert, key, h, signingTime)
	if err != nil {
		return nil, fmt.Errorf("lds: EF.CardSecurity: %w", err)
	}
	return sd, nil
}

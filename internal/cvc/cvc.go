// Package cvc implements the card-verifiable certificates of BSI TR-03110-3
// App. C (certificate profile) and App. D (data objects, public keys) that
// an inspection system presents to an eMRTD chip in Terminal Authentication
// version 1 (ICAO Doc 9303-11 §7.1, BSI TR-03110-1 for the eMRTD
// application).
//
// A terminal holds a chain CVCA -> DV -> IS: the Country Verifying CA of the
// issuing state (self-signed, the chip's trust point, referenced in
// EF.CVCA), a Document Verifier of the inspecting state and the inspection
// system itself. Typical use:
//
//	is, err := cvc.Parse(raw)                  // one *.cvcert file
//	rights, err := cvc.Authorize(cvca, []*cvc.Certificate{dv, is}, time.Now())
//	if rights&cvc.ReadDG3 == 0 { ... }           // the chip will answer 6982
//
// Authorize (and VerifyChain, which drops the rights) links the chain by
// CAR and CHR, checks every signature over the body bytes as received,
// checks dates, the role order and returns the effective authorization:
// the AND of the rights along the chain (TR-03110-3 C.4). DV and IS
// certificates carry no EC domain parameters; they take them from the CVCA
// of their chain (TR-03110-3 D.3.3), which is why CheckSignatureFrom and
// VerifySignature take the domain explicitly. Create builds CVCA (self-signed
// and link), DV and IS certificates with any crypto.Signer (an HSM key
// works); Sign makes the Terminal Authentication signature. ECDSA
// signatures are plain r||s of the order's length (BSI TR-03111 §5.2.1),
// never DER.
//
// ECDSA runs on the curves of package internal/ec (brainpool and NIST,
// matched from the explicit domain parameters the CVCA carries); RSA is
// PKCS#1 v1.5 and PSS from the standard library.
//
// The package deliberately does not: parse certificate requests (7F21
// wrapped in 67), interpret the CHAT of Authentication or Signature
// terminals (id-AT, id-ST: kept as raw bytes, refused by the chain
// verifier, which is for eMRTD inspection systems only), interpret
// certificate extensions (kept raw; TR-03110-3 C.3 makes them
// non-critical), or keep any trust store: the caller picks the CVCA that
// the chip's EF.CVCA names.
package cvc

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors callers branch on. Every error returned by this package wraps one
// of them.
var (
	// ErrMalformed reports bytes that are not a well-formed CV certificate:
	// truncated or oversized TLV, a missing or misplaced data object,
	// trailing bytes, an invalid date or reference.
	ErrMalformed = errors.New("cvc: malformed certificate")
	// ErrUnknownCritical reports something the verifier cannot safely
	// ignore: an unknown data object in the body, an unknown certificate
	// profile identifier, a terminal type other than id-IS in a chain.
	ErrUnknownCritical = errors.New("cvc: unknown critical element")
	// ErrUnsupportedAlgorithm reports a public key algorithm OID or EC
	// domain this package does not implement.
	ErrUnsupportedAlgorithm = errors.New("cvc: unsupported algorithm")
	// ErrInvalidKey reports a public key that is not usable: a point not on
	// the curve or at infinity, an RSA modulus or exponent out of range,
	// domain parameters that contradict the CVCA's.
	ErrInvalidKey = errors.New("cvc: invalid public key")
	// ErrSignature reports a signature that does not verify.
	ErrSignature = errors.New("cvc: signature verification failed")
	// ErrChain reports a chain that does not link: CAR not matching the
	// issuer's CHR, roles out of order (e.g. an IS signed by the CVCA
	// directly), a missing DV or IS.
	ErrChain = errors.New("cvc: invalid certificate chain")
	// ErrExpired reports a certificate outside its validity dates.
	ErrExpired = errors.New("cvc: certificate not valid at this date")
)

// ProfileV1 is the only certificate profile identifier defined (value 0,
// version 1; TR-03110-3 D.2.2.1 "Certificate Profile Identifier").
const ProfileV1 = 0

// Role is the certificate holder's role, bits 8-7 of the first byte of the
// CHAT's discretionary data (TR-03110-3 C.4.1 for inspection systems).
type Role uint8

// Roles of TR-03110-3 C.4.
const (
	RoleIS         Role = 0 // 00: inspection system (terminal)
	RoleDVForeign  Role = 1 // 01: DV, non-official / foreign
	RoleDVDomestic Role = 2 // 10: DV, official domestic
	RoleCVCA       Role = 3 // 11: CVCA
)

// String names the role as TR-03110-3 does.
func (r Role) String() string {
	switch r {
	case RoleIS:
		return "IS"
	case RoleDVForeign:
		return "DV foreign"
	case RoleDVDomestic:
		return "DV domestic"
	case RoleCVCA:
		return "CVCA"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// isDV reports whether r is one of the two document verifier roles.
func (r Role) isDV() bool { return r == RoleDVForeign || r == RoleDVDomestic }

// Rights are the access rights of an inspection system, bits 6-1 of the
// CHAT's discretionary data (TR-03110-3 C.4.1). Only two are defined for
// the ePassport application; the other four are kept as read.
type Rights uint8

// Access rights of an inspection system (TR-03110-3 C.4.1).
const (
	ReadDG3 Rights = 0x01 // read access to DG3 (fingerprints)
	ReadDG4 Rights = 0x02 // read access to DG4 (iris)

	rightsMask Rights = 0x3F
)

// String lists the rights, e.g. "ReadDG3|ReadDG4"; bits without a name
// are shown as "RFU(0x..)".
func (r Rights) String() string {
	if r == 0 {
		return "none"
	}
	var parts []string
	if r&ReadDG3 != 0 {
		parts = append(parts, "ReadDG3")
	}
	if r&ReadDG4 != 0 {
		parts = append(parts, "ReadDG4")
	}
	if rest := r &^ (ReadDG3 | ReadDG4); rest != 0 {
		parts = append(parts, fmt.Sprintf("RFU(0x%02X)", uint8(rest)))
	}
	return strings.Join(parts, "|")
}

// OIDInspectionSystem returns id-IS (0.4.0.127.0.7.3.1.2.1), the terminal
// type of eMRTD inspection systems (TR-03110-3 C.4.1). It is a function
// returning a fresh value so that nobody can change a shared one.
func OIDInspectionSystem() asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 3, 1, 2, 1}
}

// Extension is one certificate extension (TR-03110-3 C.3): a discretionary
// data template 73 identified by its OID, kept raw. Extensions are
// non-critical by definition, so the verifier ignores them.
type Extension struct {
	OID asn1.ObjectIdentifier
	Raw []byte // the whole 73 element
}

// Certificate is a parsed CV certificate (TR-03110-3 C.1). Raw and Body
// alias the parsed input; the signature is checked over Body exactly as
// received, never over a re-encoding.
type Certificate struct {
	Raw       []byte // the whole 7F21 element
	Body      []byte // the 7F4E element (tag, length, value) as received
	ProfileID int    // 5F29; ProfileV1
	CAR       string // 42, the issuer's CHR
	CHR       string // 5F20
	PublicKey PublicKey

	// From the CHAT (7F4C).
	TerminalType asn1.ObjectIdentifier // id-IS for eMRTD inspection systems
	Role         Role
	Rights       Rights // meaningful for id-IS only
	CHATData     []byte // the discretionary data (53) as read

	Effective  time.Time // 5F25, 00:00 UTC of that day
	Expiration time.Time // 5F24, 00:00 UTC of that day; valid through its end

	Extensions []Extension // 65, optional
	Signature  []byte      // 5F37; plain r||s for ECDSA
}

// IsSelfSigned reports whether CAR equals CHR (a CVCA root, not a link).
func (c *Certificate) IsSelfSigned() bool { return c.CAR == c.CHR }

package verify

import (
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"borderid/internal/cert"
	"borderid/internal/cms"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Error is the error VerifyMasterList returns: a stable Reason code (the
// same codes as Result.Reason) and a human Detail. Callers branch on it
// with errors.As.
type Error struct {
	Reason Reason
	Detail string
}

func (e *Error) Error() string { return "verify: " + string(e.Reason) + ": " + e.Detail }

// ErrMasterList is matched (errors.Is) by every error of VerifyMasterList.
var ErrMasterList = errors.New("verify: master list refused")

// Is lets errors.Is(err, ErrMasterList) match.
func (e *Error) Is(target error) bool { return target == ErrMasterList }

// maxMasterListCertificates bounds the certList; the German list of 2026
// holds 588.
const maxMasterListCertificates = 10000

// VerifyMasterList verifies a CSCA master list (ICAO 9303-12 §8) and
// returns its certificates: the CMS SignedData (eContentType
// id-icao-cscaMasterList 2.23.136.1.1.2, content-type and message-digest
// attributes, the signature over the signed attributes), the signer's
// path to one of roots (through CA certificates embedded in the
// SignedData when needed; a root is decided by its signature), the
// signer's key usage (digitalSignature) and its extended key usage
// id-icao-cscaMasterListSigningKey (2.23.136.1.1.3, 9303-12 §7.1.1 Table
// 6), and the validity of the path at the signing time (when the list
// carries none, validity is not judged: a master list is a snapshot, and
// its signer's expiry does not revoke what it vouched for).
//
// The certificates returned are what the signer vouches for, in list
// order, not yet sorted into anchors and links: MemoryStore.Add does that
// by signature. Any certificate that does not parse refuses the whole
// list (a partially understood list is not imported silently).
func VerifyMasterList(ml []byte, roots []*cert.Certificate) ([]*cert.Certificate, error) {
	r := &Result{}
	refuse := func() error { return &Error{Reason: r.Reason, Detail: r.Detail} }
	sd, err := cms.ParseSignedData(ml)
	if err != nil {
		return nil, &Error{Reason: ReasonCMSMalformed, Detail: err.Error()}
	}
	csd := verifySignedData(sd, cms.OIDCscaMasterList(), ReasonCMSMalformed, r)
	if csd == nil {
		return nil, refuse()
	}
	// Embedded CA certificates may bridge from the signer to a root (a
	// link certificate to the root the caller holds).
	c := &candidates{}
	c.addUnique(&c.anchors, roots)
	for _, der := range sd.Certificates {
		ec, err := cert.ParseCertificate(der)
		if err == nil && ec.IsCA {
			c.addUnique(&c.intermediates, []*cert.Certificate{ec})
		}
	}
	path := buildPath(csd.signer, c, DefaultMaxPathLength)
	if path == nil {
		return nil, &Error{Reason: ReasonUnknownCSCA, Detail: fmt.Sprintf("master list signer %s chains to none of the %d roots", describe(csd.signer), len(roots))}
	}
	if !checkPathCertificates(path, x509.KeyUsageDigitalSignature, r) {
		return nil, refuse()
	}
	eku := false
	for _, o := range csd.signer.ExtKeyUsage {
		if o.Equal(cert.OIDMasterListSigner()) {
			eku = true
		}
	}
	if !eku {
		return nil, &Error{Reason: ReasonMissingEKU, Detail: fmt.Sprintf("master list signer %s lacks extended key usage %v", describe(csd.signer), cert.OIDMasterListSigner())}
	}
	// The signer's path must be valid when the list was signed; a list
	// without a signing time is checked at now instead (nothing else
	// bounds when such a signature was made).
	at := csd.si.SigningTime
	if at.IsZero() {
		at = time.Now()
	}
	if !checkValidity(path, at, at, Policy{}, r) {
		return nil, refuse()
	}
	return parseCscaMasterList(sd.EContent)
}

// parseCscaMasterList reads CscaMasterList ::= SEQUENCE { version
// CscaMasterListVersion (v0), certList SET OF Certificate } (9303-12 §8.2).
func parseCscaMasterList(b []byte) ([]*cert.Certificate, error) {
	s := cryptobyte.String(b)
	var seq, set cryptobyte.String
	var v int64
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() ||
		!seq.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || !seq.ReadASN1(&set, cbasn1.SET) || !seq.Empty() {
		return nil, &Error{Reason: ReasonCMSMalformed, Detail: "CscaMasterList does not parse"}
	}
	if v != 0 {
		return nil, &Error{Reason: ReasonCMSMalformed, Detail: fmt.Sprintf("CscaMasterList version %d", v)}
	}
	var out []*cert.Certificate
	for !set.Empty() {
		if len(out) == maxMasterListCertificates {
			return nil, &Error{Reason: ReasonCMSMalformed, Detail: fmt.Sprintf("more than %d certificates", maxMasterListCertificates)}
		}
		var der cryptobyte.String
		if !set.ReadASN1Element(&der, cbasn1.SEQUENCE) {
			return nil, &Error{Reason: ReasonCMSMalformed, Detail: fmt.Sprintf("certList element %d", len(out))}
		}
		c, err := cert.ParseCertificate(der)
		if err != nil {
			return nil, &Error{Reason: ReasonCMSMalformed, Detail: fmt.Sprintf("certificate %d: %v", len(out), err)}
		}
		out = append(out, c)
	}
	return out, nil
}

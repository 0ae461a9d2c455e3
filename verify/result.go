package verify

import (
	"fmt"
	"time"

	"borderid/internal/cert"
)

// Outcome is the result of a check, as in the inspection report.
type Outcome uint8

const (
	// NotDone: the check could not be completed (a stale CRL, an
	// unsupported algorithm in policy); neither pass nor fail.
	NotDone Outcome = iota
	Pass
	Fail
)

// String returns the report's spelling: "not_done", "pass", "fail".
func (o Outcome) String() string {
	switch o {
	case NotDone:
		return "not_done"
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Reason is a stable snake_case code saying why a check did not pass (or,
// in Result.Warnings, what a passing check noticed). Callers and the
// report branch on these; they never change meaning.
type Reason string

// String returns the code itself.
func (r Reason) String() string { return string(r) }

const (
	ReasonNone                     Reason = ""
	ReasonSODMalformed             Reason = "sod_malformed"
	ReasonCMSMalformed             Reason = "cms_malformed" // CardSecurity, master list
	ReasonUnsupportedAlgorithm     Reason = "unsupported_algorithm"
	ReasonNoSignerCertificate      Reason = "no_signer_certificate"
	ReasonBadSignature             Reason = "bad_signature"
	ReasonMessageDigestMismatch    Reason = "message_digest_mismatch"
	ReasonContentTypeMismatch      Reason = "content_type_mismatch"
	ReasonDigestAlgorithmMismatch  Reason = "digest_algorithm_mismatch"
	ReasonUnknownCSCA              Reason = "unknown_csca"
	ReasonDSCRevoked               Reason = "dsc_revoked"
	ReasonCertificateRevoked       Reason = "certificate_revoked" // a link certificate on the path
	ReasonDSCExpiredAtSigning      Reason = "dsc_expired_at_signing"
	ReasonCSCAExpiredAtSigning     Reason = "csca_expired_at_signing"
	ReasonDSCExpiredNow            Reason = "dsc_expired_now"
	ReasonCSCAExpiredNow           Reason = "csca_expired_now"
	ReasonSigningTimeInFuture      Reason = "signing_time_in_future"
	ReasonCountryMismatch          Reason = "country_mismatch"
	ReasonUnknownIssuingState      Reason = "unknown_issuing_state"
	ReasonCRLStale                 Reason = "crl_stale"
	ReasonKeyUsage                 Reason = "key_usage"
	ReasonUnknownCriticalExtension Reason = "unknown_critical_extension"
	ReasonMissingEKU               Reason = "missing_eku"
	ReasonTrustStore               Reason = "trust_store_unavailable"
)

// HashMismatch returns hash_mismatch_dgN: data group n's hash differs from
// the one in the LDSSecurityObject.
func HashMismatch(n int) Reason { return Reason(fmt.Sprintf("hash_mismatch_dg%d", n)) }

// NotInSOD returns not_in_sod_dgN: data group n was read but the SOD holds
// no hash for it, so nothing vouches for it.
func NotInSOD(n int) Reason { return Reason(fmt.Sprintf("not_in_sod_dg%d", n)) }

// Quirk names a leniency that was accepted (and so must be visible).
type Quirk string

// String returns the quirk's code.
func (q Quirk) String() string { return string(q) }

const (
	// QuirkNoSigningTime: the signer info has no signing-time attribute;
	// validity was judged at now instead.
	QuirkNoSigningTime Quirk = "no_signing_time"
	// QuirkEmbeddedSignerFallback: the SignerIdentifier matched no
	// embedded certificate, and the single embedded certificate was used
	// (its key then had to verify the signature).
	QuirkEmbeddedSignerFallback Quirk = "signer_id_mismatch_single_certificate"
	// QuirkSignerFromStore: the signer certificate was not embedded and was
	// found in the trust store by its identifier.
	QuirkSignerFromStore Quirk = "signer_certificate_not_embedded"
	// QuirkKeyOnlySignatureAlgorithm: signatureAlgorithm is rsaEncryption
	// or id-ecPublicKey; the hash was taken from digestAlgorithm (RFC 3370
	// §3.2 allows rsaEncryption).
	QuirkKeyOnlySignatureAlgorithm Quirk = "signature_algorithm_key_only"
	// QuirkBER: the CMS was BER, normalised to DER before parsing.
	QuirkBER Quirk = "ber_encoding"
	// QuirkSignerInfoVersion: the SignerInfo version does not match its
	// SignerIdentifier choice (RFC 5652 §5.3: 1 for issuer+serial, 3 for SKI).
	QuirkSignerInfoVersion Quirk = "signer_info_version"
	// QuirkSODVersionInfo: LDSSecurityObject v0 with ldsVersionInfo or v1
	// without it (9303-10 §4.6.2.2).
	QuirkSODVersionInfo Quirk = "sod_version_info_mismatch"
	// QuirkNoKeyUsage: a certificate on the path has no key usage
	// extension at all (accepted; a present but wrong one fails).
	QuirkNoKeyUsage Quirk = "no_key_usage"
	// QuirkCANotMarked: a CSCA or link certificate on the path lacks
	// basicConstraints cA TRUE; its key usage allows keyCertSign.
	QuirkCANotMarked Quirk = "ca_not_marked"
)

// Policy holds the choices a deployment makes. The zero value is the
// default: stale CRLs give not_done, expiry at now is a warning.
type Policy struct {
	// FailOnStaleCRL turns crl_stale from not_done into fail.
	FailOnStaleCRL bool
	// FailOnExpiredNow makes dsc_expired_now / csca_expired_now fail
	// (9303-12 §7.1.1: a DSC may expire long before the documents it
	// signed, so by default this is only reported).
	FailOnExpiredNow bool
	// RequireCRL gives not_done crl_missing when no CRL applies to the
	// path; by default the absence is only a warning.
	RequireCRL bool
	// MaxPathLength bounds DSC → … → CSCA (certificates, DSC and CSCA
	// included); 0 means DefaultMaxPathLength.
	MaxPathLength int
}

// DefaultMaxPathLength allows a DSC, up to four link certificates, a CSCA.
const DefaultMaxPathLength = 6

// ReasonNoCRL is the warning (or, with Policy.RequireCRL, the not_done
// reason) when the store holds no CRL for the CSCA's country.
const ReasonNoCRL Reason = "crl_missing"

// ReasonCRLUnusable is the warning for a CRL that verifies but carries a
// critical extension internal/cert does not interpret (RFC 5280 §5.2).
const ReasonCRLUnusable Reason = "crl_unknown_critical_extension"

// Result is the outcome of PassiveAuthentication or VerifyCardSecurity.
type Result struct {
	Outcome Outcome
	Reason  Reason // ReasonNone when Outcome is Pass
	Detail  string
	// DSC is the signer's certificate, CSCA the trust anchor reached, and
	// Path the certificates from the DSC (first) to the CSCA (last), link
	// certificates between. Set as far as verification got.
	DSC  *cert.Certificate
	CSCA *cert.Certificate
	Path []*cert.Certificate
	// SigningTime is the SOD's signing-time attribute (zero when absent).
	SigningTime time.Time
	// Warnings are findings that did not change the outcome under the
	// policy (dsc_expired_now, crl_missing).
	Warnings []Reason
	Quirks   []Quirk
	// CertQuirks are the quirks internal/cert recorded while parsing the
	// certificates on the path.
	CertQuirks []string
	// DataGroups lists the data groups whose hash was compared and matched.
	DataGroups []int
	// Content is the verified eContent (VerifyCardSecurity: the
	// SecurityInfos), set only on a pass.
	Content []byte
}

func (r *Result) fail(reason Reason, format string, a ...any) *Result {
	r.Outcome, r.Reason, r.Detail = Fail, reason, fmt.Sprintf(format, a...)
	return r
}

func (r *Result) notDone(reason Reason, format string, a ...any) *Result {
	r.Outcome, r.Reason, r.Detail = NotDone, reason, fmt.Sprintf(format, a...)
	return r
}

func (r *Result) quirk(q Quirk) {
	for _, x := range r.Quirks {
		if x == q {
			return
		}
	}
	r.Quirks = append(r.Quirks, q)
}

func (r *Result) warn(w Reason) {
	for _, x := range r.Warnings {
		if x == w {
			return
		}
	}
	r.Warnings = append(r.Warnings, w)
}

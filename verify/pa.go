package verify

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"time"

	"borderid/internal/cms"
	"borderid/reader/lds"
)

// PassiveAuthentication verifies an EF.SOD and the files read with it
// (ICAO 9303-11 §5.1.1): the CMS signature (verifySignedData), the DSC's
// path to a CSCA of store (link certificates allowed), validity at the
// signing time and at now, key usage, critical extensions, revocation,
// that the CSCA's country is the issuing state of DG1 (issuingState, the
// three-letter code, '<' fillers allowed), and that every data group in
// files hashes to its value in the LDSSecurityObject.
//
// files may hold any of the chip's files; only data groups are hashed
// (EF.COM and EF.SOD are not covered by the SOD). A data group the SOD
// lists but files lacks is not an error (it may not have been readable);
// a data group in files the SOD does not list fails with not_in_sod_dgN.
//
// The result is never nil. A failure stops at the first failing check; a
// not_done condition (a stale CRL, an unknown issuing state code, a trust
// store error) lets the remaining checks run, so that a fail found later
// still wins.
func PassiveAuthentication(ctx context.Context, sod []byte, files map[lds.File][]byte, issuingState string, store TrustStore, now time.Time, policy Policy) *Result {
	r := &Result{}
	parsed, err := lds.ParseSOD(sod)
	if err != nil {
		return r.fail(ReasonSODMalformed, "%v", err)
	}
	so := &parsed.SecurityObject
	if (so.Version == lds.SODV1) != (so.LDSVersion != "") {
		r.quirk(QuirkSODVersionInfo)
	}
	csd := verifySignedData(parsed.SignedData, cms.OIDLDSSecurityObject(), ReasonSODMalformed, r)
	if csd == nil {
		return r
	}
	pending := verifyTrust(ctx, csd, issuingState, store, now, policy, x509.KeyUsageDigitalSignature, r)
	if r.Outcome == Fail {
		return r
	}

	// 9303-11 §5.1.1 step 3: hash each data group read and compare.
	if so.Hash == 0 || !so.Hash.Available() {
		return r.fail(ReasonUnsupportedAlgorithm, "LDSSecurityObject hash algorithm %v", so.HashAlgorithm.Algorithm)
	}
	for f := lds.FileDG1; f <= lds.FileDG16; f++ {
		data, ok := files[f]
		if !ok {
			continue
		}
		n := f.DataGroup()
		want, ok := so.DataGroupHashes[n]
		if !ok {
			return r.fail(NotInSOD(n), "DG%d was read but the SOD holds no hash for it", n)
		}
		h := so.Hash.New()
		h.Write(data)
		if !bytes.Equal(h.Sum(nil), want) {
			return r.fail(HashMismatch(n), "the %v of DG%d (%d bytes) differs from the SOD's", so.Hash, n, len(data))
		}
		r.DataGroups = append(r.DataGroups, n)
	}
	slices.Sort(r.DataGroups)
	if pending != nil {
		return pending
	}
	r.Outcome, r.Reason, r.Detail = Pass, ReasonNone, ""
	return r
}

// VerifyCardSecurity verifies EF.CardSecurity (9303-11 §9.2, BSI TR-03110-3
// A.1.2.2): a ContentInfo whose SignedData encapsulates the chip's
// SecurityInfos under id-SecurityObject (0.4.0.127.0.7.3.2.1), signed by a
// Document Signer of the issuing state. It runs the same checks as
// PassiveAuthentication except the data group hashes; on a pass,
// Result.Content is the verified SecurityInfos (what PACE-CAM's chip
// public key must be taken from). EF.CardSecurity comes wrapped
// in nothing (TR-03110-3 A.1.2.2: the file is the ContentInfo itself); a
// 0x77-wrapped file is refused as cms_malformed.
func VerifyCardSecurity(ctx context.Context, cardSecurity []byte, issuingState string, store TrustStore, now time.Time, policy Policy) *Result {
	r := &Result{}
	sd, err := cms.ParseSignedData(cardSecurity)
	if err != nil {
		return r.fail(ReasonCMSMalformed, "EF.CardSecurity: %v", err)
	}
	csd := verifySignedData(sd, cms.OIDSecurityObject(), ReasonCMSMalformed, r)
	if csd == nil {
		return r
	}
	pending := verifyTrust(ctx, csd, issuingState, store, now, policy, x509.KeyUsageDigitalSignature, r)
	if r.Outcome == Fail {
		return r
	}
	if pending != nil {
		return pending
	}
	r.Content = sd.EContent
	r.Outcome, r.Reason, r.Detail = Pass, ReasonNone, ""
	return r
}

// verifyTrust checks the signer of a verified SignedData up to a CSCA.
// It returns a non-nil *Result (r itself, set to not_done) when a check
// could not be completed, and fills r with a fail when one failed.
func verifyTrust(ctx context.Context, csd *checkedSignedData, issuingState string, store TrustStore, now time.Time, policy Policy, leafUsage x509.KeyUsage, r *Result) *Result {
	var pendingReason Reason
	var pendingDetail string
	setPending := func(reason Reason, format string, a ...any) {
		if pendingReason == "" {
			pendingReason, pendingDetail = reason, fmt.Sprintf(format, a...)
		}
	}

	at := csd.si.SigningTime
	if at.IsZero() {
		r.quirk(QuirkNoSigningTime)
		at = now
	} else if at.After(now) {
		r.warn(ReasonSigningTimeInFuture)
	}

	state2, stateKnown := alpha2(issuingState)
	if !stateKnown {
		setPending(ReasonUnknownIssuingState, "issuing state %q has no two-letter code in the table", issuingState)
	}
	if store == nil {
		r.fail(ReasonUnknownCSCA, "no trust store")
		return nil
	}
	cands, err := gather(ctx, store, []string{csd.signer.Issuer.Country, state2})
	if err != nil {
		r.notDone(ReasonTrustStore, "%v", err)
		return r
	}
	maxLen := policy.MaxPathLength
	if maxLen <= 0 {
		maxLen = DefaultMaxPathLength
	}
	path := buildPath(csd.signer, cands, maxLen)
	if path == nil {
		r.fail(ReasonUnknownCSCA, "%s chains to no CSCA of %q held in the trust store (%d CSCAs, %d links tried)",
			describe(csd.signer), csd.signer.Issuer.Country, len(cands.anchors), len(cands.intermediates))
		return nil
	}
	r.Path = path
	r.CSCA = path[len(path)-1]
	if !checkPathCertificates(path, leafUsage, r) {
		return nil
	}
	if !checkValidity(path, at, now, policy, r) {
		return nil
	}
	stale, ok := checkRevocation(ctx, store, path, now, r)
	if !ok {
		if r.Outcome == Fail {
			return nil
		}
		return r
	}
	if stale != nil {
		if policy.FailOnStaleCRL {
			r.fail(ReasonCRLStale, "the CRL of %s was due at %s", stale.Issuer.Country, stale.NextUpdate.UTC().Format(time.RFC3339))
			return nil
		}
		setPending(ReasonCRLStale, "the CRL of %s was due at %s", stale.Issuer.Country, stale.NextUpdate.UTC().Format(time.RFC3339))
	}
	if policy.RequireCRL && slices.Contains(r.Warnings, ReasonNoCRL) {
		setPending(ReasonNoCRL, "the trust store holds no CRL for %s", r.CSCA.Subject.Country)
	}
	if stateKnown && countryKey(r.CSCA.Subject.Country) != state2 {
		r.fail(ReasonCountryMismatch, "DG1 issuing state %s (%s), CSCA country %q", issuingState, state2, r.CSCA.Subject.Country)
		return nil
	}
	if pendingReason != "" {
		return r.notDone(pendingReason, "%s", pendingDetail)
	}
	return nil
}

package verify

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"fmt"

	"borderid/internal/cert"
	"borderid/internal/cms"
)

// Signature algorithm OIDs a SignerInfo may name by key type only. RFC
// 3370 §3.2 allows rsaEncryption there (the hash is then digestAlgorithm);
// id-ecPublicKey is not allowed but several issuers write it.
func oidRSAEncryption() asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
}
func oidECPublicKey() asn1.ObjectIdentifier { return asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1} }

// signerAlgorithm returns the algorithm the SignerInfo's signature is
// checked with (internal/cert interprets it: RSA-PSS keeps its parameters,
// hash, MGF1 hash and salt length, RFC 4055 §3.1). A key-type-only OID is
// completed with the digest algorithm's hash and recorded as a quirk.
func signerAlgorithm(si *cms.SignerInfo, h crypto.Hash, r *Result) (cert.SignatureAlgorithm, error) {
	oid := si.SignatureAlgorithm.Algorithm
	if oid.Equal(oidRSAEncryption()) || oid.Equal(oidECPublicKey()) {
		r.quirk(QuirkKeyOnlySignatureAlgorithm)
	}
	return cert.CMSSignatureAlgorithm(oid, si.SignatureAlgorithm.Parameters, h)
}

// checkedSignedData is what verifySignedData established.
type checkedSignedData struct {
	si     *cms.SignerInfo
	signer *cert.Certificate
	hash   crypto.Hash // the digest algorithm of the signer info
}

// verifySignedData checks one CMS SignedData the way ICAO profiles it
// (9303-10 §4.6.2, 9303-12 §8, RFC 5652 §5): exactly one signer; the
// eContentType is want; the signed attributes are present, their
// content-type equals eContentType and their message-digest equals the
// hash of the eContent (§5.4, §11.1, §11.2); the signer certificate is the
// embedded one the SignerIdentifier names (issuer and serial number, or
// subject key identifier), else the single embedded certificate (quirk);
// and its key verifies the signature over the signed attributes re-tagged
// as SET OF, from their received bytes. malformed is the reason used for
// structural faults. On failure r is filled and nil returned.
func verifySignedData(sd *cms.SignedData, want asn1.ObjectIdentifier, malformed Reason, r *Result) *checkedSignedData {
	if sd.BER {
		r.quirk(QuirkBER)
	}
	if len(sd.SignerInfos) != 1 {
		r.fail(malformed, "%d signer infos, the ICAO profile has exactly one", len(sd.SignerInfos))
		return nil
	}
	if !sd.EContentType.Equal(want) {
		r.fail(ReasonContentTypeMismatch, "eContentType %v, want %v", sd.EContentType, want)
		return nil
	}
	if sd.EContent == nil {
		r.fail(malformed, "no eContent (detached signature)")
		return nil
	}
	si := &sd.SignerInfos[0]
	if (si.SID.SubjectKeyID != nil && si.Version != 3) || (si.SID.SubjectKeyID == nil && si.Version != 1) {
		r.quirk(QuirkSignerInfoVersion)
	}
	if len(si.SignedAttrsRaw) == 0 {
		// 9303-10 §4.6.2.1: signedAttrs are mandatory in the SOD; without
		// them the signature would cover the eContent directly.
		r.fail(malformed, "no signed attributes")
		return nil
	}
	if !si.ContentType.Equal(sd.EContentType) {
		r.fail(ReasonContentTypeMismatch, "content-type attribute %v, eContentType %v", si.ContentType, sd.EContentType)
		return nil
	}
	h, err := cms.HashForOID(si.DigestAlgorithm.Algorithm)
	if err != nil || !h.Available() {
		r.fail(ReasonUnsupportedAlgorithm, "digest algorithm %v", si.DigestAlgorithm.Algorithm)
		return nil
	}
	if si.MessageDigest == nil {
		r.fail(malformed, "no message-digest attribute")
		return nil
	}
	d := h.New()
	d.Write(sd.EContent)
	if !bytes.Equal(d.Sum(nil), si.MessageDigest) {
		r.fail(ReasonMessageDigestMismatch, "message-digest attribute is not the %v of the eContent", h)
		return nil
	}
	r.SigningTime = si.SigningTime

	signer, fallback, err := findSigner(sd, si)
	if err != nil {
		r.fail(ReasonNoSignerCertificate, "%v", err)
		return nil
	}
	if fallback {
		r.quirk(QuirkEmbeddedSignerFallback)
	}
	r.DSC = signer
	alg, err := signerAlgorithm(si, h, r)
	if err != nil {
		r.fail(ReasonUnsupportedAlgorithm, "signature algorithm %v: %v", si.SignatureAlgorithm.Algorithm, err)
		return nil
	}
	if err := signer.CheckSignature(alg, si.SignedAttrsForSignature(), si.Signature); err != nil {
		r.fail(ReasonBadSignature, "signer info signature does not verify with the signer certificate: %v", err)
		return nil
	}
	return &checkedSignedData{si: si, signer: signer, hash: h}
}

// findSigner returns the embedded certificate the SignerIdentifier names
// (RFC 5652 §5.3), or, when none matches and exactly one certificate is
// embedded, that one with fallback set: a few issuers write an issuer name
// that differs in encoding from the certificate's. The fallback is safe
// because the certificate's key must still verify the signature, and its
// path is still built and checked.
func findSigner(sd *cms.SignedData, si *cms.SignerInfo) (c *cert.Certificate, fallback bool, err error) {
	var parsed []*cert.Certificate
	var firstErr error
	for i, der := range sd.Certificates {
		pc, err := cert.ParseCertificate(der)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("embedded certificate %d: %w", i, err)
			}
			continue
		}
		parsed = append(parsed, pc)
	}
	for _, pc := range parsed {
		if matchesSID(pc, si.SID) {
			return pc, false, nil
		}
	}
	if len(sd.Certificates) == 1 && len(parsed) == 1 {
		return parsed[0], true, nil
	}
	if firstErr != nil {
		return nil, false, fmt.Errorf("no embedded certificate matches the signer identifier (%w)", firstErr)
	}
	return nil, false, fmt.Errorf("none of the %d embedded certificates matches the signer identifier", len(sd.Certificates))
}

func matchesSID(c *cert.Certificate, sid cms.SignerIdentifier) bool {
	if sid.SubjectKeyID != nil {
		return len(c.SubjectKeyID) > 0 && bytes.Equal(c.SubjectKeyID, sid.SubjectKeyID)
	}
	return sid.SerialNumber != nil && c.SerialNumber != nil &&
		c.SerialNumber.Cmp(sid.SerialNumber) == 0 && bytes.Equal(c.RawIssuer, sid.IssuerRaw)
}

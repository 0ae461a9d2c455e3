// Package cert parses X.509 certificates (RFC 5280 §4) and certificate
// revocation lists (RFC 5280 §5) in the profile of ICAO Doc 9303-12 (§7.1
// CSCA and Document Signer certificates, §7.1.4 CRLs, §8 master lists), and
// checks the signatures they carry.
//
// It exists because crypto/x509 refuses a large part of the world's eMRTD
// PKI: 9303-12 requires explicit EC domain parameters (RFC 3279 §2.3.5
// ECParameters) in CSCA and DS certificates, brainpool curves (RFC 5639) are
// missing from the standard library, and real certificates carry encodings
// RFC 5280 forbids (UTCTime without seconds, negative serial numbers,
// explicitly encoded DEFAULT values). Of the 588 certificates of the German
// master list of 2026-05-28, crypto/x509 refuses 164; this package parses all
// of them.
//
// Common use, passive authentication (9303-11 §5.1, 9303-12 §7):
//
//	csca, err := cert.ParseCertificate(der)          // from the trust store
//	dsc, err := cert.ParseCertificate(sod.Certificates[0])
//	if err := dsc.CheckSignatureFrom(csca); err != nil { ... } // errors.Is(err, cert.ErrSignature)
//	alg, err := cert.CMSSignatureAlgorithm(si.SignatureAlgorithm.Algorithm, si.SignatureAlgorithm.Parameters, digest)
//	err = dsc.CheckSignature(alg, si.SignedAttrsForSignature(), si.Signature)
//
// Parsing is lenient and verification strict: every deviation from DER or
// RFC 5280 the parser accepts is recorded by name in Certificate.Quirks or
// RevocationList.Quirks (see the Quirk* constants), and nothing a signature
// covers is ever re-encoded: signatures are checked over RawTBS, the bytes
// received. Every public key read is validated (RSA modulus and exponent, EC
// points on their curve and not at infinity); explicit EC parameters are
// accepted only when they are exactly one of the curves of package
// borderid/internal/ec (ec.MatchParams).
//
// Keys: *rsa.PublicKey (rsaEncryption and id-RSASSA-PSS keys),
// *ecdsa.PublicKey for NIST P-224, P-256, P-384 and P-521, named or given by
// explicit parameters (crypto/ecdsa verifies them some thirty times faster
// than the generic code), and *ec.PublicKey for P-192, the brainpool curves
// and explicit parameters of those. A key this package cannot use (an
// unknown algorithm, explicit parameters of an unknown curve) leaves
// PublicKey nil, is recorded as a quirk, and makes CheckSignature fail with
// ErrUnsupportedKey; the certificate itself still parses, so its own
// signature can be checked.
//
// Country codes: Alpha3ToAlpha2 and Alpha2ToAlpha3 map ICAO Doc 9303-3
// three-letter codes (D for Germany, UTO for the specimen state, the UN and
// EU codes) to the two-letter codes of X.509 C= (CONTRACTS.md "State codes").
//
// Deliberately not here: path building, validity periods, key usage policy,
// name chaining and revocation decisions (package verify decides those;
// CheckSignatureFrom checks a signature and nothing else: a root is decided
// by its signature, never by its name), certificate creation (crypto/x509
// does that for the keys it supports), CMS (package borderid/internal/cms),
// DSA and binary-field curves, and SHA-3.
package cert

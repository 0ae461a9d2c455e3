// Package verify implements Passive Authentication of an eMRTD (ICAO Doc
// 9303-11 §5.1, with the PKI of 9303-12): the EF.SOD's CMS signature
// (RFC 5652 §5.4, 5.6), the Document Signer certificate's path to a
// Country Signing CA through link certificates, validity, key usage and
// revocation, the issuing state against the CSCA's country, and every data
// group's hash. The same CMS path verifies EF.CardSecurity (PACE-CAM's
// signed SecurityInfos, 9303-11 §9.2 / BSI TR-03110-3 A.1.2.2) and CSCA
// master lists (9303-12 §8).
//
// Common use, at a border post, after the chip's files were read:
//
//	certs, err := verify.VerifyMasterList(ml, roots) // or certificates an operator imported
//	store := verify.NewMemoryStore()
//	err = store.Add(certs...)  // anchors and link certificates, sorted by signature
//	store.AddCRL(crls...)
//	res := verify.PassiveAuthentication(ctx, files[lds.FileSOD], files, "UTO", store, time.Now(), verify.Policy{})
//	switch res.Outcome { // verify.Pass, verify.Fail, verify.NotDone; res.Reason says why
//	}
//
// Functions here are safe for concurrent use when the TrustStore is
// (MemoryStore is).
//
// Result.Reason is a stable snake_case code (CONTRACTS.md, the
// inspection report's passive_authentication check); Result.Detail is free
// text for humans. Leniencies that real documents need (no signing time,
// a signer found only as the single embedded certificate, a
// signatureAlgorithm naming only the key type) are accepted and recorded in
// Result.Quirks by name; no check is ever skipped.
//
// Trust is decided by signatures only: a certificate is a CSCA because the
// trust store holds it as one and its key verifies the next certificate,
// never because its subject equals its issuer (many link certificates of
// real master lists have subject == issuer).
//
// The package deliberately does not: read chips (package reader), parse
// X.509 or CRLs (internal/cert) or CMS (internal/cms), keep the trust store
// in PostgreSQL (the TrustStore interface is what a db-backed store
// implements), fetch CRLs, or decide the report's verdict: Passive
// Authentication alone cannot tell a genuine chip from a clone with copied
// data; Chip or Active Authentication can.
package verify

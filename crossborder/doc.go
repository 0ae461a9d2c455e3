// Package crossborder is the cross-border document status service of issue 6: partner states ask the issuing
// state whether a document in front of them is valid, lost, stolen, revoked or expired, and the issuing state
// answers from its own registry, to authenticated partners only, with the least data possible, and signs every
// answer so the asking state can prove what it was told. (INTERPOL's SLTD answers from a central copy, APEC's
// RMAS routes each query to the issuing state; neither signs its answers.)
//
// The package has two sides. The responder ([Responder], [TrustLists]) runs inside `borderid serve`, mounted
// by enrol/api on its mutual-TLS listener; the client ([Ask], [Client], [Verify]) runs in `borderid status
// query` and `borderid read --status`. [Query], [Answer], [Request] and [Payload] are the wire format both share.
//
// # Common use (responder)
//
//	reg := api.NewPartnerRegistryDB(appPool, 0, log)          // partner registry, cached a few seconds
//	resp, err := crossborder.NewResponder(crossborder.ResponderConfig{
//		Pool: appPool, Indexer: token.Indexer(), Signer: statusKey, SignerCert: statusDER,
//		State: "UTO", Registry: reg, Logger: log, Checkpoint: core.Checkpoint})
//	srv, err := api.New(api.Config{..., Partners: reg, CrossBorder: api.CrossBorderRoutes{Status: resp, ...}})
//	err = srv.ServeTLS(ctx, ln, reg.TLSConfig(tlsCfg))
//
// A [Responder] is an http.Handler: it serves any request whose context carries a [Caller] ([WithCaller]), so
// a benchmark or test can mount it on httptest directly.
//
// # Who may ask
//
// Registered partner states (`borderid partner add`: their client CA, their state code; see enrol/api's
// PartnerAuthenticator for the certificate rules) and this state's own border stations (staff role border).
// Nobody else: a partner may call nothing but this route and the trust lists; a clerk may not ask.
//
// # What is asked and what is disclosed
//
// POST /v1/crossborder/status takes {"nonce": "<1 to 64 printable ASCII>", "queries": [...]} with 1 to
// [MaxQueries] queries (more: 413 too_many_queries), each {"issuing_state", "document_number",
// "date_of_birth", "date_of_expiry", "document_type"}: every field comes from the MRZ of the document in hand
// (dates YYMMDD; document_type optional and not used to match). The body is decoded as strictly as enrol/api's
// (see [DecodeRequest]): at most 256 KiB (413 body_too_large), malformed JSON 400, an unknown, case-folded or
// repeated member 422.
//
// Anti-enumeration: a document is matched only when ALL THREE of its number (normalised: upper case, without
// '<' fillers and spaces, db.NormaliseDocumentNumber, then found by its blind index), its date of birth and
// its date of expiry match (the stored dates rendered YYMMDD). A number that exists with one wrong date answers
// exactly as a number that does not exist: UNKNOWN. So the service cannot be used to test document numbers or
// to enumerate documents: an asker learns something only about a document whose MRZ it already holds. A query
// about another issuing state is UNKNOWN too (this state knows only its own documents).
//
// The answer discloses, per query, the status and the day it took effect, nothing else: no name, no office,
// no document type, no date beyond since. The status is the one of highest precedence that applies:
//
//	STOLEN > LOST > REVOKED > EXPIRED > VALID      (UNKNOWN: no match)
//
// so a document lost, then stolen, then revoked answers STOLEN (since the day it was reported stolen); one
// lost then revoked answers LOST. The database keeps the day each of LOST, STOLEN, REVOKED took effect
// (migration 0005) beside the one-way status column. EXPIRED applies when the date of expiry is before today
// (UTC) and nothing worse does; its since is the day after the date of expiry. VALID's since is the day of
// issue. Since is YYYY-MM-DD (UTC) and absent for UNKNOWN.
//
// # The signed answer
//
// 200, Content-Type application/jose, a compact JWS (RFC 7515 §7.1) signed ES256 (ECDSA P-256 with SHA-256,
// RFC 7518 §3.4: R and S as 32 bytes each) with the HSM key "status-signer" through go-jose's OpaqueSigner (the
// HSM returns ASN.1 DER; it is converted to R||S). The protected header is
//
//	{"alg":"ES256","typ":"borderid-status+json","x5c":["MIIB...(standard base64 DER of pki/status-signer.crt)"]}
//
// and the payload exactly (json: these keys, no others; answers in query order, document_number echoed as sent)
//
//	{"responder":"UTO","nonce":"q3v5rX0cJ1hGg5yT2m8Y0w","time":"2026-11-27T09:12:03Z",
//	 "answers":[{"document_number":"L898902C3","status":"STOLEN","since":"2025-04-02"},
//	            {"document_number":"X1234567","status":"UNKNOWN"}]}
//
// The status-signer certificate is self-signed with extended key usage id-kp-OCSPSigning: partners register
// it out of band as this state's status-signer root and verify x5c against it (Roots = {root}, KeyUsages =
// OCSPSigning), never against what an endpoint serves. typ follows RFC 8725 §3.11 (explicit typing), so an
// answer cannot be taken for another kind of JWS.
//
// # Rate limits and quotas
//
// Per partner state (its registry row): a token bucket of requests (golang.org/x/time/rate), rate_per_sec
// tokens per second, burst max(1, rate_per_sec), checked before the body is read; and a quota of queries per
// UTC day (quota_per_day; a batch of 100 counts 100), checked after decoding. Per border station (certificate
// CN): DefaultBorderRate requests per second and no daily quota unless configured. Exceeding either answers
// 429 rate_limited with Retry-After (seconds: until the next token, or until 00:00 UTC). Buckets and day counts
// live in memory: a restart of serve refills them and resets the day's counts (a partner can get at most one
// extra quota per restart). A refused request is not answered and not audited; its cost is bounded by the
// limits themselves. A change of a partner's rate in the registry applies within the registry cache's TTL.
//
// # Audit
//
// Every answered request writes one row to the hash-chained audit log (db/audit.go), in the same transaction
// as the lookup, so no answer leaves without its row: actor = the partner's state code (ATL) or the station's
// certificate CN, role = partner or border, action crossborder.status, outcome ok, time (the row's at), and
// detail `system="<certificate CN>" queries=N index=<hex>,<hex>,...` - the asking system, then the blind index (HMAC in the HSM, purpose "document-number") of
// each queried number in query order, never the number itself. An auditor finds who asked about a document by
// recomputing its index. A query that matched a document (any answer but UNKNOWN) is a read of that person's
// data: it adds a row whose subject is the enrolment, detail `system="<CN>" answered=<STATUS>`, so the
// person's access log (GET /v1/enrollments/{id}/access-log) shows which state asked, when, and what it was told. The reads run in the scope role "status" (db.WithStatusScope), which row-level
// security lets read the documents of every office and nothing else. Refusals decided in enrol/api (401, 403)
// are audited there as denials.
//
// # Trust lists
//
// On the same listener, for any authenticated partner or staff member ([TrustLists]): GET /v1/trust/masterlist
// (a CMS master list, ICAO 9303-12 §8, of this state's CSCA and link certificates signed by its master-list
// signer: application/pkcs7-mime), GET /v1/trust/crl (a fresh CRL of the CSCA, signed by the CSCA key,
// application/pkix-crl) and GET /v1/trust/status-signer (pki/status-signer.crt as PEM,
// application/pem-certificate-chain). Master list and CRL are re-signed at most once a minute.
//
// # What this package does not do
//
// It keeps no copy of other states' data and forwards nothing: it answers for this state's documents only. It
// does not persist rate-limit state. It does not answer document types or names, and it does not log or audit
// document numbers.
package crossborder

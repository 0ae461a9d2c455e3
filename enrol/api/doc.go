// Package api is the HTTPS front end of enrolment and issuance: it authenticates the caller by the client
// certificate of mutual TLS, checks the caller's role for the route, decodes and bounds the request, and hands
// it to an [enrol.Service], which checks everything again (office scope, state, self-approval) and is the only
// part that touches the database, the HSM or the audit log. The routes, their bodies and their errors are in
// the embedded OpenAPI 3.1 document, served at GET /v1/openapi.json (see openapi.json in this folder).
//
// # Common use
//
//	tlsCfg, err := api.TLSConfig(serverCertPEM, serverKeyPEM, clientCAPEM)
//	srv, err := api.New(api.Config{Service: svc, ClientCAs: tlsCfg.ClientCAs, Logger: log})
//	err = srv.ListenAndServeTLS(ctx, "127.0.0.1:8443", tlsCfg) // returns after ctx is cancelled and requests drained
//
// # Authentication (CONTRACTS.md "Client certificates")
//
// TLS 1.3 only ([TLSConfig]). The TLS layer asks for a client certificate but does not demand one
// (tls.VerifyClientCertIfGiven), so that GET /healthz answers load balancers without one. A certificate that is
// offered must chain to the client CA pool, or the handshake fails and no HTTP request exists to answer or
// audit (the http.Server logs it at Warn). Every other route answers 401 client_certificate_required without a
// certificate. The [Authenticator] then turns the verified chain into an
// [enrol.Principal]; the default, [StaffAuthenticator], verifies the chain again against the staff CA only (at
// the time of each request, so a keep-alive connection does not outlive its certificate) and reads:
//
//	CN                         -> Subject (exactly one)
//	O  (two letters A-Z)       -> Country (exactly one)
//	OU                         -> Office  (at most one; required when the certificate holds an office role)
//	SAN URI urn:borderid:role:<role> -> Roles (clerk, approver: office roles; issuer, border, auditor: national)
//
// A certificate that breaks these rules (two O or OU, no CN, an office role without OU, an unknown role under
// urn:borderid:role:) is not trusted at all: 401 invalid_client_certificate, so a mistake at the CA is seen at
// once instead of silently granting less. A well-formed certificate with no role authenticates (it may read
// the OpenAPI document) but every other route answers 403 forbidden_role.
//
// # Partner states (issue 6)
//
// A partner state's system is recognised by the partner registry, not by role URIs. With Config.Partners set
// (a [PartnerRegistry], a cache of db.ListPartners read again every DefaultPartnerCacheTTL), the Authenticator
// is a [PartnerAuthenticator]: the staff check runs first and unchanged (verification against the staff CA
// alone); only a certificate that fails it is tried against each registered partner's client CA, at the time
// of the request, for client authentication. No registered CA: 401 invalid_client_certificate. A registered CA
// but a country (C=, or O= without C=) that maps (cert.Alpha2ToAlpha3) to another state than the one that CA
// is registered for: 403 partner_country_mismatch. Otherwise the principal is {Subject: CN, Roles: [partner],
// Country: alpha-2}; role URIs in a partner certificate are ignored. A partner may call only the routes marked
// partners in the route table (x-borderid-partners in openapi.json: POST /v1/crossborder/status and GET
// /v1/trust/*); anything else is 403 forbidden_role, audited.
//
// The TLS layer must accept partner CAs registered while the server runs: [PartnerRegistry.TLSConfig] wraps
// the tls.Config with GetConfigForClient, which hands each handshake a config whose ClientCAs are the staff
// CA plus every registered partner CA as the cache holds them. A client whose CA is in neither is offered no
// acceptable CA, sends no certificate and gets 401 client_certificate_required (or fails the handshake if it
// sends one anyway); an expired certificate fails the handshake. A partner removed from the registry is refused
// (401) on its next request once the cache has expired, even on a keep-alive connection, because the
// authenticator checks the registry per request. The handlers of the cross-border routes (package crossborder)
// receive the caller as a crossborder.Caller in the request context: a partner as its alpha-3 state code, a
// station as its CN.
//
// # Authorisation and order of checks
//
// Each route names the roles that may call it. The order is fixed so that an outsider learns nothing and no
// body is read for a caller who may not send one: 401 (certificate) -> 403 forbidden_role (role) -> 422
// unknown_parameter (query) -> 404 (path: an id that is not a UUID, a finger position outside 1-10, a malformed
// document number all answer 404 not_found, exactly as an absent record does) -> 415 (Content-Type) -> 413
// (Content-Length, then the bytes actually read) -> 400/422 (body) -> the service. Every 401 and 403 decided here
// is reported through [enrol.Service.Deny] so that it is audited, with the same action names the service
// uses (enrol.Action*); the service audits its own denials (404 outside the office, self-approval), so each
// denial leaves exactly one audit row. A certificate that is refused is audited under "unverified:<CN>".
// Auditing every 401 means a client without a certificate can make the server write audit rows: rate
// limiting (429) is what bounds that. The document number of PUT /v1/documents/{number}/status is never
// passed to Deny nor logged.
//
// # Bodies
//
// JSON bodies (at most 64 KiB by default) must be sent as application/json (charset utf-8 if any) and be one
// JSON object of string members: malformed JSON, invalid UTF-8 or anything after the object -> 400
// malformed_json; an unknown member (names match exactly, not case-insensitively as encoding/json would) ->
// 422 unknown_field; a member given twice -> 422 duplicate_field (two parsers could otherwise disagree on which
// one counts); control characters -> 422 invalid_characters. Dates are YYYY-MM-DD calendar dates (422
// invalid_date). Uploads must carry one of the route's media types (415 unsupported_media_type) and are capped
// at the smaller of Config.MaxBody (4 MiB by default) and enrol/biometric's cap for their kind (2 MiB for a
// face, 1 MiB for a finger or minutiae record); a declared Content-Length over the cap is refused before a byte
// is read, and a body without one is read through http.MaxBytesReader, so a 50 MB body costs the server at
// most the cap (413 body_too_large) and the connection is closed rather than drained; an empty body is 422
// empty_body. Finalize, approve and issue take no body (an empty JSON object is tolerated).
//
// PUT /v1/enrollments/{id}/biometrics/fingers/{position}/minutiae is our addition to the list: the
// ISO/IEC 19794-2 minutiae record of a finger travels separately from its 19794-4 image, so each upload has one
// media type and one validator.
//
// # Errors, headers, logs
//
// Every error is {"code": "snake_case", "message": "sentence"}; the status and code come from the
// [*enrol.Error] or sentinel the service returns. Any other error, and a panic, is 500 internal with no detail
// in the response; its text is logged, so the service keeps personal data out of its error strings. Every response carries Cache-Control: no-store and X-Content-Type-Options: nosniff.
// One log line per request: method, route pattern (never the raw path, which can hold a document number),
// status, duration and the certificate's subject; never a body, a query or a document number.
//
// # What this package does not do
//
// It does not check revocation of staff certificates (no CRL or OCSP yet: remove a role by reissuing the CA or
// the pool), does not rate limit the enrolment routes (the cross-border responder limits its own callers: 429
// rate_limited), and holds no state of its own beyond its
// configuration. Office scope, state transitions and the no-self-approval rule are the service's and the
// database's business; this layer only refuses early what it can decide from the certificate and the bytes.
package api

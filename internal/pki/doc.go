// Package pki issues borderid's certificates: the eMRTD PKI of ICAO Doc
// 9303-12 (§7.1.1 certificate profiles, §7.1.4 CRLs, §8 master lists),
// written with its own DER encoder (golang.org/x/crypto/cryptobyte)
// because crypto/x509 cannot write explicit EC domain parameters, and the
// TLS PKI of the HTTPS server and its staff and station clients, written
// with crypto/x509.
//
// Common use, at `borderid init` (keys in the HSM, certificates in
// <home>/pki):
//
//	csca, err := pki.Issue(pki.Template{Kind: pki.CSCA, Country: "UT", Organization: "Utopia",
//		CommonName: "CSCA Utopia", NotBefore: now, NotAfter: now.AddDate(15, 0, 0),
//		PrivateKeyUsageEnd: now.AddDate(5, 0, 0)}, cscaKey.Public(), nil, cscaKey)
//	ds, err := pki.Issue(pki.Template{Kind: pki.DocumentSigner, Country: "UT", CommonName: "DS Utopia 1",
//		NotBefore: now, NotAfter: now.AddDate(10, 3, 0), PrivateKeyUsageEnd: now.AddDate(0, 3, 0),
//		DocumentTypes: []string{"P"}}, dsKey.Public(), csca, cscaKey)
//	signer, err := pki.CMSSigner(ds)                  // for lds.EncodeSODAs / cms.SignAs
//	crl, err := pki.IssueCRL(csca, cscaKey, big.NewInt(1), now, now.AddDate(0, 0, 90), nil)
//	ml, err := pki.MasterList([][]byte{csca}, mlSigner, mlKey, now, [][]byte{crl})
//
// Keys are crypto.Signers (HSM keys through PKCS #11); each signature is
// made once with crypto/rand, and every certificate and CRL written is
// parsed back with package internal/cert and its signature verified
// before it is returned. Keys must be ECDSA on P-256, P-384 or P-521; the
// issuer's curve picks the signature algorithm (ecdsa-with-SHA256,
// -SHA384, -SHA512). RSA keys are refused (ErrUnsupportedKey): borderid's
// HSM keys are EC, and one family keeps the encoder small.
//
// # Profiles (9303-12 Table 6; c = critical)
//
//	                        CSCA          Link          DocumentSigner  MasterListSigner  StatusSigner   AuditSigner
//	issuer                  itself        old CSCA      CSCA            CSCA              itself or CA   itself or CA
//	EC parameters           explicit      explicit      explicit        explicit          named curve    named curve
//	authorityKeyIdentifier  yes (= SKI)   yes           yes             yes               yes            yes
//	subjectKeyIdentifier    yes           yes           yes             yes               yes            yes
//	keyUsage (c)            keyCertSign,  keyCertSign,  digitalSig.     digitalSig.       digitalSig.    digitalSig.
//	                        cRLSign       cRLSign
//	privateKeyUsagePeriod   yes           yes           yes             -                 -              -
//	subjectAltName          L=<alpha-3>   L=<alpha-3>   L=<alpha-3>     L=<alpha-3>       -              -
//	issuerAltName           issuer's SAN  issuer's SAN  issuer's SAN    issuer's SAN      -              -
//	basicConstraints (c)    cA, path 0    cA, path 0    -               -                 -              -
//	extKeyUsage (c)         -             -             -               2.23.136.1.1.3    OCSPSigning    -
//	documentTypeList        -             -             yes             -                 -              -
//	nameChange              -             if renamed    -               -                 -              -
//
// Names: C= (two-letter, upper case, PrintableString; the issuer's and the
// subject's must match), O, OU, CN (mandatory) and serialNumber
// (PrintableString), one attribute per RDN; other DirectoryString values
// are PrintableString when they fit, else UTF8String. Serial numbers are
// positive, at most 20 octets, 16 random octets by default. Validity is
// UTCTime through 2049 and GeneralizedTime from 2050, whole seconds.
// privateKeyUsagePeriod runs from NotBefore to PrivateKeyUsageEnd
// (default NotAfter). The alternative names carry the directoryName
// 9303-12 §7.1.1.2 requires (localityName = the country as in the MRZ,
// "UTO"); the IssuerAltName repeats the issuer's SubjectAltName as
// received. The authority key identifier is written in the self-signed
// CSCA too (optional there): one rule for every kind, and path builders
// (package verify) order candidates by it. A link certificate whose
// subject differs from its issuer's carries nameChange (NULL,
// non-critical, §7.1.1.5). CRLs: v2, the CSCA's name as issuer,
// thisUpdate and nextUpdate, entries without extensions (Table 10 forbids
// reasonCode), authorityKeyIdentifier and cRLNumber (both mandatory,
// non-critical).
//
// Why StatusSigner and AuditSigner use named curves: they are not eMRTD
// certificates, and their readers use crypto/x509 (a partner state's
// client verifying a JWS with go-jose reads the x5c chain with it), which
// refuses explicit parameters. For the same reason crypto/x509 can verify
// them only up to a root it can read: issue them self-signed (or under a
// CA with a named-curve key), not under the CSCA. StatusSigner carries
// id-kp-OCSPSigning (1.3.6.1.5.5.7.3.9, critical): it signs statements
// about the status of documents, the nearest registered purpose, and
// borderid has no private enterprise number under which to define its own
// OID (an invented arc would squat someone else's). A verifier asks for it
// with x509.VerifyOptions{KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}}.
// The key must never be certified by a CA that also runs OCSP: there it
// would be a delegated OCSP responder (RFC 6960 §4.2.2.2). AuditSigner
// carries no extended key usage: only borderid verifies checkpoints, by
// that very certificate.
//
// The TLS PKI (crypto/x509, software P-256 keys in PEM files, 0600): a
// TLS CA (NewTLSCA, LoadTLSCA), server certificates for IP addresses and
// DNS names (IssueServer, serverAuth) and client certificates
// (IssueClient, clientAuth) in the profile of CONTRACTS.md: CN, O = the
// two-letter country, OU = the office for office roles, SAN URIs
// urn:borderid:role:<role>. ParseClient and RolesOf read them back.
// Lifetimes: ServerLifetime, ClientLifetime (397 days), TLSCALifetime.
//
// Deliberately not here: keys (package internal/hsm makes them; this
// package takes crypto.Signers), storing certificates (the caller writes
// <home>/pki; WritePrivateFile never overwrites), path validation and
// trust decisions (package verify), CRL distribution points (not
// required), the optional curve seed of explicit parameters, contact
// addresses (rfc822Name, URI) in the alternative names (9303-12 says
// SHOULD; none is configured), RSA and brainpool keys, Deviation List
// signers, and OCSP.
package pki

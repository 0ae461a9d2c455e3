// Package issue personalises a chip: from an approved application's
// demographics and biometrics it builds the complete identity of an ICAO
// eMRTD (TD3 passport) that hardware/chipsim serves and package reader
// reads, signed by the state's Document Signer.
//
// Build makes, per ICAO 9303-10 and 9303-11:
//
//   - the MRZ (9303-4 §4.2.2): names transliterated to the MRZ alphabet
//     (Transliterate, 9303-3 §6), every check digit, no optional data;
//   - EF.COM (LDS 1.7, Unicode 4.0.0), DG1 (the MRZ), DG2 (the face as an
//     ISO/IEC 19794-5 record: an uploaded record as is, else the JPEG or
//     JPEG 2000 image wrapped in one), DG3 (the uploaded ISO/IEC 19794-4
//     finger image records as is; minutiae are never put on the chip),
//     DG11 (full name, full date of birth, place of birth), DG12 (issuing
//     authority, date of issue);
//   - DG14: Chip Authentication (id-CA-ECDH-AES-CBC-CMAC-128) with a fresh
//     P-256 key, PACE (id-PACE-ECDH-GM-AES-CBC-CMAC-128, parameter id 12,
//     also in EF.CardAccess), Terminal Authentication version 1, and Active
//     Authentication with ECDSA-SHA-256 (plain signatures) for the fresh
//     P-256 key of DG15;
//   - EF.CVCA naming the state's CVCA, EF.SOD (SHA-256 over every data
//     group, signed by the Document Signer, lds.EncodeSODAs);
//   - the chip's own files (docs/chip-identity.md): chip.json, ca.key,
//     aa.key (PKCS#8), cvca.cvcert, with a random six-digit CAN.
//
// Output.Files is the whole identity folder as name → bytes; it loads
// with chipsim.LoadIdentityFS, and Build checks that it does before
// returning it. The chip keys exist only in Output.Files: a caller seals
// them (enrol/chipstore) and drops the rest.
//
// Typical use, in the issuing service:
//
//	number, err := issue.NewDocumentNumber(rand.Reader)
//	out, err := issue.Build(issue.Input{IssuingState: "UTO", DocumentNumber: number, ...,
//		DS: dsCert, DSKey: hsmSigner, CVCA: cvcaCert})
//	chipID, err := chipstore.Save(ctx, home, out.Files, kw)
//
// The package deliberately does not: decide who may issue (package
// enrol), check the uniqueness of a document number (the database does),
// validate biometric uploads (enrol/biometric did), keep anything, log
// anything, or write PACE-CAM's EF.CardSecurity (the chip offers PACE-GM
// and Chip Authentication instead). Chip keys come from crypto/rand
// whatever Input.Rand is (Go's key generation ignores other readers).
package issue

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing/fstest"
	"time"

	"borderid/enrol/biometric"
	"borderid/hardware/chipsim"
	"borderid/internal/cert"
	"borderid/internal/cms"
	"borderid/internal/cvc"
	"borderid/reader/lds"
)

// Input is what Build needs: the application and the state's signing
// material.
type Input struct {
	// IssuingState and Nationality are 9303-3 codes ("UTO", "D").
	IssuingState string
	// DocumentType is the MRZ document code, "P" when empty; it must be a
	// passport code (P and an optional second letter).
	DocumentType string
	// DocumentNumber: one to nine characters of 0-9 A-Z
	// (NewDocumentNumber).
	DocumentNumber string
	// Surname (primary identifier) and GivenNames (secondary), as
	// enrolled; Transliterate writes them in the MRZ alphabet.
	Surname, GivenNames string
	Nationality         string
	// Sex is "F", "M" or "X" (unspecified, '<' in the MRZ).
	Sex string
	// DateOfBirth and DateOfExpiry: only the date counts, as given (no
	// time zone conversion). The expiry must be after Now and before
	// 2070 (readers take an MRZ expiry year yy < 70 as 20yy).
	DateOfBirth, DateOfExpiry time.Time
	// PlaceOfBirth, optional, goes to DG11 as given.
	PlaceOfBirth string
	// IssuingAuthority goes to DG12; empty means IssuingState.
	IssuingAuthority string
	// Face is required; Fingers (ISO/IEC 19794-4 records) optional, at most
	// ten.
	Face    *biometric.Face
	Fingers []*biometric.Finger
	// DS is the Document Signer certificate and DSKey its key (in the HSM).
	DS    cms.SignerCert
	DSKey crypto.Signer
	// CVCA is the CV certificate of the state's CVCA (TR-03110-3 C.1),
	// the chip's Terminal Authentication trust point.
	CVCA []byte
	// Now is the date of issue and the SOD's signing time; zero means
	// time.Now().
	Now time.Time
	// Rand draws the CAN; nil means crypto/rand.Reader.
	Rand io.Reader
}

// Output is a built chip identity.
type Output struct {
	// Files is the identity folder: "COM", "DG1", "DG2", "DG3" (with
	// fingers), "DG11", "DG12", "DG14", "DG15", "SOD", "CardAccess",
	// "CVCA", and chip.json, ca.key, aa.key, cvca.cvcert. It holds
	// biometrics and private keys: never write it in clear.
	Files map[string][]byte
	// MRZ is the two lines joined by "\n" (personal data: never log it).
	MRZ string
	// CAN is the card access number printed on the data page.
	CAN string
}

// Names of the chip's own files in Output.Files.
const (
	CAKeyFile = chipsim.DefaultCAKeyFile
	AAKeyFile = chipsim.DefaultAAKeyFile
	CVCAFile  = chipsim.DefaultCVCAFile
)

// maxFingers: one record per finger position 1-10 (ISO/IEC 19794-4 Table 5).
const maxFingers = 10

// paceParameterID 12 is NIST P-256 (9303-11 §9.5.1).
const paceParameterID = 12

// oidECDSAPlainSHA256 is ecdsa-plain-SHA256 (BSI TR-03111 §5.2.1), the
// Active Authentication algorithm DG14 announces (9303-11 §9.2.9).
var oidECDSAPlainSHA256 = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 3}

// Build makes the chip identity of in. Refusals of the application wrap
// ErrInput (demographics, biometrics, dates); refusals of the state's
// material wrap ErrSigner (a DS key that does not match its certificate,
// a DS outside its validity or signing period or not for this document
// type, a CVCA certificate that is not one); other errors are failures of
// the signer or of the random source.
func Build(in Input) (*Output, error) {
	if in.Rand == nil {
		in.Rand = rand.Reader
	}
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	// The SOD's signing time is a UTCTime of whole seconds.
	now := in.Now.UTC().Truncate(time.Second)

	// Demographics and the MRZ.
	docType := strings.ToUpper(strings.TrimSpace(in.DocumentType))
	if docType == "" {
		docType = "P"
	}
	if len(docType) > 2 || docType[0] != 'P' || !allIn(docType, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		return nil, inputErr("document type %q is not a passport code (P and an optional letter)", in.DocumentType)
	}
	state, err := code("issuing state", in.IssuingState)
	if err != nil {
		return nil, err
	}
	nationality, err := code("nationality", in.Nationality)
	if err != nil {
		return nil, err
	}
	number := in.DocumentNumber
	if len(number) < 1 || len(number) > DocumentNumberLength || !allIn(number, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		return nil, inputErr("document number of %d characters: want 1 to 9 of 0-9 A-Z", len(number))
	}
	sex, err := sexCode(in.Sex)
	if err != nil {
		return nil, err
	}
	name, fullName, err := nameField(in.Surname, in.GivenNames)
	if err != nil {
		return nil, err
	}
	if err := checkDates(in.DateOfBirth, in.DateOfExpiry, in.Now); err != nil {
		return nil, err
	}
	mrzText, err := td3(docType, state, name, number, nationality, in.DateOfBirth, sex, in.DateOfExpiry)
	if err != nil {
		return nil, err
	}

	// Signing material, checked before anything is signed.
	if in.DSKey == nil || len(in.DS.Raw) == 0 {
		return nil, signerErr("no Document Signer certificate or key")
	}
	if err := checkDS(in.DS, in.DSKey, docType, now); err != nil {
		return nil, err
	}
	cvca, err := cvc.Parse(in.CVCA)
	if err != nil {
		return nil, signerErr("CVCA certificate: %v", err)
	}
	if cvca.Role != cvc.RoleCVCA {
		return nil, signerErr("the terminal authentication trust point is a %v certificate, not a CVCA", cvca.Role)
	}

	files := map[string][]byte{}
	put := func(f lds.File, b []byte) { files[f.String()] = b }

	dg1, err := lds.EncodeDG1(strings.ReplaceAll(mrzText, "\n", ""))
	if err != nil {
		return nil, fmt.Errorf("issue: DG1: %w", err)
	}
	put(lds.FileDG1, dg1)
	dg2, err := encodeDG2(in.Face)
	if err != nil {
		return nil, err
	}
	put(lds.FileDG2, dg2)
	if len(in.Fingers) > 0 {
		dg3, err := encodeDG3(in.Fingers)
		if err != nil {
			return nil, err
		}
		put(lds.FileDG3, dg3)
	}
	dg11, err := lds.EncodeDG11(&lds.DG11{
		FullName:        fullName,
		FullDateOfBirth: in.DateOfBirth.Format("20060102"),
		PlaceOfBirth:    strings.TrimSpace(in.PlaceOfBirth),
	})
	if err != nil {
		return nil, fmt.Errorf("issue: DG11: %w", err)
	}
	put(lds.FileDG11, dg11)
	authority := strings.TrimSpace(in.IssuingAuthority)
	if authority == "" {
		authority = strings.TrimRight(state, "<")
	}
	dg12, err := lds.EncodeDG12(&lds.DG12{IssuingAuthority: authority, DateOfIssue: in.Now.Format("20060102")})
	if err != nil {
		return nil, fmt.Errorf("issue: DG12: %w", err)
	}
	put(lds.FileDG12, dg12)

	// The chip's keys: Chip Authentication (ECDH) and Active
	// Authentication (ECDSA), both P-256, the curve of PACE id 12.
	_, caPKCS8, caSPKI, err := newP256Key()
	if err != nil {
		return nil, fmt.Errorf("issue: chip authentication key: %w", err)
	}
	_, aaPKCS8, aaSPKI, err := newP256Key()
	if err != nil {
		return nil, fmt.Errorf("issue: active authentication key: %w", err)
	}
	paceInfo := lds.PACEInfo{Protocol: lds.PACEECDHGMAES128, Version: 2,
		ParameterID: lds.OptionalInt{Value: paceParameterID, Present: true}}
	dg14, err := lds.EncodeDG14(&lds.SecurityInfos{
		PACE:                         []lds.PACEInfo{paceInfo},
		ChipAuthentication:           []lds.ChipAuthenticationInfo{{Protocol: lds.CAECDHAES128, Version: 1}},
		ChipAuthenticationPublicKeys: []lds.ChipAuthenticationPublicKeyInfo{{Protocol: lds.PKECDH, SubjectPublicKeyInfo: caSPKI}},
		TerminalAuthentication:       []lds.TerminalAuthenticationInfo{{Version: 1}},
		ActiveAuthentication:         []lds.ActiveAuthenticationInfo{{Version: 1, SignatureAlgorithm: oidECDSAPlainSHA256}},
	})
	if err != nil {
		return nil, fmt.Errorf("issue: DG14: %w", err)
	}
	put(lds.FileDG14, dg14)
	dg15, err := lds.EncodeDG15(aaSPKI)
	if err != nil {
		return nil, fmt.Errorf("issue: DG15: %w", err)
	}
	put(lds.FileDG15, dg15)
	cardAccess, err := lds.EncodeSecurityInfos(&lds.SecurityInfos{PACE: []lds.PACEInfo{paceInfo}})
	if err != nil {
		return nil, fmt.Errorf("issue: EF.CardAccess: %w", err)
	}
	put(lds.FileCardAccess, cardAccess)
	// EF.CVCA names the key the chip trusts: the CHR of the trust point
	// (a self-signed CVCA's CAR and CHR are equal; a link certificate's
	// CHR is the new key), which chipsim checks (docs/chip-identity.md).
	efCVCA, err := lds.EncodeCVCA(cvca.CHR)
	if err != nil {
		return nil, fmt.Errorf("issue: EF.CVCA: %w", err)
	}
	put(lds.FileCVCA, efCVCA)

	var listed []lds.File
	hashes := map[int][]byte{}
	for f := lds.FileDG1; f <= lds.FileDG16; f++ {
		b, ok := files[f.String()]
		if !ok {
			continue
		}
		listed = append(listed, f)
		sum := sha256.Sum256(b)
		hashes[f.DataGroup()] = sum[:]
	}
	com, err := lds.EncodeCOM("0107", "040000", listed)
	if err != nil {
		return nil, fmt.Errorf("issue: EF.COM: %w", err)
	}
	put(lds.FileCOM, com)
	sod, err := lds.EncodeSODAs(crypto.SHA256, hashes, in.DS, in.DSKey, now)
	if err != nil {
		return nil, fmt.Errorf("issue: EF.SOD: %w", err)
	}
	put(lds.FileSOD, sod)

	can, err := newCAN(in.Rand)
	if err != nil {
		return nil, err
	}
	cfg := chipsim.Config{
		Version:                chipsim.ConfigVersion,
		ExtendedLength:         true,
		CAN:                    can,
		ActiveAuthentication:   &chipsim.AAConfig{KeyFile: AAKeyFile, Hash: "SHA-256"},
		ChipAuthentication:     &chipsim.CAConfig{KeyFile: CAKeyFile},
		TerminalAuthentication: &chipsim.TAConfig{CVCAFile: CVCAFile},
	}
	js, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("issue: chip.json: %w", err)
	}
	files[chipsim.ConfigFile] = append(js, '\n')
	files[CAKeyFile] = caPKCS8
	files[AAKeyFile] = aaPKCS8
	files[CVCAFile] = bytes.Clone(in.CVCA)

	// The identity must load as a chip: a personalisation that a chip
	// refuses is caught here, not at the border.
	if _, err := chipsim.LoadIdentityFS(MapFS(files)); err != nil {
		return nil, fmt.Errorf("issue: the identity does not load: %w", err)
	}
	return &Output{Files: files, MRZ: mrzText, CAN: can}, nil
}

// MapFS presents an identity folder held in memory as a file system for
// chipsim.LoadIdentityFS: every entry a regular file, 0600.
func MapFS(files map[string][]byte) fstest.MapFS {
	m := make(fstest.MapFS, len(files))
	for name, b := range files {
		m[name] = &fstest.MapFile{Data: b, Mode: 0o600}
	}
	return m
}

// checkDates refuses dates a TD3 MRZ cannot carry or that make no sense
// at issue: a birth after the day of issue, an expiry on or before it, an
// expiry from 2070 on (9303-4 gives two-digit years; readers take yy < 70
// as 20yy, CONTRACTS.md).
func checkDates(dob, doe, now time.Time) error {
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
	today := day(now)
	switch {
	case dob.IsZero():
		return inputErr("no date of birth")
	case doe.IsZero():
		return inputErr("no date of expiry")
	case day(dob).After(today):
		return inputErr("date of birth after the date of issue")
	case !day(doe).After(today):
		return inputErr("date of expiry not after the date of issue")
	case doe.Year() >= 2070:
		return inputErr("date of expiry in %d: an MRZ expiry year must be before 2070", doe.Year())
	}
	return nil
}

// checkDS refuses a Document Signer that would make a chip fail Passive
// Authentication: a key other than the certificate's, a certificate
// outside its validity or its private key usage period (9303-12
// §7.1.1.3) at the time of issue, without digitalSignature, or whose
// DocumentTypeList (9303-12 §7.1.1.6) does not cover the document type.
func checkDS(ds cms.SignerCert, key crypto.Signer, docType string, now time.Time) error {
	c, err := cert.ParseCertificate(ds.Raw)
	if err != nil {
		return signerErr("Document Signer certificate: %v", err)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(ds.PublicKey) || !pub.Equal(c.PublicKey) {
		return signerErr("the Document Signer key does not match its certificate")
	}
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return signerErr("the Document Signer certificate is not valid at the time of issue")
	}
	if p := c.PrivateKeyUsageNotAfter; p != nil && now.After(*p) {
		return signerErr("the Document Signer's signing period ended on %s", p.Format(time.DateOnly))
	}
	if p := c.PrivateKeyUsageNotBefore; p != nil && now.Before(*p) {
		return signerErr("the Document Signer's signing period starts on %s", p.Format(time.DateOnly))
	}
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return signerErr("the Document Signer certificate does not allow digitalSignature")
	}
	if len(c.DocumentTypes) > 0 {
		covered := false
		for _, t := range c.DocumentTypes {
			covered = covered || strings.HasPrefix(docType, t) && t != ""
		}
		if !covered {
			return signerErr("the Document Signer may sign %v, not %q", c.DocumentTypes, docType)
		}
	}
	return nil
}

// newP256Key makes a P-256 key and returns it with its PKCS#8 encoding
// (RFC 5208, an SEC 1 ECPrivateKey naming the curve: what chipsim's
// ca.key and aa.key hold) and its SubjectPublicKeyInfo (RFC 5480, named
// curve: what DG14 and DG15 carry).
func newP256Key() (*ecdsa.PrivateKey, []byte, []byte, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, nil, nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, nil, nil, err
	}
	return k, pkcs8, spki, nil
}

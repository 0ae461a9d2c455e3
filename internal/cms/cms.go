// Package cms parses and builds CMS SignedData (RFC 5652 §5) in the profile
// ICAO Doc 9303 uses for EF.SOD (9303-10 §4.6.2), EF.CardSecurity
// (9303-11 §9.2) and CSCA master lists (9303-12 §8).
//
// Parsing: ParseSignedData takes the DER of a ContentInfo whose contentType
// is id-signedData and returns every field with its raw bytes kept. BER
// input (indefinite lengths, chunked OCTET STRINGs, as written by several
// issuing states) is first normalised to definite-length DER by a small,
// bounded converter; SignedData.BER records that this happened. The signed
// attributes are kept exactly as received (SignerInfo.SignedAttrsRaw) and
// SignerInfo.SignedAttrsForSignature returns them re-tagged as SET OF, the
// bytes a signature covers (RFC 5652 §5.4).
//
// Building: Sign emits DER SignedData with one signer (issuerAndSerialNumber),
// the signer's certificate embedded and the signed attributes content-type,
// message-digest and signing-time, as a Document Signer does for EF.SOD.
//
// The package deliberately does not verify signatures, build certificate
// paths or decide what is trusted: that policy belongs to passive
// authentication (package verify). It does not parse certificates either;
// they stay raw bytes for crypto/x509 or a stricter parser to handle.
package cms

import (
	"crypto"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Limits on what ParseSignedData accepts. A master list is below 1 MiB today;
// an EF.SOD is a few KiB.
const (
	MaxSize          = 16 << 20 // whole ContentInfo
	maxDigestAlgs    = 16
	maxCertificates  = 256
	maxCRLs          = 256
	maxSignerInfos   = 16
	maxAttributes    = 64
	maxAttrValues    = 16
	maxSignedDataVer = 5
)

// ErrMalformed is returned (wrapped) for input that is not a well-formed
// SignedData in the ICAO profile.
var ErrMalformed = errors.New("cms: malformed SignedData")

// ErrNotSignedData is returned when the ContentInfo holds another content type.
var ErrNotSignedData = errors.New("cms: ContentInfo is not id-signedData")

// ErrTooLarge is returned when input exceeds MaxSize or one of the counts.
var ErrTooLarge = errors.New("cms: input exceeds limits")

// AlgorithmIdentifier is an X.509 AlgorithmIdentifier with its parameters
// left raw (the full element, tag included; nil when absent).
type AlgorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters []byte
}

// SignerIdentifier names the signer's certificate (RFC 5652 §5.3): either
// issuer and serial number, or subject key identifier.
type SignerIdentifier struct {
	IssuerRaw    []byte   // DER Name of the issuer (nil when SubjectKeyID is used)
	SerialNumber *big.Int // nil when SubjectKeyID is used
	SubjectKeyID []byte   // nil when IssuerRaw is used
}

// Attribute is one signed or unsigned attribute with its values raw.
type Attribute struct {
	Raw    []byte
	Type   asn1.ObjectIdentifier
	Values [][]byte // each value's full element
}

// SignerInfo is one RFC 5652 §5.3 SignerInfo.
type SignerInfo struct {
	Raw             []byte
	Version         int
	SID             SignerIdentifier
	DigestAlgorithm AlgorithmIdentifier
	// SignedAttrsRaw is the [0] IMPLICIT signedAttrs element exactly as
	// received (first byte 0xA0), or nil when absent.
	SignedAttrsRaw []byte
	SignedAttrs    []Attribute
	// ContentType, MessageDigest and SigningTime are the parsed values of
	// the corresponding signed attributes; zero when absent.
	ContentType        asn1.ObjectIdentifier
	MessageDigest      []byte
	SigningTime        time.Time
	SignatureAlgorithm AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrsRaw   []byte
}

// SignedAttrsForSignature returns the signed attributes as the signature
// covers them: the received encoding with its [0] IMPLICIT tag replaced by
// the universal SET OF tag (RFC 5652 §5.4). It returns nil when the signer
// info has no signed attributes.
func (si *SignerInfo) SignedAttrsForSignature() []byte {
	if len(si.SignedAttrsRaw) == 0 {
		return nil
	}
	b := append([]byte(nil), si.SignedAttrsRaw...)
	b[0] = 0x31
	return b
}

// SignedData is a parsed RFC 5652 §5.1 SignedData.
type SignedData struct {
	// Raw is the ContentInfo as parsed: the input, or its DER conversion
	// when BER is true.
	Raw []byte
	// BER reports that the input was BER and was converted before parsing.
	// Elements that were already DER (certificates, and the signed
	// attributes, which RFC 5652 §5.3 requires to be DER) keep their bytes;
	// the eContent is the concatenation of its OCTET STRING segments, which
	// is what the message digest covers (§5.4).
	BER              bool
	Version          int
	DigestAlgorithms []AlgorithmIdentifier
	EContentType     asn1.ObjectIdentifier
	// EContent is the content of the eContent OCTET STRING, the bytes the
	// message-digest attribute covers. Nil when the content is detached.
	EContent     []byte
	Certificates [][]byte // CertificateChoices elements, raw
	CRLs         [][]byte // RevocationInfoChoice elements, raw
	SignerInfos  []SignerInfo
}

// Object identifiers used by the ICAO CMS profile. They are functions, not
// package variables, so that no caller can change them.
func oidSignedData() asn1.ObjectIdentifier { return asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2} }
func oidAttrContentType() asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
}
func oidAttrMessageDigest() asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
}
func oidAttrSigningTime() asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
}

// OIDLDSSecurityObject is id-icao-mrtd-security-ldsSecurityObject
// (2.23.136.1.1.1), the eContentType of EF.SOD (9303-10 §4.6.2).
func OIDLDSSecurityObject() asn1.ObjectIdentifier { return asn1.ObjectIdentifier{2, 23, 136, 1, 1, 1} }

// OIDCscaMasterList is id-icao-cscaMasterList (2.23.136.1.1.2), the
// eContentType of a CSCA master list (9303-12 §8.2).
func OIDCscaMasterList() asn1.ObjectIdentifier { return asn1.ObjectIdentifier{2, 23, 136, 1, 1, 2} }

// OIDSecurityObject is id-SecurityObject (0.4.0.127.0.7.3.2.1), the
// eContentType of EF.CardSecurity (BSI TR-03110-3 A.1.2.2).
func OIDSecurityObject() asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 3, 2, 1}
}

// HashForOID maps a digest algorithm OID (RFC 3370, RFC 5754) to its hash.
func HashForOID(oid asn1.ObjectIdentifier) (crypto.Hash, error) {
	switch oid.String() {
	case "1.3.14.3.2.26":
		return crypto.SHA1, nil
	case "2.16.840.1.101.3.4.2.4":
		return crypto.SHA224, nil
	case "2.16.840.1.101.3.4.2.1":
		return crypto.SHA256, nil
	case "2.16.840.1.101.3.4.2.2":
		return crypto.SHA384, nil
	case "2.16.840.1.101.3.4.2.3":
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("cms: unknown digest algorithm %v", oid)
}

// OIDForHash is the inverse of HashForOID.
func OIDForHash(h crypto.Hash) (asn1.ObjectIdentifier, error) {
	switch h {
	case crypto.SHA1:
		return asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, nil
	case crypto.SHA224:
		return asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}, nil
	case crypto.SHA256:
		return asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}, nil
	case crypto.SHA384:
		return asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}, nil
	case crypto.SHA512:
		return asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}, nil
	}
	return nil, fmt.Errorf("cms: unsupported hash %v", h)
}

func malformed(what string) error { return fmt.Errorf("%w: %s", ErrMalformed, what) }

// ParseSignedData parses a ContentInfo holding SignedData. DER is parsed
// directly; input that is not DER is converted from BER first (see
// berToDER) and the result carries BER = true.
func ParseSignedData(der []byte) (*SignedData, error) {
	if len(der) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes (max %d)", ErrTooLarge, len(der), MaxSize)
	}
	sd, err := parseContentInfo(der)
	if err == nil || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrNotSignedData) {
		return sd, err
	}
	conv, berErr := berToDER(der)
	if berErr != nil || string(conv) == string(der) {
		// Not BER either, or already DER: the DER error is the useful one.
		return nil, err
	}
	sd, err = parseContentInfo(conv)
	if err != nil {
		return nil, err
	}
	sd.BER = true
	return sd, nil
}

func parseContentInfo(der []byte) (*SignedData, error) {
	input := cryptobyte.String(der)
	var ci, content cryptobyte.String
	var ct asn1.ObjectIdentifier
	if !input.ReadASN1(&ci, cbasn1.SEQUENCE) || !input.Empty() {
		return nil, malformed("ContentInfo is not one SEQUENCE")
	}
	if !ci.ReadASN1ObjectIdentifier(&ct) {
		return nil, malformed("ContentInfo contentType")
	}
	if !ct.Equal(oidSignedData()) {
		return nil, fmt.Errorf("%w: contentType %v", ErrNotSignedData, ct)
	}
	if !ci.ReadASN1(&content, cbasn1.Tag(0).Constructed().ContextSpecific()) || !ci.Empty() {
		return nil, malformed("ContentInfo content [0]")
	}
	var sdSeq cryptobyte.String
	if !content.ReadASN1(&sdSeq, cbasn1.SEQUENCE) || !content.Empty() {
		return nil, malformed("SignedData SEQUENCE")
	}
	sd := &SignedData{Raw: der}
	var v int64
	if !sdSeq.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || v < 0 || v > maxSignedDataVer {
		return nil, malformed("SignedData version")
	}
	sd.Version = int(v)

	var algs cryptobyte.String
	if !sdSeq.ReadASN1(&algs, cbasn1.SET) {
		return nil, malformed("digestAlgorithms")
	}
	for !algs.Empty() {
		if len(sd.DigestAlgorithms) == maxDigestAlgs {
			return nil, fmt.Errorf("%w: more than %d digest algorithms", ErrTooLarge, maxDigestAlgs)
		}
		a, err := readAlgorithmIdentifier(&algs)
		if err != nil {
			return nil, fmt.Errorf("digestAlgorithms: %w", err)
		}
		sd.DigestAlgorithms = append(sd.DigestAlgorithms, a)
	}

	// EncapsulatedContentInfo, §5.2.
	var eci cryptobyte.String
	if !sdSeq.ReadASN1(&eci, cbasn1.SEQUENCE) || !eci.ReadASN1ObjectIdentifier(&sd.EContentType) {
		return nil, malformed("encapContentInfo")
	}
	var ec cryptobyte.String
	var hasEC bool
	if !eci.ReadOptionalASN1(&ec, &hasEC, cbasn1.Tag(0).Constructed().ContextSpecific()) || !eci.Empty() {
		return nil, malformed("encapContentInfo eContent")
	}
	if hasEC {
		var octets cryptobyte.String
		if !ec.ReadASN1(&octets, cbasn1.OCTET_STRING) || !ec.Empty() {
			return nil, malformed("eContent OCTET STRING")
		}
		sd.EContent = []byte(octets)
		if sd.EContent == nil {
			sd.EContent = []byte{}
		}
	}

	var certs, crls cryptobyte.String
	var hasCerts, hasCRLs bool
	if !sdSeq.ReadOptionalASN1(&certs, &hasCerts, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, malformed("certificates")
	}
	for hasCerts && !certs.Empty() {
		if len(sd.Certificates) == maxCertificates {
			return nil, fmt.Errorf("%w: more than %d certificates", ErrTooLarge, maxCertificates)
		}
		var c cryptobyte.String
		var tag cbasn1.Tag
		if !certs.ReadAnyASN1Element(&c, &tag) {
			return nil, malformed("certificate")
		}
		sd.Certificates = append(sd.Certificates, []byte(c))
	}
	if !sdSeq.ReadOptionalASN1(&crls, &hasCRLs, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return nil, malformed("crls")
	}
	for hasCRLs && !crls.Empty() {
		if len(sd.CRLs) == maxCRLs {
			return nil, fmt.Errorf("%w: more than %d CRLs", ErrTooLarge, maxCRLs)
		}
		var c cryptobyte.String
		var tag cbasn1.Tag
		if !crls.ReadAnyASN1Element(&c, &tag) {
			return nil, malformed("crl")
		}
		sd.CRLs = append(sd.CRLs, []byte(c))
	}

	var sis cryptobyte.String
	if !sdSeq.ReadASN1(&sis, cbasn1.SET) || !sdSeq.Empty() {
		return nil, malformed("signerInfos")
	}
	for !sis.Empty() {
		if len(sd.SignerInfos) == maxSignerInfos {
			return nil, fmt.Errorf("%w: more than %d signer infos", ErrTooLarge, maxSignerInfos)
		}
		si, err := readSignerInfo(&sis)
		if err != nil {
			return nil, fmt.Errorf("signerInfo %d: %w", len(sd.SignerInfos), err)
		}
		sd.SignerInfos = append(sd.SignerInfos, si)
	}
	return sd, nil
}

func readAlgorithmIdentifier(s *cryptobyte.String) (AlgorithmIdentifier, error) {
	var seq cryptobyte.String
	var a AlgorithmIdentifier
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&a.Algorithm) {
		return a, malformed("AlgorithmIdentifier")
	}
	if !seq.Empty() {
		var p cryptobyte.String
		var tag cbasn1.Tag
		if !seq.ReadAnyASN1Element(&p, &tag) || !seq.Empty() {
			return a, malformed("AlgorithmIdentifier parameters")
		}
		a.Parameters = []byte(p)
	}
	return a, nil
}

func readSignerInfo(s *cryptobyte.String) (SignerInfo, error) {
	var si SignerInfo
	var raw, seq cryptobyte.String
	if !s.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
		return si, malformed("SignerInfo SEQUENCE")
	}
	si.Raw = []byte(raw)
	if !raw.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return si, malformed("SignerInfo SEQUENCE")
	}
	var v int64
	if !seq.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || v < 0 || v > maxSignedDataVer {
		return si, malformed("SignerInfo version")
	}
	si.Version = int(v)

	// sid: issuerAndSerialNumber SEQUENCE or [0] IMPLICIT SubjectKeyIdentifier.
	// The version (1 or 3) should match the choice; a mismatch is a verify
	// matter, so it is not refused here.
	switch {
	case seq.PeekASN1Tag(cbasn1.SEQUENCE):
		var ias, issuer cryptobyte.String
		serial := new(big.Int)
		if !seq.ReadASN1(&ias, cbasn1.SEQUENCE) ||
			!ias.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
			!ias.ReadASN1Integer(serial) || !ias.Empty() {
			return si, malformed("issuerAndSerialNumber")
		}
		si.SID.IssuerRaw = []byte(issuer)
		si.SID.SerialNumber = serial
	case seq.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()):
		var ski cryptobyte.String
		if !seq.ReadASN1(&ski, cbasn1.Tag(0).ContextSpecific()) {
			return si, malformed("subjectKeyIdentifier")
		}
		si.SID.SubjectKeyID = append([]byte{}, ski...)
	default:
		return si, malformed("SignerIdentifier")
	}

	var err error
	if si.DigestAlgorithm, err = readAlgorithmIdentifier(&seq); err != nil {
		return si, fmt.Errorf("digestAlgorithm: %w", err)
	}
	signedTag := cbasn1.Tag(0).Constructed().ContextSpecific()
	if seq.PeekASN1Tag(signedTag) {
		var el cryptobyte.String
		if !seq.ReadASN1Element(&el, signedTag) {
			return si, malformed("signedAttrs")
		}
		si.SignedAttrsRaw = []byte(el)
		if err := si.parseSignedAttrs(); err != nil {
			return si, err
		}
	}
	if si.SignatureAlgorithm, err = readAlgorithmIdentifier(&seq); err != nil {
		return si, fmt.Errorf("signatureAlgorithm: %w", err)
	}
	var sig cryptobyte.String
	if !seq.ReadASN1(&sig, cbasn1.OCTET_STRING) {
		return si, malformed("signature")
	}
	si.Signature = []byte(sig)
	unsignedTag := cbasn1.Tag(1).Constructed().ContextSpecific()
	if seq.PeekASN1Tag(unsignedTag) {
		var el cryptobyte.String
		if !seq.ReadASN1Element(&el, unsignedTag) {
			return si, malformed("unsignedAttrs")
		}
		si.UnsignedAttrsRaw = []byte(el)
	}
	if !seq.Empty() {
		return si, malformed("trailing data in SignerInfo")
	}
	return si, nil
}

// parseSignedAttrs reads SignedAttrsRaw. Each of content-type,
// message-digest and signing-time must appear at most once with exactly one
// value (RFC 5652 §11); other attributes are kept raw.
func (si *SignerInfo) parseSignedAttrs() error {
	s := cryptobyte.String(si.SignedAttrsRaw)
	var set cryptobyte.String
	if !s.ReadASN1(&set, cbasn1.Tag(0).Constructed().ContextSpecific()) || !s.Empty() {
		return malformed("signedAttrs")
	}
	if set.Empty() {
		return malformed("signedAttrs is empty") // SIZE (1..MAX), §5.3
	}
	seen := map[string]bool{}
	for !set.Empty() {
		if len(si.SignedAttrs) == maxAttributes {
			return fmt.Errorf("%w: more than %d signed attributes", ErrTooLarge, maxAttributes)
		}
		var a Attribute
		var raw, seq, vals cryptobyte.String
		if !set.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
			return malformed("Attribute")
		}
		a.Raw = []byte(raw)
		if !raw.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&a.Type) ||
			!seq.ReadASN1(&vals, cbasn1.SET) || !seq.Empty() {
			return malformed("Attribute")
		}
		for !vals.Empty() {
			if len(a.Values) == maxAttrValues {
				return fmt.Errorf("%w: more than %d attribute values", ErrTooLarge, maxAttrValues)
			}
			var v cryptobyte.String
			var tag cbasn1.Tag
			if !vals.ReadAnyASN1Element(&v, &tag) {
				return malformed("AttributeValue")
			}
			a.Values = append(a.Values, []byte(v))
		}
		key := a.Type.String()
		switch {
		case a.Type.Equal(oidAttrContentType()), a.Type.Equal(oidAttrMessageDigest()), a.Type.Equal(oidAttrSigningTime()):
			if seen[key] {
				return malformed("duplicate signed attribute " + key)
			}
			seen[key] = true
			if len(a.Values) != 1 {
				return malformed("signed attribute " + key + " must have one value")
			}
			if err := si.setKnownAttr(a.Type, a.Values[0]); err != nil {
				return err
			}
		}
		si.SignedAttrs = append(si.SignedAttrs, a)
	}
	return nil
}

func (si *SignerInfo) setKnownAttr(typ asn1.ObjectIdentifier, value []byte) error {
	v := cryptobyte.String(value)
	switch {
	case typ.Equal(oidAttrContentType()):
		if !v.ReadASN1ObjectIdentifier(&si.ContentType) || !v.Empty() {
			return malformed("content-type attribute")
		}
	case typ.Equal(oidAttrMessageDigest()):
		var d cryptobyte.String
		if !v.ReadASN1(&d, cbasn1.OCTET_STRING) || !v.Empty() {
			return malformed("message-digest attribute")
		}
		si.MessageDigest = append([]byte{}, d...)
	case typ.Equal(oidAttrSigningTime()):
		// RFC 5652 §11.3: UTCTime through 2049, GeneralizedTime after.
		ok := false
		switch {
		case v.PeekASN1Tag(cbasn1.UTCTime):
			ok = v.ReadASN1UTCTime(&si.SigningTime)
		case v.PeekASN1Tag(cbasn1.GeneralizedTime):
			ok = v.ReadASN1GeneralizedTime(&si.SigningTime)
		}
		if !ok || !v.Empty() {
			return malformed("signing-time attribute")
		}
	}
	return nil
}

package cert

import (
	"crypto"
	"encoding/asn1"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers this package recognises (RFC 3279, RFC 4055, RFC 5480,
// RFC 5758, BSI TR-03111 §5.2.1, RFC 5639, ICAO 9303-12 §7.1.1). They are
// functions so that no caller can change a shared value.
func oidRSAEncryption() asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
}
func oidRSASSAPSS() asn1.ObjectIdentifier   { return asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10} }
func oidMGF1() asn1.ObjectIdentifier        { return asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8} }
func oidECPublicKey() asn1.ObjectIdentifier { return asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1} }
func oidPrimeField() asn1.ObjectIdentifier  { return asn1.ObjectIdentifier{1, 2, 840, 10045, 1, 1} }
func oidSHA1() asn1.ObjectIdentifier        { return asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26} }
func oidSHA2(n int) asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, n}
}
func oidPKCS1(n int) asn1.ObjectIdentifier { return asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, n} }
func oidECDSASHA1() asn1.ObjectIdentifier  { return asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1} }
func oidECDSASHA2(n int) asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, n}
}
func oidECDSAPlain(n int) asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, n}
}

// OIDDocumentTypeList is id-icao-mrtd-security-extensions-documentTypeList
// (2.23.136.1.1.6.2), the Document Signer extension listing the document
// types it may sign (9303-12 §7.1.1.3).
func OIDDocumentTypeList() asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{2, 23, 136, 1, 1, 6, 2}
}

// OIDMasterListSigner is the extended key usage of a master list signer
// (2.23.136.1.1.3, 9303-12 §7.1.1.2).
func OIDMasterListSigner() asn1.ObjectIdentifier { return asn1.ObjectIdentifier{2, 23, 136, 1, 1, 3} }

// OIDNameChange is id-icao-mrtd-security-extensions-nameChange
// (2.23.136.1.1.6.1), marking a CSCA link certificate whose subject differs
// from its issuer's (9303-12 §7.1.1.3).
func OIDNameChange() asn1.ObjectIdentifier { return asn1.ObjectIdentifier{2, 23, 136, 1, 1, 6, 1} }

// SignatureScheme is the family of a signature algorithm.
type SignatureScheme int

const (
	UnknownScheme SignatureScheme = iota
	// RSAPKCS1v15 is RSASSA-PKCS1-v1_5 (RFC 8017 §8.2).
	RSAPKCS1v15
	// RSAPSS is RSASSA-PSS (RFC 8017 §8.1, parameters RFC 4055 §3.1).
	RSAPSS
	// ECDSA is ECDSA with a DER Ecdsa-Sig-Value (RFC 3279 §2.2.3).
	ECDSA
	// ECDSAPlain is ECDSA with the plain r‖s encoding of BSI TR-03111
	// §5.2.1 (ecdsa-plain-SHA*, 0.4.0.127.0.7.1.1.4.1.x).
	ECDSAPlain
)

func (s SignatureScheme) String() string {
	switch s {
	case RSAPKCS1v15:
		return "RSA-PKCS1v15"
	case RSAPSS:
		return "RSA-PSS"
	case ECDSA:
		return "ECDSA"
	case ECDSAPlain:
		return "ECDSA-plain"
	}
	return fmt.Sprintf("SignatureScheme(%d)", int(s))
}

// PSSParameters are the RSASSA-PSS-params of RFC 4055 §3.1, defaults
// applied (SHA-1, MGF1 with SHA-1, salt 20, trailer 1).
type PSSParameters struct {
	Hash         crypto.Hash
	MGFHash      crypto.Hash
	SaltLength   int
	TrailerField int
}

// SignatureAlgorithm is a parsed signature AlgorithmIdentifier.
type SignatureAlgorithm struct {
	Scheme SignatureScheme
	Hash   crypto.Hash
	// PSS is set for RSAPSS only.
	PSS *PSSParameters
	// OID is the algorithm as written.
	OID asn1.ObjectIdentifier
}

func (a SignatureAlgorithm) String() string {
	switch a.Scheme {
	case RSAPSS:
		if a.PSS != nil {
			return fmt.Sprintf("RSA-PSS(%v, MGF1-%v, salt %d)", a.PSS.Hash, a.PSS.MGFHash, a.PSS.SaltLength)
		}
	case UnknownScheme:
		return "unknown(" + a.OID.String() + ")"
	}
	return a.Hash.String() + "-with-" + a.Scheme.String()
}

// Equal reports whether a and b denote the same algorithm and parameters.
func (a SignatureAlgorithm) Equal(b SignatureAlgorithm) bool {
	if a.Scheme != b.Scheme || a.Hash != b.Hash || !a.OID.Equal(b.OID) {
		return false
	}
	if (a.PSS == nil) != (b.PSS == nil) {
		return false
	}
	return a.PSS == nil || *a.PSS == *b.PSS
}

// hashForDigestOID maps a digest algorithm OID (RFC 3279, RFC 5754).
func hashForDigestOID(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	switch {
	case oid.Equal(oidSHA1()):
		return crypto.SHA1, true
	case oid.Equal(oidSHA2(4)):
		return crypto.SHA224, true
	case oid.Equal(oidSHA2(1)):
		return crypto.SHA256, true
	case oid.Equal(oidSHA2(2)):
		return crypto.SHA384, true
	case oid.Equal(oidSHA2(3)):
		return crypto.SHA512, true
	}
	return 0, false
}

// signatureOIDs: the algorithms that name their hash (RFC 4055 §5,
// RFC 5758 §3.2, TR-03111 §5.2.1).
type sigOID struct {
	oid    asn1.ObjectIdentifier
	scheme SignatureScheme
	hash   crypto.Hash
}

func signatureOIDs() []sigOID {
	return []sigOID{
		{oidPKCS1(5), RSAPKCS1v15, crypto.SHA1},
		{oidPKCS1(14), RSAPKCS1v15, crypto.SHA224},
		{oidPKCS1(11), RSAPKCS1v15, crypto.SHA256},
		{oidPKCS1(12), RSAPKCS1v15, crypto.SHA384},
		{oidPKCS1(13), RSAPKCS1v15, crypto.SHA512},
		{oidECDSASHA1(), ECDSA, crypto.SHA1},
		{oidECDSASHA2(1), ECDSA, crypto.SHA224},
		{oidECDSASHA2(2), ECDSA, crypto.SHA256},
		{oidECDSASHA2(3), ECDSA, crypto.SHA384},
		{oidECDSASHA2(4), ECDSA, crypto.SHA512},
		{oidECDSAPlain(1), ECDSAPlain, crypto.SHA1},
		{oidECDSAPlain(2), ECDSAPlain, crypto.SHA224},
		{oidECDSAPlain(3), ECDSAPlain, crypto.SHA256},
		{oidECDSAPlain(4), ECDSAPlain, crypto.SHA384},
		{oidECDSAPlain(5), ECDSAPlain, crypto.SHA512},
	}
}

// ParseSignatureAlgorithm parses a DER AlgorithmIdentifier (RFC 5280
// §4.1.1.2) naming a signature algorithm. Unknown algorithms are not an
// error: they come back with Scheme UnknownScheme, so a certificate signed
// with one still parses (and fails CheckSignature with
// ErrUnsupportedAlgorithm). Malformed parameters are an error.
func ParseSignatureAlgorithm(der []byte) (SignatureAlgorithm, error) {
	alg, _, err := parseSigAlg(der)
	return alg, err
}

// parseSigAlg also returns the quirks of the encoding.
func parseSigAlg(der []byte) (SignatureAlgorithm, []string, error) {
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() || !seq.ReadASN1ObjectIdentifier(&oid) {
		return SignatureAlgorithm{}, nil, fmt.Errorf("%w: AlgorithmIdentifier", ErrMalformed)
	}
	params := []byte(seq)
	alg := SignatureAlgorithm{OID: oid}
	var quirks []string
	if oid.Equal(oidRSASSAPSS()) {
		pss, err := parsePSSParams(params)
		if err != nil {
			return alg, nil, err
		}
		alg.Scheme, alg.Hash, alg.PSS = RSAPSS, pss.Hash, pss
		return alg, nil, nil
	}
	for _, so := range signatureOIDs() {
		if !oid.Equal(so.oid) {
			continue
		}
		alg.Scheme, alg.Hash = so.scheme, so.hash
		isNull := len(params) == 2 && params[0] == 0x05 && params[1] == 0
		switch {
		case len(params) == 0:
			if so.scheme == RSAPKCS1v15 {
				// RFC 4055 §5 says NULL; absent parameters are common and harmless.
				quirks = append(quirks, QuirkRSAParamsAbsent)
			}
		case isNull:
			if so.scheme != RSAPKCS1v15 {
				// RFC 5758 §3.2: ECDSA parameters MUST be absent.
				quirks = append(quirks, QuirkECDSAParamsNull)
			}
		default:
			return alg, nil, fmt.Errorf("%w: unexpected parameters for %v", ErrMalformed, oid)
		}
		return alg, quirks, nil
	}
	return alg, nil, nil
}

// parsePSSParams parses RSASSA-PSS-params (RFC 4055 §3.1). Defaults that
// are written out anyway (non-DER) are accepted.
func parsePSSParams(params []byte) (*PSSParameters, error) {
	p := &PSSParameters{Hash: crypto.SHA1, MGFHash: crypto.SHA1, SaltLength: 20, TrailerField: 1}
	if len(params) == 0 {
		return nil, fmt.Errorf("%w: RSASSA-PSS without parameters", ErrMalformed)
	}
	s := cryptobyte.String(params)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, fmt.Errorf("%w: RSASSA-PSS-params", ErrMalformed)
	}
	bad := func(what string) error { return fmt.Errorf("%w: RSASSA-PSS-params %s", ErrMalformed, what) }
	var f cryptobyte.String
	var present bool
	if !seq.ReadOptionalASN1(&f, &present, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, bad("hashAlgorithm")
	}
	if present {
		h, err := parseHashAlgID(f)
		if err != nil {
			return nil, bad("hashAlgorithm")
		}
		p.Hash = h
	}
	if !seq.ReadOptionalASN1(&f, &present, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return nil, bad("maskGenAlgorithm")
	}
	if present {
		var mgf cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !f.ReadASN1(&mgf, cbasn1.SEQUENCE) || !f.Empty() || !mgf.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidMGF1()) {
			return nil, bad("maskGenAlgorithm (only MGF1)")
		}
		h, err := parseHashAlgID(mgf)
		if err != nil {
			return nil, bad("MGF1 hash")
		}
		p.MGFHash = h
	}
	for i, dst := range []*int{&p.SaltLength, &p.TrailerField} {
		if !seq.ReadOptionalASN1(&f, &present, cbasn1.Tag(2+i).Constructed().ContextSpecific()) {
			return nil, bad("saltLength/trailerField")
		}
		if present {
			var v int64
			if !f.ReadASN1Integer(&v) || !f.Empty() || v < 0 || v > 1<<16 {
				return nil, bad("saltLength/trailerField")
			}
			*dst = int(v)
		}
	}
	if !seq.Empty() {
		return nil, bad("trailing data")
	}
	return p, nil
}

// parseHashAlgID parses an AlgorithmIdentifier of a digest (the whole
// element, parameters absent or NULL).
func parseHashAlgID(b cryptobyte.String) (crypto.Hash, error) {
	var seq cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !b.ReadASN1(&seq, cbasn1.SEQUENCE) || !b.Empty() || !seq.ReadASN1ObjectIdentifier(&oid) {
		return 0, ErrMalformed
	}
	if !seq.Empty() && !(len(seq) == 2 && seq[0] == 0x05 && seq[1] == 0) {
		return 0, ErrMalformed
	}
	h, ok := hashForDigestOID(oid)
	if !ok {
		return 0, fmt.Errorf("%w: digest %v", ErrUnsupportedAlgorithm, oid)
	}
	return h, nil
}

// CMSSignatureAlgorithm interprets a CMS SignerInfo signatureAlgorithm
// (RFC 5652 §5.3) given as OID and raw parameters (the full parameters
// element, nil when absent), with digest the SignerInfo's digestAlgorithm.
// Besides the algorithms ParseSignatureAlgorithm knows, it accepts the
// bare key algorithms rsaEncryption and id-ecPublicKey that RFC 3370 §3.2
// and several issuing states use, taking the hash from digest. When the
// signature algorithm names a hash it must equal digest.
func CMSSignatureAlgorithm(oid asn1.ObjectIdentifier, params []byte, digest crypto.Hash) (SignatureAlgorithm, error) {
	switch {
	case oid.Equal(oidRSAEncryption()):
		return SignatureAlgorithm{Scheme: RSAPKCS1v15, Hash: digest, OID: oid}, nil
	case oid.Equal(oidECPublicKey()):
		return SignatureAlgorithm{Scheme: ECDSA, Hash: digest, OID: oid}, nil
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddBytes(params)
	})
	der, err := b.Bytes()
	if err != nil {
		return SignatureAlgorithm{}, fmt.Errorf("%w: signature algorithm: %v", ErrMalformed, err)
	}
	alg, err := ParseSignatureAlgorithm(der)
	if err != nil {
		return alg, err
	}
	if alg.Scheme == UnknownScheme {
		return alg, fmt.Errorf("%w: %v", ErrUnsupportedAlgorithm, oid)
	}
	if alg.Hash != digest {
		return alg, fmt.Errorf("%w: signature algorithm hash %v but digest algorithm %v", ErrMalformed, alg.Hash, digest)
	}
	return alg, nil
}

package lds

// EF.SOD, the Document Security Object (ICAO 9303-10 §4.6.2): tag 77
// wrapping a CMS SignedData (package internal/cms) whose eContent is the
// LDSSecurityObject, the list of data group hashes the Document Signer
// vouches for.
//
// ParseSOD parses and keeps raw bytes; it does not verify the signature,
// the certificate chain or the hashes against the data groups. That is
// passive authentication (package verify), which needs the trust store.
// EncodeSOD builds an EF.SOD for the issuing side and the software chip.

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"borderid/internal/cms"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// SODTag is the tag of EF.SOD (9303-10 §4.6.2, Table 40 and §4.7).
const SODTag Tag = 0x77

// SODMaxSize bounds an EF.SOD. Real ones are 2 to 8 KiB (one or two
// certificates); 256 KiB leaves room for long chains and is still small.
const SODMaxSize = 256 << 10

// sodMaxDataGroups is ub-DataGroups (9303-10 §4.6.2.2).
const sodMaxDataGroups = 16

// ErrSOD reports an EF.SOD that does not parse: wrong wrapper, wrong
// eContentType, or a malformed LDSSecurityObject. CMS errors from
// internal/cms are wrapped alongside it.
var ErrSOD = errors.New("lds: malformed EF.SOD")

// SODVersion is LDSSecurityObjectVersion (9303-10 §4.6.2.2).
type SODVersion int

const (
	SODV0 SODVersion = 0 // LDS 1.7 and earlier: no LDSVersionInfo
	SODV1 SODVersion = 1 // LDS 1.8: LDSVersionInfo present
)

// String returns "v0" or "v1".
func (v SODVersion) String() string {
	switch v {
	case SODV0:
		return "v0"
	case SODV1:
		return "v1"
	}
	return fmt.Sprintf("SODVersion(%d)", int(v))
}

// SOD is a parsed EF.SOD.
type SOD struct {
	// Raw is the whole file as read (tag 77 included).
	Raw        []byte
	SignedData *cms.SignedData
	// SecurityObject is the LDSSecurityObject from the eContent.
	SecurityObject LDSSecurityObject
}

// LDSSecurityObject is 9303-10 §4.6.2.2's LDSSecurityObject.
type LDSSecurityObject struct {
	// Raw is the eContent: the bytes the signer's message-digest covers.
	Raw           []byte
	Version       SODVersion
	HashAlgorithm cms.AlgorithmIdentifier
	// Hash is the hash HashAlgorithm names, or 0 when it names none this
	// package knows (parsing does not fail on it; verification will).
	Hash crypto.Hash
	// DataGroupHashes maps the data group number (1..16) to its hash.
	DataGroupHashes map[int][]byte
	// LDSVersion and UnicodeVersion come from LDSVersionInfo (v1 only),
	// e.g. "0108" and "040000".
	LDSVersion, UnicodeVersion string
}

// DataGroups returns the data group numbers with a hash, ascending.
func (o *LDSSecurityObject) DataGroups() []int {
	out := make([]int, 0, len(o.DataGroupHashes))
	for n := range o.DataGroupHashes {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func sodErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrSOD, fmt.Sprintf(format, a...))
}

// ParseSOD parses EF.SOD: the 77 wrapper, the CMS SignedData (DER, or BER
// normalised by internal/cms) and the LDSSecurityObject in its eContent.
func ParseSOD(b []byte) (*SOD, error) {
	if len(b) > SODMaxSize {
		return nil, sodErr("%d bytes, limit %d", len(b), SODMaxSize)
	}
	el, err := ParseSingle(b, SODTag)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSOD, err)
	}
	sd, err := cms.ParseSignedData(el.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSOD, err)
	}
	if !sd.EContentType.Equal(cms.OIDLDSSecurityObject()) {
		return nil, sodErr("eContentType %v, want id-icao-mrtd-security-ldsSecurityObject", sd.EContentType)
	}
	if sd.EContent == nil {
		return nil, sodErr("no eContent (detached signature)")
	}
	so, err := parseLDSSecurityObject(sd.EContent)
	if err != nil {
		return nil, err
	}
	return &SOD{Raw: el.Raw, SignedData: sd, SecurityObject: *so}, nil
}

func parseLDSSecurityObject(b []byte) (*LDSSecurityObject, error) {
	so := &LDSSecurityObject{Raw: b, DataGroupHashes: map[int][]byte{}}
	s := cryptobyte.String(b)
	var seq, alg, list cryptobyte.String
	var v int64
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, sodErr("LDSSecurityObject is not one SEQUENCE")
	}
	if !seq.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || (v != 0 && v != 1) {
		return nil, sodErr("LDSSecurityObject version")
	}
	so.Version = SODVersion(v)
	if !seq.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&so.HashAlgorithm.Algorithm) {
		return nil, sodErr("hashAlgorithm")
	}
	if !alg.Empty() {
		// Parameters: absent or NULL for the SHA family (RFC 5754 §2).
		var p cryptobyte.String
		var tag cbasn1.Tag
		if !alg.ReadAnyASN1Element(&p, &tag) || !alg.Empty() {
			return nil, sodErr("hashAlgorithm parameters")
		}
		so.HashAlgorithm.Parameters = []byte(p)
	}
	if h, err := cms.HashForOID(so.HashAlgorithm.Algorithm); err == nil {
		so.Hash = h
	}
	if !seq.ReadASN1(&list, cbasn1.SEQUENCE) {
		return nil, sodErr("dataGroupHashValues")
	}
	for !list.Empty() {
		if len(so.DataGroupHashes) == sodMaxDataGroups {
			return nil, sodErr("more than %d data group hashes", sodMaxDataGroups)
		}
		var dgh, val cryptobyte.String
		var n int64
		if !list.ReadASN1(&dgh, cbasn1.SEQUENCE) || !dgh.ReadASN1Int64WithTag(&n, cbasn1.INTEGER) ||
			!dgh.ReadASN1(&val, cbasn1.OCTET_STRING) || !dgh.Empty() {
			return nil, sodErr("DataGroupHash %d", len(so.DataGroupHashes))
		}
		if n < 1 || n > sodMaxDataGroups {
			return nil, sodErr("data group number %d", n)
		}
		if _, dup := so.DataGroupHashes[int(n)]; dup {
			return nil, sodErr("data group %d hashed twice", n)
		}
		if len(val) == 0 || len(val) > 64 || (so.Hash != 0 && len(val) != so.Hash.Size()) {
			return nil, sodErr("data group %d hash of %d bytes for %v", n, len(val), so.HashAlgorithm.Algorithm)
		}
		so.DataGroupHashes[int(n)] = []byte(val)
	}
	if len(so.DataGroupHashes) == 0 {
		return nil, sodErr("no data group hashes")
	}
	if !seq.Empty() {
		var info cryptobyte.String
		var lds, uni []byte
		if !seq.ReadASN1(&info, cbasn1.SEQUENCE) ||
			!info.ReadASN1Bytes(&lds, cbasn1.PrintableString) ||
			!info.ReadASN1Bytes(&uni, cbasn1.PrintableString) || !info.Empty() || !seq.Empty() {
			return nil, sodErr("ldsVersionInfo")
		}
		so.LDSVersion, so.UnicodeVersion = string(lds), string(uni)
	}
	// §4.6.2.2: ldsVersionInfo is present exactly when version is v1. A v0
	// object carrying it (or v1 without) is parsed, and the mismatch is left
	// for verification to report.
	return so, nil
}

// EncodeSOD builds EF.SOD: an LDSSecurityObject v0 with the hashes (data
// group number 1..16 -> hash of the whole data group file, h.Size() bytes
// each, at least two as 9303-10 §4.6.2.2 requires), signed with cms.Sign
// (eContentType 2.23.136.1.1.1, the DSC embedded, signed attributes
// content-type, message-digest and signing-time), wrapped in tag 77.
func EncodeSOD(h crypto.Hash, hashes map[int][]byte, cert *x509.Certificate, key crypto.Signer, signingTime time.Time) ([]byte, error) {
	so, err := encodeLDSSecurityObject(h, hashes)
	if err != nil {
		return nil, err
	}
	sd, err := cms.Sign(cms.OIDLDSSecurityObject(), so, cert, key, h, signingTime)
	if err != nil {
		return nil, fmt.Errorf("lds: signing EF.SOD: %w", err)
	}
	return AppendElement(nil, SODTag, sd)
}

// EncodeSODAs is EncodeSOD for a Document Signer certificate crypto/x509
// cannot parse (explicit EC domain parameters, as 9303-12 asks of issued
// DSCs), given as a cms.SignerCert.
func EncodeSODAs(h crypto.Hash, hashes map[int][]byte, cert cms.SignerCert, key crypto.Signer, signingTime time.Time) ([]byte, error) {
	so, err := encodeLDSSecurityObject(h, hashes)
	if err != nil {
		return nil, err
	}
	sd, err := cms.SignAs(cms.OIDLDSSecurityObject(), so, cert, key, h, signingTime, nil)
	if err != nil {
		return nil, fmt.Errorf("lds: signing EF.SOD: %w", err)
	}
	return AppendElement(nil, SODTag, sd)
}

func encodeLDSSecurityObject(h crypto.Hash, hashes map[int][]byte) ([]byte, error) {
	oid, err := cms.OIDForHash(h)
	if err != nil {
		return nil, fmt.Errorf("lds: EF.SOD: %w", err)
	}
	if len(hashes) < 2 || len(hashes) > sodMaxDataGroups {
		return nil, fmt.Errorf("lds: EF.SOD needs 2 to %d data group hashes, got %d", sodMaxDataGroups, len(hashes))
	}
	dgs := make([]int, 0, len(hashes))
	for n, v := range hashes {
		if n < 1 || n > sodMaxDataGroups {
			return nil, fmt.Errorf("lds: EF.SOD: data group number %d", n)
		}
		if len(v) != h.Size() {
			return nil, fmt.Errorf("lds: EF.SOD: DG%d hash is %d bytes, %v needs %d", n, len(v), h, h.Size())
		}
		dgs = append(dgs, n)
	}
	slices.Sort(dgs)
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(int64(SODV0))
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid) // parameters absent, RFC 5754 §2
		})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, n := range dgs {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1Int64(int64(n))
					b.AddASN1OctetString(hashes[n])
				})
			}
		})
	})
	return b.Bytes()
}

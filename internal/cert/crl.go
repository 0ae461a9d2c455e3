package cert

import (
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ReasonCode is a CRL entry reason (RFC 5280 §5.3.1).
type ReasonCode int

const (
	ReasonUnspecified          ReasonCode = 0
	ReasonKeyCompromise        ReasonCode = 1
	ReasonCACompromise         ReasonCode = 2
	ReasonAffiliationChanged   ReasonCode = 3
	ReasonSuperseded           ReasonCode = 4
	ReasonCessationOfOperation ReasonCode = 5
	ReasonCertificateHold      ReasonCode = 6
	ReasonRemoveFromCRL        ReasonCode = 8
	ReasonPrivilegeWithdrawn   ReasonCode = 9
	ReasonAACompromise         ReasonCode = 10
)

func (r ReasonCode) String() string {
	names := map[ReasonCode]string{0: "unspecified", 1: "keyCompromise", 2: "cACompromise",
		3: "affiliationChanged", 4: "superseded", 5: "cessationOfOperation", 6: "certificateHold",
		8: "removeFromCRL", 9: "privilegeWithdrawn", 10: "aACompromise"}
	if n, ok := names[r]; ok {
		return n
	}
	return fmt.Sprintf("ReasonCode(%d)", int(r))
}

// Revoked is one revokedCertificates entry.
type Revoked struct {
	Serial *big.Int
	Time   time.Time
	// Reason is the reasonCode entry extension; ReasonUnspecified when absent.
	Reason ReasonCode
	// Extensions are the crlEntryExtensions as received.
	Extensions []Extension
}

// RevocationList is a parsed CRL (RFC 5280 §5.1; ICAO 9303-12 §7.1.4
// profile: v2, issued by the CSCA).
type RevocationList struct {
	Raw, RawTBS, RawIssuer []byte
	Version                int // 1 or 2
	Issuer                 Name
	ThisUpdate             time.Time
	NextUpdate             time.Time // zero when absent
	Revoked                []Revoked
	Number                 *big.Int // cRLNumber; nil when absent
	AuthorityKeyID         []byte
	SignatureAlgorithm     SignatureAlgorithm
	Signature              []byte
	Extensions             []Extension
	// UnknownCriticalExtensions lists critical CRL or entry extensions
	// not interpreted here (RFC 5280 §5.2, §5.3: such a CRL must not be
	// used to decide status, which is verify's decision).
	UnknownCriticalExtensions []asn1.ObjectIdentifier
	Quirks                    []string
}

// ParseRevocationList parses a DER CRL, or a PEM "X509 CRL" block.
func ParseRevocationList(der []byte) (*RevocationList, error) {
	if len(der) > MaxSize {
		return nil, ErrTooLarge
	}
	if b, _ := pem.Decode(der); b != nil && b.Type == "X509 CRL" {
		der = b.Bytes
	}
	s := cryptobyte.String(der)
	var raw cryptobyte.String
	if !s.ReadASN1Element(&raw, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, fmt.Errorf("%w: CRL is not one DER SEQUENCE", ErrMalformed)
	}
	l := &RevocationList{Raw: raw, Version: 1}
	var q quirks
	tbs, outerAlg, alg, sigBytes, err := parseSigned(raw, "CertificateList", &q)
	if err != nil {
		return nil, err
	}
	l.RawTBS, l.SignatureAlgorithm, l.Signature = tbs, alg, sigBytes
	if !tbs.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: TBSCertList", ErrMalformed)
	}
	if tbs.PeekASN1Tag(cbasn1.INTEGER) {
		var v int64
		if !tbs.ReadASN1Integer(&v) || v != 1 {
			return nil, fmt.Errorf("%w: CRL version", ErrMalformed)
		}
		l.Version = 2
	}
	var innerAlg cryptobyte.String
	if !tbs.ReadASN1Element(&innerAlg, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: TBSCertList signature", ErrMalformed)
	}
	inner, _, err := parseSigAlg(innerAlg)
	if err != nil {
		return nil, fmt.Errorf("TBSCertList signature: %w", err)
	}
	if !inner.Equal(alg) {
		return nil, fmt.Errorf("%w: CRL signature algorithms differ", ErrMalformed)
	}
	if string(innerAlg) != string(outerAlg) {
		q.add(QuirkSignatureAlgorithmMismatch)
	}
	if l.Issuer, err = parseName(&tbs, &q); err != nil {
		return nil, fmt.Errorf("issuer: %w", err)
	}
	l.RawIssuer = l.Issuer.Raw
	if l.ThisUpdate, err = readTime(&tbs, &q); err != nil {
		return nil, fmt.Errorf("thisUpdate: %w", err)
	}
	if tbs.PeekASN1Tag(cbasn1.UTCTime) || tbs.PeekASN1Tag(cbasn1.GeneralizedTime) {
		if l.NextUpdate, err = readTime(&tbs, &q); err != nil {
			return nil, fmt.Errorf("nextUpdate: %w", err)
		}
	}
	if tbs.PeekASN1Tag(cbasn1.SEQUENCE) {
		var revs cryptobyte.String
		tbs.ReadASN1(&revs, cbasn1.SEQUENCE)
		for !revs.Empty() {
			var e cryptobyte.String
			if !revs.ReadASN1(&e, cbasn1.SEQUENCE) {
				return nil, fmt.Errorf("%w: revokedCertificates entry", ErrMalformed)
			}
			var r Revoked
			if r.Serial, err = readInteger(&e, &q); err != nil {
				return nil, fmt.Errorf("revoked serial: %w", err)
			}
			if r.Time, err = readTime(&e, &q); err != nil {
				return nil, fmt.Errorf("revocationDate: %w", err)
			}
			if !e.Empty() {
				// crlEntryExtensions is a bare SEQUENCE (no tag wrapper).
				if r.Extensions, err = readExtensions(e, &q); err != nil {
					return nil, fmt.Errorf("crlEntryExtensions: %w", err)
				}
			}
			for _, x := range r.Extensions {
				switch {
				case x.ID.Equal(oidExt(21)): // reasonCode, §5.3.1
					v := cryptobyte.String(x.Value)
					var rc cryptobyte.String
					if !v.ReadASN1(&rc, cbasn1.ENUM) || !v.Empty() || len(rc) != 1 || rc[0] > 10 {
						return nil, fmt.Errorf("%w: reasonCode", ErrMalformed)
					}
					r.Reason = ReasonCode(rc[0])
				case x.ID.Equal(oidExt(24)): // invalidityDate, §5.3.2: informative
				default:
					if x.Critical {
						l.UnknownCriticalExtensions = append(l.UnknownCriticalExtensions, x.ID)
					}
				}
			}
			l.Revoked = append(l.Revoked, r)
		}
	}
	var exts cryptobyte.String
	var hasExts bool
	if !tbs.ReadOptionalASN1(&exts, &hasExts, cbasn1.Tag(0).Constructed().ContextSpecific()) || !tbs.Empty() {
		return nil, fmt.Errorf("%w: TBSCertList after revokedCertificates", ErrMalformed)
	}
	if hasExts {
		if l.Extensions, err = readExtensions(exts, &q); err != nil {
			return nil, fmt.Errorf("crlExtensions: %w", err)
		}
		for _, x := range l.Extensions {
			v := cryptobyte.String(x.Value)
			switch {
			case x.ID.Equal(oidExt(20)): // cRLNumber, §5.2.3
				n, err := readInteger(&v, &q)
				if err != nil || !v.Empty() || n.Sign() < 0 {
					return nil, fmt.Errorf("%w: cRLNumber", ErrMalformed)
				}
				l.Number = n
			case x.ID.Equal(oidExt(35)): // authorityKeyIdentifier, §5.2.1
				id, err := parseAKI(v)
				if err != nil {
					return nil, fmt.Errorf("%w: CRL authorityKeyIdentifier", ErrMalformed)
				}
				l.AuthorityKeyID = id
			case x.ID.Equal(oidExt(18)): // issuerAltName, §5.2.2: informative
			default:
				if x.Critical {
					l.UnknownCriticalExtensions = append(l.UnknownCriticalExtensions, x.ID)
				}
			}
		}
	}
	l.Quirks = q
	return l, nil
}

// CheckSignatureFrom verifies that issuer's key signed l. Like
// Certificate.CheckSignatureFrom it does not compare names or key usage.
func (l *RevocationList) CheckSignatureFrom(issuer *Certificate) error {
	if issuer == nil {
		return fmt.Errorf("%w: no issuer certificate", ErrUnsupportedKey)
	}
	return issuer.CheckSignature(l.SignatureAlgorithm, l.RawTBS, l.Signature)
}

// IsRevoked reports whether serial is listed, and its entry. A
// removeFromCRL entry (delta CRLs, §5.3.1) is not a revocation.
func (l *RevocationList) IsRevoked(serial *big.Int) (Revoked, bool) {
	if serial == nil {
		return Revoked{}, false
	}
	for _, r := range l.Revoked {
		if r.Serial.Cmp(serial) == 0 && r.Reason != ReasonRemoveFromCRL {
			return r, true
		}
	}
	return Revoked{}, false
}

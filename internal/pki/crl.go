package pki

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"math/big"
	"slices"
	"time"

	"borderid/internal/cert"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Revoked is one entry of a CRL: the serial number of a certificate the
// CSCA issued and when it was revoked. There is no reason code: 9303-12
// Table 10 forbids CRL entry extensions.
type Revoked struct {
	Serial *big.Int
	At     time.Time
}

// IssueCRL writes an X.509 v2 CRL (RFC 5280 §5) in the profile of
// 9303-12 §7.1.4: issuer the CSCA's subject Name as in its certificate
// issuerDER, signed by key (the CSCA's key, which must hold cRLSign),
// thisUpdate and nextUpdate (both mandatory; UTCTime through 2049), the
// revoked certificates in ascending serial order (the field absent when
// there are none), and the two CRL extensions 9303-12 Table 10 requires,
// both non-critical: authorityKeyIdentifier (the CSCA's subject key
// identifier) and cRLNumber (number: non-negative, at most 20 octets;
// the caller keeps it increasing). Like Issue, the result is parsed back
// and its signature checked before it is returned.
func IssueCRL(issuerDER []byte, key crypto.Signer, number *big.Int, thisUpdate, nextUpdate time.Time, revoked []Revoked) ([]byte, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: no CRL signing key", ErrTemplate)
	}
	if err := checkSerial("CRL number", number, true); err != nil {
		return nil, err
	}
	if thisUpdate.IsZero() || nextUpdate.IsZero() {
		return nil, fmt.Errorf("%w: thisUpdate and nextUpdate are required (9303-12 Table 9)", ErrTemplate)
	}
	if !nextUpdate.Truncate(time.Second).After(thisUpdate.Truncate(time.Second)) {
		return nil, fmt.Errorf("%w: nextUpdate is not after thisUpdate", ErrTemplate)
	}
	if thisUpdate.Year() < 1950 || nextUpdate.Year() > 9999 {
		return nil, fmt.Errorf("%w: CRL dates outside the years 1950 to 9999", ErrTemplate)
	}
	entries := slices.Clone(revoked)
	for i, r := range entries {
		if err := checkSerial(fmt.Sprintf("revoked serial %d", i), r.Serial, false); err != nil {
			return nil, err
		}
		if r.At.IsZero() || r.At.Year() < 1950 || r.At.Year() > 9999 {
			return nil, fmt.Errorf("%w: revocation date of serial %x", ErrTemplate, r.Serial)
		}
	}
	slices.SortFunc(entries, func(a, b Revoked) int { return a.Serial.Cmp(b.Serial) })
	for i := 1; i < len(entries); i++ {
		if entries[i].Serial.Cmp(entries[i-1].Serial) == 0 {
			return nil, fmt.Errorf("%w: serial %x listed twice", ErrTemplate, entries[i].Serial)
		}
	}
	_, ci, err := curveOf(key.Public())
	if err != nil {
		return nil, fmt.Errorf("CRL key: %w", err)
	}
	iss, err := parseIssuer(issuerDER, key, x509.KeyUsageCRLSign)
	if err != nil {
		return nil, err
	}

	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // TBSCertList
		b.AddASN1Int64(1) // v2
		addAlgorithm(b, ci.sigOID)
		b.AddBytes(iss.name)
		addTime(b, thisUpdate)
		addTime(b, nextUpdate)
		if len(entries) > 0 {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, r := range entries {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1BigInt(r.Serial)
						addTime(b, r.At)
					})
				}
			})
		}
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				addAKI(b, iss.keyID)
				addExtension(b, oidExt(extCRLNumber), false, func(b *cryptobyte.Builder) { b.AddASN1BigInt(number) })
			})
		})
	})
	tbs, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("pki: encoding the CRL: %w", err)
	}
	der, err := signTBS(tbs, key, ci)
	if err != nil {
		return nil, err
	}
	l, err := cert.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("pki: the CRL written does not parse: %w", err)
	}
	if err := l.CheckSignatureFrom(iss.parsed); err != nil {
		return nil, fmt.Errorf("%w: the CRL signature does not verify: %w", ErrIssuer, err)
	}
	return der, nil
}

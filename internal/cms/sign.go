package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// signatureAlgorithm returns the SignerInfo signatureAlgorithm for a key
// and hash: ecdsa-with-SHA* (RFC 5758 §3.2, parameters absent) or
// sha*WithRSAEncryption (RFC 4055 §5, parameters NULL), the two families
// 9303-12 §4.4 allows for Document Signers besides RSASSA-PSS.
func signatureAlgorithm(pub crypto.PublicKey, h crypto.Hash) (oid asn1.ObjectIdentifier, nullParams bool, err error) {
	switch pub.(type) {
	case *ecdsa.PublicKey:
		switch h {
		case crypto.SHA224:
			return asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 1}, false, nil
		case crypto.SHA256:
			return asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, false, nil
		case crypto.SHA384:
			return asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}, false, nil
		case crypto.SHA512:
			return asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}, false, nil
		}
	case *rsa.PublicKey:
		switch h {
		case crypto.SHA224:
			return asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 14}, true, nil
		case crypto.SHA256:
			return asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, true, nil
		case crypto.SHA384:
			return asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}, true, nil
		case crypto.SHA512:
			return asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}, true, nil
		}
	default:
		return nil, false, fmt.Errorf("cms: unsupported signer key type %T", pub)
	}
	return nil, false, fmt.Errorf("cms: unsupported hash %v for %T", h, pub)
}

// Sign returns the DER ContentInfo of a SignedData (RFC 5652 §5) over
// eContent with the given eContentType: version 3 (1 for id-data), one
// digest algorithm h, the certificate embedded, and one SignerInfo
// identified by issuer and serial number whose signed attributes are
// content-type, message-digest and signing-time (RFC 5652 §11) in DER SET OF
// order. key must be the private key of cert: ECDSA (ecdsa-with-SHA*) or
// RSA (PKCS #1 v1.5). key.Sign is called once with crypto/rand as its
// random source.
func Sign(eContentType asn1.ObjectIdentifier, eContent []byte, cert *x509.Certificate, key crypto.Signer, h crypto.Hash, signingTime time.Time) ([]byte, error) {
	return SignWithCRLs(eContentType, eContent, cert, key, h, signingTime, nil)
}

// SignWithCRLs is Sign with CRLs (DER CertificateList) carried in the
// SignedData's crls field ([1] RevocationInfoChoices, RFC 5652 §10.2.1),
// as a trust snapshot (an ICAO master list plus CRLs) carries them.
func SignWithCRLs(eContentType asn1.ObjectIdentifier, eContent []byte, cert *x509.Certificate, key crypto.Signer, h crypto.Hash, signingTime time.Time, crls [][]byte) ([]byte, error) {
	if cert == nil {
		return nil, errors.New("cms: Sign needs a certificate and a key")
	}
	return SignAs(eContentType, eContent, SignerCert{
		Raw: cert.Raw, RawIssuer: cert.RawIssuer, SerialNumber: cert.SerialNumber, PublicKey: cert.PublicKey,
	}, key, h, signingTime, crls)
}

// SignerCert is the part of the signer's certificate a SignedData needs:
// its DER (embedded as is), its issuer Name and serial number (the
// SignerIdentifier) and its public key (checked against the signing key).
// It lets a caller sign with a certificate crypto/x509 cannot parse, such as
// an ICAO Document Signer with explicit EC domain parameters.
type SignerCert struct {
	Raw, RawIssuer []byte
	SerialNumber   *big.Int
	PublicKey      crypto.PublicKey
}

// SignAs is SignWithCRLs for a signer certificate given as a SignerCert.
func SignAs(eContentType asn1.ObjectIdentifier, eContent []byte, cert SignerCert, key crypto.Signer, h crypto.Hash, signingTime time.Time, crls [][]byte) ([]byte, error) {
	if len(cert.Raw) == 0 || len(cert.RawIssuer) == 0 || key == nil {
		return nil, errors.New("cms: Sign needs a certificate and a key")
	}
	if len(eContentType) == 0 {
		return nil, errors.New("cms: empty eContentType")
	}
	if !h.Available() {
		return nil, fmt.Errorf("cms: hash %v not available", h)
	}
	digestOID, err := OIDForHash(h)
	if err != nil {
		return nil, err
	}
	sigOID, sigNull, err := signatureAlgorithm(key.Public(), h)
	if err != nil {
		return nil, err
	}
	if !publicKeysEqual(key.Public(), cert.PublicKey) {
		return nil, errors.New("cms: key does not match the certificate")
	}
	if cert.SerialNumber == nil {
		return nil, errors.New("cms: certificate without serial number")
	}

	md := h.New()
	md.Write(eContent)
	attrs, err := signedAttributes(eContentType, md.Sum(nil), signingTime)
	if err != nil {
		return nil, err
	}
	// The signature covers the attributes tagged as SET OF (§5.4); the
	// SignerInfo carries the same bytes tagged [0] IMPLICIT.
	ad := h.New()
	ad.Write(attrs)
	sig, err := key.Sign(rand.Reader, ad.Sum(nil), h)
	if err != nil {
		return nil, fmt.Errorf("cms: signing: %w", err)
	}
	implicitAttrs := append([]byte{0xa0}, attrs[1:]...)

	version := int64(3) // §5.1: eContentType other than id-data
	if eContentType.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}) {
		version = 1
	}

	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
		b.AddASN1ObjectIdentifier(oidSignedData())
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignedData
				b.AddASN1Int64(version)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					addAlgorithm(b, digestOID, false)
				})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(eContentType)
					b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddASN1OctetString(eContent)
					})
				})
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddBytes(cert.Raw)
				})
				if len(crls) > 0 {
					b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						for _, crl := range crls {
							b.AddBytes(crl)
						}
					})
				}
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignerInfo
						b.AddASN1Int64(1) // §5.3: issuerAndSerialNumber
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddBytes(cert.RawIssuer)
							b.AddASN1BigInt(cert.SerialNumber)
						})
						addAlgorithm(b, digestOID, false)
						b.AddBytes(implicitAttrs)
						addAlgorithm(b, sigOID, sigNull)
						b.AddASN1OctetString(sig)
					})
				})
			})
		})
	})
	return b.Bytes()
}

// signedAttributes returns the DER SET OF the three signed attributes.
func signedAttributes(ct asn1.ObjectIdentifier, digest []byte, t time.Time) ([]byte, error) {
	one := func(oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) ([]byte, error) {
		b := cryptobyte.NewBuilder(nil)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1(cbasn1.SET, value)
		})
		return b.Bytes()
	}
	t = t.UTC()
	var list [][]byte
	for _, a := range []struct {
		oid asn1.ObjectIdentifier
		v   func(*cryptobyte.Builder)
	}{
		{oidAttrContentType(), func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(ct) }},
		{oidAttrMessageDigest(), func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) }},
		{oidAttrSigningTime(), func(b *cryptobyte.Builder) {
			// RFC 5652 §11.3: UTCTime for 1950..2049.
			if t.Year() >= 1950 && t.Year() < 2050 {
				b.AddASN1UTCTime(t)
			} else {
				b.AddASN1GeneralizedTime(t)
			}
		}},
	} {
		enc, err := one(a.oid, a.v)
		if err != nil {
			return nil, fmt.Errorf("cms: encoding signed attribute %v: %w", a.oid, err)
		}
		list = append(list, enc)
	}
	// DER orders SET OF by the encodings' octets (X.690 §11.6).
	slices.SortFunc(list, bytes.Compare)
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, e := range list {
			b.AddBytes(e)
		}
	})
	return b.Bytes()
}

func addAlgorithm(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, nullParams bool) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if nullParams {
			b.AddASN1NULL()
		}
	})
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

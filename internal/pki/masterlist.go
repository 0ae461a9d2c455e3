package pki

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"time"

	"borderid/internal/cert"
	"borderid/internal/cms"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CMSSigner returns what package cms needs to sign with the certificate
// der (cms.SignAs, lds.EncodeSODAs), read with package internal/cert: it
// works for the explicit-parameter certificates crypto/x509 cannot parse.
func CMSSigner(der []byte) (cms.SignerCert, error) {
	c, err := cert.ParseCertificate(der)
	if err != nil {
		return cms.SignerCert{}, fmt.Errorf("pki: signer certificate: %w", err)
	}
	if c.PublicKey == nil {
		return cms.SignerCert{}, fmt.Errorf("%w: signer certificate %s has a key this package cannot use", ErrUnsupportedKey, c.Subject)
	}
	return cms.SignerCert{Raw: c.Raw, RawIssuer: c.RawIssuer, SerialNumber: c.SerialNumber, PublicKey: c.PublicKey}, nil
}

// MasterList writes a CSCA master list (9303-12 §8): a CMS SignedData
// (eContentType id-icao-cscaMasterList 2.23.136.1.1.2) over
//
//	CscaMasterList ::= SEQUENCE { version INTEGER (v0), certList SET OF Certificate }
//
// with certs (DER CSCA and link certificates; duplicates dropped) in DER
// SET OF order, signed by key with the signer certificate signerDER
// embedded and crls (DER CRLs) carried in the SignedData's crls field. The
// signer must be a master list signer: key usage digitalSignature and
// extended key usage 2.23.136.1.1.3 (cert.OIDMasterListSigner), whose key
// key is. The digest follows the signer's curve (SHA-256 for P-256).
//
// The CSCA that issued the signer is not embedded beside the signer (a
// reader finds it in certList or holds it as its root).
func MasterList(certs [][]byte, signerDER []byte, key crypto.Signer, signingTime time.Time, crls [][]byte) ([]byte, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: no master list signing key", ErrTemplate)
	}
	if signingTime.IsZero() {
		return nil, fmt.Errorf("%w: no signing time", ErrTemplate)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: a master list with no certificate", ErrTemplate)
	}
	for i, der := range certs {
		c, err := cert.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%w: master list certificate %d: %w", ErrTemplate, i, err)
		}
		if !c.IsCA || c.KeyUsage&x509.KeyUsageCertSign == 0 {
			return nil, fmt.Errorf("%w: master list certificate %d (%s) is not a CSCA or link certificate", ErrTemplate, i, c.Subject)
		}
	}
	for i, der := range crls {
		if _, err := cert.ParseRevocationList(der); err != nil {
			return nil, fmt.Errorf("%w: CRL %d: %w", ErrTemplate, i, err)
		}
	}
	signer, err := cert.ParseCertificate(signerDER)
	if err != nil {
		return nil, fmt.Errorf("%w: master list signer: %w", ErrIssuer, err)
	}
	eku := false
	for _, o := range signer.ExtKeyUsage {
		eku = eku || o.Equal(cert.OIDMasterListSigner())
	}
	if !eku || signer.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return nil, fmt.Errorf("%w: %s is not a master list signer (digitalSignature and extended key usage %v)",
			ErrIssuer, signer.Subject, cert.OIDMasterListSigner())
	}
	if signer.PublicKey == nil || !sameKey(signer.PublicKey, key.Public()) {
		return nil, fmt.Errorf("%w: the signing key is not the key of %s", ErrIssuer, signer.Subject)
	}
	_, ci, err := curveOf(key.Public())
	if err != nil {
		return nil, fmt.Errorf("master list key: %w", err)
	}

	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0) // v0
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			for _, der := range sortedSet(certs) {
				b.AddBytes(der)
			}
		})
	})
	content, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("pki: encoding CscaMasterList: %w", err)
	}
	sc := cms.SignerCert{Raw: signer.Raw, RawIssuer: signer.RawIssuer, SerialNumber: signer.SerialNumber, PublicKey: signer.PublicKey}
	ml, err := cms.SignAs(cms.OIDCscaMasterList(), content, sc, key, ci.hash, signingTime, crls)
	if err != nil {
		return nil, fmt.Errorf("pki: signing the master list: %w", err)
	}
	return ml, nil
}

package specimen

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"borderid/internal/cms"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// oidMasterListSigner is id-icao-cscaMasterListSigningKey
// (2.23.136.1.1.3), the extended key usage of a master list signer
// certificate (9303-12 §7.1.1, Table 6).
func oidMasterListSigner() asn1.ObjectIdentifier { return asn1.ObjectIdentifier{2, 23, 136, 1, 1, 3} }

// TrustSnapshot returns a trust snapshot for doc, as a border post receives
// one: an ICAO CSCA master list (9303-12 §9: CscaMasterList ::= SEQUENCE {
// version INTEGER (0), certList SET OF Certificate } as the eContent, type
// id-icao-cscaMasterList 2.23.136.1.1.2, of a CMS SignedData) holding
// doc.CSCA, and the PEM of the root the master list signer chains to.
//
// The signer's certificate (ECDSA P-256, keyUsage digitalSignature,
// extended key usage 2.23.136.1.1.3) is embedded in the SignedData and is
// issued by a throwaway self-signed "ML root" of Utopia (C=UT); neither
// private key is returned, so the snapshot cannot be re-signed. Keys and
// serial numbers are read from r and every signature is RFC 6979
// deterministic, so a fixed r and now give the same bytes. now is the
// signing time (truncated to the second); the certificates are valid
// around it.
//
// It deliberately models one signer and one root: no link certificates,
// no CRL, no deviation list.
func TrustSnapshot(doc *Document, r io.Reader, now time.Time) (ml []byte, rootPEM []byte, err error) {
	return TrustSnapshotWithCRLs(doc, r, now, nil)
}

// TrustSnapshotWithCRLs is TrustSnapshot with CRLs (DER) carried in the
// master list's SignedData, as a station's trust snapshot carries them.
func TrustSnapshotWithCRLs(doc *Document, r io.Reader, now time.Time, crls [][]byte) (ml []byte, rootPEM []byte, err error) {
	if doc == nil || doc.CSCA == nil {
		return nil, nil, errors.New("specimen: trust snapshot needs a document with a CSCA")
	}
	if r == nil {
		return nil, nil, errors.New("specimen: trust snapshot needs a random source")
	}
	if now.IsZero() {
		return nil, nil, errors.New("specimen: trust snapshot needs a signing time")
	}
	now = now.UTC().Truncate(time.Second)
	rootKey, err := deriveKey(r)
	if err != nil {
		return nil, nil, err
	}
	signerKey, err := deriveKey(r)
	if err != nil {
		return nil, nil, err
	}
	root, signer, err := masterListCertificates(r, now, rootKey, signerKey)
	if err != nil {
		return nil, nil, err
	}
	content, err := cscaMasterList([][]byte{doc.CSCA.Raw})
	if err != nil {
		return nil, nil, err
	}
	ml, err = cms.SignWithCRLs(cms.OIDCscaMasterList(), content, signer, deterministic{signerKey}, crypto.SHA256, now, crls)
	if err != nil {
		return nil, nil, fmt.Errorf("specimen: signing the master list: %w", err)
	}
	rootPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw})
	return ml, rootPEM, nil
}

// cscaMasterList encodes CscaMasterList (9303-12 §9) with version v0. The
// certList is a SET OF, so DER (X.690 §11.6) orders its elements by their
// encodings; cryptobyte's AddASN1 does not sort, hence the explicit sort.
func cscaMasterList(certs [][]byte) ([]byte, error) {
	sorted := slices.Clone(certs)
	slices.SortFunc(sorted, bytes.Compare) // shorter first on a common prefix, as DER wants
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			for _, c := range sorted {
				b.AddBytes(c)
			}
		})
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("specimen: encoding the master list: %w", err)
	}
	return out, nil
}

// masterListCertificates issues the ML root (self-signed CA, keyCertSign
// and cRLSign, path length 0) and the master list signer (digitalSignature,
// extended key usage id-icao-cscaMasterListSigningKey, 9303-12 §7.1.1).
func masterListCertificates(r io.Reader, now time.Time, rootKey, signerKey *ecdsa.PrivateKey) (root, signer *x509.Certificate, err error) {
	return rootAndLeaf(r, now, rootKey, signerKey, "ML root Utopia", "ML root", &x509.Certificate{
		Subject:            pkix.Name{Country: []string{"UT"}, Organization: []string{"Utopia"}, CommonName: "Master List Signer Utopia"},
		NotAfter:           now.AddDate(5, 0, 0),
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{oidMasterListSigner()},
	}, "master list signer")
}

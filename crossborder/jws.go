package crossborder

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// jwsSigner signs answers as compact JWS (RFC 7515 §7.1), ES256 (RFC 7518
// §3.4), protected header {"alg": "ES256", "typ": JWSType, "x5c": [the
// status-signer certificate, standard base64 DER]}.
type jwsSigner struct {
	signer jose.Signer
}

func newJWSSigner(key crypto.Signer, certDER []byte) (*jwsSigner, error) {
	opts := (&jose.SignerOptions{}).WithType(JWSType).
		WithHeader("x5c", []string{base64.StdEncoding.EncodeToString(certDER)})
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: opaqueES256{key}}, opts)
	if err != nil {
		return nil, fmt.Errorf("crossborder: JWS signer: %w", err)
	}
	return &jwsSigner{signer: s}, nil
}

func (j *jwsSigner) sign(payload []byte) (string, error) {
	obj, err := j.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("crossborder: signing the answer: %w", err)
	}
	return obj.CompactSerialize()
}

// opaqueES256 is go-jose's OpaqueSigner over a crypto.Signer that keeps its
// key (the HSM): it hashes the JWS signing input with SHA-256, has the key
// sign the digest, and turns the ASN.1 DER ECDSA-Sig-Value (RFC 3279
// §2.2.3) that crypto.Signer returns into the JWS form, R and S as 32-byte
// big-endian integers one after the other (RFC 7518 §3.4).
type opaqueES256 struct {
	key crypto.Signer
}

func (o opaqueES256) Public() *jose.JSONWebKey {
	return &jose.JSONWebKey{Key: o.key.Public(), Algorithm: string(jose.ES256), Use: "sig"}
}

func (o opaqueES256) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{jose.ES256} }

func (o opaqueES256) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != jose.ES256 {
		return nil, fmt.Errorf("crossborder: algorithm %s is not ES256", alg)
	}
	d := sha256.Sum256(payload)
	der, err := o.key.Sign(rand.Reader, d[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	return rawSignature(der, 32)
}

// rawSignature converts ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
// to r||s, each left-padded to size bytes.
func rawSignature(der []byte, size int) ([]byte, error) {
	var r, s big.Int
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1Integer(&r) || !seq.ReadASN1Integer(&s) || !seq.Empty() {
		return nil, errors.New("crossborder: the signer returned no DER ECDSA signature")
	}
	if r.Sign() <= 0 || s.Sign() <= 0 || r.BitLen() > size*8 || s.BitLen() > size*8 {
		return nil, errors.New("crossborder: the signer returned an ECDSA signature out of range")
	}
	out := make([]byte, 2*size)
	r.FillBytes(out[:size])
	s.FillBytes(out[size:])
	return out, nil
}

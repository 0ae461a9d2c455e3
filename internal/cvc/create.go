package cvc

import (
	"crypto"
	"crypto/rsa"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Template describes a certificate to create.
type Template struct {
	CHR        string
	Role       Role
	Rights     Rights     // ReadDG3, ReadDG4 (terminal type id-IS)
	PublicKey  *PublicKey // the holder's key (NewPublicKey); with domain parameters for a CVCA only
	Effective  time.Time  // day granularity, UTC
	Expiration time.Time
}

// Issuer is the signing side of Create.
type Issuer struct {
	// Cert is the issuer's certificate; nil for a self-signed CVCA, whose
	// key is the template's own.
	Cert *Certificate
	// Key signs the body: any crypto.Signer (an HSM key works). ECDSA
	// signers return DER, which Create converts to plain r||s.
	Key crypto.Signer
	// Domain is the EC domain of Key when Cert carries none (a DV signing
	// an IS: its CVCA's domain). Ignored otherwise.
	Domain *ECDomain
}

// Create builds and signs a CV certificate of profile version 1 for an
// eMRTD inspection system chain (terminal type id-IS): a self-signed CVCA
// (Issuer.Cert nil, template role CVCA, key with domain parameters), a CVCA
// link certificate (role CVCA signed by the previous CVCA), a DV signed by
// a CVCA, or an IS signed by a DV. The signature algorithm is the one of
// the issuer's key (TR-03110-3 C.1); ECDSA signatures are converted to
// plain r||s of the order's length (TR-03111 §5.2.1). Create parses its
// output and checks the signature before returning it, so a key that does
// not match the issuer's certificate is caught here.
func Create(rand io.Reader, t Template, iss Issuer) ([]byte, error) {
	if t.PublicKey == nil {
		return nil, fmt.Errorf("cvc: create %s: %w: no public key", t.CHR, ErrInvalidKey)
	}
	if iss.Key == nil {
		return nil, fmt.Errorf("cvc: create %s: %w: no signing key", t.CHR, ErrInvalidKey)
	}
	if t.Rights&^rightsMask != 0 {
		return nil, fmt.Errorf("cvc: create %s: %w: rights %#x beyond six bits", t.CHR, ErrMalformed, uint8(t.Rights))
	}
	if _, err := parseReference([]byte(t.CHR)); err != nil {
		return nil, fmt.Errorf("cvc: create: CHR: %w", err)
	}
	if t.PublicKey.Algorithm.IsECDSA() && (t.Role == RoleCVCA) != (t.PublicKey.Domain != nil) {
		// D.3.3: domain parameters in CVCA certificates, not in DV or IS.
		return nil, fmt.Errorf("cvc: create %s: %w: domain parameters belong in CVCA certificates only (role %v)",
			t.CHR, ErrInvalidKey, t.Role)
	}

	// The issuer's reference, algorithm and domain.
	var car string
	var signKey *PublicKey
	var domain *ECDomain
	switch ic := iss.Cert; {
	case ic == nil:
		if t.Role != RoleCVCA {
			return nil, fmt.Errorf("cvc: create %s: %w: only a CVCA is self-signed", t.CHR, ErrChain)
		}
		car, signKey, domain = t.CHR, t.PublicKey, t.PublicKey.Domain
	case ic.Role == RoleCVCA && (t.Role == RoleCVCA || t.Role.isDV()),
		ic.Role.isDV() && t.Role == RoleIS:
		car, signKey, domain = ic.CHR, &ic.PublicKey, ic.PublicKey.Domain
		if domain == nil {
			domain = iss.Domain
		}
	default:
		return nil, fmt.Errorf("cvc: create %s: %w: a %v cannot issue a %v", t.CHR, ErrChain, ic.Role, t.Role)
	}

	// The holder's key must be usable: a CVCA's on its own domain, a DV's
	// or IS's on the one it inherits (TR-03110-3 D.3.3).
	holderDomain := domain
	if t.Role == RoleCVCA {
		holderDomain = nil
	}
	if err := CheckKey(t.PublicKey, holderDomain); err != nil {
		return nil, fmt.Errorf("cvc: create %s: %w", t.CHR, err)
	}
	bodyElem, err := buildBody(t, car)
	if err != nil {
		return nil, fmt.Errorf("cvc: create %s: %w", t.CHR, err)
	}

	sig, err := Sign(rand, iss.Key, signKey.Algorithm, domain, bodyElem)
	if err != nil {
		return nil, fmt.Errorf("cvc: create %s: %w", t.CHR, err)
	}
	inner := append(bodyElem, appendTLV(nil, tagSignature, sig)...)
	if len(inner) > maxLength {
		return nil, fmt.Errorf("cvc: create %s: %w: certificate of %d bytes", t.CHR, ErrMalformed, len(inner))
	}
	out := appendTLV(nil, tagCVCertificate, inner)

	c, err := Parse(out)
	if err != nil {
		return nil, fmt.Errorf("cvc: create %s: own output: %w", t.CHR, err)
	}
	if err := VerifySignature(signKey, domain, c.Body, c.Signature); err != nil {
		return nil, fmt.Errorf("cvc: create %s: signing key does not match the issuer's: %w", t.CHR, err)
	}
	return out, nil
}

// Sign signs msg with key under alg, as Terminal Authentication and
// certificate creation need: RSA PKCS#1 v1.5, RSA-PSS (salt as long as the
// hash, MGF1 with the same hash), or ECDSA returned as plain r||s, each
// half of the order's byte length (TR-03111 §5.2.1). The order comes from
// the key's curve (an *ec.PrivateKey, an *ecdsa.PrivateKey, or any
// crypto.Signer whose Public() is an *ec.PublicKey or *ecdsa.PublicKey),
// else from domain, which a signer with an opaque public key needs. When
// both are known the key's curve must be the domain's (ErrInvalidKey
// otherwise); an opaque signer's curve cannot be checked here.
func Sign(rand io.Reader, key crypto.Signer, alg Algorithm, domain *ECDomain, msg []byte) ([]byte, error) {
	in, ok := algTable(alg)
	if !ok {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedAlgorithm, alg)
	}
	if key == nil {
		return nil, fmt.Errorf("%w: no signing key", ErrInvalidKey)
	}
	h := in.hash.New()
	h.Write(msg)
	digest := h.Sum(nil)
	if !in.ec {
		var opts crypto.SignerOpts = in.hash
		if in.pss {
			opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: in.hash}
		}
		sig, err := key.Sign(rand, digest, opts)
		if err != nil {
			return nil, fmt.Errorf("cvc: signing with %v: %w", alg, err)
		}
		return sig, nil
	}
	var orderLen int
	if c, err := curveOfKey(key.Public()); err == nil {
		orderLen = c.ScalarLen()
		// The key must be on the domain's curve, not merely on one with
		// an order of the same length (P-256 and brainpoolP256r1): the
		// verifier checks with the domain (TR-03110-3 D.3.3).
		if domain != nil {
			dc, err := curveFor(domain)
			if err != nil {
				return nil, err
			}
			if dc.ID() != c.ID() {
				return nil, fmt.Errorf("%w: signing key on %s, the domain is %s", ErrInvalidKey, c.Name(), dc.Name())
			}
		}
	} else if domain != nil {
		// An opaque signer (an HSM key whose Public() is not a known
		// type): the domain says how long r and s are.
		orderLen = domain.OrderLen()
	} else {
		return nil, fmt.Errorf("%w: no EC domain for a %T signer", ErrInvalidKey, key.Public())
	}
	if ps, ok := key.(plainSigner); ok {
		sig, err := ps.SignPlain(rand, digest)
		if err != nil {
			return nil, fmt.Errorf("cvc: signing with %v: %w", alg, err)
		}
		if len(sig) != 2*orderLen {
			return nil, fmt.Errorf("%w: plain signature of %d bytes, want %d", ErrSignature, len(sig), 2*orderLen)
		}
		return sig, nil
	}
	der, err := key.Sign(rand, digest, in.hash)
	if err != nil {
		return nil, fmt.Errorf("cvc: signing with %v: %w", alg, err)
	}
	return PlainFromDER(der, orderLen)
}

// plainSigner is a key that produces TR-03111 plain signatures itself
// (*ec.PrivateKey), saving the DER round trip.
type plainSigner interface {
	SignPlain(rand io.Reader, digest []byte) ([]byte, error)
}

// PlainFromDER converts an ECDSA signature from its DER form
// (SEQUENCE { INTEGER r, INTEGER s }, as crypto.Signer returns it) to the
// plain form r||s of TR-03111 §5.2.1, each integer left-padded to
// orderLen bytes. r and s must be positive and fit orderLen.
func PlainFromDER(der []byte, orderLen int) ([]byte, error) {
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	r, sv := new(big.Int), new(big.Int)
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() ||
		!seq.ReadASN1Integer(r) || !seq.ReadASN1Integer(sv) || !seq.Empty() {
		return nil, fmt.Errorf("%w: ECDSA signature is not DER SEQUENCE { r, s }", ErrSignature)
	}
	if orderLen <= 0 || r.Sign() <= 0 || sv.Sign() <= 0 || r.BitLen() > 8*orderLen || sv.BitLen() > 8*orderLen {
		return nil, fmt.Errorf("%w: ECDSA r or s out of range", ErrSignature)
	}
	out := make([]byte, 2*orderLen)
	r.FillBytes(out[:orderLen])
	sv.FillBytes(out[orderLen:])
	return out, nil
}

// oidElement is the DER encoding (06, length, arcs) of an object
// identifier; only this package's fixed OIDs reach it.
func oidElement(o asn1.ObjectIdentifier) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1ObjectIdentifier(o)
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: encoding OID %v: %w", ErrMalformed, o, err)
	}
	return out, nil
}

// buildBody encodes the certificate body 7F4E in the order of TR-03110-3
// Table C.1, without extensions.
func buildBody(t Template, car string) ([]byte, error) {
	var body []byte
	body = appendTLV(body, tagProfileID, []byte{ProfileV1})
	body = appendTLV(body, tagCAR, []byte(car))
	pk, err := t.PublicKey.marshal()
	if err != nil {
		return nil, err
	}
	body = append(body, pk...)
	body = appendTLV(body, tagCHR, []byte(t.CHR))
	chat, err := oidElement(OIDInspectionSystem())
	if err != nil {
		return nil, err
	}
	chat = appendTLV(chat, tagDiscData, []byte{byte(t.Role)<<6 | byte(t.Rights)})
	body = appendTLV(body, tagCHAT, chat)
	for _, d := range []struct {
		tg tag
		t  time.Time
	}{{tagEffective, t.Effective}, {tagExpiration, t.Expiration}} {
		enc, err := encodeDate(d.t)
		if err != nil {
			return nil, err
		}
		body = appendTLV(body, d.tg, enc)
	}
	if len(body) > maxLength {
		return nil, fmt.Errorf("%w: body of %d bytes", ErrMalformed, len(body))
	}
	return appendTLV(nil, tagBody, body), nil
}

package cert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	_ "crypto/sha1" // the hashes of ICAO 9303-12 §4 (SHA-1 for old CSCAs)
	_ "crypto/sha256"
	_ "crypto/sha512"
	"fmt"

	"borderid/internal/ec"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CheckSignatureFrom verifies that parent's key signed c: c.Signature over
// c.RawTBS with c.SignatureAlgorithm. It checks nothing else: not names,
// validity, key usage or basic constraints (path policy is package verify's;
// a root is decided by its signature, never by its name).
func (c *Certificate) CheckSignatureFrom(parent *Certificate) error {
	if parent == nil {
		return fmt.Errorf("%w: no issuer certificate", ErrUnsupportedKey)
	}
	return parent.CheckSignature(c.SignatureAlgorithm, c.RawTBS, c.Signature)
}

// CheckSignature verifies sig over signed with c's public key: RSA
// PKCS #1 v1.5, RSA-PSS with exactly its parameters (hash, MGF1 hash, salt
// length, trailer), or ECDSA (DER or, for ecdsa-plain-*, r‖s). A CMS
// SignerInfo is checked with the re-tagged signed attributes as signed
// (RFC 5652 §5.4) and the algorithm from CMSSignatureAlgorithm.
func (c *Certificate) CheckSignature(alg SignatureAlgorithm, signed, sig []byte) error {
	if c.PublicKeyAlgorithm == RSAPSSKey && alg.Scheme != RSAPSS {
		// RFC 4055 §1.2: an id-RSASSA-PSS key is for PSS signatures only.
		return fmt.Errorf("%w: an RSA-PSS key cannot verify %v", ErrUnsupportedKey, alg)
	}
	return checkSignature(c.PublicKey, alg, signed, sig)
}

func checkSignature(pub crypto.PublicKey, alg SignatureAlgorithm, signed, sig []byte) error {
	if alg.Scheme == UnknownScheme {
		return fmt.Errorf("%w: %v", ErrUnsupportedAlgorithm, alg.OID)
	}
	if !alg.Hash.Available() {
		return fmt.Errorf("%w: hash %v", ErrUnsupportedAlgorithm, alg.Hash)
	}
	h := alg.Hash.New()
	h.Write(signed)
	digest := h.Sum(nil)

	switch alg.Scheme {
	case RSAPKCS1v15, RSAPSS:
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: %v signature needs an RSA key, have %T", ErrUnsupportedKey, alg.Scheme, pub)
		}
		if alg.Scheme == RSAPKCS1v15 {
			if err := rsa.VerifyPKCS1v15(k, alg.Hash, digest, sig); err != nil {
				return fmt.Errorf("%w: %v: %v", ErrSignature, alg, err)
			}
			return nil
		}
		p := alg.PSS
		if p == nil {
			return fmt.Errorf("%w: RSA-PSS without parameters", ErrUnsupportedAlgorithm)
		}
		// crypto/rsa uses one hash for the message and MGF1, and trailer
		// 0xBC (trailerField 1, RFC 4055 §3.1); other combinations are
		// refused rather than verified under the wrong parameters.
		if p.MGFHash != p.Hash || p.TrailerField != 1 || p.Hash != alg.Hash {
			return fmt.Errorf("%w: RSA-PSS with hash %v, MGF1-%v, trailer %d", ErrUnsupportedAlgorithm, p.Hash, p.MGFHash, p.TrailerField)
		}
		if p.SaltLength == 0 {
			// rsa.PSSOptions treats 0 as "auto"; an exact empty salt
			// cannot be demanded, so it is refused.
			return fmt.Errorf("%w: RSA-PSS with salt length 0", ErrUnsupportedAlgorithm)
		}
		if err := rsa.VerifyPSS(k, alg.Hash, digest, sig, &rsa.PSSOptions{SaltLength: p.SaltLength, Hash: alg.Hash}); err != nil {
			return fmt.Errorf("%w: %v: %v", ErrSignature, alg, err)
		}
		return nil
	case ECDSA, ECDSAPlain:
		var r, s []byte
		var err error
		if alg.Scheme == ECDSA {
			r, s, err = parseECDSASig(sig)
		} else {
			r, s, err = splitPlain(sig)
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrSignature, err)
		}
		switch k := pub.(type) {
		case *ecdsa.PublicKey:
			// Re-encode r and s minimally so crypto/ecdsa reads exactly
			// the integers checked above.
			n := max(len(r), len(s))
			plain := make([]byte, 0, 2*n)
			plain = append(append(plain, pad(r, n)...), pad(s, n)...) // fresh buffer: r, s alias the signature
			der, err := ec.PlainToDER(plain)
			if err != nil || !ecdsa.VerifyASN1(k, digest, der) {
				return fmt.Errorf("%w: %v", ErrSignature, alg)
			}
			return nil
		case *ec.PublicKey:
			if !k.Curve().Verify(k.Point(), digest, r, s) {
				return fmt.Errorf("%w: %v on %v", ErrSignature, alg, k.Curve())
			}
			return nil
		}
		return fmt.Errorf("%w: %v signature needs an EC key, have %T", ErrUnsupportedKey, alg.Scheme, pub)
	}
	return fmt.Errorf("%w: %v", ErrUnsupportedAlgorithm, alg)
}

// pad returns a copy of b left-padded to n bytes (for the equal halves
// PlainToDER expects).
func pad(b []byte, n int) []byte {
	out := make([]byte, max(n, len(b)))
	copy(out[n-len(b):], b)
	return out
}

// parseECDSASig reads Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
// (RFC 3279 §2.2.3) strictly: DER, both positive. It returns their
// magnitudes without sign octets.
func parseECDSASig(sig []byte) (r, s []byte, err error) {
	in := cryptobyte.String(sig)
	var seq, rc, sc cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1(&rc, cbasn1.INTEGER) || !seq.ReadASN1(&sc, cbasn1.INTEGER) || !seq.Empty() {
		return nil, nil, fmt.Errorf("malformed Ecdsa-Sig-Value")
	}
	for _, v := range []*cryptobyte.String{&rc, &sc} {
		b := *v
		if len(b) == 0 || b[0]&0x80 != 0 || (len(b) > 1 && b[0] == 0 && b[1]&0x80 == 0) {
			return nil, nil, fmt.Errorf("Ecdsa-Sig-Value integer not positive minimal DER")
		}
		if b[0] == 0 {
			*v = b[1:]
		}
	}
	return rc, sc, nil
}

// splitPlain splits a TR-03111 §5.2.1 plain signature r‖s.
func splitPlain(sig []byte) (r, s []byte, err error) {
	if len(sig) == 0 || len(sig)%2 != 0 {
		return nil, nil, fmt.Errorf("plain ECDSA signature of length %d", len(sig))
	}
	return sig[:len(sig)/2], sig[len(sig)/2:], nil
}

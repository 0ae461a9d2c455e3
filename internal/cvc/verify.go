package cvc

import (
	"crypto/rsa"
	"fmt"
	"time"
)

// Limits on RSA keys: TR-03110-3 A.6.4.1 does not fix sizes; below 1024
// bits a signature proves nothing, and the public exponent must fit an int
// and be odd.
const (
	minRSABits = 1024
	maxRSABits = 8192
)

// rsaKey checks an RSA key data object and converts it.
func rsaKey(pub *PublicKey) (*rsa.PublicKey, error) {
	if pub.N == nil || pub.E == nil {
		return nil, fmt.Errorf("%w: RSA key without modulus or exponent", ErrInvalidKey)
	}
	if b := pub.N.BitLen(); b < minRSABits || b > maxRSABits || pub.N.Bit(0) == 0 {
		return nil, fmt.Errorf("%w: RSA modulus of %d bits", ErrInvalidKey, b)
	}
	if pub.E.BitLen() > 31 || pub.E.Int64() < 3 || pub.E.Bit(0) == 0 {
		return nil, fmt.Errorf("%w: RSA exponent %v", ErrInvalidKey, pub.E)
	}
	return &rsa.PublicKey{N: pub.N, E: int(pub.E.Int64())}, nil
}

// ecDomainFor picks the domain an EC key is used with: its own if it has
// one, else the one given (the CVCA's, TR-03110-3 D.3.3). A key with
// parameters that contradict the given domain is refused.
func ecDomainFor(pub *PublicKey, domain *ECDomain) (*ECDomain, error) {
	switch {
	case pub.Domain != nil && domain != nil && !pub.Domain.Equal(domain):
		return nil, fmt.Errorf("%w: key's domain parameters differ from the CVCA's", ErrInvalidKey)
	case pub.Domain != nil:
		return pub.Domain, nil
	case domain != nil:
		return domain, nil
	}
	return nil, fmt.Errorf("%w: EC key without domain parameters and none inherited", ErrInvalidKey)
}

// CheckKey checks that pub is usable: a known algorithm, an RSA key within
// limits, or an EC point on the curve of its domain (its own or the given
// one inherited from the CVCA) that is not the point at infinity.
func CheckKey(pub *PublicKey, domain *ECDomain) error {
	switch {
	case pub == nil:
		return fmt.Errorf("%w: no key", ErrInvalidKey)
	case pub.Algorithm.IsRSA():
		_, err := rsaKey(pub)
		return err
	case pub.Algorithm.IsECDSA():
		d, err := ecDomainFor(pub, domain)
		if err != nil {
			return err
		}
		c, err := curveFor(d)
		if err != nil {
			return err
		}
		_, err = checkPoint(c, pub.Point)
		return err
	}
	return fmt.Errorf("%w: public key OID %v", ErrUnsupportedAlgorithm, pub.OID)
}

// VerifySignature checks sig over msg with pub under the key's algorithm
// (TR-03110-3 A.6.4): RSA PKCS#1 v1.5 or PSS (MGF1 with the same hash, any
// salt length), or ECDSA with a plain signature r||s, each of the order's
// byte length (TR-03111 §5.2.1). domain is used when the EC key carries no
// parameters of its own (DV and IS keys: pass the CVCA's); it may be nil
// for RSA and for CVCA keys. The chip side of Terminal Authentication uses
// it to check the terminal's signature.
func VerifySignature(pub *PublicKey, domain *ECDomain, msg, sig []byte) error {
	if pub == nil {
		return fmt.Errorf("%w: no key", ErrInvalidKey)
	}
	in, ok := algTable(pub.Algorithm)
	if !ok {
		return fmt.Errorf("%w: public key OID %v", ErrUnsupportedAlgorithm, pub.OID)
	}
	h := in.hash.New()
	h.Write(msg)
	digest := h.Sum(nil)
	if !in.ec {
		k, err := rsaKey(pub)
		if err != nil {
			return err
		}
		if in.pss {
			err = rsa.VerifyPSS(k, in.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: in.hash})
		} else {
			err = rsa.VerifyPKCS1v15(k, in.hash, digest, sig)
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrSignature, pub.Algorithm)
		}
		return nil
	}
	d, err := ecDomainFor(pub, domain)
	if err != nil {
		return err
	}
	c, err := curveFor(d)
	if err != nil {
		return err
	}
	pt, err := checkPoint(c, pub.Point)
	if err != nil {
		return err
	}
	n := c.ScalarLen()
	if len(sig) != 2*n {
		return fmt.Errorf("%w: plain ECDSA signature of %d bytes, want %d", ErrSignature, len(sig), 2*n)
	}
	if !c.Verify(pt, digest, sig[:n], sig[n:]) {
		return fmt.Errorf("%w: %v", ErrSignature, pub.Algorithm)
	}
	return nil
}

// CheckSignatureFrom checks that c's body is signed by issuer's key and
// that c's CAR names issuer's CHR. domain is the EC domain for an issuer
// key without its own parameters (a DV: pass its CVCA's); nil otherwise.
func (c *Certificate) CheckSignatureFrom(issuer *Certificate, domain *ECDomain) error {
	if c == nil || issuer == nil {
		return fmt.Errorf("%w: missing certificate", ErrChain)
	}
	if c.CAR != issuer.CHR {
		return fmt.Errorf("%w: %s has CAR %s, issuer is %s", ErrChain, c.CHR, c.CAR, issuer.CHR)
	}
	if err := VerifySignature(&issuer.PublicKey, domain, c.Body, c.Signature); err != nil {
		return fmt.Errorf("certificate %s signed by %s: %w", c.CHR, issuer.CHR, err)
	}
	return nil
}

// ValidAt reports (ErrExpired) whether the certificate is outside its
// validity on now's calendar day in UTC: the dates have day granularity
// and both the effective and the expiration day are included
// (TR-03110-3 D.2.1.3). A chip checks each certificate against its own
// notion of the current date with it.
func (c *Certificate) ValidAt(now time.Time) error {
	u := now.UTC()
	day := time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
	if day.Before(c.Effective) || day.After(c.Expiration) {
		return fmt.Errorf("%w: %s is valid %s to %s, today is %s", ErrExpired, c.CHR,
			c.Effective.Format(time.DateOnly), c.Expiration.Format(time.DateOnly), day.Format(time.DateOnly))
	}
	return nil
}

// VerifyChain is Authorize without the rights.
func VerifyChain(cvca *Certificate, chain []*Certificate, now time.Time) error {
	_, err := Authorize(cvca, chain, now)
	return err
}

// Authorize verifies a Terminal Authentication chain and returns the
// inspection system's effective authorization.
//
// cvca is the trust point the chip names in EF.CVCA. chain is what the
// terminal presents: zero or more CVCA link certificates (role CVCA, each
// signed by the previous CVCA key and carrying its own domain parameters),
// then one DV certificate (domestic or foreign) signed by the last CVCA,
// then one IS certificate signed by the DV. An IS signed by the CVCA
// directly, a DV signed by a DV, or any other order is refused with
// ErrChain. Every certificate must be of terminal type id-IS (others are
// ErrUnknownCritical); every signature is checked over the body bytes as
// received, with DV and IS keys on the domain of the CVCA that governs
// them. Every certificate of chain must be valid on now's day (UTC); the
// trust point's own dates are checked when it signs the DV itself (a link
// certificate is how a chip moves on from an expired CVCA).
//
// The effective authorization is the AND of the rights of the trust point
// and of every certificate of the chain (TR-03110-3 C.4).
func Authorize(cvca *Certificate, chain []*Certificate, now time.Time) (Rights, error) {
	if cvca == nil {
		return 0, fmt.Errorf("%w: no trust point", ErrChain)
	}
	if !cvca.TerminalType.Equal(OIDInspectionSystem()) {
		return 0, fmt.Errorf("%w: trust point %s has terminal type %v, not id-IS", ErrUnknownCritical, cvca.CHR, cvca.TerminalType)
	}
	if cvca.Role != RoleCVCA {
		return 0, fmt.Errorf("%w: trust point %s has role %v", ErrChain, cvca.CHR, cvca.Role)
	}
	if cvca.PublicKey.Algorithm.IsECDSA() && cvca.PublicKey.Domain == nil {
		return 0, fmt.Errorf("%w: CVCA %s without domain parameters", ErrInvalidKey, cvca.CHR)
	}
	if cvca.IsSelfSigned() {
		if err := cvca.CheckSignatureFrom(cvca, nil); err != nil {
			return 0, fmt.Errorf("trust point: %w", err)
		}
	} else if err := CheckKey(&cvca.PublicKey, nil); err != nil {
		return 0, fmt.Errorf("trust point %s: %w", cvca.CHR, err)
	}
	if len(chain) < 2 {
		return 0, fmt.Errorf("%w: %d certificates, need a DV and an IS", ErrChain, len(chain))
	}

	issuer := cvca
	domain := cvca.PublicKey.Domain
	rights := cvca.Rights
	links := 0
	for i, c := range chain {
		if c == nil {
			return 0, fmt.Errorf("%w: certificate %d missing", ErrChain, i)
		}
		if !c.TerminalType.Equal(OIDInspectionSystem()) {
			return 0, fmt.Errorf("%w: %s has terminal type %v, not id-IS", ErrUnknownCritical, c.CHR, c.TerminalType)
		}
		last := i == len(chain)-1
		var want string
		switch {
		case c.Role == RoleCVCA && issuer.Role == RoleCVCA && !last:
			// A link certificate: the next CVCA key, with its own domain.
			if c.PublicKey.Algorithm.IsECDSA() && c.PublicKey.Domain == nil {
				return 0, fmt.Errorf("%w: CVCA link certificate %s without domain parameters", ErrInvalidKey, c.CHR)
			}
			links++
		case c.Role.isDV() && issuer.Role == RoleCVCA && !last:
			if links == 0 {
				if err := cvca.ValidAt(now); err != nil {
					return 0, fmt.Errorf("trust point: %w", err)
				}
			}
		case c.Role == RoleIS && issuer.Role.isDV() && last:
		default:
			switch {
			case c.Role == RoleIS && issuer.Role == RoleCVCA:
				want = "an IS must be signed by a DV, not by the CVCA"
			case last && c.Role != RoleIS:
				want = "the chain must end with an IS"
			default:
				want = "expected CVCA link certificates, then a DV, then an IS"
			}
			return 0, fmt.Errorf("%w: %s (%v) issued by %s (%v): %s", ErrChain, c.CHR, c.Role, issuer.CHR, issuer.Role, want)
		}
		if err := c.ValidAt(now); err != nil {
			return 0, err
		}
		// The issuer's key is on the domain governing it; a CVCA key has its own.
		if err := c.CheckSignatureFrom(issuer, domain); err != nil {
			return 0, err
		}
		if c.Role == RoleCVCA {
			domain = c.PublicKey.Domain
		}
		if err := CheckKey(&c.PublicKey, domain); err != nil {
			return 0, fmt.Errorf("%s: %w", c.CHR, err)
		}
		rights &= c.Rights
		issuer = c
	}
	return rights, nil
}

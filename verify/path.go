package verify

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"borderid/internal/cert"
)

// candidates is what path building may use: anchors end a path,
// intermediates may continue it.
type candidates struct {
	anchors, intermediates []*cert.Certificate
}

func (c *candidates) addUnique(dst *[]*cert.Certificate, certs []*cert.Certificate) {
	for _, x := range certs {
		dup := false
		for _, y := range *dst {
			if bytes.Equal(x.Raw, y.Raw) {
				dup = true
				break
			}
		}
		if !dup {
			*dst = append(*dst, x)
		}
	}
}

// gather collects the store's CSCAs and links for every country given
// (the DSC's issuer country and the issuing state's, which normally agree).
func gather(ctx context.Context, store TrustStore, countries []string) (*candidates, error) {
	c := &candidates{}
	seen := map[string]bool{}
	for _, k := range countries {
		k = countryKey(k)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		a, err := store.CSCAs(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("trust store: CSCAs of %s: %w", k, err)
		}
		c.addUnique(&c.anchors, a)
		l, err := store.Links(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("trust store: links of %s: %w", k, err)
		}
		c.addUnique(&c.intermediates, l)
	}
	return c, nil
}

// buildPath returns a path leaf, …, anchor in which every certificate's
// signature verifies with the next one's key and the last is an anchor
// (9303-12 §5.5.1: link certificates let a DSC issued under a new CSCA key
// reach an anchor known under an old one, and the reverse). Names are not
// used to decide anything: the many link certificates whose subject equals
// their issuer make names useless as a test of being a root. Anchors are
// tried before intermediates so that the shortest path is found first;
// maxLen bounds the depth and a certificate never appears twice.
func buildPath(leaf *cert.Certificate, c *candidates, maxLen int) []*cert.Certificate {
	path := []*cert.Certificate{leaf}
	var walk func() bool
	walk = func() bool {
		cur := path[len(path)-1]
		for _, a := range byKeyID(c.anchors, cur.AuthorityKeyID) {
			if onPath(path, a) {
				continue
			}
			if cur.CheckSignatureFrom(a) == nil {
				path = append(path, a)
				return true
			}
		}
		if len(path)+2 > maxLen { // room for an intermediate and an anchor
			return false
		}
		for _, l := range byKeyID(c.intermediates, cur.AuthorityKeyID) {
			if onPath(path, l) {
				continue
			}
			if cur.CheckSignatureFrom(l) == nil {
				path = append(path, l)
				if walk() {
					return true
				}
				path = path[:len(path)-1]
			}
		}
		return false
	}
	if walk() {
		return path
	}
	return nil
}

// byKeyID orders certificates whose subject key identifier equals aki
// first. It is only an ordering: every candidate is still tried, and a
// signature decides (key identifiers are not authenticated before it).
func byKeyID(certs []*cert.Certificate, aki []byte) []*cert.Certificate {
	if len(aki) == 0 {
		return certs
	}
	out := make([]*cert.Certificate, 0, len(certs))
	for _, c := range certs {
		if bytes.Equal(c.SubjectKeyID, aki) {
			out = append(out, c)
		}
	}
	for _, c := range certs {
		if !bytes.Equal(c.SubjectKeyID, aki) {
			out = append(out, c)
		}
	}
	return out
}

func onPath(path []*cert.Certificate, c *cert.Certificate) bool {
	for _, p := range path {
		if bytes.Equal(p.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// checkValidity reports whether t is within [NotBefore, NotAfter].
func validAt(c *cert.Certificate, t time.Time) bool {
	return !t.Before(c.NotBefore) && !t.After(c.NotAfter)
}

// checkPathCertificates applies 9303-12 §7.1.1's profile to a built path:
// the DSC's key usage is digitalSignature, every CA's is keyCertSign and
// it is a CA; no certificate carries a critical extension its parser did
// not know (RFC 5280 §4.2). A key usage extension that is absent is
// accepted and recorded (QuirkNoKeyUsage).
func checkPathCertificates(path []*cert.Certificate, leafUsage x509.KeyUsage, r *Result) bool {
	for i, c := range path {
		r.CertQuirks = append(r.CertQuirks, c.Quirks...)
		if len(c.UnknownCriticalExtensions) > 0 {
			r.fail(ReasonUnknownCriticalExtension, "%s carries unknown critical extension %v", describe(c), c.UnknownCriticalExtensions[0])
			return false
		}
		want := x509.KeyUsageCertSign
		if i == 0 {
			want = leafUsage
		} else if !c.IsCA {
			// 9303-12 §7.1.1 requires basicConstraints cA TRUE in a
			// CSCA; some real CSCAs carry keyCertSign with cA absent
			// or FALSE. Their key usage must then say keyCertSign.
			if c.KeyUsage&x509.KeyUsageCertSign == 0 && (c.KeyUsage != 0 || c.BasicConstraintsValid) {
				r.fail(ReasonKeyUsage, "%s signs certificates but is not a CA", describe(c))
				return false
			}
			r.quirk(QuirkCANotMarked)
		}
		switch {
		case c.KeyUsage == 0:
			r.quirk(QuirkNoKeyUsage)
		case c.KeyUsage&want == 0:
			r.fail(ReasonKeyUsage, "%s lacks key usage %s", describe(c), keyUsageName(want))
			return false
		}
	}
	return true
}

func keyUsageName(u x509.KeyUsage) string {
	switch u {
	case x509.KeyUsageDigitalSignature:
		return "digitalSignature"
	case x509.KeyUsageCertSign:
		return "keyCertSign"
	}
	return fmt.Sprintf("%#x", int(u))
}

func describe(c *cert.Certificate) string {
	s := fmt.Sprintf("C=%s CN=%s", c.Subject.Country, c.Subject.CommonName)
	if c.SerialNumber != nil {
		s += fmt.Sprintf(" serial %x", c.SerialNumber)
	}
	return s
}

// checkValidity implements the chain model of 9303-12 §7.1.1 (a document
// stays valid after its DSC expires): every certificate of the path must
// be valid at the signing time; expiry at now is only a warning unless the
// policy says otherwise.
func checkValidity(path []*cert.Certificate, at, now time.Time, p Policy, r *Result) bool {
	for i, c := range path {
		if validAt(c, at) {
			continue
		}
		reason := ReasonCSCAExpiredAtSigning
		if i == 0 {
			reason = ReasonDSCExpiredAtSigning
		}
		r.fail(reason, "%s is valid %s to %s, not at %s", describe(c),
			c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
		return false
	}
	for i, c := range path {
		if validAt(c, now) {
			continue
		}
		w := ReasonCSCAExpiredNow
		if i == 0 {
			w = ReasonDSCExpiredNow
		}
		if p.FailOnExpiredNow {
			r.fail(w, "%s is not valid now (%s to %s)", describe(c),
				c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
			return false
		}
		r.warn(w)
	}
	return true
}

// checkRevocation looks at every CRL of the path's countries whose
// signature verifies with the key of the issuer of a certificate on the
// path (RFC 5280 §6.3: the CRL issuer is the certificate issuer; ICAO
// CSCAs sign their own CRLs, 9303-12 §7.1.4). A listed serial fails
// (dsc_revoked for the DSC). When nothing is revoked, a stale applicable
// CRL (now after nextUpdate) gives stale = true, and no applicable CRL at
// all a crl_missing warning.
func checkRevocation(ctx context.Context, store TrustStore, path []*cert.Certificate, now time.Time, r *Result) (stale *cert.RevocationList, ok bool) {
	countries := map[string]bool{}
	for _, c := range path[1:] {
		countries[countryKey(c.Subject.Country)] = true
	}
	found := false
	for k := range countries {
		crls, err := store.CRLs(ctx, k)
		if err != nil {
			r.notDone(ReasonTrustStore, "trust store: CRLs of %s: %v", k, err)
			return nil, false
		}
		for _, l := range crls {
			for i := 0; i+1 < len(path); i++ {
				issuer := path[i+1]
				if l.CheckSignatureFrom(issuer) != nil {
					continue
				}
				if len(l.UnknownCriticalExtensions) > 0 {
					// RFC 5280 §5.2: a CRL with a critical extension
					// the parser does not know must not decide status.
					r.warn(ReasonCRLUnusable)
					continue
				}
				found = true
				if _, revoked := l.IsRevoked(path[i].SerialNumber); revoked {
					reason := ReasonCertificateRevoked
					if i == 0 {
						reason = ReasonDSCRevoked
					}
					r.fail(reason, "%s is on the CRL of %s (thisUpdate %s)", describe(path[i]), describe(issuer),
						l.ThisUpdate.UTC().Format(time.RFC3339))
					return nil, false
				}
				if !l.NextUpdate.IsZero() && now.After(l.NextUpdate) && stale == nil {
					stale = l
				}
			}
		}
	}
	if !found {
		r.warn(ReasonNoCRL)
	}
	return stale, true
}

// alpha2 maps an issuing state from DG1 (three letters, possibly padded
// with '<', "D<<" for Germany) to its two-letter X.509 code.
func alpha2(issuingState string) (string, bool) {
	s := strings.ToUpper(strings.TrimRight(strings.TrimSpace(issuingState), "<"))
	if s == "" {
		return "", false
	}
	return cert.Alpha3ToAlpha2(s)
}

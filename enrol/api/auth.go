package api

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"borderid/enrol"
)

// RoleURIPrefix is how a role is written in a client certificate: one SAN URI per role.
const RoleURIPrefix = "urn:borderid:role:"

// officeRole reports whether r acts for the office named in OU (CONTRACTS.md "Client certificates");
// national roles have no office.
func officeRole(r string) bool { return r == enrol.RoleClerk || r == enrol.RoleApprover }

func knownRole(r string) bool {
	switch r {
	case enrol.RoleClerk, enrol.RoleApprover, enrol.RoleIssuer, enrol.RoleBorder, enrol.RoleAuditor:
		return true
	}
	return false
}

// Authenticator maps the TLS-verified certificate chains of a client (tls.ConnectionState.VerifiedChains,
// chains[0][0] is the client's certificate) to the principal the service acts for. It returns an
// [*enrol.Error] wrapping [enrol.ErrUnauthenticated] (401) when it does not accept the certificate.
//
// It is the extension point for partner states (issue 6): their systems are recognised by the partner
// registry, not by role URIs, and get an Authenticator of their own. An implementation must not trust a
// certificate merely because the TLS layer did: the TLS client CA pool may hold CAs it does not speak for.
type Authenticator interface {
	Authenticate(ctx context.Context, chains [][]*x509.Certificate) (enrol.Principal, error)
}

// StaffAuthenticator accepts certificates of the state's own staff and stations (CONTRACTS.md "Client
// certificates"): it verifies the client certificate again against Roots, the staff TLS CA alone, at the time
// of the request and for client authentication, then reads the principal with [PrincipalFromCertificate].
type StaffAuthenticator struct {
	Roots *x509.CertPool
	Now   func() time.Time // nil: time.Now
}

// Authenticate implements [Authenticator].
func (a StaffAuthenticator) Authenticate(_ context.Context, chains [][]*x509.Certificate) (enrol.Principal, error) {
	if len(chains) == 0 || len(chains[0]) == 0 {
		return enrol.Principal{}, errNoCertificate()
	}
	if a.Roots == nil {
		return enrol.Principal{}, invalidCertificate("no staff certificate authority is configured")
	}
	leaf := chains[0][0]
	inter := x509.NewCertPool()
	for _, ch := range chains {
		for _, c := range ch[1:] {
			inter.AddCert(c)
		}
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots:         a.Roots,
		Intermediates: inter,
		CurrentTime:   now(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		return enrol.Principal{}, invalidCertificate("the client certificate is not a valid staff certificate of this state")
	}
	return PrincipalFromCertificate(leaf)
}

var (
	oidCommonName   = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidOrganization = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOrgUnit      = asn1.ObjectIdentifier{2, 5, 4, 11}
)

// PrincipalFromCertificate reads a staff certificate as CONTRACTS.md lays it out: CN is the subject, O the
// two-letter state, OU the office (none for national roles), SAN URIs urn:borderid:role:<role> the roles. It
// does not verify the certificate; [StaffAuthenticator] does that first. A certificate that does not follow
// the layout (see the package documentation) is refused with 401 invalid_client_certificate.
func PrincipalFromCertificate(c *x509.Certificate) (enrol.Principal, error) {
	var cn, o, ou []string
	for _, atv := range c.Subject.Names {
		v, ok := atv.Value.(string)
		switch {
		case atv.Type.Equal(oidCommonName):
			if !ok {
				return enrol.Principal{}, invalidCertificate("the certificate's CN is not a string")
			}
			cn = append(cn, v)
		case atv.Type.Equal(oidOrganization):
			if !ok {
				return enrol.Principal{}, invalidCertificate("the certificate's O is not a string")
			}
			o = append(o, v)
		case atv.Type.Equal(oidOrgUnit):
			if !ok {
				return enrol.Principal{}, invalidCertificate("the certificate's OU is not a string")
			}
			ou = append(ou, v)
		}
	}
	if len(cn) != 1 || !printableName(cn[0]) {
		return enrol.Principal{}, invalidCertificate("the certificate must have exactly one CN naming its holder")
	}
	if len(o) != 1 || !twoLetters(o[0]) {
		return enrol.Principal{}, invalidCertificate("the certificate must have exactly one O, the two-letter state code")
	}
	if len(ou) > 1 {
		return enrol.Principal{}, invalidCertificate("the certificate must name at most one office (OU)")
	}
	p := enrol.Principal{Subject: cn[0], Country: o[0]}
	if len(ou) == 1 {
		if !printableName(ou[0]) {
			return enrol.Principal{}, invalidCertificate("the certificate's office (OU) is not a valid name")
		}
		p.Office = ou[0]
	}
	for _, u := range c.URIs {
		role, ok := strings.CutPrefix(u.String(), RoleURIPrefix)
		if !ok {
			continue
		}
		if !knownRole(role) {
			return enrol.Principal{}, invalidCertificate(fmt.Sprintf("the certificate names an unknown role %q", truncate(role, 32)))
		}
		if officeRole(role) && p.Office == "" {
			return enrol.Principal{}, invalidCertificate(fmt.Sprintf("the role %s needs an office (OU) in the certificate", role))
		}
		if !slices.Contains(p.Roles, role) {
			p.Roles = append(p.Roles, role)
		}
	}
	return p, nil
}

func twoLetters(s string) bool {
	return len(s) == 2 && 'A' <= s[0] && s[0] <= 'Z' && 'A' <= s[1] && s[1] <= 'Z'
}

// printableName accepts a non-empty name of at most 128 bytes without control characters.
func printableName(s string) bool {
	if s == "" || len(s) > 128 || !utf8.ValidString(s) || strings.TrimSpace(s) == "" {
		return false
	}
	return !hasControl(s)
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func errNoCertificate() error {
	return enrol.Errorf(enrol.ErrUnauthenticated, codeCertificateRequired, "a client certificate is required")
}

func invalidCertificate(msg string) error {
	return enrol.Errorf(enrol.ErrUnauthenticated, codeInvalidCertificate, "%s", msg)
}

package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Lifetimes of the TLS PKI. The TLS CA lives 10 years. Server and client
// certificates live 397 days, the longest the CA/Browser Forum allowed
// public server certificates until 2026: long enough that a demo
// installation does not break after a season, short enough to be
// reissued yearly. They are private certificates that borderid's own
// servers and clients check, so the 90 days of ACME practice would only
// add a renewal that nothing automates yet: the caller reissues (with the
// same CA) before NotAfter.
const (
	TLSCALifetime  = 10 * 365 * 24 * time.Hour
	ServerLifetime = 397 * 24 * time.Hour
	ClientLifetime = 397 * 24 * time.Hour
	// clockSkew backdates NotBefore so that a peer whose clock is a
	// little behind accepts a certificate issued just now.
	clockSkew = 5 * time.Minute
)

// Roles of staff and station client certificates (CONTRACTS.md "Client
// certificates").
const (
	RoleClerk    = "clerk"
	RoleApprover = "approver"
	RoleIssuer   = "issuer"
	RoleBorder   = "border"
	RoleAuditor  = "auditor"
)

// RoleURIPrefix starts every role URI in a client certificate's SAN.
const RoleURIPrefix = "urn:borderid:role:"

// KnownRoles returns the five roles, sorted.
func KnownRoles() []string {
	return []string{RoleApprover, RoleAuditor, RoleBorder, RoleClerk, RoleIssuer}
}

// officeRole reports whether role acts within one office (OU) rather than
// nationally.
func officeRole(role string) bool { return role == RoleClerk || role == RoleApprover }

// ErrClientCertificate is returned by ParseClient for a certificate that
// does not follow the client profile.
var ErrClientCertificate = errors.New("pki: client certificate outside the profile")

// TLSCA is the TLS certificate authority of a borderid installation: a
// P-256 key (in the state's HSM when made by borderid init, NewTLSCAWithKey;
// a software key with NewTLSCA) that issues the HTTPS server's certificate
// and the staff and station client certificates.
type TLSCA struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
}

// NewTLSCA makes a TLS CA: C=country (two-letter), O=borderid, CN="borderid
// TLS CA" followed by state (free text, e.g. the three-letter code "UTO";
// may be empty), valid 10 years, key usage keyCertSign and cRLSign, path
// length 0 (it issues end-entity certificates only).
func NewTLSCA(country, state string) (*TLSCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: TLS CA key: %w", err)
	}
	return NewTLSCAWithKey(country, state, key)
}

// NewTLSCAWithKey is NewTLSCA with a key held elsewhere (an HSM key: the
// TLS CA's key decides who may act as staff, so borderid init keeps it in
// the state's token). key must be ECDSA P-256.
func NewTLSCAWithKey(country, state string, key crypto.Signer) (*TLSCA, error) {
	if err := checkCountry(country); err != nil {
		return nil, err
	}
	if err := checkText("state", state, 40); err != nil {
		return nil, err
	}
	if pub, ok := key.Public().(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: the TLS CA key must be ECDSA P-256", ErrUnsupportedKey)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	cn := "borderid TLS CA"
	if state != "" {
		cn += " " + state
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Country: []string{country}, Organization: []string{"borderid"}, CommonName: cn},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(TLSCALifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("pki: TLS CA certificate: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: TLS CA certificate: %w", err)
	}
	return &TLSCA{Cert: c, Key: key, CertPEM: CertPEM(der)}, nil
}

// LoadTLSCA reads a TLS CA back from its PEM certificate and PKCS #8 key,
// and checks that they belong together.
func LoadTLSCA(certPEM, keyPEM []byte) (*TLSCA, error) {
	certs, err := ParseCertificatesPEM(certPEM)
	if err != nil {
		return nil, err
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("pki: TLS CA file holds %d certificates, want 1", len(certs))
	}
	key, err := ParseKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	c := certs[0]
	if !c.IsCA || !sameKey(c.PublicKey, key.Public()) {
		return nil, fmt.Errorf("pki: TLS CA certificate and key do not belong together")
	}
	return &TLSCA{Cert: c, Key: key, CertPEM: CertPEM(c.Raw)}, nil
}

// LoadTLSCAWithKey reads a TLS CA back from its PEM certificate and a key
// held elsewhere (an HSM), and checks that they belong together.
func LoadTLSCAWithKey(certPEM []byte, key crypto.Signer) (*TLSCA, error) {
	certs, err := ParseCertificatesPEM(certPEM)
	if err != nil {
		return nil, err
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("pki: TLS CA file holds %d certificates, want 1", len(certs))
	}
	c := certs[0]
	if key == nil || !c.IsCA || !sameKey(c.PublicKey, key.Public()) {
		return nil, fmt.Errorf("pki: TLS CA certificate and key do not belong together")
	}
	return &TLSCA{Cert: c, Key: key, CertPEM: CertPEM(c.Raw)}, nil
}

// KeyPEM returns the CA's key as PKCS #8 PEM (MarshalKeyPEM).
func (ca *TLSCA) KeyPEM() ([]byte, error) { return MarshalKeyPEM(ca.Key) }

// ready refuses a nil or incomplete CA.
func (ca *TLSCA) ready() error {
	if ca == nil || ca.Cert == nil || ca.Key == nil {
		return fmt.Errorf("%w: no TLS CA", ErrIssuer)
	}
	return nil
}

// issue signs a leaf certificate for a fresh P-256 key; notAfter zero
// means now + def, capped at the CA's own NotAfter.
func (ca *TLSCA) issue(tmpl *x509.Certificate, notAfter time.Time, def time.Duration) (certPEM, keyPEM []byte, err error) {
	now := time.Now()
	if notAfter.IsZero() {
		notAfter = now.Add(def)
		if notAfter.After(ca.Cert.NotAfter) {
			notAfter = ca.Cert.NotAfter
		}
	}
	if !notAfter.After(now) {
		return nil, nil, fmt.Errorf("%w: NotAfter %s is not in the future", ErrTemplate, notAfter.UTC().Format(time.RFC3339))
	}
	if notAfter.After(ca.Cert.NotAfter) {
		return nil, nil, fmt.Errorf("%w: NotAfter %s is after the CA's own (%s)", ErrTemplate,
			notAfter.UTC().Format(time.RFC3339), ca.Cert.NotAfter.UTC().Format(time.RFC3339))
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: TLS key: %w", err)
	}
	if tmpl.SerialNumber, err = randomSerial(); err != nil {
		return nil, nil, err
	}
	tmpl.NotBefore, tmpl.NotAfter = now.Add(-clockSkew), notAfter
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: TLS certificate: %w", err)
	}
	keyPEM, err = MarshalKeyPEM(key)
	if err != nil {
		return nil, nil, err
	}
	return CertPEM(der), keyPEM, nil
}

// IssueServer issues an HTTPS server certificate for hosts: each an IP
// address (an IP SAN) or a DNS name (a DNS SAN), e.g. "127.0.0.1" and
// "localhost"; extended key usage serverAuth; valid ServerLifetime (at
// most as long as the CA). CN is the first host, for people reading it.
func (ca *TLSCA) IssueServer(hosts []string) (certPEM, keyPEM []byte, err error) {
	if err := ca.ready(); err != nil {
		return nil, nil, err
	}
	if len(hosts) == 0 {
		return nil, nil, fmt.Errorf("%w: a server certificate needs at least one host", ErrTemplate)
	}
	tmpl := &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			continue
		}
		if !validDNSName(h) {
			return nil, nil, fmt.Errorf("%w: host %q is neither an IP address nor a DNS name", ErrTemplate, h)
		}
		tmpl.DNSNames = append(tmpl.DNSNames, strings.ToLower(h))
	}
	tmpl.Subject = pkix.Name{Country: ca.Cert.Subject.Country, Organization: []string{"borderid"}, CommonName: hosts[0]}
	return ca.issue(tmpl, time.Time{}, ServerLifetime)
}

// validDNSName accepts LDH labels (RFC 1123), and a leading "*." wildcard.
func validDNSName(h string) bool {
	h = strings.TrimPrefix(h, "*.")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// ClientSpec describes a staff or station client certificate
// (CONTRACTS.md "Client certificates").
type ClientSpec struct {
	// CommonName: the person's or system's id. Country: two-letter, written
	// as O=. Office: OU=, "" for national roles.
	CommonName, Country, Office string
	// Roles: each one of the five known roles; clerk and approver need an
	// Office, issuer, border and auditor forbid one (so the two kinds do
	// not mix in one certificate). No role at all is allowed (a partner
	// state's system, recognised by the partner registry).
	Roles []string
	// NotAfter: zero means ClientLifetime from now, at most the CA's.
	NotAfter time.Time
}

// Client is what ParseClient reads from a client certificate.
type Client struct {
	CommonName, Country, Office string
	// Roles are sorted and unique.
	Roles []string
}

// checkClient validates a client identity, the same rules for issuing
// and parsing.
func checkClient(c Client) error {
	if c.CommonName == "" {
		return fmt.Errorf("no common name")
	}
	if err := checkText("common name", c.CommonName, 64); err != nil {
		return err
	}
	if err := checkCountry(c.Country); err != nil {
		return err
	}
	if c.Office != "" && !validOffice(c.Office) {
		return fmt.Errorf("office %q (1 to 64 of A-Z a-z 0-9 . _ -)", c.Office)
	}
	for _, r := range c.Roles {
		if !slices.Contains(KnownRoles(), r) {
			return fmt.Errorf("unknown role %q", r)
		}
		if officeRole(r) && c.Office == "" {
			return fmt.Errorf("role %s needs an office (OU)", r)
		}
		if !officeRole(r) && c.Office != "" {
			return fmt.Errorf("role %s is national and takes no office (OU %q)", r, c.Office)
		}
	}
	return nil
}

func validOffice(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// IssueClient issues a client certificate: CN=c.CommonName,
// O=c.Country, OU=c.Office when not empty, one SAN URI
// urn:borderid:role:<role> per role, extended key usage clientAuth.
func (ca *TLSCA) IssueClient(c ClientSpec) (certPEM, keyPEM []byte, err error) {
	if err := ca.ready(); err != nil {
		return nil, nil, err
	}
	roles := slices.Clone(c.Roles)
	slices.Sort(roles)
	roles = slices.Compact(roles)
	if err := checkClient(Client{CommonName: c.CommonName, Country: c.Country, Office: c.Office, Roles: roles}); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{Organization: []string{c.Country}, CommonName: c.CommonName},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if c.Office != "" {
		tmpl.Subject.OrganizationalUnit = []string{c.Office}
	}
	for _, r := range roles {
		u, err := url.Parse(RoleURIPrefix + r)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: role URI: %w", ErrTemplate, err)
		}
		tmpl.URIs = append(tmpl.URIs, u)
	}
	return ca.issue(tmpl, c.NotAfter, ClientLifetime)
}

// roleURIs returns the role names of c's borderid role URIs, all of them
// (known or not), in certificate order.
func roleURIs(c *x509.Certificate) []string {
	var out []string
	for _, u := range c.URIs {
		if u == nil {
			continue
		}
		if s := u.String(); strings.HasPrefix(s, RoleURIPrefix) {
			out = append(out, strings.TrimPrefix(s, RoleURIPrefix))
		}
	}
	return out
}

// RolesOf returns the known roles named by c's SAN URIs
// urn:borderid:role:<role>, sorted and unique. Other URIs and unknown role
// names are ignored (ParseClient refuses the latter). It does not check
// that c chains to the TLS CA: the TLS handshake does.
func RolesOf(c *x509.Certificate) []string {
	if c == nil {
		return nil
	}
	var out []string
	for _, r := range roleURIs(c) {
		if slices.Contains(KnownRoles(), r) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ParseClient reads the identity of a client certificate the TLS
// handshake has verified: exactly one CN, exactly one O (the two-letter
// country), at most one OU (the office), and its roles. It refuses
// (ErrClientCertificate) several CN, O or OU values, an unknown role
// under urn:borderid:role:, a clerk or approver without an office and a
// national role with one.
func ParseClient(c *x509.Certificate) (Client, error) {
	if c == nil {
		return Client{}, fmt.Errorf("%w: no certificate", ErrClientCertificate)
	}
	count := map[int]int{}
	for _, a := range c.Subject.Names {
		if len(a.Type) == 4 && a.Type[0] == 2 && a.Type[1] == 5 && a.Type[2] == 4 {
			count[a.Type[3]]++
		}
	}
	for _, f := range []struct {
		attr int
		name string
		max  int
	}{{attrCommonName, "CN", 1}, {attrOrganization, "O", 1}, {attrOrgUnit, "OU", 1}} {
		if count[f.attr] > f.max {
			return Client{}, fmt.Errorf("%w: %d %s values", ErrClientCertificate, count[f.attr], f.name)
		}
	}
	if len(c.Subject.Organization) != 1 {
		return Client{}, fmt.Errorf("%w: no O (the two-letter country)", ErrClientCertificate)
	}
	cl := Client{CommonName: c.Subject.CommonName, Country: c.Subject.Organization[0]}
	if len(c.Subject.OrganizationalUnit) == 1 {
		cl.Office = c.Subject.OrganizationalUnit[0]
	}
	cl.Roles = roleURIs(c)
	slices.Sort(cl.Roles)
	cl.Roles = slices.Compact(cl.Roles)
	if err := checkClient(cl); err != nil {
		return Client{}, fmt.Errorf("%w: %w", ErrClientCertificate, err)
	}
	return cl, nil
}

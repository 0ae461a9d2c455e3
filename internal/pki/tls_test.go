package pki_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"borderid/internal/pki"
)

func leaf(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	cs := must(pki.ParseCertificatesPEM(certPEM))
	if len(cs) != 1 {
		t.Fatalf("%d certificates", len(cs))
	}
	return cs[0]
}

// TestTLSHandshake: a server certificate for 127.0.0.1 and localhost and a
// client certificate complete a mutual TLS handshake under the TLS CA, and
// the server reads the client's identity with ParseClient.
func TestTLSHandshake(t *testing.T) {
	ca := must(pki.NewTLSCA("UT", "UTO"))
	if ca.Cert.Subject.String() != "CN=borderid TLS CA UTO,O=borderid,C=UT" || !ca.Cert.IsCA || !ca.Cert.MaxPathLenZero ||
		ca.Cert.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Fatalf("CA %s CA %v", ca.Cert.Subject, ca.Cert.IsCA)
	}
	srvPEM, srvKey := must2(ca.IssueServer([]string{"127.0.0.1", "localhost", "::1"}))
	srv := leaf(t, srvPEM)
	if !slices.Equal(srv.DNSNames, []string{"localhost"}) || len(srv.IPAddresses) != 2 || !srv.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) ||
		!slices.Equal(srv.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) || srv.IsCA {
		t.Fatalf("server certificate: DNS %v IP %v EKU %v", srv.DNSNames, srv.IPAddresses, srv.ExtKeyUsage)
	}
	if life := srv.NotAfter.Sub(srv.NotBefore); life < pki.ServerLifetime || life > pki.ServerLifetime+10*time.Minute {
		t.Fatalf("server lifetime %v", life)
	}
	cliPEM, cliKey := must2(ca.IssueClient(pki.ClientSpec{CommonName: "clerk-office1", Country: "UT", Office: "office1", Roles: []string{"clerk"}}))

	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	srvPair := must(tls.X509KeyPair(srvPEM, srvKey))
	cliPair := must(tls.X509KeyPair(cliPEM, cliKey))
	for _, host := range []string{"127.0.0.1", "localhost"} {
		ln := must(tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{srvPair},
			ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots}))
		done := make(chan error, 1)
		var peer *x509.Certificate
		go func() {
			c, err := ln.Accept()
			if err != nil {
				done <- err
				return
			}
			defer c.Close()
			s := c.(*tls.Conn)
			if err = s.Handshake(); err == nil {
				peer = s.ConnectionState().PeerCertificates[0]
				_, err = s.Write([]byte("ok"))
			}
			done <- err
		}()
		_, port := must2(net.SplitHostPort(ln.Addr().String()))
		c := must(tls.Dial("tcp", net.JoinHostPort(host, port), &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cliPair}}))
		buf := make([]byte, 2)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ok" {
			t.Fatalf("%s: read %q: %v", host, buf, err)
		}
		c.Close()
		ln.Close()
		if err := <-done; err != nil {
			t.Fatalf("%s: server: %v", host, err)
		}
		cl, err := pki.ParseClient(peer)
		if err != nil {
			t.Fatal(err)
		}
		if cl.CommonName != "clerk-office1" || cl.Country != "UT" || cl.Office != "office1" || !slices.Equal(cl.Roles, []string{"clerk"}) {
			t.Fatalf("client %+v", cl)
		}
	}
	// Another CA's client is refused by the handshake.
	other := must(pki.NewTLSCA("NL", "NLD"))
	foreignPEM, foreignKey := must2(other.IssueClient(pki.ClientSpec{CommonName: "x", Country: "NL", Office: "o", Roles: []string{"clerk"}}))
	if _, err := leaf(t, foreignPEM).Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Fatal("a foreign client verified")
	}
	_ = foreignKey
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

// TestClients: the demo users of `borderid init` and their identities.
func TestClients(t *testing.T) {
	ca := must(pki.NewTLSCA("UT", "UTO"))
	for _, tc := range []struct {
		spec  pki.ClientSpec
		roles []string
	}{
		{pki.ClientSpec{CommonName: "clerk-office1", Country: "UT", Office: "office1", Roles: []string{"clerk"}}, []string{"clerk"}},
		{pki.ClientSpec{CommonName: "approver-office1", Country: "UT", Office: "office1", Roles: []string{"approver"}}, []string{"approver"}},
		{pki.ClientSpec{CommonName: "clerk-approver-office1", Country: "UT", Office: "office1", Roles: []string{"clerk", "approver", "clerk"}}, []string{"approver", "clerk"}},
		{pki.ClientSpec{CommonName: "issuer", Country: "UT", Roles: []string{"issuer"}}, []string{"issuer"}},
		{pki.ClientSpec{CommonName: "border-post1", Country: "UT", Roles: []string{"border"}}, []string{"border"}},
		{pki.ClientSpec{CommonName: "auditor", Country: "UT", Roles: []string{"auditor", "issuer"}}, []string{"auditor", "issuer"}},
		{pki.ClientSpec{CommonName: "partner-system", Country: "NL"}, nil},
	} {
		certPEM, keyPEM := must2(ca.IssueClient(tc.spec))
		c := leaf(t, certPEM)
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool(ca), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Fatalf("%s: %v", tc.spec.CommonName, err)
		}
		if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) || c.KeyUsage != x509.KeyUsageDigitalSignature {
			t.Errorf("%s: EKU %v KU %v", tc.spec.CommonName, c.ExtKeyUsage, c.KeyUsage)
		}
		if got := pki.RolesOf(c); !slices.Equal(got, tc.roles) {
			t.Errorf("%s: RolesOf %v, want %v", tc.spec.CommonName, got, tc.roles)
		}
		cl, err := pki.ParseClient(c)
		if err != nil {
			t.Fatalf("%s: %v", tc.spec.CommonName, err)
		}
		if cl.CommonName != tc.spec.CommonName || cl.Country != tc.spec.Country || cl.Office != tc.spec.Office || !slices.Equal(cl.Roles, tc.roles) {
			t.Errorf("%s: %+v", tc.spec.CommonName, cl)
		}
		wantSubject := "CN=" + tc.spec.CommonName
		if tc.spec.Office != "" {
			wantSubject += ",OU=" + tc.spec.Office
		}
		if wantSubject += ",O=" + tc.spec.Country; c.Subject.String() != wantSubject {
			t.Errorf("subject %s, want %s", c.Subject, wantSubject)
		}
		for _, u := range c.URIs {
			if !strings.HasPrefix(u.String(), pki.RoleURIPrefix) {
				t.Errorf("URI %v", u)
			}
		}
		k := must(pki.ParseKeyPEM(keyPEM))
		if !k.Public().(*ecdsa.PublicKey).Equal(c.PublicKey) || k.Public().(*ecdsa.PublicKey).Curve != elliptic.P256() {
			t.Errorf("%s: key does not match", tc.spec.CommonName)
		}
	}
	// NotAfter: explicit, and within the CA's.
	notAfter := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	c := leaf(t, first(ca.IssueClient(pki.ClientSpec{CommonName: "short", Country: "UT", Roles: []string{"border"}, NotAfter: notAfter})))
	if !c.NotAfter.Equal(notAfter) {
		t.Fatalf("NotAfter %v, want %v", c.NotAfter, notAfter)
	}
}

func first[A, B any](a A, _ B, err error) A {
	if err != nil {
		panic(err)
	}
	return a
}

func pool(ca *pki.TLSCA) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// TestClientRefusals: IssueClient and IssueServer refuse what the
// profile does not allow.
func TestClientRefusals(t *testing.T) {
	ca := must(pki.NewTLSCA("UT", "UTO"))
	for _, tc := range []struct {
		name string
		spec pki.ClientSpec
	}{
		{"no common name", pki.ClientSpec{Country: "UT", Roles: []string{"border"}}},
		{"three-letter country", pki.ClientSpec{CommonName: "x", Country: "UTO", Roles: []string{"border"}}},
		{"no country", pki.ClientSpec{CommonName: "x", Roles: []string{"border"}}},
		{"unknown role", pki.ClientSpec{CommonName: "x", Country: "UT", Office: "office1", Roles: []string{"admin"}}},
		{"clerk without office", pki.ClientSpec{CommonName: "x", Country: "UT", Roles: []string{"clerk"}}},
		{"approver without office", pki.ClientSpec{CommonName: "x", Country: "UT", Roles: []string{"approver"}}},
		{"issuer with office", pki.ClientSpec{CommonName: "x", Country: "UT", Office: "office1", Roles: []string{"issuer"}}},
		{"office and national roles", pki.ClientSpec{CommonName: "x", Country: "UT", Office: "office1", Roles: []string{"clerk", "auditor"}}},
		{"office with a space", pki.ClientSpec{CommonName: "x", Country: "UT", Office: "office 1", Roles: []string{"clerk"}}},
		{"NotAfter in the past", pki.ClientSpec{CommonName: "x", Country: "UT", Roles: []string{"border"}, NotAfter: time.Now().Add(-time.Hour)}},
		{"NotAfter after the CA's", pki.ClientSpec{CommonName: "x", Country: "UT", Roles: []string{"border"}, NotAfter: ca.Cert.NotAfter.Add(time.Hour)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, k, err := ca.IssueClient(tc.spec)
			if !errors.Is(err, pki.ErrTemplate) || c != nil || k != nil {
				t.Fatalf("got %v", err)
			}
		})
	}
	for _, hosts := range [][]string{nil, {"bad host"}, {"-x.example"}, {""}} {
		if _, _, err := ca.IssueServer(hosts); !errors.Is(err, pki.ErrTemplate) {
			t.Errorf("hosts %q: %v", hosts, err)
		}
	}
	for _, tc := range []struct{ country, state string }{{"UTO", "UTO"}, {"", ""}, {"ut", ""}, {"UT", "x\ny"}} {
		if _, err := pki.NewTLSCA(tc.country, tc.state); !errors.Is(err, pki.ErrTemplate) {
			t.Errorf("NewTLSCA(%q, %q): %v", tc.country, tc.state, err)
		}
	}
	var nilCA *pki.TLSCA
	if _, _, err := nilCA.IssueServer([]string{"localhost"}); !errors.Is(err, pki.ErrIssuer) {
		t.Errorf("nil CA: %v", err)
	}
	if _, _, err := (&pki.TLSCA{}).IssueClient(pki.ClientSpec{CommonName: "x", Country: "UT"}); !errors.Is(err, pki.ErrIssuer) {
		t.Errorf("empty CA: %v", err)
	}
}

// rawClient signs a client certificate from a hand-made template, to
// build the certificates IssueClient refuses to make.
func rawClient(t *testing.T, ca *pki.TLSCA, subject pkix.Name, uris ...string) *x509.Certificate {
	t.Helper()
	k := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: subject,
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	for _, u := range uris {
		tmpl.URIs = append(tmpl.URIs, must(url.Parse(u)))
	}
	der := must(x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, k.Public(), ca.Key))
	return must(x509.ParseCertificate(der))
}

// TestParseClientRefusals: several O, OU or CN values, an unknown borderid
// role, role and office that do not fit, no country.
func TestParseClientRefusals(t *testing.T) {
	ca := must(pki.NewTLSCA("UT", "UTO"))
	cn := asn1.ObjectIdentifier{2, 5, 4, 3}
	for _, tc := range []struct {
		name    string
		subject pkix.Name
		uris    []string
	}{
		{"two O", pkix.Name{CommonName: "x", Organization: []string{"UT", "NL"}}, []string{"urn:borderid:role:border"}},
		{"two OU", pkix.Name{CommonName: "x", Organization: []string{"UT"}, OrganizationalUnit: []string{"office1", "office2"}}, []string{"urn:borderid:role:clerk"}},
		{"two CN", pkix.Name{Organization: []string{"UT"}, ExtraNames: []pkix.AttributeTypeAndValue{{Type: cn, Value: "x"}, {Type: cn, Value: "y"}}}, []string{"urn:borderid:role:border"}},
		{"no O", pkix.Name{CommonName: "x"}, []string{"urn:borderid:role:border"}},
		{"no CN", pkix.Name{Organization: []string{"UT"}}, []string{"urn:borderid:role:border"}},
		{"O is three letters", pkix.Name{CommonName: "x", Organization: []string{"UTO"}}, []string{"urn:borderid:role:border"}},
		{"unknown role", pkix.Name{CommonName: "x", Organization: []string{"UT"}}, []string{"urn:borderid:role:border", "urn:borderid:role:root"}},
		{"clerk without OU", pkix.Name{CommonName: "x", Organization: []string{"UT"}}, []string{"urn:borderid:role:clerk"}},
		{"auditor with OU", pkix.Name{CommonName: "x", Organization: []string{"UT"}, OrganizationalUnit: []string{"office1"}}, []string{"urn:borderid:role:auditor"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := rawClient(t, ca, tc.subject, tc.uris...)
			if cl, err := pki.ParseClient(c); !errors.Is(err, pki.ErrClientCertificate) {
				t.Fatalf("got %+v, %v", cl, err)
			}
		})
	}
	if _, err := pki.ParseClient(nil); !errors.Is(err, pki.ErrClientCertificate) {
		t.Fatal(err)
	}
	// RolesOf ignores what is not a known borderid role.
	c := rawClient(t, ca, pkix.Name{CommonName: "x", Organization: []string{"UT"}, OrganizationalUnit: []string{"office1"}},
		"https://example.org/role/clerk", "urn:other:role:auditor", "urn:borderid:role:root", "urn:borderid:role:approver", "urn:borderid:role:clerk", "urn:borderid:role:clerk")
	if got := pki.RolesOf(c); !slices.Equal(got, []string{"approver", "clerk"}) {
		t.Fatalf("RolesOf %v", got)
	}
	if pki.RolesOf(nil) != nil {
		t.Fatal("RolesOf(nil)")
	}
	if !slices.Equal(pki.KnownRoles(), []string{"approver", "auditor", "border", "clerk", "issuer"}) {
		t.Fatal(pki.KnownRoles())
	}
}

// TestPEM: keys and the CA survive a round trip through PEM; a CA with
// another key is refused; WritePrivateFile writes 0600 and never
// overwrites.
func TestPEM(t *testing.T) {
	ca := must(pki.NewTLSCA("UT", ""))
	keyPEM := must(ca.KeyPEM())
	if !strings.HasPrefix(string(keyPEM), "-----BEGIN PRIVATE KEY-----") {
		t.Fatalf("not PKCS #8: %s", keyPEM[:30])
	}
	back := must(pki.LoadTLSCA(ca.CertPEM, keyPEM))
	if !back.Cert.Equal(ca.Cert) || !back.Key.Public().(*ecdsa.PublicKey).Equal(ca.Key.Public()) {
		t.Fatal("LoadTLSCA round trip")
	}
	if back.Cert.Subject.CommonName != "borderid TLS CA" {
		t.Fatalf("CN %q", back.Cert.Subject.CommonName)
	}
	other := must(pki.NewTLSCA("UT", ""))
	if _, err := pki.LoadTLSCA(ca.CertPEM, must(other.KeyPEM())); err == nil {
		t.Fatal("a CA with another key loaded")
	}
	if _, err := pki.LoadTLSCA(ca.CertPEM, []byte("junk")); err == nil {
		t.Fatal("junk key loaded")
	}
	if _, err := pki.LoadTLSCA([]byte("junk"), keyPEM); err == nil {
		t.Fatal("junk certificate loaded")
	}
	if _, err := pki.MarshalKeyPEM(newKey(t, elliptic.P256())); !errors.Is(err, pki.ErrUnsupportedKey) {
		t.Fatalf("an HSM-like key was written: %v", err)
	}

	path := filepath.Join(t.TempDir(), "ca.key")
	if err := pki.WritePrivateFile(path, keyPEM); err != nil {
		t.Fatal(err)
	}
	fi := must(os.Stat(path))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if err := pki.WritePrivateFile(path, []byte("other")); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("overwrite: %v", err)
	}
	if got := must(os.ReadFile(path)); string(got) != string(keyPEM) {
		t.Fatal("the key file changed")
	}
}

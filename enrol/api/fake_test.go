package api

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"borderid/enrol"
)

// call is one method call the fake service saw.
type call struct {
	method string
	p      enrol.Principal
	args   []any
}

// fakeService records every call and answers with canned values. err, when set, is returned by every method
// but Deny.
type fakeService struct {
	mu    sync.Mutex
	calls []call
	err   error

	id      string
	app     *enrol.Application
	face    []byte
	faceCT  string
	issued  enrol.IssueResult
	entries []enrol.AccessEntry
	report  *enrol.AuditReport

	// panicWith, when set, makes Get panic with it.
	panicWith string

	// block, when set, makes Get wait for it to be closed (graceful shutdown test).
	block   chan struct{}
	entered chan struct{}
}

func (f *fakeService) record(method string, p enrol.Principal, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{method: method, p: p, args: args})
}

func (f *fakeService) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// work returns the calls other than Deny.
func (f *fakeService) work() []call {
	var out []call
	for _, c := range f.Calls() {
		if c.method != "Deny" {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeService) denials() []call {
	var out []call
	for _, c := range f.Calls() {
		if c.method == "Deny" {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeService) Create(_ context.Context, p enrol.Principal, a enrol.NewApplication) (string, error) {
	f.record("Create", p, a)
	return f.id, f.err
}

func (f *fakeService) PutFace(_ context.Context, p enrol.Principal, id, ct string, body []byte) error {
	f.record("PutFace", p, id, ct, bytes.Clone(body))
	return f.err
}

func (f *fakeService) PutFinger(_ context.Context, p enrol.Principal, id string, pos int, ct string, body []byte) error {
	f.record("PutFinger", p, id, pos, ct, bytes.Clone(body))
	return f.err
}

func (f *fakeService) PutMinutiae(_ context.Context, p enrol.Principal, id string, pos int, ct string, body []byte) error {
	f.record("PutMinutiae", p, id, pos, ct, bytes.Clone(body))
	return f.err
}

func (f *fakeService) Finalize(_ context.Context, p enrol.Principal, id string) error {
	f.record("Finalize", p, id)
	return f.err
}

func (f *fakeService) Approve(_ context.Context, p enrol.Principal, id string) error {
	f.record("Approve", p, id)
	return f.err
}

func (f *fakeService) Issue(_ context.Context, p enrol.Principal, id string) (enrol.IssueResult, error) {
	f.record("Issue", p, id)
	return f.issued, f.err
}

func (f *fakeService) Get(_ context.Context, p enrol.Principal, id string) (*enrol.Application, error) {
	f.record("Get", p, id)
	if f.panicWith != "" {
		panic(f.panicWith)
	}
	if f.block != nil {
		close(f.entered)
		<-f.block
	}
	return f.app, f.err
}

func (f *fakeService) GetFace(_ context.Context, p enrol.Principal, id, purpose string) (string, []byte, error) {
	f.record("GetFace", p, id, purpose)
	return f.faceCT, f.face, f.err
}

func (f *fakeService) SetDocumentStatus(_ context.Context, p enrol.Principal, number, status string, since time.Time) error {
	f.record("SetDocumentStatus", p, number, status, since)
	return f.err
}

func (f *fakeService) AccessLog(_ context.Context, p enrol.Principal, id string) ([]enrol.AccessEntry, error) {
	f.record("AccessLog", p, id)
	return f.entries, f.err
}

func (f *fakeService) VerifyAudit(_ context.Context, p enrol.Principal) (*enrol.AuditReport, error) {
	f.record("VerifyAudit", p)
	return f.report, f.err
}

func (f *fakeService) Deny(_ context.Context, p enrol.Principal, action, subject, code string) {
	f.record("Deny", p, action, subject, code)
}

var _ enrol.Service = (*fakeService)(nil)

// testCA is a throwaway certificate authority made with crypto/x509 for the test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"UT"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca *testCA) issue(t testing.TB, tmpl *x509.Certificate) (tls.Certificate, []byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sn, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = sn
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Now().Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = time.Now().Add(12 * time.Hour)
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pair, certPEM, keyPEM
}

func (ca *testCA) server(t testing.TB) (certPEM, keyPEM []byte) {
	_, c, k := ca.issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "enrol.test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:    []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return c, k
}

// clientSpec describes a staff client certificate as CONTRACTS.md lays it out.
type clientSpec struct {
	cn       string
	o, ou    []string
	roles    []string
	notAfter time.Time
}

func (ca *testCA) client(t testing.TB, s clientSpec) tls.Certificate {
	t.Helper()
	var uris []*url.URL
	for _, r := range s.roles {
		u, err := url.Parse(RoleURIPrefix + r)
		if err != nil {
			t.Fatal(err)
		}
		uris = append(uris, u)
	}
	pair, _, _ := ca.issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: s.cn, Organization: s.o, OrganizationalUnit: s.ou},
		URIs:        uris,
		NotAfter:    s.notAfter,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	return pair
}

func office(cn, ou string, roles ...string) clientSpec {
	return clientSpec{cn: cn, o: []string{"UT"}, ou: []string{ou}, roles: roles}
}

func national(cn string, roles ...string) clientSpec {
	return clientSpec{cn: cn, o: []string{"UT"}, roles: roles}
}

package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"borderid/crossborder"
	"borderid/db"
	"borderid/enrol"
)

// stubPartners is a partner registry in memory.
type stubPartners struct {
	mu    sync.Mutex
	ps    []db.Partner
	reads int
}

func (s *stubPartners) set(ps ...db.Partner) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ps = ps
}

func (s *stubPartners) load(context.Context) ([]db.Partner, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	return append([]db.Partner(nil), s.ps...), nil
}

// partnerEnv is newEnv with a partner registry and stub cross-border handlers that report the caller.
type partnerEnv struct {
	*env
	stub   *stubPartners
	reg    *PartnerRegistry
	caller chan crossborder.Caller
}

func newPartnerEnv(t *testing.T) *partnerEnv {
	t.Helper()
	ca := newTestCA(t, "UT staff TLS CA")
	certPEM, keyPEM := ca.server(t)
	tlsCfg, err := TLSConfig(certPEM, keyPEM, ca.pem)
	if err != nil {
		t.Fatal(err)
	}
	stub := &stubPartners{}
	reg := NewPartnerRegistry(stub.load, 10*time.Millisecond, nil)
	pe := &partnerEnv{stub: stub, reg: reg, caller: make(chan crossborder.Caller, 10)}
	report := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := crossborder.CallerFrom(r.Context())
		pe.caller <- c
		w.WriteHeader(http.StatusNoContent)
	})
	svc := &fakeService{id: testID}
	srv, err := New(Config{Service: svc, ClientCAs: tlsCfg.ClientCAs, Partners: reg,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		CrossBorder: CrossBorderRoutes{Status: report, CRL: report}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.TLS = reg.TLSConfig(tlsCfg)
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	pe.env = &env{t: t, ca: ca, svc: svc, srv: srv, ts: ts, logs: &syncBuffer{}, tls: tlsCfg}
	return pe
}

func (e *partnerEnv) clientWith(pair tls.Certificate) *http.Client {
	tr := &http.Transport{TLSClientConfig: e.clientTLS(pair)}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func partnerCert(t *testing.T, ca *testCA, name pkix.Name, roles ...string) tls.Certificate {
	t.Helper()
	spec := clientSpec{cn: name.CommonName, o: name.Organization, roles: roles}
	if len(name.Country) == 0 {
		return ca.client(t, spec)
	}
	pair, _, _ := ca.issue(t, &x509.Certificate{Subject: name, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return pair
}

func TestPartnerAuthentication(t *testing.T) {
	e := newPartnerEnv(t)
	atlCA := newTestCA(t, "ATL TLS CA")
	e.stub.set(db.Partner{State: "ATL", ClientCA: [][]byte{atlCA.cert.Raw}})
	time.Sleep(20 * time.Millisecond)

	code := func(r reply) string { return r.errorBody(t).Code }
	atl := e.clientWith(partnerCert(t, atlCA, pkix.Name{CommonName: "ATL border system", Organization: []string{"XA"}}))

	// A partner asks: the handler sees it as its state.
	if r := e.do(atl, "POST", "/v1/crossborder/status", "application/json", []byte("{}")); r.status != 204 {
		t.Fatalf("partner status: %d %s", r.status, r.body)
	}
	if c := <-e.caller; c != (crossborder.Caller{Role: crossborder.RolePartner, Actor: "ATL", Subject: "ATL border system"}) {
		t.Errorf("caller %+v", c)
	}
	// C= names the state when present, whatever O says.
	withC := e.clientWith(partnerCert(t, atlCA, pkix.Name{CommonName: "ATL gate 4", Country: []string{"XA"}, Organization: []string{"Ministry of the Interior"}}))
	if r := e.do(withC, "GET", "/v1/trust/crl", "", nil); r.status != 204 {
		t.Fatalf("partner with C=: %d %s", r.status, r.body)
	}
	<-e.caller
	// Nothing else is open to a partner, not even the OpenAPI document; a role URI changes nothing.
	withRole := e.clientWith(partnerCert(t, atlCA, pkix.Name{CommonName: "ATL auditor", Organization: []string{"XA"}}, "auditor"))
	for _, c := range []*http.Client{atl, withRole} {
		for _, path := range []string{"/v1/openapi.json", "/v1/audit/verify"} {
			if r := e.do(c, "GET", path, "", nil); r.status != 403 || code(r) != codeForbiddenRole {
				t.Errorf("partner GET %s: %d %s", path, r.status, r.body)
			}
		}
	}
	// A route with no handler configured.
	if r := e.do(atl, "GET", "/v1/trust/masterlist", "", nil); r.status != 404 {
		t.Errorf("unconfigured route: %d", r.status)
	}
	// Wrong country for the registered CA: 403, audited.
	lem := e.clientWith(partnerCert(t, atlCA, pkix.Name{CommonName: "LEM border system", Organization: []string{"XL"}}))
	if r := e.do(lem, "POST", "/v1/crossborder/status", "application/json", []byte("{}")); r.status != 403 || code(r) != codePartnerCountryMismatch {
		t.Errorf("country mismatch: %d %s", r.status, r.body)
	}
	d := e.svc.denials()
	if last := d[len(d)-1]; last.args[2] != codePartnerCountryMismatch || last.p.Subject != "unverified:LEM border system" {
		t.Errorf("denial %+v", last)
	}
	// Two C= values or none at all: not a partner certificate.
	twoC := e.clientWith(partnerCert(t, atlCA, pkix.Name{CommonName: "ATL", Country: []string{"XA", "XL"}}))
	noCountry := e.clientWith(partnerCert(t, atlCA, pkix.Name{CommonName: "ATL"}))
	for _, c := range []*http.Client{twoC, noCountry} {
		if r := e.do(c, "POST", "/v1/crossborder/status", "application/json", []byte("{}")); r.status != 401 || code(r) != codeInvalidCertificate {
			t.Errorf("partner certificate without one country: %d %s", r.status, r.body)
		}
	}
	// Staff are unchanged: a border station asks as itself; a clerk may not ask; the staff path ignores partners.
	border := e.client(&clientSpec{cn: "border-post1", o: []string{"UT"}, roles: []string{"border"}})
	if r := e.do(border, "POST", "/v1/crossborder/status", "application/json", []byte("{}")); r.status != 204 {
		t.Fatalf("border: %d %s", r.status, r.body)
	}
	if c := <-e.caller; c != (crossborder.Caller{Role: crossborder.RoleBorder, Actor: "border-post1", Subject: "border-post1"}) {
		t.Errorf("caller %+v", c)
	}
	clerk := e.client(&clientSpec{cn: "clerk1", o: []string{"UT"}, ou: []string{"office1"}, roles: []string{"clerk"}})
	if r := e.do(clerk, "POST", "/v1/crossborder/status", "application/json", []byte("{}")); r.status != 403 || code(r) != codeForbiddenRole {
		t.Errorf("clerk: %d %s", r.status, r.body)
	}
	if r := e.do(clerk, "GET", "/v1/trust/crl", "", nil); r.status != 204 {
		t.Errorf("clerk, trust list: %d %s", r.status, r.body)
	}
	if c := <-e.caller; c.Role != crossborder.RoleStaff || c.Actor != "clerk1" {
		t.Errorf("caller %+v", c)
	}

	// A CA registered while the server runs is accepted by the next handshake; one removed is refused on
	// the next request of an open connection.
	lemCA := newTestCA(t, "LEM TLS CA")
	lemClient := e.clientWith(partnerCert(t, lemCA, pkix.Name{CommonName: "LEM border system", Organization: []string{"XL"}}))
	if r := e.do(lemClient, "POST", "/v1/crossborder/status", "application/json", []byte("{}")); r.status != 401 || code(r) != codeCertificateRequired {
		t.Errorf("unregistered CA: %d %s", r.status, r.body)
	}
	lemClient.Transport.(*http.Transport).CloseIdleConnections()
	e.stub.set(db.Partner{State: "ATL", ClientCA: [][]byte{atlCA.cert.Raw}}, db.Partner{State: "LEM", ClientCA: [][]byte{lemCA.cert.Raw}})
	time.Sleep(20 * time.Millisecond)
	if r := e.do(lemClient, "POST", "/v1/crossborder/status", "application/json", []byte("{}")); r.status != 204 {
		t.Fatalf("CA added at run time: %d %s", r.status, r.body)
	}
	<-e.caller
	e.stub.set(db.Partner{State: "ATL", ClientCA: [][]byte{atlCA.cert.Raw}})
	time.Sleep(20 * time.Millisecond)
	if r := e.do(lemClient, "POST", "/v1/crossborder/status", "application/json", []byte("{}")); r.status != 401 || code(r) != codeInvalidCertificate {
		t.Errorf("removed partner: %d %s", r.status, r.body)
	}

	// One CA registered for two states (a shared regional CA): the
	// certificate's own country would choose the state, so one partner
	// could speak for another. Refused whatever country it names.
	shared := newTestCA(t, "Regional TLS CA")
	e.stub.set(db.Partner{State: "ATL", ClientCA: [][]byte{shared.cert.Raw}}, db.Partner{State: "LEM", ClientCA: [][]byte{shared.cert.Raw}})
	time.Sleep(20 * time.Millisecond)
	for _, o := range []string{"XA", "XL"} {
		c := e.clientWith(partnerCert(t, shared, pkix.Name{CommonName: "system", Organization: []string{o}}))
		if r := e.do(c, "POST", "/v1/crossborder/status", "application/json", []byte("{}")); r.status != 401 || code(r) != codeInvalidCertificate {
			t.Errorf("CA shared by two states, O=%s: %d %s", o, r.status, r.body)
		}
	}
}

func TestPartnerRegistryCache(t *testing.T) {
	stub := &stubPartners{}
	reg := NewPartnerRegistry(stub.load, time.Hour, nil)
	now := time.Unix(1_800_000_000, 0)
	reg.now = func() time.Time { return now }
	ctx := context.Background()
	if _, err := reg.Partner(ctx, "ATL"); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("empty registry: %v", err)
	}
	ca := newTestCA(t, "ATL")
	stub.set(db.Partner{State: "ATL", ClientCA: [][]byte{ca.cert.Raw}, RatePerSec: 3}, db.Partner{State: "BAD", ClientCA: [][]byte{[]byte("x")}})
	if _, err := reg.Partner(ctx, "ATL"); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("read again before the TTL: %v", err)
	}
	now = now.Add(time.Hour)
	p, err := reg.Partner(ctx, "ATL")
	if err != nil || p.RatePerSec != 3 {
		t.Fatalf("after the TTL: %+v %v", p, err)
	}
	if _, err := reg.Partner(ctx, "BAD"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("a partner whose CA does not parse is not registered: %v", err)
	}
	if stub.reads != 2 {
		t.Errorf("%d reads", stub.reads)
	}
	// A principal of the partner authenticator never comes from a staff check failing for another reason.
	_, err = PartnerAuthenticator{Staff: StaffAuthenticator{Roots: x509.NewCertPool()}, Partners: reg}.Authenticate(ctx, nil)
	var ee *enrol.Error
	if !errors.As(err, &ee) || !errors.Is(err, enrol.ErrUnauthenticated) {
		t.Errorf("no chains: %v", err)
	}
}

// The wire format of package crossborder conforms to the schemas openapi.json documents for it, and what
// the decoder accepts is what the schema allows.
func TestCrossBorderSchemas(t *testing.T) {
	req := []byte(`{"nonce": "q3v5rX0cJ1hGg5yT2m8Y0w", "queries": [{"issuing_state": "UTO", "document_number": "L898902C3",
		"date_of_birth": "740812", "date_of_expiry": "120415", "document_type": "P"},
		{"issuing_state": "D", "document_number": "c01x00t47", "date_of_birth": "640812", "date_of_expiry": "270313"}]}`)
	if _, err := crossborder.DecodeRequest(req); err != nil {
		t.Fatal(err)
	}
	conforms(t, "StatusRequest", req)
	b, err := json.Marshal(crossborder.Payload{Responder: "UTO", Nonce: "q3v5rX0cJ1hGg5yT2m8Y0w", Time: "2026-11-27T09:12:03Z",
		Answers: []crossborder.Answer{{DocumentNumber: "L898902C3", Status: "STOLEN", Since: "2025-04-02"}, {DocumentNumber: "c01x00t47", Status: "UNKNOWN"}}})
	if err != nil {
		t.Fatal(err)
	}
	conforms(t, "StatusPayload", b)
}

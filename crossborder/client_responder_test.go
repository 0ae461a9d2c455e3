package crossborder_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"borderid/crossborder"
	"borderid/db"
	"borderid/internal/pki"
)

// The client (crossborder.Ask: HTTP, mutual TLS, nonce, verification)
// against the real responder of newStack, as partner ATL asks UTO.
func TestClientAgainstResponder(t *testing.T) {
	s := newStack(t)
	atl := s.newPartner("XA", "ATL", 100, 100000)
	dob := day(1974, 8, 12)
	valid := s.issue(dob, day(2034, 4, 15))
	stolen := s.issue(dob, day(2034, 4, 15))
	s.setStatus(stolen, db.StatusStolen, time.Date(2025, 4, 2, 10, 0, 0, 0, time.UTC))
	s.setStatus(stolen, db.StatusRevoked, time.Date(2025, 5, 3, 10, 0, 0, 0, time.UTC))

	kp, err := tls.X509KeyPair(atl.cert, atl.key)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(s.staff.Cert)
	ep := crossborder.Endpoint{State: "UTO", URL: s.ts.URL, Root: s.signerCert,
		TLS: &tls.Config{Certificates: []tls.Certificate{kp}, RootCAs: roots, MinVersion: tls.VersionTLS12}}

	wrong := valid.query()
	wrong.DateOfBirth = "740813"
	p, err := crossborder.Ask(context.Background(), ep, []crossborder.Query{valid.query(), stolen.query(), wrong}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := []crossborder.Answer{
		{DocumentNumber: valid.number, Status: crossborder.StatusValid, Since: "2024-01-02"},
		{DocumentNumber: stolen.number, Status: crossborder.StatusStolen, Since: "2025-04-02"},
		{DocumentNumber: valid.number, Status: crossborder.StatusUnknown},
	}
	if p.Responder != "UTO" || len(p.Answers) != len(want) {
		t.Fatalf("payload %+v", p)
	}
	for i := range want {
		if p.Answers[i] != want[i] {
			t.Errorf("answer %d = %+v, want %+v", i, p.Answers[i], want[i])
		}
	}

	// Registered with another state's status-signer root, the same genuine
	// answer is refused: trust comes from the registration.
	other, err := pki.NewTLSCA("XA", "ATL")
	if err != nil {
		t.Fatal(err)
	}
	bad := ep
	bad.Root = other.Cert
	if _, err := crossborder.Ask(context.Background(), bad, []crossborder.Query{valid.query()}, time.Now()); !errors.Is(err, crossborder.ErrBadAnswer) {
		t.Errorf("answer verified against another root: %v", err)
	}
	// Asked as the wrong state (the answer says UTO).
	bad = ep
	bad.State = "ATL"
	atlQuery := valid.query()
	atlQuery.IssuingState = "ATL"
	if _, err := crossborder.Ask(context.Background(), bad, []crossborder.Query{atlQuery}, time.Now()); !errors.Is(err, crossborder.ErrBadAnswer) {
		t.Errorf("answer of UTO taken for ATL's: %v", err)
	}
	// A query about another state's document is not sent to this one.
	if _, err := crossborder.Ask(context.Background(), bad, []crossborder.Query{valid.query()}, time.Now()); !errors.Is(err, crossborder.ErrBadQuery) {
		t.Errorf("a UTO document asked of ATL: %v", err)
	}
	// A clock 3 minutes off: the answer is not fresh.
	if _, err := crossborder.Ask(context.Background(), ep, []crossborder.Query{valid.query()}, time.Now().Add(3*time.Minute)); !errors.Is(err, crossborder.ErrBadAnswer) {
		t.Errorf("stale answer accepted: %v", err)
	}
	// Without a client certificate the responder refuses.
	bad = ep
	bad.TLS = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if _, err := crossborder.Ask(context.Background(), bad, []crossborder.Query{valid.query()}, time.Now()); err == nil {
		t.Error("no client certificate: answered")
	}
}

package crossborder_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"borderid/crossborder"
	"borderid/db"
	"borderid/db/dbtest"
	"borderid/enrol"
	"borderid/enrol/api"
	"borderid/internal/cert"
	"borderid/internal/envelope/envelopetest"
	"borderid/internal/pki"
	"borderid/verify"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// stack is state UTO's server as `borderid serve` builds it: enrol/api with the partner registry over the
// real database, the status responder and the trust lists, on real mutual TLS.
type stack struct {
	t          *testing.T
	ctx        context.Context
	app, owner *pgxpool.Pool
	ix         *envelopetest.Indexer
	staff      *pki.TLSCA
	ts         *httptest.Server
	signerCert *x509.Certificate
	cscaDER    []byte
	statusPEM  []byte
	reg        *api.PartnerRegistry
}

// nopService is the enrolment service the stack does not exercise: it records nothing and denies quietly.
type nopService struct{ enrol.Service }

func (nopService) Deny(context.Context, enrol.Principal, string, string, string) {}

func newStack(t *testing.T, opts ...func(*crossborder.ResponderConfig)) *stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	s := &stack{t: t, ctx: ctx, app: dbtest.Pool(t, db.App), owner: dbtest.Pool(t, db.Owner), ix: envelopetest.NewIndexerWithKey(indexKey)}
	now := time.Now()

	// The HSM keys of borderid init, in software.
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	statusKey, cscaKey, mlKey := key(), key(), key()
	statusDER, err := pki.Issue(pki.Template{Kind: pki.StatusSigner, Country: "UT", Organization: "borderid UTO", CommonName: "UTO Status Signer",
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(5, 0, 0)}, statusKey.Public(), nil, statusKey)
	if err != nil {
		t.Fatal(err)
	}
	if s.signerCert, err = x509.ParseCertificate(statusDER); err != nil {
		t.Fatal(err)
	}
	s.statusPEM = pki.CertPEM(statusDER)
	s.cscaDER, err = pki.Issue(pki.Template{Kind: pki.CSCA, Country: "UT", Organization: "borderid UTO", CommonName: "UTO CSCA",
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(15, 0, 0)}, cscaKey.Public(), nil, cscaKey)
	if err != nil {
		t.Fatal(err)
	}
	mlDER, err := pki.Issue(pki.Template{Kind: pki.MasterListSigner, Country: "UT", Organization: "borderid UTO", CommonName: "UTO Master List Signer",
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(5, 0, 0)}, mlKey.Public(), s.cscaDER, cscaKey)
	if err != nil {
		t.Fatal(err)
	}

	s.reg = api.NewPartnerRegistryDB(s.app, 20*time.Millisecond, nil)
	cfg := crossborder.ResponderConfig{Pool: s.app, Indexer: s.ix, Signer: statusKey, SignerCert: statusDER, State: "UTO", Registry: s.reg}
	for _, o := range opts {
		o(&cfg)
	}
	resp, err := crossborder.NewResponder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	trust, err := crossborder.NewTrustLists(crossborder.TrustConfig{CSCA: s.cscaDER, CSCASigner: cscaKey, MLSignerCert: mlDER, MLSigner: mlKey,
		StatusSignerPEM: s.statusPEM})
	if err != nil {
		t.Fatal(err)
	}

	if s.staff, err = pki.NewTLSCA("UT", "UTO"); err != nil {
		t.Fatal(err)
	}
	srvCert, srvKey, err := s.staff.IssueServer([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := api.TLSConfig(srvCert, srvKey, s.staff.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Config{Service: nopService{}, ClientCAs: tlsCfg.ClientCAs, Partners: s.reg,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		CrossBorder: api.CrossBorderRoutes{Status: resp, MasterList: trust.MasterList(), CRL: trust.CRL(), StatusSigner: trust.StatusSigner()}})
	if err != nil {
		t.Fatal(err)
	}
	s.ts = httptest.NewUnstartedServer(srv.Handler())
	s.ts.TLS = s.reg.TLSConfig(tlsCfg)
	s.ts.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	s.ts.StartTLS()
	t.Cleanup(s.ts.Close)
	return s
}

// indexKey is the blind-index key of every stack, so documents issued by one test are found by its stack.
var indexKey = bytes.Repeat([]byte{7}, 32)

// client returns an HTTPS client presenting certPEM/keyPEM (none when nil) and trusting the server.
func (s *stack) client(certPEM, keyPEM []byte) *http.Client {
	roots := x509.NewCertPool()
	roots.AddCert(s.staff.Cert)
	cfg := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}
	if certPEM != nil {
		c, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			s.t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	s.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func (s *stack) staffClient(cn string, roles ...string) *http.Client {
	c, k, err := s.staff.IssueClient(pki.ClientSpec{CommonName: cn, Country: "UT", Roles: roles})
	if err != nil {
		s.t.Fatal(err)
	}
	return s.client(c, k)
}

// partner is a partner state's TLS CA and a client certificate of its border system.
type partner struct {
	state      string
	ca         *pki.TLSCA
	cert, key  []byte
	httpClient *http.Client
}

// newPartner makes the CA of a partner whose certificates say country2, a client certificate under it, and
// registers the CA for registerAs ("" registers nothing).
func (s *stack) newPartner(country2, registerAs string, rate float64, quota int) *partner {
	s.t.Helper()
	state, ok := cert.Alpha2ToAlpha3(country2)
	if !ok {
		s.t.Fatalf("no state for %s", country2)
	}
	ca, err := pki.NewTLSCA(country2, state)
	if err != nil {
		s.t.Fatal(err)
	}
	c, k, err := ca.IssueClient(pki.ClientSpec{CommonName: state + " border system", Country: country2})
	if err != nil {
		s.t.Fatal(err)
	}
	p := &partner{state: state, ca: ca, cert: c, key: k}
	if registerAs != "" {
		s.register(registerAs, ca, rate, quota)
	}
	p.httpClient = s.client(c, k)
	return p
}

func (s *stack) register(state string, ca *pki.TLSCA, rate float64, quota int) {
	s.t.Helper()
	_ = db.RemovePartner(s.ctx, s.owner, state)
	if err := db.AddPartner(s.ctx, s.owner, db.Partner{State: state, ClientCA: [][]byte{ca.Cert.Raw}, StatusSignerRoot: ca.Cert.Raw,
		URL: "https://127.0.0.1:9/", RatePerSec: rate, QuotaPerDay: quota, AddedBy: "test"}); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { _ = db.RemovePartner(context.Background(), s.owner, state) })
	time.Sleep(30 * time.Millisecond) // the registry cache's TTL
}

// doc is an issued document of UTO.
type doc struct {
	number   string
	dob, doe time.Time
}

func (d doc) query() crossborder.Query {
	return crossborder.Query{IssuingState: "UTO", DocumentNumber: d.number, DateOfBirth: d.dob.Format("060102"),
		DateOfExpiry: d.doe.Format("060102"), DocumentType: "P"}
}

// issue records a document of office1 numbered number (normalised) with its blind index under indexKey.
func (s *stack) issue(dob, doe time.Time) doc {
	s.t.Helper()
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	number := fmt.Sprintf("T%X", rnd) // 9 characters
	idx, err := s.ix.Index(s.ctx, db.IndexPurposeDocumentNumber, []byte(number))
	if err != nil {
		s.t.Fatal(err)
	}
	clerk := db.Scope{Actor: "clerk1", Role: db.RoleClerk, Office: "office1"}
	approver := db.Scope{Actor: "approver1", Role: db.RoleApprover, Office: "office1"}
	var id string
	steps := []struct {
		sc db.Scope
		fn func(tx pgx.Tx) error
	}{
		{clerk, func(tx pgx.Tx) (err error) {
			id, err = db.CreateApplication(s.ctx, tx, &db.Application{Office: "office1", Surname: "ERIKSSON", Sex: "F", DateOfBirth: dob,
				Nationality: "UTO", DocumentType: "P", CreatedBy: clerk.Actor})
			return err
		}},
		{clerk, func(tx pgx.Tx) error {
			return db.AdvanceApplication(s.ctx, tx, id, db.StateDraft, db.StateFinalized, clerk.Actor, time.Now())
		}},
		{approver, func(tx pgx.Tx) error {
			return db.AdvanceApplication(s.ctx, tx, id, db.StateFinalized, db.StateApproved, approver.Actor, time.Now())
		}},
		{approver, func(tx pgx.Tx) error {
			if err := db.InsertDocument(s.ctx, tx, &db.Document{NumberIndex: idx, ApplicationID: id, Office: "office1", ChipID: "chip-" + id,
				DateOfBirth: dob, DateOfExpiry: doe, DocumentType: "P", IssuedAt: time.Date(2024, 1, 2, 9, 0, 0, 0, time.UTC), IssuedBy: approver.Actor}); err != nil {
				return err
			}
			return db.AdvanceApplication(s.ctx, tx, id, db.StateApproved, db.StateIssued, approver.Actor, time.Now())
		}},
	}
	for _, st := range steps {
		if err := db.WithScope(s.ctx, s.app, st.sc, st.fn); err != nil {
			s.t.Fatal(err)
		}
	}
	return doc{number: number, dob: dob, doe: doe}
}

func (s *stack) setStatus(d doc, status string, at time.Time) {
	s.t.Helper()
	idx, _ := s.ix.Index(s.ctx, db.IndexPurposeDocumentNumber, []byte(d.number))
	if err := db.WithScope(s.ctx, s.app, db.Scope{Actor: "approver1", Role: db.RoleApprover, Office: "office1"}, func(tx pgx.Tx) error {
		return db.SetDocumentStatus(s.ctx, tx, idx, status, at)
	}); err != nil {
		s.t.Fatal(err)
	}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (s *stack) post(c *http.Client, body []byte, contentType string) (reply, error) {
	req, err := http.NewRequest(http.MethodPost, s.ts.URL+crossborder.StatusPath, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	return s.send(c, req)
}

func (s *stack) get(c *http.Client, path string) (reply, error) {
	req, err := http.NewRequest(http.MethodGet, s.ts.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.send(c, req)
}

func (s *stack) send(c *http.Client, req *http.Request) (reply, error) {
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, err
}

func body(nonce string, qs []crossborder.Query) []byte {
	b, err := json.Marshal(crossborder.Request{Nonce: nonce, Queries: qs})
	if err != nil {
		panic(err)
	}
	return b
}

// ask posts qs and checks the answer as a partner's client would (crossborder.Verify) and, independently, with
// go-jose directly: ES256, the x5c certificate chaining to the status-signer root with OCSPSigning, the
// payload's exact keys.
func (s *stack) ask(c *http.Client, qs []crossborder.Query) *crossborder.Payload {
	s.t.Helper()
	nonce := "nonce-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	r, err := s.post(c, body(nonce, qs), "application/json")
	if err != nil {
		s.t.Fatal(err)
	}
	if r.status != 200 || r.header.Get("Content-Type") != crossborder.ContentTypeJOSE {
		s.t.Fatalf("status %d %s: %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	jws, err := jose.ParseSignedCompact(string(r.body), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		s.t.Fatal(err)
	}
	h := jws.Signatures[0].Protected
	if h.Algorithm != "ES256" || h.ExtraHeaders["typ"] != crossborder.JWSType {
		s.t.Errorf("header %+v", h)
	}
	roots := x509.NewCertPool()
	roots.AddCert(s.signerCert)
	chains, err := h.Certificates(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}})
	if err != nil {
		s.t.Fatal(err)
	}
	raw, err := jws.Verify(chains[0][0].PublicKey)
	if err != nil {
		s.t.Fatal(err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		s.t.Fatal(err)
	}
	got := slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(got, []string{"answers", "nonce", "responder", "time"}) {
		s.t.Errorf("payload keys %v", got)
	}
	// The protected header holds exactly alg, typ and x5c.
	hdrJSON, _ := base64.RawURLEncoding.DecodeString(strings.Split(string(r.body), ".")[0])
	var hdr map[string]any
	if err := json.Unmarshal(hdrJSON, &hdr); err != nil || len(hdr) != 3 || hdr["x5c"] == nil {
		s.t.Errorf("protected header %s", hdrJSON)
	}
	p, err := crossborder.Verify(string(r.body), crossborder.Endpoint{State: "UTO", Root: s.signerCert}, nonce, qs, time.Now())
	if err != nil {
		s.t.Fatalf("client verification: %v", err)
	}
	return p
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestStatusRoundTrip(t *testing.T) {
	s := newStack(t)
	atl := s.newPartner("XA", "ATL", 100, 100000)
	dob := day(1974, 8, 12)
	future, past := day(2034, 4, 15), day(2020, 4, 15)
	lostAt, stolenAt, revokedAt := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC), time.Date(2025, 4, 2, 10, 0, 0, 0, time.UTC), time.Date(2025, 5, 3, 23, 30, 0, 0, time.UTC)

	valid := s.issue(dob, future)
	lost := s.issue(dob, future)
	s.setStatus(lost, db.StatusLost, lostAt)
	stolen := s.issue(dob, future)
	s.setStatus(stolen, db.StatusStolen, stolenAt)
	lostStolenRevoked := s.issue(dob, future)
	s.setStatus(lostStolenRevoked, db.StatusLost, lostAt)
	s.setStatus(lostStolenRevoked, db.StatusStolen, stolenAt)
	s.setStatus(lostStolenRevoked, db.StatusRevoked, revokedAt)
	lostRevoked := s.issue(dob, future)
	s.setStatus(lostRevoked, db.StatusLost, lostAt)
	s.setStatus(lostRevoked, db.StatusRevoked, revokedAt)
	revoked := s.issue(dob, future)
	s.setStatus(revoked, db.StatusRevoked, revokedAt)
	expired := s.issue(dob, past)
	expiredRevoked := s.issue(dob, past)
	s.setStatus(expiredRevoked, db.StatusRevoked, revokedAt)

	wrongDOB := valid.query()
	wrongDOB.DateOfBirth = "740813"
	wrongExpiry := valid.query()
	wrongExpiry.DateOfExpiry = "340416"
	otherState := valid.query()
	otherState.IssuingState = "ATL"
	absent := valid.query()
	absent.DocumentNumber = "ZZ0000000"
	lowerFiller := valid.query()
	lowerFiller.DocumentNumber = strings.ToLower(valid.number) + "<<"

	cases := []struct {
		q             crossborder.Query
		status, since string
	}{
		{valid.query(), "VALID", "2024-01-02"},
		{lost.query(), "LOST", "2025-03-01"},
		{stolen.query(), "STOLEN", "2025-04-02"},
		{lostStolenRevoked.query(), "STOLEN", "2025-04-02"},
		{lostRevoked.query(), "LOST", "2025-03-01"},
		{revoked.query(), "REVOKED", "2025-05-03"},
		{expired.query(), "EXPIRED", "2020-04-16"},
		{expiredRevoked.query(), "REVOKED", "2025-05-03"},
		{wrongDOB, "UNKNOWN", ""},
		{wrongExpiry, "UNKNOWN", ""},
		{otherState, "UNKNOWN", ""},
		{absent, "UNKNOWN", ""},
		{lowerFiller, "VALID", "2024-01-02"},
	}
	var qs []crossborder.Query
	for _, c := range cases {
		qs = append(qs, c.q)
	}
	for _, who := range []struct {
		name   string
		client *http.Client
		actor  string
		role   string
	}{
		{"partner ATL", atl.httpClient, "ATL", "partner"},
		{"border station", s.staffClient("border-post1", "border"), "border-post1", "border"},
	} {
		t.Run(who.name, func(t *testing.T) {
			before := s.auditRows(who.actor)
			p := s.ask(who.client, qs)
			if p.Responder != "UTO" || len(p.Answers) != len(cases) {
				t.Fatalf("payload %+v", p)
			}
			if tm, err := time.Parse(time.RFC3339, p.Time); err != nil || time.Since(tm) > time.Minute || !strings.HasSuffix(p.Time, "Z") {
				t.Errorf("time %q", p.Time)
			}
			for i, c := range cases {
				a := p.Answers[i]
				if a.DocumentNumber != c.q.DocumentNumber || a.Status != c.status || a.Since != c.since {
					t.Errorf("query %d: %+v, want %s since %q", i, a, c.status, c.since)
				}
			}
			rows := s.auditRows(who.actor)
			// One row for the request, and one per matched query with the
			// enrolment as subject (the person's access log shows the ask).
			matched := 0
			for _, a := range p.Answers {
				if a.Status != crossborder.StatusUnknown {
					matched++
				}
			}
			if len(rows) != len(before)+1+matched {
				t.Fatalf("audit rows %d -> %d, want one per request and one per match (%d)", len(before), len(rows), matched)
			}
			for _, r := range rows[len(before) : len(rows)-1] {
				if len(r.Subject) != 36 || !strings.Contains(r.Detail, "answered=") {
					t.Errorf("matched-query row %+v", r.AuditEntry)
				}
			}
			last := rows[len(rows)-1]
			if last.Role != who.role || last.Action != crossborder.ActionStatus || last.Outcome != "ok" ||
				!strings.HasPrefix(last.Detail, "system=") || !strings.Contains(last.Detail, " queries="+strconv.Itoa(len(qs))+" index=") {
				t.Errorf("audit row %+v", last.AuditEntry)
			}
			idx, _ := s.ix.Index(s.ctx, db.IndexPurposeDocumentNumber, []byte(valid.number))
			if !strings.Contains(last.Detail, fmt.Sprintf("%x", idx)) {
				t.Errorf("audit detail lacks the blind index of the first query")
			}
			for _, c := range cases {
				n := db.NormaliseDocumentNumber(c.q.DocumentNumber)
				if strings.Contains(strings.ToUpper(last.Detail), n) || strings.Contains(last.Subject+last.Purpose, n) {
					t.Errorf("audit row holds document number %s", n)
				}
			}
		})
	}
}

// auditRows returns the crossborder.status audit rows of actor, oldest first (read as the owner).
func (s *stack) auditRows(actor string) []db.AuditRow {
	s.t.Helper()
	rows, err := s.owner.Query(s.ctx, `SELECT seq, at, actor, role, office, action, purpose, subject, outcome, detail FROM audit_log
		WHERE actor = $1 AND action = $2 ORDER BY seq`, actor, crossborder.ActionStatus)
	if err != nil {
		s.t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (db.AuditRow, error) {
		var a db.AuditRow
		return a, r.Scan(&a.Seq, &a.At, &a.Actor, &a.Role, &a.Office, &a.Action, &a.Purpose, &a.Subject, &a.Outcome, &a.Detail)
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

func queries(n int, q crossborder.Query) []crossborder.Query {
	out := make([]crossborder.Query, n)
	for i := range out {
		out[i] = q
		out[i].DocumentNumber = fmt.Sprintf("N%08d", i)
	}
	return out
}

func TestBatchesAndBodies(t *testing.T) {
	s := newStack(t)
	fra := s.newPartner("FR", "FRA", 1000, 1000000)
	q := crossborder.Query{IssuingState: "UTO", DocumentNumber: "X", DateOfBirth: "740812", DateOfExpiry: "340415", DocumentType: "P"}

	p := s.ask(fra.httpClient, queries(crossborder.MaxQueries, q))
	if len(p.Answers) != crossborder.MaxQueries || p.Answers[999].Status != "UNKNOWN" {
		t.Fatalf("1000 queries: %d answers", len(p.Answers))
	}
	before := len(s.auditRows("FRA"))
	huge := append([]byte(`{"nonce": "n", "queries": [`), bytes.Repeat([]byte(`{"issuing_state": "UTO"},`), 12000)...)
	huge = append(huge, []byte(`{}]}`)...)
	for _, c := range []struct {
		name, ct string
		body     []byte
		status   int
		code     string
	}{
		{"1001 queries", "application/json", body("n", queries(crossborder.MaxQueries+1, q)), 413, "too_many_queries"},
		{"oversized body", "application/json", huge, 413, "body_too_large"},
		{"malformed JSON", "application/json", []byte(`{"nonce": "n", "queries": [`), 400, "malformed_json"},
		{"trailing data", "application/json", []byte(`{"nonce": "n", "queries": []} {}`), 400, "malformed_json"},
		{"unknown top field", "application/json", []byte(`{"nonce": "n", "queries": [], "surname": "X"}`), 422, "unknown_field"},
		{"unknown query field", "application/json", []byte(`{"nonce": "n", "queries": [{"issuing_state": "UTO", "document_number": "X", "date_of_birth": "740812", "date_of_expiry": "340415", "name": "A"}]}`), 422, "unknown_field"},
		{"case-folded field", "application/json", []byte(`{"Nonce": "n", "queries": []}`), 422, "unknown_field"},
		{"duplicate field", "application/json", []byte(`{"nonce": "n", "nonce": "m", "queries": []}`), 422, "duplicate_field"},
		{"no queries", "application/json", []byte(`{"nonce": "n", "queries": []}`), 422, "no_queries"},
		{"missing dob", "application/json", []byte(`{"nonce": "n", "queries": [{"issuing_state": "UTO", "document_number": "X", "date_of_expiry": "340415"}]}`), 422, "missing_field"},
		{"bad date", "application/json", body("n", []crossborder.Query{{IssuingState: "UTO", DocumentNumber: "X", DateOfBirth: "1974-08-12", DateOfExpiry: "340415"}}), 422, "invalid_date"},
		{"long number", "application/json", body("n", []crossborder.Query{{IssuingState: "UTO", DocumentNumber: strings.Repeat("1", 23), DateOfBirth: "740812", DateOfExpiry: "340415"}}), 422, "invalid_document_number"},
		{"long nonce", "application/json", body(strings.Repeat("n", 65), []crossborder.Query{q}), 422, "invalid_nonce"},
		{"number as JSON number", "application/json", []byte(`{"nonce": "n", "queries": [{"issuing_state": "UTO", "document_number": 12}]}`), 422, "invalid_type"},
		{"not JSON media type", "text/plain", body("n", []crossborder.Query{q}), 415, "unsupported_media_type"},
		{"JSON in another charset", "application/json; charset=latin1", body("n", []crossborder.Query{q}), 415, "unsupported_media_type"},
		{"empty body", "application/json", nil, 422, "empty_body"},
	} {
		r, err := s.post(fra.httpClient, c.body, c.ct)
		if err != nil {
			// A body over the cap may be cut off while it is still being sent.
			if c.status == 413 {
				continue
			}
			t.Fatalf("%s: %v", c.name, err)
		}
		var e struct{ Code, Message string }
		_ = json.Unmarshal(r.body, &e)
		if r.status != c.status || e.Code != c.code || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.status, r.body, c.status, c.code)
		}
	}
	if after := len(s.auditRows("FRA")); after != before {
		t.Errorf("refused requests wrote %d audit rows", after-before)
	}
}

func TestAuthentication(t *testing.T) {
	s := newStack(t)
	q := []crossborder.Query{{IssuingState: "UTO", DocumentNumber: "X", DateOfBirth: "740812", DateOfExpiry: "340415"}}
	code := func(r reply) string {
		var e struct{ Code string }
		_ = json.Unmarshal(r.body, &e)
		return e.Code
	}

	// No client certificate: 401.
	r, err := s.post(s.client(nil, nil), body("n", q), "application/json")
	if err != nil || r.status != 401 || code(r) != "client_certificate_required" {
		t.Errorf("no certificate: %d %s %v", r.status, r.body, err)
	}
	// A CA nobody registered: its CA is not among those the handshake asks for, so the client sends no
	// certificate (401), or the handshake fails if it sends one anyway.
	stranger := s.newPartner("BE", "", 0, 0)
	if r, err := s.post(stranger.httpClient, body("n", q), "application/json"); err == nil && (r.status != 401 || code(r) != "client_certificate_required") {
		t.Errorf("unregistered CA: %d %s", r.status, r.body)
	}

	// Two states: the CA registered for ATL is answered for a certificate of ATL (O=XA)...
	atl := s.newPartner("XA", "ATL", 100, 1000)
	s.ask(atl.httpClient, q)
	// ... and refused when that CA is registered under another state (LEM): 403.
	s.register("LEM", atl.ca, 100, 1000)
	_ = db.RemovePartner(s.ctx, s.owner, "ATL")
	time.Sleep(30 * time.Millisecond)
	mismatch := s.client(atl.cert, atl.key)
	r, err = s.post(mismatch, body("n", q), "application/json")
	if err != nil || r.status != 403 || code(r) != "partner_country_mismatch" {
		t.Errorf("country mismatch: %d %s %v", r.status, r.body, err)
	}
	// Removed from the registry while its connection is open: 401 on the next request.
	s.register("ATL", atl.ca, 100, 1000)
	_ = db.RemovePartner(s.ctx, s.owner, "LEM")
	kept := s.client(atl.cert, atl.key)
	s.ask(kept, q)
	_ = db.RemovePartner(s.ctx, s.owner, "ATL")
	time.Sleep(30 * time.Millisecond)
	r, err = s.post(kept, body("n", q), "application/json")
	if err != nil || r.status != 401 || code(r) != "invalid_client_certificate" {
		t.Errorf("removed partner on an open connection: %d %s %v", r.status, r.body, err)
	}

	// An expired partner certificate: refused.
	nld := s.newPartner("NL", "NLD", 100, 1000)
	c, k := expiredClient(t, nld.ca, "NL")
	if r, err := s.post(s.client(c, k), body("n", q), "application/json"); err == nil {
		t.Errorf("expired certificate: %d %s", r.status, r.body)
	}
	s.ask(nld.httpClient, q)

	// Partners call the cross-border routes only; staff roles other than border may not ask.
	for _, path := range []string{"/v1/openapi.json", "/v1/audit/verify"} {
		if r, err := s.get(nld.httpClient, path); err != nil || r.status != 403 || code(r) != "forbidden_role" {
			t.Errorf("partner GET %s: %d %s %v", path, r.status, r.body, err)
		}
	}
	clerk := s.staffClient("issuer1", "issuer")
	if r, err := s.post(clerk, body("n", q), "application/json"); err != nil || r.status != 403 {
		t.Errorf("approver asks: %d %s %v", r.status, r.body, err)
	}
	// A partner certificate may not smuggle staff roles: its role URIs are ignored.
	c, k, err = nld.ca.IssueClient(pki.ClientSpec{CommonName: "NLD auditor", Country: "NL", Roles: []string{"auditor"}})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := s.get(s.client(c, k), "/v1/audit/verify"); err != nil || r.status != 403 {
		t.Errorf("partner with an auditor role URI: %d %s %v", r.status, r.body, err)
	}
}

// expiredClient issues a client certificate under ca that expired a minute ago (pki refuses to).
func expiredClient(t *testing.T, ca *pki.TLSCA, country2 string) (certPEM, keyPEM []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "expired border system", Organization: []string{country2}},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Minute), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, k.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err = pki.MarshalKeyPEM(k)
	if err != nil {
		t.Fatal(err)
	}
	return pki.CertPEM(der), keyPEM
}

func TestRateLimitAndQuota(t *testing.T) {
	s := newStack(t)
	q := []crossborder.Query{{IssuingState: "UTO", DocumentNumber: "X", DateOfBirth: "740812", DateOfExpiry: "340415"}}
	slow := s.newPartner("DK", "DNK", 0.5, 1000)
	s.ask(slow.httpClient, q)
	r, err := s.post(slow.httpClient, body("n", q), "application/json")
	if err != nil || r.status != 429 || !strings.Contains(string(r.body), `"rate_limited"`) {
		t.Fatalf("second request: %d %s %v", r.status, r.body, err)
	}
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 2 {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}

	quota := s.newPartner("SE", "SWE", 100, 3)
	s.ask(quota.httpClient, queries(2, q[0]))
	before := len(s.auditRows("SWE"))
	r, err = s.post(quota.httpClient, body("n", queries(2, q[0])), "application/json")
	if err != nil || r.status != 429 || !strings.Contains(string(r.body), `"rate_limited"`) {
		t.Fatalf("over quota: %d %s %v", r.status, r.body, err)
	}
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 86400 {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if len(s.auditRows("SWE")) != before {
		t.Errorf("a refused request was audited as answered")
	}
	s.ask(quota.httpClient, q) // the third query still fits
}

func TestTrustLists(t *testing.T) {
	s := newStack(t)
	atl := s.newPartner("XA", "ATL", 100, 1000)
	for _, c := range []*http.Client{atl.httpClient, s.staffClient("issuer1", "issuer")} {
		ml, err := s.get(c, "/v1/trust/masterlist")
		if err != nil || ml.status != 200 || ml.header.Get("Content-Type") != crossborder.ContentTypeMasterList {
			t.Fatalf("master list: %d %s %v", ml.status, ml.header, err)
		}
		csca, err := cert.ParseCertificate(s.cscaDER)
		if err != nil {
			t.Fatal(err)
		}
		certs, err := verify.VerifyMasterList(ml.body, []*cert.Certificate{csca})
		if err != nil || len(certs) != 1 || !bytes.Equal(certs[0].Raw, s.cscaDER) {
			t.Errorf("master list: %d certificates, %v", len(certs), err)
		}
		crl, err := s.get(c, "/v1/trust/crl")
		if err != nil || crl.status != 200 || crl.header.Get("Content-Type") != crossborder.ContentTypeCRL {
			t.Fatalf("CRL: %d %v", crl.status, err)
		}
		rl, err := cert.ParseRevocationList(crl.body)
		if err != nil || !bytes.Equal(rl.RawIssuer, csca.RawSubject) {
			t.Errorf("CRL: %v", err)
		}
		ss, err := s.get(c, "/v1/trust/status-signer")
		if err != nil || ss.status != 200 || !bytes.Equal(ss.body, s.statusPEM) || ss.header.Get("Content-Type") != crossborder.ContentTypePEMChain {
			t.Errorf("status signer: %d %v", ss.status, err)
		}
	}
	if r, err := s.get(s.client(nil, nil), "/v1/trust/crl"); err != nil || r.status != 401 {
		t.Errorf("CRL without a certificate: %d %v", r.status, err)
	}
}

// Every CheckpointEvery rows the responder writes, it has a signed audit checkpoint written.
func TestCheckpointHook(t *testing.T) {
	var calls atomic.Int32
	headDir := t.TempDir()
	s := newStack(t, func(c *crossborder.ResponderConfig) {
		c.CheckpointEvery = 2
		c.Checkpoint = func(context.Context) error { calls.Add(1); return nil }
		c.AuditHeadDir = headDir
	})
	border := s.staffClient("border-post2", "border")
	q := []crossborder.Query{{IssuingState: "UTO", DocumentNumber: "X", DateOfBirth: "740812", DateOfExpiry: "340415"}}
	var heads []int64
	for i := 0; i < 5; i++ {
		s.ask(border, q)
		// Checkpoints run in the background: let each finish before the
		// next row, so the count is exact.
		for deadline := time.Now().Add(2 * time.Second); calls.Load() < int32((i+1)/2) && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		h, err := db.ReadHead(headDir)
		if err != nil || h == nil {
			t.Fatalf("audit head after request %d: %+v, %v", i+1, h, err)
		}
		heads = append(heads, h.Seq)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d checkpoints after 5 audit rows, want 2", n)
	}
	for i := 1; i < len(heads); i++ {
		if heads[i] <= heads[i-1] {
			t.Errorf("the audit head did not advance with each answered request: %v", heads)
		}
	}
}

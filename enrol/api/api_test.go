package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"borderid/enrol"
	"borderid/enrol/biometric"
)

const testID = "0b8f5a0c-3c57-4a49-9a0e-6f3f1d2e9a11"

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	t    *testing.T
	ca   *testCA
	svc  *fakeService
	srv  *Server
	ts   *httptest.Server
	logs *syncBuffer
	tls  *tls.Config
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ca := newTestCA(t, "UT staff TLS CA")
	certPEM, keyPEM := ca.server(t)
	tlsCfg, err := TLSConfig(certPEM, keyPEM, ca.pem)
	if err != nil {
		t.Fatal(err)
	}
	svc := &fakeService{id: testID}
	logs := &syncBuffer{}
	srv, err := New(Config{
		Service:   svc,
		ClientCAs: tlsCfg.ClientCAs,
		Logger:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.TLS = tlsCfg
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are expected in some tests
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return &env{t: t, ca: ca, svc: svc, srv: srv, ts: ts, logs: logs, tls: tlsCfg}
}

// clientTLS is the client side: trusts the test CA, presents cert when given.
func (e *env) clientTLS(certs ...tls.Certificate) *tls.Config {
	roots := x509.NewCertPool()
	roots.AddCert(e.ca.cert)
	return &tls.Config{RootCAs: roots, Certificates: certs, ServerName: "127.0.0.1"}
}

func (e *env) client(spec *clientSpec) *http.Client {
	var certs []tls.Certificate
	if spec != nil {
		certs = append(certs, e.ca.client(e.t, *spec))
	}
	tr := &http.Transport{TLSClientConfig: e.clientTLS(certs...)}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) errorBody(t *testing.T) errorBody {
	t.Helper()
	var eb errorBody
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&eb); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	if eb.Code == "" || eb.Message == "" {
		t.Fatalf("error body %q lacks code or message", r.body)
	}
	return eb
}

func (e *env) do(c *http.Client, method, path, contentType string, body []byte) reply {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

var (
	clerk    = office("clerk-office1", "office1", enrol.RoleClerk)
	approver = office("approver-office1", "office1", enrol.RoleApprover)
	issuer   = national("issuer", enrol.RoleIssuer)
	auditor  = national("auditor", enrol.RoleAuditor)
	border   = national("border-post1", enrol.RoleBorder)
	noRole   = national("nobody")
)

func principalFor(s clientSpec) enrol.Principal {
	p := enrol.Principal{Subject: s.cn, Roles: s.roles, Country: s.o[0]}
	if len(s.ou) == 1 {
		p.Office = s.ou[0]
	}
	return p
}

const validApplication = `{"surname":"ERIKSSON","given_names":"ANNA MARIA","sex":"F","date_of_birth":"1974-08-12","nationality":"UTO","document_type":"P"}`

var wantApplication = enrol.NewApplication{Surname: "ERIKSSON", GivenNames: "ANNA MARIA", Sex: "F", DateOfBirth: "1974-08-12", Nationality: "UTO", DocumentType: "P"}

func TestHealthzWithoutCertificate(t *testing.T) {
	e := newEnv(t)
	r := e.do(e.client(nil), "GET", "/healthz", "", nil)
	if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"status":"ok"}` {
		t.Fatalf("healthz = %d %s", r.status, r.body)
	}
	checkSecurityHeaders(t, r)
	conforms(t, "Health", r.body)
	if calls := e.svc.Calls(); len(calls) != 0 {
		t.Fatalf("healthz called the service: %v", calls)
	}
}

func checkSecurityHeaders(t *testing.T, r reply) {
	t.Helper()
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}
	if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
}

// An anonymous client gets a budget of audited refusals per address; past
// it, 429 with Retry-After and no audit write, so it cannot flood the
// append-only log or stall the audit chain for everyone else.
func TestAnonymousRefusalsAreBudgeted(t *testing.T) {
	e := newEnv(t)
	c := e.client(nil)
	before := len(e.svc.denials())
	var got401, got429 int
	for i := 0; i < 60; i++ {
		r := e.do(c, http.MethodGet, "/v1/enrollments/"+testID, "", nil)
		switch r.status {
		case http.StatusUnauthorized:
			got401++
		case http.StatusTooManyRequests:
			got429++
			if r.header.Get("Retry-After") == "" || r.errorBody(t).Code != "rate_limited" {
				t.Fatalf("429 without Retry-After or code: %v %s", r.header, r.body)
			}
		default:
			t.Fatalf("status %d %s", r.status, r.body)
		}
	}
	denied := len(e.svc.denials()) - before
	if got429 == 0 || denied != got401 || denied > anonAuditBurst+5 {
		t.Errorf("60 anonymous requests: %d audited 401, %d 429, %d denials written", got401, got429, denied)
	}
}

// Every route but /healthz, and paths that match no route, answer 401 without a client certificate, and the
// refusal reaches the audit through Deny.
func TestNoCertificateIs401AndAudited(t *testing.T) {
	e := newEnv(t)
	c := e.client(nil)
	paths := map[string]string{}
	for _, rt := range e.srv.routeTable() {
		if rt.public {
			continue
		}
		path := strings.NewReplacer("{id}", testID, "{position}", "3", "{number}", "L898902C3").Replace(rt.path)
		paths[rt.method+" "+path] = rt.action
	}
	paths["GET /v1/nothing-here"] = "unknown_route"
	paths["POST /healthz"] = "unknown_route"
	for mp, action := range paths {
		method, path, _ := strings.Cut(mp, " ")
		t.Run(mp, func(t *testing.T) {
			before := len(e.svc.denials())
			r := e.do(c, method, path, "application/json", []byte(validApplication))
			if r.status != http.StatusUnauthorized || r.errorBody(t).Code != "client_certificate_required" {
				t.Fatalf("got %d %s", r.status, r.body)
			}
			checkSecurityHeaders(t, r)
			d := e.svc.denials()
			if len(d) != before+1 {
				t.Fatalf("denials %d -> %d", before, len(d))
			}
			last := d[len(d)-1]
			// An anonymous denial never names a record (nobody can stuff
			// a person's access log from outside).
			if !reflect.DeepEqual(last.p, enrol.Principal{}) || !reflect.DeepEqual(last.args, []any{action, "", "client_certificate_required"}) {
				t.Fatalf("Deny(%+v, %v)", last.p, last.args)
			}
		})
	}
	if w := e.svc.work(); len(w) != 0 {
		t.Fatalf("service called without a certificate: %v", w)
	}
}

func TestOtherCAOrOldTLSFailsHandshake(t *testing.T) {
	e := newEnv(t)
	other := newTestCA(t, "someone else's CA")
	cert := other.client(t, clientSpec{cn: "mallory", o: []string{"UT"}, ou: []string{"office1"}, roles: []string{enrol.RoleClerk}})
	expired := e.ca.client(t, clientSpec{cn: "old", o: []string{"UT"}, ou: []string{"office1"}, roles: []string{enrol.RoleClerk}, notAfter: time.Now().Add(-time.Minute)})
	// A client presenting a certificate of a CA the server did not list anyway (Go's client would otherwise
	// just send none and get 401).
	force := func(c tls.Certificate) *tls.Config {
		cfg := e.clientTLS()
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c, nil }
		return cfg
	}
	for name, cfg := range map[string]*tls.Config{
		"other CA":                       force(cert),
		"other CA, intermediate-looking": force(other.client(t, clientSpec{cn: "UT staff TLS CA", o: []string{"UT"}, roles: []string{enrol.RoleAuditor}})),
		"expired":                        e.clientTLS(expired),
		"TLS 1.2 only":                   func() *tls.Config { c := e.clientTLS(e.ca.client(t, clerk)); c.MaxVersion = tls.VersionTLS12; return c }(),
	} {
		t.Run(name, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: cfg}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr}).Get(e.ts.URL + "/v1/enrollments/" + testID)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("request succeeded with status %d", resp.StatusCode)
			}
		})
	}
	if c := e.svc.Calls(); len(c) != 0 {
		t.Fatalf("service called: %v", c)
	}
}

// Each route with each role: a role the route does not allow gets 403 forbidden_role, audited, and the
// service does no work.
func TestRoleMatrix(t *testing.T) {
	e := newEnv(t)
	specs := map[string]clientSpec{
		enrol.RoleClerk: clerk, enrol.RoleApprover: approver, enrol.RoleIssuer: issuer, enrol.RoleAuditor: auditor, enrol.RoleBorder: border, "none": noRole,
	}
	clients := map[string]*http.Client{}
	for name, s := range specs {
		clients[name] = e.client(&s)
	}
	for _, rt := range e.srv.routeTable() {
		if rt.public {
			continue
		}
		path := strings.NewReplacer("{id}", testID, "{position}", "3", "{number}", "L898902C3").Replace(rt.path)
		for name, c := range clients {
			allowed := rt.roles == nil || slices.Contains(rt.roles, name)
			t.Run(rt.action+"/"+name, func(t *testing.T) {
				before, work := len(e.svc.denials()), len(e.svc.work())
				r := e.do(c, rt.method, path, "application/x-never-read", []byte("x"))
				if allowed {
					if r.status == http.StatusForbidden || r.status == http.StatusUnauthorized {
						t.Fatalf("allowed role refused: %d %s", r.status, r.body)
					}
					return
				}
				if r.status != http.StatusForbidden || r.errorBody(t).Code != "forbidden_role" {
					t.Fatalf("got %d %s", r.status, r.body)
				}
				if len(e.svc.work()) != work {
					t.Fatal("the service did work for a refused role")
				}
				d := e.svc.denials()
				if len(d) != before+1 {
					t.Fatalf("denial not audited")
				}
				last := d[len(d)-1]
				if !reflect.DeepEqual(last.p, principalFor(specs[name])) || !reflect.DeepEqual(last.args, []any{rt.action, testIDIf(path), "forbidden_role"}) {
					t.Fatalf("Deny(%+v, %v)", last.p, last.args)
				}
			})
		}
	}
}

func testIDIf(path string) string {
	if strings.Contains(path, testID) {
		return testID
	}
	return ""
}

// The role is checked before a byte of the body is read.
func TestForbiddenRoleReadsNoBody(t *testing.T) {
	e := newEnv(t)
	cert := e.ca.client(t, auditor)
	var read atomic.Bool
	body := readerFunc(func(p []byte) (int, error) { read.Store(true); return 0, io.EOF })
	req := httptest.NewRequest("PUT", "/v1/enrollments/"+testID+"/biometrics/face", io.NopCloser(body))
	req.Header.Set("Content-Type", "image/jpeg")
	req.ContentLength = 10
	req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert.Leaf}, VerifiedChains: [][]*x509.Certificate{{cert.Leaf, e.ca.cert}}}
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusForbidden {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	if read.Load() {
		t.Fatal("the body was read before the role check")
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// A request that reaches the handler without verified TLS state (a misconfigured tls.Config) is refused.
func TestUnverifiedPeerCertificateRefused(t *testing.T) {
	e := newEnv(t)
	cert := e.ca.client(t, clerk)
	req := httptest.NewRequest("GET", "/v1/enrollments/"+testID, nil)
	req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert.Leaf}}
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "invalid_client_certificate") {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	// A certificate of another CA smuggled in as "verified" (a TLS pool that holds more CAs than the staff
	// CA) is refused by StaffAuthenticator.
	other := newTestCA(t, "partner CA")
	pc := other.client(t, clerk)
	req = httptest.NewRequest("GET", "/v1/enrollments/"+testID, nil)
	req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{pc.Leaf}, VerifiedChains: [][]*x509.Certificate{{pc.Leaf, other.cert}}}
	w = httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "invalid_client_certificate") {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	if w := e.svc.work(); len(w) != 0 {
		t.Fatalf("service called: %v", w)
	}
	if d := e.svc.denials(); len(d) != 2 || d[1].p.Subject != "unverified:clerk-office1" || d[1].args[2] != "invalid_client_certificate" {
		t.Fatalf("denials %+v", d)
	}
}

func TestHappyPaths(t *testing.T) {
	since := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	created := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	face := []byte("\xff\xd8\xff\xe0 pretend JPEG")
	cases := []struct {
		name         string
		spec         clientSpec
		method, path string
		ct           string
		body         []byte
		status       int
		method2      string
		args         []any
		schema       string // openapi.json schema of the response body
		check        func(t *testing.T, r reply)
	}{
		{
			name: "create", spec: clerk, method: "POST", path: "/v1/enrollments", ct: "application/json", body: []byte(validApplication),
			schema: "Created", status: 201, method2: "Create", args: []any{wantApplication},
			check: func(t *testing.T, r reply) {
				if string(r.body) != `{"id":"`+testID+`"}` || r.header.Get("Location") != "/v1/enrollments/"+testID {
					t.Fatalf("%s %v", r.body, r.header)
				}
			},
		},
		{
			name: "create charset", spec: clerk, method: "POST", path: "/v1/enrollments", ct: "application/json; charset=UTF-8",
			body:   []byte(" \n" + `{"document_type":"PO","nationality":"D","sex":"X","date_of_birth":"2000-02-29","surname":"MÜLLER"}` + "\n"),
			status: 201, method2: "Create", args: []any{enrol.NewApplication{Surname: "MÜLLER", Sex: "X", DateOfBirth: "2000-02-29", Nationality: "D", DocumentType: "PO"}},
		},
		{
			name: "face jpeg", spec: clerk, method: "PUT", path: "/v1/enrollments/" + strings.ToUpper(testID) + "/biometrics/face", ct: "image/jpeg", body: face,
			status: 204, method2: "PutFace", args: []any{testID, "image/jpeg", face},
		},
		{
			name: "face 19794-5", spec: clerk, method: "PUT", path: "/v1/enrollments/" + testID + "/biometrics/face", ct: "application/x-iso19794-5", body: []byte("FAC\x00"),
			status: 204, method2: "PutFace", args: []any{testID, "application/x-iso19794-5", []byte("FAC\x00")},
		},
		{
			name: "face jp2", spec: clerk, method: "PUT", path: "/v1/enrollments/" + testID + "/biometrics/face", ct: "IMAGE/JP2", body: []byte("jp2"),
			status: 204, method2: "PutFace", args: []any{testID, "image/jp2", []byte("jp2")},
		},
		{
			name: "finger", spec: clerk, method: "PUT", path: "/v1/enrollments/" + testID + "/biometrics/fingers/10", ct: "application/x-iso19794-4", body: []byte("FIR\x00"),
			status: 204, method2: "PutFinger", args: []any{testID, 10, "application/x-iso19794-4", []byte("FIR\x00")},
		},
		{
			name: "minutiae", spec: clerk, method: "PUT", path: "/v1/enrollments/" + testID + "/biometrics/fingers/1/minutiae", ct: "application/x-iso19794-2", body: []byte("FMR\x00"),
			status: 204, method2: "PutMinutiae", args: []any{testID, 1, "application/x-iso19794-2", []byte("FMR\x00")},
		},
		{
			name: "finalize", spec: clerk, method: "PUT", path: "/v1/enrollments/" + testID + "/finalize",
			status: 204, method2: "Finalize", args: []any{testID},
		},
		{
			name: "finalize with {}", spec: clerk, method: "PUT", path: "/v1/enrollments/" + testID + "/finalize", ct: "application/json", body: []byte(" {} "),
			status: 204, method2: "Finalize", args: []any{testID},
		},
		{
			name: "approve", spec: approver, method: "POST", path: "/v1/enrollments/" + testID + "/approve",
			status: 204, method2: "Approve", args: []any{testID},
		},
		{
			name: "issue by issuer", spec: issuer, method: "POST", path: "/v1/enrollments/" + testID + "/issue",
			schema: "Issued", status: 200, method2: "Issue", args: []any{testID},
			check: func(t *testing.T, r reply) {
				if string(r.body) != `{"document_number":"L898902C3","chip_id":"c0ffee"}` {
					t.Fatalf("%s", r.body)
				}
			},
		},
		{
			name: "issue by approver", spec: approver, method: "POST", path: "/v1/enrollments/" + testID + "/issue",
			schema: "Issued", status: 200, method2: "Issue", args: []any{testID},
		},
		{
			name: "get", spec: clerk, method: "GET", path: "/v1/enrollments/" + testID,
			schema: "Application", status: 200, method2: "Get", args: []any{testID},
			check: func(t *testing.T, r reply) {
				want := `{"id":"` + testID + `","office":"office1","state":"draft","surname":"ERIKSSON","given_names":"ANNA MARIA","sex":"F","date_of_birth":"1974-08-12","nationality":"UTO","document_type":"P","created_at":"2026-11-27T08:00:00Z","biometrics":[{"kind":"face","format":"JPEG","bytes":20480},{"kind":"finger","position":3,"format":"WSQ","bytes":1000}]}`
				if string(r.body) != want {
					t.Fatalf("got  %s\nwant %s", r.body, want)
				}
			},
		},
		{
			name: "get face", spec: approver, method: "GET", path: "/v1/enrollments/" + testID + "/biometrics/face?purpose=second+look+%C3%A0+la+photo",
			status: 200, method2: "GetFace", args: []any{testID, "second look à la photo"},
			check: func(t *testing.T, r reply) {
				if !bytes.Equal(r.body, face) || r.header.Get("Content-Type") != "image/jpeg" || r.header.Get("Content-Disposition") != "attachment" {
					t.Fatalf("%q %v", r.body, r.header)
				}
			},
		},
		{
			name: "document status", spec: approver, method: "PUT", path: "/v1/documents/L898902C3/status", ct: "application/json", body: []byte(`{"status":"STOLEN","since":"2026-01-02"}`),
			status: 204, method2: "SetDocumentStatus", args: []any{"L898902C3", "STOLEN", since},
		},
		{
			name: "access log", spec: auditor, method: "GET", path: "/v1/enrollments/" + testID + "/access-log",
			schema: "AccessLog", status: 200, method2: "AccessLog", args: []any{testID},
			check: func(t *testing.T, r reply) {
				want := `{"entries":[{"at":"2026-11-27T08:00:00Z","actor":"approver-office1","role":"approver","office":"office1","action":"read_face","purpose":"check","outcome":"ok"}]}`
				if string(r.body) != want {
					t.Fatalf("got  %s\nwant %s", r.body, want)
				}
			},
		},
		{
			name: "audit verify", spec: auditor, method: "GET", path: "/v1/audit/verify",
			schema: "AuditReport", status: 200, method2: "VerifyAudit",
			check: func(t *testing.T, r reply) {
				if string(r.body) != `{"ok":true,"rows":42,"checkpoints":3,"last_seq":42,"problems":[]}` {
					t.Fatalf("%s", r.body)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.svc.issued = enrol.IssueResult{DocumentNumber: "L898902C3", ChipID: "c0ffee"}
			e.svc.app = &enrol.Application{ID: testID, Office: "office1", State: "draft", NewApplication: wantApplication, CreatedAt: created.In(time.FixedZone("X", 3600)),
				Biometrics: []enrol.BiometricSummary{{Kind: "face", Format: "JPEG", Bytes: 20480}, {Kind: "finger", Position: 3, Format: "WSQ", Bytes: 1000}}}
			e.svc.face, e.svc.faceCT = face, "image/jpeg"
			e.svc.entries = []enrol.AccessEntry{{At: created, Actor: "approver-office1", Role: "approver", Office: "office1", Action: "read_face", Purpose: "check", Outcome: "ok"}}
			e.svc.report = &enrol.AuditReport{Rows: 42, Checkpoints: 3, OK: true, LastSeq: 42}
			r := e.do(e.client(&tc.spec), tc.method, tc.path, tc.ct, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			checkSecurityHeaders(t, r)
			calls := e.svc.Calls()
			if len(calls) != 1 || calls[0].method != tc.method2 {
				t.Fatalf("calls %+v", calls)
			}
			if want := principalFor(tc.spec); !reflect.DeepEqual(calls[0].p, want) {
				t.Fatalf("principal %+v, want %+v", calls[0].p, want)
			}
			if !reflect.DeepEqual(calls[0].args, tc.args) && !(len(calls[0].args) == 0 && len(tc.args) == 0) {
				t.Fatalf("args %#v, want %#v", calls[0].args, tc.args)
			}
			if tc.schema != "" {
				conforms(t, tc.schema, r.body)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// Malformed and invalid requests get the right 4xx with {code, message} and never reach the service.
func TestRefusals(t *testing.T) {
	e := newEnv(t)
	clients := map[string]*http.Client{}
	for _, s := range []clientSpec{clerk, approver, auditor} {
		clients[s.cn] = e.client(&s)
	}
	enr := "/v1/enrollments"
	face := enr + "/" + testID + "/biometrics/face"
	status := "/v1/documents/L898902C3/status"
	app := func(mod func(m map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal([]byte(validApplication), &m)
		mod(m)
		b, _ := json.Marshal(m)
		return b
	}
	cases := []struct {
		name, who, method, path, ct string
		body                        []byte
		status                      int
		code                        string
	}{
		{"malformed json", "clerk-office1", "POST", enr, "application/json", []byte(`{"surname":"A",`), 400, "malformed_json"},
		{"trailing data", "clerk-office1", "POST", enr, "application/json", []byte(validApplication + `{}`), 400, "malformed_json"},
		{"trailing garbage", "clerk-office1", "POST", enr, "application/json", []byte(validApplication + ` x`), 400, "malformed_json"},
		{"invalid utf-8", "clerk-office1", "POST", enr, "application/json", []byte(`{"surname":"` + "\xff" + `"}`), 400, "malformed_json"},
		{"not an object", "clerk-office1", "POST", enr, "application/json", []byte(`["surname"]`), 422, "invalid_body"},
		{"null", "clerk-office1", "POST", enr, "application/json", []byte(`null`), 422, "invalid_body"},
		{"unknown field", "clerk-office1", "POST", enr, "application/json", app(func(m map[string]any) { m["is_admin"] = "yes" }), 422, "unknown_field"},
		{"field in other case", "clerk-office1", "POST", enr, "application/json", []byte(strings.Replace(validApplication, `"surname"`, `"Surname"`, 1)), 422, "unknown_field"},
		{"duplicate field", "clerk-office1", "POST", enr, "application/json", []byte(strings.Replace(validApplication, `"sex":"F"`, `"sex":"F","sex":"M"`, 1)), 422, "duplicate_field"},
		{"number for string", "clerk-office1", "POST", enr, "application/json", app(func(m map[string]any) { m["sex"] = 1 }), 422, "invalid_type"},
		{"null for string", "clerk-office1", "POST", enr, "application/json", app(func(m map[string]any) { m["surname"] = nil }), 422, "invalid_type"},
		{"missing surname", "clerk-office1", "POST", enr, "application/json", app(func(m map[string]any) { delete(m, "surname") }), 422, "missing_field"},
		{"blank surname", "clerk-office1", "POST", enr, "application/json", app(func(m map[string]any) { m["surname"] = "  " }), 422, "missing_field"},
		{"control character", "clerk-office1", "POST", enr, "application/json", app(func(m map[string]any) { m["surname"] = "A\u0000B" }), 422, "invalid_characters"},
		{"long name", "clerk-office1", "POST", enr, "application/json", app(func(m map[string]any) { m["given_names"] = strings.Repeat("A", 201) }), 422, "invalid_given_names"},
		{"long surname", "clerk-office1", "POST", enr, "application/json", app(func(m map[string]any) { m["surname"] = strings.Repeat("A", 201) }), 422, "invalid_surname"},
		{"february 30", "clerk-office1", "POST", enr, "application/json", app(func(m map[string]any) { m["date_of_birth"] = "1974-02-30" }), 422, "invalid_date"},
		{"1900-02-29", "clerk-office1", "POST", enr, "application/json", app(func(m map[string]any) { m["date_of_birth"] = "1900-02-29" }), 422, "invalid_date"},
		{"date with time", "clerk-office1", "POST", enr, "application/json", app(func(m map[string]any) { m["date_of_birth"] = "1974-08-12T00:00:00Z" }), 422, "invalid_date"},
		{"short date", "clerk-office1", "POST", enr, "application/json", app(func(m map[string]any) { m["date_of_birth"] = "1974-8-12" }), 422, "invalid_date"},
		{"month 13", "clerk-office1", "POST", enr, "application/json", app(func(m map[string]any) { m["date_of_birth"] = "1974-13-01" }), 422, "invalid_date"},
		{"sex", "clerk-office1", "POST", enr, "application/json", app(func(m map[string]any) { m["sex"] = "f" }), 422, "invalid_sex"},
		{"nationality lower", "clerk-office1", "POST", enr, "application/json", app(func(m map[string]any) { m["nationality"] = "uto" }), 422, "invalid_nationality"},
		{"nationality filler", "clerk-office1", "POST", enr, "application/json", app(func(m map[string]any) { m["nationality"] = "D<<" }), 422, "invalid_nationality"},
		{"nationality two letters", "clerk-office1", "POST", enr, "application/json", app(func(m map[string]any) { m["nationality"] = "UT" }), 422, "invalid_nationality"},
		{"document type", "clerk-office1", "POST", enr, "application/json", app(func(m map[string]any) { m["document_type"] = "I" }), 422, "invalid_document_type"},
		{"document type long", "clerk-office1", "POST", enr, "application/json", app(func(m map[string]any) { m["document_type"] = "PAB" }), 422, "invalid_document_type"},
		{"json as text", "clerk-office1", "POST", enr, "text/plain", []byte(validApplication), 415, "unsupported_media_type"},
		{"json without type", "clerk-office1", "POST", enr, "", []byte(validApplication), 415, "unsupported_media_type"},
		{"json latin1", "clerk-office1", "POST", enr, "application/json; charset=latin1", []byte(validApplication), 415, "unsupported_media_type"},
		{"empty json", "clerk-office1", "POST", enr, "application/json", []byte{}, 422, "empty_body"},
		{"json too large", "clerk-office1", "POST", enr, "application/json", bytes.Repeat([]byte(" "), DefaultMaxJSONBody+1), 413, "body_too_large"},
		{"face as png", "clerk-office1", "PUT", face, "image/png", []byte("png"), 415, "unsupported_media_type"},
		{"face as finger", "clerk-office1", "PUT", face, "application/x-iso19794-4", []byte("FIR"), 415, "unsupported_media_type"},
		{"face with charset", "clerk-office1", "PUT", face, "image/jpeg; charset=utf-8", []byte("x"), 415, "unsupported_media_type"},
		{"finger as face", "clerk-office1", "PUT", enr + "/" + testID + "/biometrics/fingers/2", "image/jpeg", []byte("x"), 415, "unsupported_media_type"},
		{"minutiae as image", "clerk-office1", "PUT", enr + "/" + testID + "/biometrics/fingers/2/minutiae", "application/x-iso19794-4", []byte("x"), 415, "unsupported_media_type"},
		{"empty face", "clerk-office1", "PUT", face, "image/jpeg", []byte{}, 422, "empty_body"},
		{"face too large", "clerk-office1", "PUT", face, "image/jpeg", make([]byte, DefaultMaxBody+1), 413, "body_too_large"},
		{"face over its kind's cap", "clerk-office1", "PUT", face, "image/jpeg", make([]byte, biometric.MaxFaceBytes+1), 413, "body_too_large"},
		{"finger over its kind's cap", "clerk-office1", "PUT", enr + "/" + testID + "/biometrics/fingers/4", "application/x-iso19794-4", make([]byte, biometric.MaxFingerBytes+1), 413, "body_too_large"},
		{"minutiae over its kind's cap", "clerk-office1", "PUT", enr + "/" + testID + "/biometrics/fingers/4/minutiae", "application/x-iso19794-2", make([]byte, biometric.MaxFingerBytes+1), 413, "body_too_large"},
		{"id not uuid", "clerk-office1", "PUT", enr + "/12345/biometrics/face", "image/jpeg", []byte("x"), 404, "not_found"},
		{"id with braces", "clerk-office1", "GET", enr + "/{" + testID + "}", "", nil, 404, "not_found"},
		{"id sql", "clerk-office1", "GET", enr + "/'%20OR%201=1--", "", nil, 404, "not_found"},
		{"position 0", "clerk-office1", "PUT", enr + "/" + testID + "/biometrics/fingers/0", "application/x-iso19794-4", []byte("x"), 404, "not_found"},
		{"position 11", "clerk-office1", "PUT", enr + "/" + testID + "/biometrics/fingers/11", "application/x-iso19794-4", []byte("x"), 404, "not_found"},
		{"position 01", "clerk-office1", "PUT", enr + "/" + testID + "/biometrics/fingers/01", "application/x-iso19794-4", []byte("x"), 404, "not_found"},
		{"position +1", "clerk-office1", "PUT", enr + "/" + testID + "/biometrics/fingers/+1/minutiae", "application/x-iso19794-2", []byte("x"), 404, "not_found"},
		{"unknown route", "clerk-office1", "GET", "/v1/enrollments/" + testID + "/secrets", "", nil, 404, "not_found"},
		{"wrong method", "clerk-office1", "DELETE", enr + "/" + testID, "", nil, 405, "method_not_allowed"},
		{"finalize with body", "clerk-office1", "PUT", enr + "/" + testID + "/finalize", "application/json", []byte(`{"force":"yes"}`), 422, "unknown_field"},
		{"finalize with text", "clerk-office1", "PUT", enr + "/" + testID + "/finalize", "text/plain", []byte(`go`), 415, "unsupported_media_type"},
		{"purpose missing", "approver-office1", "GET", face, "", nil, 422, "purpose_required"},
		{"purpose blank", "approver-office1", "GET", face + "?purpose=%20", "", nil, 422, "purpose_required"},
		{"purpose twice", "approver-office1", "GET", face + "?purpose=a&purpose=b", "", nil, 422, "duplicate_parameter"},
		{"purpose control", "approver-office1", "GET", face + "?purpose=a%0Ab", "", nil, 422, "invalid_purpose"},
		{"purpose invalid utf-8", "approver-office1", "GET", face + "?purpose=a%FFb", "", nil, 422, "invalid_purpose"},
		{"purpose long", "approver-office1", "GET", face + "?purpose=" + strings.Repeat("a", 513), "", nil, 422, "invalid_purpose"},
		{"unknown parameter", "approver-office1", "GET", enr + "/" + testID + "?expand=biometrics", "", nil, 422, "unknown_parameter"},
		{"malformed query", "approver-office1", "GET", enr + "/" + testID + "?a=%zz", "", nil, 400, "malformed_query"},
		{"status unknown", "approver-office1", "PUT", status, "application/json", []byte(`{"status":"VALID","since":"2026-01-02"}`), 422, "invalid_status"},
		{"status lower", "approver-office1", "PUT", status, "application/json", []byte(`{"status":"lost","since":"2026-01-02"}`), 422, "invalid_status"},
		{"status no since", "approver-office1", "PUT", status, "application/json", []byte(`{"status":"LOST"}`), 422, "missing_field"},
		{"status bad since", "approver-office1", "PUT", status, "application/json", []byte(`{"status":"LOST","since":"2026-02-29"}`), 422, "invalid_date"},
		{"status extra", "approver-office1", "PUT", status, "application/json", []byte(`{"status":"LOST","since":"2026-01-02","note":"x"}`), 422, "unknown_field"},
		{"document number lower", "approver-office1", "PUT", "/v1/documents/l898902c3/status", "application/json", []byte(`{"status":"LOST","since":"2026-01-02"}`), 404, "not_found"},
		{"document number long", "approver-office1", "PUT", "/v1/documents/L898902C30/status", "application/json", []byte(`{"status":"LOST","since":"2026-01-02"}`), 404, "not_found"},
		{"document number filler", "approver-office1", "PUT", "/v1/documents/L898%3C%3C/status", "application/json", []byte(`{"status":"LOST","since":"2026-01-02"}`), 404, "not_found"},
		{"auditor bad id", "auditor", "GET", enr + "/nope/access-log", "", nil, 404, "not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(clients[tc.who], tc.method, tc.path, tc.ct, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if got := r.errorBody(t).Code; got != tc.code {
				t.Fatalf("code %q, want %q (%s)", got, tc.code, r.body)
			}
			if r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("Content-Type %q", r.header.Get("Content-Type"))
			}
			conforms(t, "Error", r.body)
			checkSecurityHeaders(t, r)
		})
	}
	if w := e.svc.work(); len(w) != 0 {
		t.Fatalf("the service was called: %+v", w)
	}
	if d := e.svc.denials(); len(d) != 0 {
		t.Fatalf("malformed requests of allowed roles were reported as denials: %+v", d)
	}
}

// rawRequest opens a TLS connection with a clerk certificate for requests written by hand.
func (e *env) rawConn(t *testing.T) *tls.Conn {
	t.Helper()
	conn, err := tls.Dial("tcp", e.ts.Listener.Addr().String(), e.clientTLS(e.ca.client(t, clerk)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// A 50 MB upload that declares its length is refused before the server reads any of it: the client sends
// the headers only and gets 413.
func TestHugeBodyRefusedBeforeReading(t *testing.T) {
	e := newEnv(t)
	conn := e.rawConn(t)
	fmt.Fprintf(conn, "PUT /v1/enrollments/%s/biometrics/face HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n", testID, 50<<20)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), `"body_too_large"`) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if !resp.Close {
		t.Error("the server keeps the connection open with 50 MB unread")
	}
	if w := e.svc.work(); len(w) != 0 {
		t.Fatalf("service called: %v", w)
	}
}

// A 50 MB upload without a declared length (chunked) is cut off at the cap: the server answers 413 and
// closes the connection; what the client managed to write is the cap plus socket buffers, not 50 MB.
func TestHugeChunkedBodyCutOff(t *testing.T) {
	e := newEnv(t)
	conn := e.rawConn(t)
	fmt.Fprintf(conn, "PUT /v1/enrollments/%s/biometrics/face HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n", testID)
	var written atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		chunk := make([]byte, 64<<10)
		head := []byte(fmt.Sprintf("%x\r\n", len(chunk)))
		for written.Load() < 50<<20 {
			conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := conn.Write(head); err != nil {
				return
			}
			if _, err := conn.Write(chunk); err != nil {
				return
			}
			if _, err := conn.Write([]byte("\r\n")); err != nil {
				return
			}
			written.Add(int64(len(chunk)))
		}
		conn.Write([]byte("0\r\n\r\n"))
	}()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), `"body_too_large"`) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	conn.Close()
	<-done
	if n := written.Load(); n >= 24<<20 {
		t.Fatalf("the server read %d bytes of a body capped at %d", n, DefaultMaxBody)
	}
	if w := e.svc.work(); len(w) != 0 {
		t.Fatalf("service called: %v", w)
	}
}

func TestServiceErrorsMapped(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		code   string
		msg    string
	}{
		{"enrol.Error not found", enrol.Errorf(enrol.ErrNotFound, "not_found", "no such enrollment"), 404, "not_found", "no such enrollment"},
		{"wrapped self approval", fmt.Errorf("approve: %w", enrol.Errorf(enrol.ErrForbidden, "self_approval", "you finalized this application")), 403, "self_approval", "you finalized this application"},
		{"conflict", enrol.Errorf(enrol.ErrConflict, "wrong_state", "the application is not finalized"), 409, "wrong_state", "the application is not finalized"},
		{"too large", enrol.Errorf(enrol.ErrTooLarge, "too_large", "the face is over 2 MiB"), 413, "too_large", "the face is over 2 MiB"},
		{"invalid", enrol.Errorf(enrol.ErrInvalid, "aspect_ratio", "the face must be portrait, about 3:4"), 422, "aspect_ratio", "the face must be portrait, about 3:4"},
		{"media type", &enrol.Error{Status: 415, Code: "unsupported_media_type", Message: "this is a PNG", Err: enrol.ErrInvalid}, 415, "unsupported_media_type", "this is a PNG"},
		{"bare sentinel", enrol.ErrConflict, 409, "conflict", ""},
		{"wrapped sentinel", fmt.Errorf("x: %w", enrol.ErrNotFound), 404, "not_found", ""},
		{"unauthenticated", enrol.ErrUnauthenticated, 401, "unauthenticated", ""},
		{"unknown", errors.New("pq: password authentication failed for user \"app_secret_user\""), 500, "internal", "internal error"},
		{"enrol.Error 5xx", &enrol.Error{Status: 503, Code: "hsm_down", Message: "slot 0 PIN app_secret_user"}, 500, "internal", "internal error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.svc.err = tc.err
			r := e.do(e.client(&clerk), "GET", "/v1/enrollments/"+testID, "", nil)
			eb := r.errorBody(t)
			if r.status != tc.status || eb.Code != tc.code || (tc.msg != "" && eb.Message != tc.msg) {
				t.Fatalf("got %d %+v", r.status, eb)
			}
			if strings.Contains(string(r.body), "app_secret_user") {
				t.Fatal("internal detail leaked to the client")
			}
			if tc.status == 500 && !strings.Contains(e.logs.String(), "app_secret_user") {
				t.Fatalf("internal error not logged: %s", e.logs)
			}
		})
	}
}

// A panic in the service becomes 500 internal, logged, with nothing of it in the response.
func TestPanicIs500(t *testing.T) {
	e := newEnv(t)
	e.svc.panicWith = "boom app_secret_user"
	r := e.do(e.client(&clerk), "GET", "/v1/enrollments/"+testID, "", nil)
	if r.status != 500 || r.errorBody(t).Code != "internal" || strings.Contains(string(r.body), "app_secret_user") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	checkSecurityHeaders(t, r)
	if !strings.Contains(e.logs.String(), "boom app_secret_user") {
		t.Fatal("panic not logged")
	}
	// The server goes on serving.
	e.svc.panicWith = ""
	e.svc.app = &enrol.Application{ID: testID}
	if r := e.do(e.client(&clerk), "GET", "/v1/enrollments/"+testID, "", nil); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

// Logs name the route pattern, status and subject, never the raw path (document numbers), a body or a
// purpose.
func TestLogsHoldNoPersonalData(t *testing.T) {
	e := newEnv(t)
	e.svc.face, e.svc.faceCT = []byte("FACEBYTES"), "image/jpeg"
	c := e.client(&approver)
	e.do(c, "PUT", "/v1/documents/L898902C3/status", "application/json", []byte(`{"status":"LOST","since":"2026-01-02"}`))
	e.do(c, "GET", "/v1/enrollments/"+testID+"/biometrics/face?purpose=SECRETPURPOSE", "", nil)
	e.do(e.client(&clerk), "POST", "/v1/enrollments", "application/json", []byte(validApplication))
	logs := e.logs.String()
	for _, bad := range []string{"L898902C3", "SECRETPURPOSE", "FACEBYTES", "ERIKSSON", "1974-08-12"} {
		if strings.Contains(logs, bad) {
			t.Errorf("log holds %q:\n%s", bad, logs)
		}
	}
	type line struct {
		Msg, Method, Route, Subject string
		Status                      int
	}
	var got []line
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var x line
		if err := json.Unmarshal([]byte(l), &x); err != nil {
			t.Fatal(err)
		}
		if x.Msg == "http request" {
			x.Msg = ""
			got = append(got, x)
		}
	}
	want := []line{
		{Method: "PUT", Route: "/v1/documents/{number}/status", Subject: "approver-office1", Status: 204},
		{Method: "GET", Route: "/v1/enrollments/{id}/biometrics/face", Subject: "approver-office1", Status: 200},
		{Method: "POST", Route: "/v1/enrollments", Subject: "clerk-office1", Status: 201},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("log lines %+v\nwant %+v", got, want)
	}
}

func TestOpenAPIServedAndConsistent(t *testing.T) {
	e := newEnv(t)
	r := e.do(e.client(&noRole), "GET", "/v1/openapi.json", "", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v", r.status, r.header)
	}
	var doc map[string]any
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi %v", doc["openapi"])
	}
	schemes := doc["components"].(map[string]any)["securitySchemes"].(map[string]any)
	if schemes["mutualTLS"].(map[string]any)["type"] != "mutualTLS" {
		t.Fatal("no mutualTLS security scheme")
	}

	inDoc := map[string]map[string]any{}
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			inDoc[strings.ToUpper(method)+" "+path] = op.(map[string]any)
		}
	}
	table := map[string]route{}
	for _, rt := range e.srv.routeTable() {
		table[rt.method+" "+rt.path] = rt
	}
	registered := map[string]bool{}
	for _, er := range e.srv.echo.Routes() {
		registered[er.Method+" "+strings.NewReplacer(":id", "{id}", ":position", "{position}", ":number", "{number}").Replace(er.Path)] = true
	}
	if len(registered) != len(table) {
		t.Fatalf("echo has %d routes, the table %d", len(registered), len(table))
	}
	for k, rt := range table {
		if !registered[k] {
			t.Errorf("%s not registered with echo", k)
		}
		op, ok := inDoc[k]
		if !ok {
			t.Errorf("%s is not in openapi.json", k)
			continue
		}
		if rt.public {
			if sec, ok := op["security"].([]any); !ok || len(sec) != 0 {
				t.Errorf("%s is public but the document asks for mutual TLS", k)
			}
			continue
		}
		var roles []string
		for _, r := range op["x-borderid-roles"].([]any) {
			roles = append(roles, r.(string))
		}
		if !slices.Equal(roles, rt.roles) && !(len(roles) == 0 && rt.roles == nil) {
			t.Errorf("%s: document roles %v, route roles %v", k, roles, rt.roles)
		}
		if partners, _ := op["x-borderid-partners"].(bool); partners != rt.partners {
			t.Errorf("%s: document x-borderid-partners %v, route %v", k, partners, rt.partners)
		}
		resp := op["responses"].(map[string]any)
		if _, ok := resp["401"]; !ok {
			t.Errorf("%s documents no 401", k)
		}
		if rt.roles != nil {
			if _, ok := resp["403"]; !ok {
				t.Errorf("%s documents no 403", k)
			}
		}
		// Path parameters declared.
		declared := map[string]bool{}
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			p := resolve(t, doc, p.(map[string]any))
			if p["in"] == "path" {
				declared[p["name"].(string)] = true
			}
		}
		for _, seg := range strings.Split(rt.path, "/") {
			if strings.HasPrefix(seg, "{") && !declared[strings.Trim(seg, "{}")] {
				t.Errorf("%s does not declare path parameter %s", k, seg)
			}
		}
	}
	for k := range inDoc {
		if _, ok := table[k]; !ok {
			t.Errorf("openapi.json documents %s, which is not a route", k)
		}
	}
	// Every $ref resolves.
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				resolve(t, doc, v)
				_ = ref
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
}

// schemaValidator compiles the named schema of openapi.json's components (JSON Schema 2020-12, as OpenAPI
// 3.1 uses it).
func schemaValidator(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(openAPIDocument))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("openapi.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("openapi.json#/components/schemas/" + name)
	if err != nil {
		t.Fatalf("schema %s: %v", name, err)
	}
	return sch
}

// conforms checks that body is valid against the named schema of openapi.json.
func conforms(t *testing.T, name string, body []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s is not JSON: %v", body, err)
	}
	if err := schemaValidator(t, name).Validate(inst); err != nil {
		t.Fatalf("%s does not conform to %s: %v", body, name, err)
	}
}

// resolve follows a local $ref (#/a/b/c) if m is one.
func resolve(t *testing.T, doc map[string]any, m map[string]any) map[string]any {
	t.Helper()
	ref, ok := m["$ref"].(string)
	if !ok {
		return m
	}
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		mm, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("$ref %s does not resolve", ref)
		}
		if cur, ok = mm[part]; !ok {
			t.Fatalf("$ref %s does not resolve", ref)
		}
	}
	out, ok := cur.(map[string]any)
	if !ok {
		t.Fatalf("$ref %s is not an object", ref)
	}
	return out
}

func TestPrincipalFromCertificate(t *testing.T) {
	ca := newTestCA(t, "staff")
	cases := []struct {
		name string
		spec clientSpec
		want *enrol.Principal // nil: refused with invalid_client_certificate
	}{
		{"clerk", clerk, &enrol.Principal{Subject: "clerk-office1", Country: "UT", Office: "office1", Roles: []string{"clerk"}}},
		{"clerk and approver", office("ca", "office1", "clerk", "approver", "clerk"), &enrol.Principal{Subject: "ca", Country: "UT", Office: "office1", Roles: []string{"clerk", "approver"}}},
		{"auditor", auditor, &enrol.Principal{Subject: "auditor", Country: "UT", Roles: []string{"auditor"}}},
		{"no role", noRole, &enrol.Principal{Subject: "nobody", Country: "UT"}},
		{"two O", clientSpec{cn: "x", o: []string{"UT", "NL"}, roles: []string{"auditor"}}, nil},
		{"no O", clientSpec{cn: "x", roles: []string{"auditor"}}, nil},
		{"O three letters", clientSpec{cn: "x", o: []string{"UTO"}, roles: []string{"auditor"}}, nil},
		{"O lower case", clientSpec{cn: "x", o: []string{"ut"}, roles: []string{"auditor"}}, nil},
		{"two OU", clientSpec{cn: "x", o: []string{"UT"}, ou: []string{"office1", "office2"}, roles: []string{"clerk"}}, nil},
		{"no CN", clientSpec{o: []string{"UT"}, roles: []string{"auditor"}}, nil},
		{"clerk without office", national("x", "clerk"), nil},
		{"unknown role", national("x", "root"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pair := ca.client(t, tc.spec)
			p, err := PrincipalFromCertificate(pair.Leaf)
			if tc.want == nil {
				var ee *enrol.Error
				if !errors.As(err, &ee) || ee.Code != "invalid_client_certificate" || !errors.Is(err, enrol.ErrUnauthenticated) {
					t.Fatalf("got %+v, %v", p, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(p, *tc.want) {
				t.Fatalf("got %+v, %v; want %+v", p, err, *tc.want)
			}
		})
	}
}

// A keep-alive connection does not outlive its certificate: the staff authenticator checks validity at the
// time of each request.
func TestStaffAuthenticatorChecksTimePerRequest(t *testing.T) {
	ca := newTestCA(t, "staff")
	pair := ca.client(t, clerk)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	chains := [][]*x509.Certificate{{pair.Leaf, ca.cert}}
	a := StaffAuthenticator{Roots: pool}
	if _, err := a.Authenticate(context.Background(), chains); err != nil {
		t.Fatal(err)
	}
	a.Now = func() time.Time { return pair.Leaf.NotAfter.Add(time.Second) }
	if _, err := a.Authenticate(context.Background(), chains); !errors.Is(err, enrol.ErrUnauthenticated) {
		t.Fatalf("expired certificate accepted: %v", err)
	}
	if _, err := (StaffAuthenticator{}).Authenticate(context.Background(), chains); !errors.Is(err, enrol.ErrUnauthenticated) {
		t.Fatalf("no roots: %v", err)
	}
}

func TestTLSConfig(t *testing.T) {
	ca := newTestCA(t, "staff")
	cert, key := ca.server(t)
	cfg, err := TLSConfig(cert, key, ca.pem)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS13 || cfg.ClientAuth != tls.VerifyClientCertIfGiven || cfg.ClientCAs == nil || len(cfg.Certificates) != 1 {
		t.Fatalf("%+v", cfg)
	}
	if _, err := TLSConfig(cert, key, []byte("not PEM")); err == nil {
		t.Fatal("accepted a client CA that is not PEM")
	}
	if _, err := TLSConfig(cert, ca.pem, ca.pem); err == nil {
		t.Fatal("accepted a key that is not a key")
	}
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("no service accepted")
	}
	if _, err := New(Config{Service: &fakeService{}}); err == nil {
		t.Fatal("no client CA and no authenticator accepted")
	}
	if _, err := New(Config{Service: &fakeService{}, ClientCAs: x509.NewCertPool(), MaxBody: -1}); err == nil {
		t.Fatal("negative cap accepted")
	}
}

func TestServeTLSRefusesUnverifiedClientAuth(t *testing.T) {
	e := newEnv(t)
	for _, auth := range []tls.ClientAuthType{tls.NoClientCert, tls.RequestClientCert, tls.RequireAnyClientCert, tls.VerifyClientCertIfGiven} {
		cfg := e.tls.Clone()
		cfg.ClientAuth = auth
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.srv.ServeTLS(ctx, ln, cfg) }()
		if auth == tls.VerifyClientCertIfGiven {
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("graceful stop: %v", err)
			}
			continue
		}
		if err := <-done; err == nil {
			t.Fatalf("ClientAuth %v accepted", auth)
		}
		cancel()
	}
}

// ListenAndServeTLS drains requests in flight when its context is cancelled, then returns nil.
func TestGracefulShutdown(t *testing.T) {
	e := newEnv(t)
	e.svc.app = &enrol.Application{ID: testID}
	e.svc.block, e.svc.entered = make(chan struct{}), make(chan struct{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.ServeTLS(ctx, ln, e.tls) }()

	c := e.client(&clerk)
	got := make(chan int, 1)
	go func() {
		resp, err := c.Get("https://" + ln.Addr().String() + "/v1/enrollments/" + testID)
		if err != nil {
			got <- -1
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	<-e.svc.entered
	cancel()
	select {
	case err := <-done:
		t.Fatalf("returned with a request in flight: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(e.svc.block)
	if s := <-got; s != 200 {
		t.Fatalf("in-flight request got %d", s)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Fatal("still listening after shutdown")
	}

	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	if err := e.srv.ListenAndServeTLS(ctx2, "127.0.0.1:0", e.tls); err != nil {
		t.Fatal(err)
	}
}

// brokenAuth fails for a reason that is neither 401 nor 403 (a registry
// that cannot be read, a bug): the request must still be refused.
type brokenAuth struct{}

func (brokenAuth) Authenticate(context.Context, [][]*x509.Certificate) (enrol.Principal, error) {
	return enrol.Principal{}, errors.New("registry down")
}

// An authenticator that fails for another reason than a refusal never lets
// the request through: 401 invalid_client_certificate, the service untouched.
func TestAuthenticatorFailureFailsClosed(t *testing.T) {
	e := newEnv(t)
	e.srv.auth = brokenAuth{}
	c := e.client(&clientSpec{cn: "clerk1", o: []string{"UT"}, ou: []string{"office1"}, roles: []string{"clerk"}})
	r := e.do(c, http.MethodPost, "/v1/enrollments", "application/json", []byte(validApplication))
	if r.status != http.StatusUnauthorized || r.errorBody(t).Code != codeInvalidCertificate {
		t.Fatalf("broken authenticator: %d %s", r.status, r.body)
	}
	if w := e.svc.work(); len(w) != 0 {
		t.Fatalf("the service was called: %v", w)
	}
}

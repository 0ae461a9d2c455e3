package api

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"borderid/db"
	"borderid/db/dbtest"
	"borderid/enrol"
	"borderid/enrol/biometric"
	"borderid/internal/envelope/envelopetest"

	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// realEnv is the HTTP layer on the real service.
type realEnv struct {
	*env
	core  *enrol.Core
	owner *pgxpool.Pool
}

func newRealEnv(t *testing.T) *realEnv {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var chips int
	core, err := enrol.New(enrol.Config{
		Pool: dbtest.Pool(t, db.App), Wrapper: envelopetest.NewWrapper(t), Indexer: envelopetest.NewIndexer(t),
		AuditSigner: key, CheckpointDir: filepath.Join(t.TempDir(), "checkpoints"),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		IssueChip: func(context.Context, enrol.IssueRequest) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			chips++
			return fmt.Sprintf("chip%04d", chips), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ca := newTestCA(t, "UT staff TLS CA")
	certPEM, keyPEM := ca.server(t)
	tlsCfg, err := TLSConfig(certPEM, keyPEM, ca.pem)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	srv, err := New(Config{Service: core, ClientCAs: tlsCfg.ClientCAs, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.TLS = tlsCfg
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return &realEnv{env: &env{t: t, ca: ca, ts: ts, srv: srv, logs: logs, tls: tlsCfg}, core: core, owner: dbtest.Pool(t, db.Owner)}
}

// TestRealServiceOverHTTPS runs one enrolment from creation to issuance through the HTTP layer and the real
// service (PostgreSQL with row-level security, envelope encryption, the audit chain), with client
// certificates as the offices would hold them: the two layers agree on media types, error codes and the
// audit of denials.
func TestRealServiceOverHTTPS(t *testing.T) {
	re := newRealEnv(t)
	e, logs := re.env, re.logs
	clerk1 := e.client(&clerk)
	clerk2 := e.client(&clientSpec{cn: "clerk-office2", o: []string{"UT"}, ou: []string{"office2"}, roles: []string{enrol.RoleClerk}})
	both := e.client(&clientSpec{cn: "clerk-approver-office1", o: []string{"UT"}, ou: []string{"office1"}, roles: []string{enrol.RoleClerk, enrol.RoleApprover}})
	approver1 := e.client(&approver)
	approver2 := e.client(&clientSpec{cn: "approver-office2", o: []string{"UT"}, ou: []string{"office2"}, roles: []string{enrol.RoleApprover}})
	issuerC := e.client(&issuer)
	auditorC := e.client(&auditor)

	expect := func(r reply, status int, code string) {
		t.Helper()
		if r.status != status {
			t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
		}
		if code != "" {
			if got := r.errorBody(t).Code; got != code {
				t.Fatalf("code %q, want %q", got, code)
			}
		}
	}
	create := func(c *http.Client) string {
		t.Helper()
		r := e.do(c, "POST", "/v1/enrollments", "application/json", []byte(validApplication))
		expect(r, 201, "")
		var out createdResponse
		if err := json.Unmarshal(r.body, &out); err != nil {
			t.Fatal(err)
		}
		return out.ID
	}

	face := biometric.SyntheticJPEG(300, 400)
	id := create(clerk1)
	base := "/v1/enrollments/" + id
	expect(e.do(clerk1, "PUT", base+"/biometrics/face", "image/png", biometric.SyntheticPNG(300, 400)), 415, "unsupported_media_type")
	r := e.do(clerk1, "PUT", base+"/biometrics/face", "image/jpeg", biometric.SyntheticPNG(300, 400))
	if r.status < 400 || r.status > 499 || r.errorBody(t).Code == "internal" {
		t.Fatalf("a PNG sent as JPEG: %d %s", r.status, r.body)
	}
	expect(e.do(clerk1, "PUT", base+"/biometrics/face", "image/jpeg", face[:len(face)/2]), 422, "")
	expect(e.do(clerk1, "PUT", base+"/biometrics/face", "image/jpeg", face), 204, "")
	fr := biometric.FingerRecord(3, 200, 250, biometric.CompressionWSQ, biometric.WSQFrame(200, 250))
	expect(e.do(clerk1, "PUT", base+"/biometrics/fingers/3", "application/x-iso19794-4", fr), 204, "")
	expect(e.do(clerk1, "PUT", base+"/biometrics/fingers/4", "application/x-iso19794-4", fr), 422, "") // record says 3
	mr := biometric.MinutiaeRecord(3, 200, 250, []biometric.Minutia{{Type: 1, X: 10, Y: 20, Angle: 30, Quality: 50}})
	expect(e.do(clerk1, "PUT", base+"/biometrics/fingers/3/minutiae", "application/x-iso19794-2", mr), 204, "")

	// Another office sees nothing; the same answer as an id that does not exist.
	expect(e.do(clerk2, "GET", base, "", nil), 404, "not_found")
	expect(e.do(clerk2, "GET", "/v1/enrollments/"+testID, "", nil), 404, "not_found")
	expect(e.do(approver1, "POST", base+"/approve", "", nil), 409, "wrong_state")
	expect(e.do(clerk1, "PUT", base+"/finalize", "", nil), 204, "")
	expect(e.do(approver2, "POST", base+"/approve", "", nil), 404, "not_found")
	expect(e.do(auditorC, "POST", base+"/approve", "", nil), 403, "forbidden_role")
	expect(e.do(approver1, "POST", base+"/approve", "", nil), 204, "")

	r = e.do(clerk1, "GET", base, "", nil)
	expect(r, 200, "")
	conforms(t, "Application", r.body)
	var app applicationResponse
	if err := json.Unmarshal(r.body, &app); err != nil {
		t.Fatal(err)
	}
	if app.ID != id || app.Office != "office1" || app.State != "approved" || app.Surname != "ERIKSSON" || len(app.Biometrics) != 3 {
		t.Fatalf("%+v", app)
	}

	r = e.do(issuerC, "POST", base+"/issue", "", nil)
	expect(r, 200, "")
	conforms(t, "Issued", r.body)
	var issued issueResponse
	if err := json.Unmarshal(r.body, &issued); err != nil {
		t.Fatal(err)
	}

	expect(e.do(approver1, "GET", base+"/biometrics/face", "", nil), 422, "purpose_required")
	r = e.do(approver1, "GET", base+"/biometrics/face?purpose=identity+check+at+collection", "", nil)
	expect(r, 200, "")
	if !bytes.Equal(r.body, face) || r.header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("face %d bytes, %q", len(r.body), r.header.Get("Content-Type"))
	}

	status := "/v1/documents/" + issued.DocumentNumber + "/status"
	expect(e.do(approver2, "PUT", status, "application/json", []byte(`{"status":"LOST","since":"2026-01-02"}`)), 404, "not_found")
	expect(e.do(approver1, "PUT", status, "application/json", []byte(`{"status":"LOST","since":"2026-01-02"}`)), 204, "")
	expect(e.do(approver1, "PUT", status, "application/json", []byte(`{"status":"LOST","since":"2026-01-02"}`)), 409, "status_one_way")

	// No self-approval, also for a certificate with both roles.
	id2 := create(both)
	expect(e.do(both, "PUT", "/v1/enrollments/"+id2+"/biometrics/face", "image/jpeg", face), 204, "")
	expect(e.do(both, "PUT", "/v1/enrollments/"+id2+"/finalize", "", nil), 204, "")
	expect(e.do(both, "POST", "/v1/enrollments/"+id2+"/approve", "", nil), 403, "self_approval")

	// The access log shows the purpose of the face read and the denials of both layers.
	r = e.do(auditorC, "GET", base+"/access-log", "", nil)
	expect(r, 200, "")
	conforms(t, "AccessLog", r.body)
	var alog accessLogResponse
	if err := json.Unmarshal(r.body, &alog); err != nil {
		t.Fatal(err)
	}
	has := func(actor, action, outcome, purpose string) bool {
		return slices.ContainsFunc(alog.Entries, func(a accessEntryResponse) bool {
			return a.Actor == actor && a.Action == action && a.Outcome == outcome && (purpose == "" || a.Purpose == purpose)
		})
	}
	for _, want := range [][4]string{
		{"approver-office1", enrol.ActionGetFace, "ok", "identity check at collection"},
		{"clerk-office2", enrol.ActionGet, "denied", ""}, // service: outside the office
		{"auditor", enrol.ActionApprove, "denied", ""},   // this layer: forbidden role
		{"approver-office2", enrol.ActionApprove, "denied", ""},
	} {
		if !has(want[0], want[1], want[2], want[3]) {
			t.Errorf("access log lacks %v: %+v", want, alog.Entries)
		}
	}

	r = e.do(auditorC, "GET", "/v1/audit/verify", "", nil)
	expect(r, 200, "")
	conforms(t, "AuditReport", r.body)
	var rep auditReportResponse
	if err := json.Unmarshal(r.body, &rep); err != nil || !rep.OK || rep.Rows == 0 {
		t.Fatalf("%s %v", r.body, err)
	}
	if strings.Contains(logs.String(), issued.DocumentNumber) {
		t.Fatal("the document number reached the log")
	}
}

// TestRoleRouteOfficeMatrix is the issue's matrix through HTTPS: every route x certificate x office on the
// real service. A role the route does not allow is 403 (decided here, before the service), an enrolment of
// another office is 404 (decided by the service and the database), and every such denial leaves exactly one
// denied audit row, whichever layer decided it; the allowed calls succeed and leave no denial.
func TestRoleRouteOfficeMatrix(t *testing.T) {
	re := newRealEnv(t)
	ctx := context.Background()
	face := biometric.SyntheticJPEG(300, 400)
	fr := biometric.FingerRecord(2, 200, 250, biometric.CompressionWSQ, biometric.WSQFrame(200, 250))
	mr := biometric.MinutiaeRecord(2, 200, 250, []biometric.Minutia{{Type: 1, X: 10, Y: 20, Angle: 30, Quality: 50}})
	clerkP, approverP := principalFor(clerk), principalFor(approver)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// at makes an office1 enrolment in state, by other people than the ones under test.
	at := func(state string) (id, number string) {
		id, err := re.core.Create(ctx, clerkP, wantApplication)
		must(err)
		must(re.core.PutFace(ctx, clerkP, id, biometric.ContentTypeJPEG, face))
		if state == db.StateDraft {
			return id, ""
		}
		must(re.core.Finalize(ctx, clerkP, id))
		if state == db.StateFinalized {
			return id, ""
		}
		must(re.core.Approve(ctx, approverP, id))
		if state == db.StateApproved {
			return id, ""
		}
		r, err := re.core.Issue(ctx, approverP, id)
		must(err)
		return id, r.DocumentNumber
	}
	type req struct{ method, path, ct, body string }
	routes := []struct {
		action string
		state  string
		req    func(id, number string) req
		ok     int
	}{
		{enrol.ActionCreate, "", func(string, string) req { return req{"POST", "/v1/enrollments", "application/json", validApplication} }, 201},
		{enrol.ActionPutFace, db.StateDraft, func(id, _ string) req {
			return req{"PUT", "/v1/enrollments/" + id + "/biometrics/face", "image/jpeg", string(face)}
		}, 204},
		{enrol.ActionPutFinger, db.StateDraft, func(id, _ string) req {
			return req{"PUT", "/v1/enrollments/" + id + "/biometrics/fingers/2", "application/x-iso19794-4", string(fr)}
		}, 204},
		{enrol.ActionPutMinutiae, db.StateDraft, func(id, _ string) req {
			return req{"PUT", "/v1/enrollments/" + id + "/biometrics/fingers/2/minutiae", "application/x-iso19794-2", string(mr)}
		}, 204},
		{enrol.ActionFinalize, db.StateDraft, func(id, _ string) req { return req{"PUT", "/v1/enrollments/" + id + "/finalize", "", ""} }, 204},
		{enrol.ActionApprove, db.StateFinalized, func(id, _ string) req { return req{"POST", "/v1/enrollments/" + id + "/approve", "", ""} }, 204},
		{enrol.ActionIssue, db.StateApproved, func(id, _ string) req { return req{"POST", "/v1/enrollments/" + id + "/issue", "", ""} }, 200},
		{enrol.ActionGet, db.StateApproved, func(id, _ string) req { return req{"GET", "/v1/enrollments/" + id, "", ""} }, 200},
		{enrol.ActionGetFace, db.StateDraft, func(id, _ string) req {
			return req{"GET", "/v1/enrollments/" + id + "/biometrics/face?purpose=matrix", "", ""}
		}, 200},
		{enrol.ActionSetStatus, db.StateIssued, func(_, number string) req {
			return req{"PUT", "/v1/documents/" + number + "/status", "application/json", `{"status":"LOST","since":"2026-01-02"}`}
		}, 204},
		{enrol.ActionAccessLog, db.StateDraft, func(id, _ string) req { return req{"GET", "/v1/enrollments/" + id + "/access-log", "", ""} }, 200},
		{enrol.ActionVerify, "", func(string, string) req { return req{"GET", "/v1/audit/verify", "", ""} }, 200},
	}
	certs := []clientSpec{
		clerk, approver,
		{cn: "clerk-approver-office1", o: []string{"UT"}, ou: []string{"office1"}, roles: []string{enrol.RoleClerk, enrol.RoleApprover}},
		{cn: "clerk-office2", o: []string{"UT"}, ou: []string{"office2"}, roles: []string{enrol.RoleClerk}},
		{cn: "approver-office2", o: []string{"UT"}, ou: []string{"office2"}, roles: []string{enrol.RoleApprover}},
		issuer, border, auditor, noRole,
	}
	// want[action][certificate CN]: 0 allowed, else the status. Unlisted: 403.
	want := map[string]map[string]int{
		enrol.ActionCreate:      {"clerk-office1": 0, "clerk-approver-office1": 0, "clerk-office2": 0},
		enrol.ActionPutFace:     {"clerk-office1": 0, "clerk-approver-office1": 0, "clerk-office2": 404},
		enrol.ActionPutFinger:   {"clerk-office1": 0, "clerk-approver-office1": 0, "clerk-office2": 404},
		enrol.ActionPutMinutiae: {"clerk-office1": 0, "clerk-approver-office1": 0, "clerk-office2": 404},
		enrol.ActionFinalize:    {"clerk-office1": 0, "clerk-approver-office1": 0, "clerk-office2": 404},
		enrol.ActionApprove:     {"approver-office1": 0, "clerk-approver-office1": 0, "approver-office2": 404},
		enrol.ActionIssue:       {"approver-office1": 0, "clerk-approver-office1": 0, "approver-office2": 404, "issuer": 0},
		enrol.ActionGet:         {"clerk-office1": 0, "approver-office1": 0, "clerk-approver-office1": 0, "clerk-office2": 404, "approver-office2": 404, "issuer": 0},
		enrol.ActionGetFace:     {"approver-office1": 0, "clerk-approver-office1": 0, "approver-office2": 404},
		enrol.ActionSetStatus:   {"approver-office1": 0, "clerk-approver-office1": 0, "approver-office2": 404},
		enrol.ActionAccessLog:   {"auditor": 0},
		enrol.ActionVerify:      {"auditor": 0},
	}
	clients := map[string]*http.Client{}
	for _, c := range certs {
		clients[c.cn] = re.client(&c)
	}
	for _, rt := range routes {
		for _, c := range certs {
			t.Run(rt.action+"/"+c.cn, func(t *testing.T) {
				var id, number string
				if rt.state != "" {
					id, number = at(rt.state)
				}
				seq := re.lastSeq(t)
				rq := rt.req(id, number)
				var body []byte
				if rq.body != "" {
					body = []byte(rq.body)
				}
				r := re.do(clients[c.cn], rq.method, rq.path, rq.ct, body)
				w, listed := want[rt.action][c.cn]
				if !listed {
					w = 403
				}
				rows := re.rowsSince(t, seq)
				denied := 0
				for _, row := range rows {
					if row.outcome == db.OutcomeDenied {
						denied++
						if row.actor != c.cn || row.action != rt.action {
							t.Errorf("denial row %+v", row)
						}
					}
				}
				switch w {
				case 0:
					if r.status != rt.ok {
						t.Fatalf("status %d, want %d: %s", r.status, rt.ok, r.body)
					}
					if denied != 0 {
						t.Fatalf("an allowed call left %d denial rows", denied)
					}
				default:
					if r.status != w {
						t.Fatalf("status %d, want %d: %s", r.status, w, r.body)
					}
					wantCode := map[int]string{403: "forbidden_role", 404: "not_found"}[w]
					if got := r.errorBody(t).Code; got != wantCode {
						t.Fatalf("code %q, want %q", got, wantCode)
					}
					if denied != 1 {
						t.Fatalf("%d denial rows, want exactly 1: %+v", denied, rows)
					}
				}
			})
		}
	}
}

type auditRow struct{ actor, action, outcome string }

func (re *realEnv) lastSeq(t *testing.T) int64 {
	t.Helper()
	var n int64
	if err := re.owner.QueryRow(context.Background(), `SELECT coalesce(max(seq), 0) FROM audit_log`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (re *realEnv) rowsSince(t *testing.T, seq int64) []auditRow {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := re.owner.Query(ctx, `SELECT actor, action, outcome FROM audit_log WHERE seq > $1 ORDER BY seq`, seq)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.actor, &r.action, &r.outcome); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

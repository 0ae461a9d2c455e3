package db_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"borderid/db"
	"borderid/db/dbtest"

	"github.com/jackc/pgx/v5"
)

func selfSigned(t *testing.T, cn string) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestPartnerRegistry(t *testing.T) {
	ctx := ctxT(t)
	app := dbtest.Pool(t, db.App)
	owner := dbtest.Pool(t, db.Owner)
	ca1, ca2, root, srv, csca := selfSigned(t, "ATL CA 1"), selfSigned(t, "ATL CA 2"), selfSigned(t, "ATL status"),
		selfSigned(t, "ATL server CA"), selfSigned(t, "ATL CSCA")
	p := db.Partner{State: "ATL", ClientCA: [][]byte{ca1, ca2}, StatusSignerRoot: root, ServerCA: srv, CSCA: csca,
		URL: "https://127.0.0.1:9/", RatePerSec: 2.5, QuotaPerDay: 50, AddedBy: "tester"}

	// The app role (the network-facing server) may not register anyone.
	if err := db.AddPartner(ctx, app, p); !errors.Is(err, db.ErrDenied) {
		t.Fatalf("app adds a partner: %v, want ErrDenied", err)
	}
	if err := db.AddPartner(ctx, owner, p); err != nil {
		t.Fatal(err)
	}
	if err := db.AddPartner(ctx, owner, p); !errors.Is(err, db.ErrDuplicate) {
		t.Fatalf("second add: %v, want ErrDuplicate", err)
	}
	// Defaults, and no optional CAs.
	if err := db.AddPartner(ctx, owner, db.Partner{State: "LEM", ClientCA: [][]byte{ca1}, StatusSignerRoot: root, URL: "https://lem.example/"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []db.Partner{
		{State: "atl", ClientCA: [][]byte{ca1}, StatusSignerRoot: root, URL: "https://x/"},
		{State: "XYZ", ClientCA: [][]byte{[]byte("not DER")}, StatusSignerRoot: root, URL: "https://x/"},
		{State: "XYZ", ClientCA: [][]byte{append(append([]byte{}, ca1...), ca2...)}, StatusSignerRoot: root, URL: "https://x/"},
		{State: "XYZ", ClientCA: [][]byte{ca1}, StatusSignerRoot: root, URL: "http://x/"},
		{State: "XYZ", ClientCA: [][]byte{ca1}, StatusSignerRoot: root, URL: "https://x/", RatePerSec: -1},
		{State: "XYZ", ClientCA: [][]byte{ca1}, URL: "https://x/"},
	} {
		if err := db.AddPartner(ctx, owner, bad); err == nil {
			t.Errorf("AddPartner(%+v) accepted", bad.State)
		}
	}

	for _, pool := range []db.Beginner{app, owner} {
		got, err := db.PartnerByState(ctx, pool, "ATL")
		if err != nil {
			t.Fatal(err)
		}
		if got.State != "ATL" || len(got.ClientCA) != 2 || !bytes.Equal(got.ClientCA[0], ca1) || !bytes.Equal(got.ClientCA[1], ca2) ||
			!bytes.Equal(got.StatusSignerRoot, root) || !bytes.Equal(got.ServerCA, srv) || !bytes.Equal(got.CSCA, csca) ||
			got.URL != p.URL || got.RatePerSec != 2.5 || got.QuotaPerDay != 50 || got.AddedBy != "tester" || got.AddedAt.IsZero() {
			t.Errorf("PartnerByState = %+v", got)
		}
		list, err := db.ListPartners(ctx, pool)
		if err != nil || len(list) != 2 || list[0].State != "ATL" || list[1].State != "LEM" {
			t.Fatalf("ListPartners = %+v, %v", list, err)
		}
		if l := list[1]; l.RatePerSec != db.DefaultPartnerRate || l.QuotaPerDay != db.DefaultPartnerQuota || l.ServerCA != nil || l.CSCA != nil || l.AddedBy == "" {
			t.Errorf("defaults: %+v", l)
		}
	}
	if _, err := db.PartnerByState(ctx, app, "XYZ"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("unknown partner: %v", err)
	}

	// Never changed in place, by anyone; the app role may not remove.
	if _, err := owner.Exec(ctx, `UPDATE partners SET rate_per_sec = 1000 WHERE state = 'ATL'`); sqlState(err) != "BD002" {
		t.Errorf("owner updates a partner: %v, want BD002", err)
	}
	if _, err := app.Exec(ctx, `UPDATE partners SET rate_per_sec = 1000 WHERE state = 'ATL'`); sqlState(err) != "42501" {
		t.Errorf("app updates a partner: %v, want 42501", err)
	}
	if err := db.RemovePartner(ctx, app, "ATL"); !errors.Is(err, db.ErrDenied) {
		t.Errorf("app removes a partner: %v, want ErrDenied", err)
	}
	if err := db.RemovePartner(ctx, owner, "ATL"); err != nil {
		t.Fatal(err)
	}
	if err := db.RemovePartner(ctx, owner, "ATL"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("second remove: %v, want ErrNotFound", err)
	}

	// Audit: add, add, remove, append-only.
	rows, err := app.Query(ctx, `SELECT actor, action, state, client_ca_sha256, status_signer_root_sha256 FROM partner_audit ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type arow struct {
		actor, action, state string
		ca, root             []byte
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (arow, error) {
		var a arow
		return a, r.Scan(&a.actor, &a.action, &a.state, &a.ca, &a.root)
	})
	if err != nil {
		t.Fatal(err)
	}
	sumCA := sha256.Sum256(append(append([]byte{}, ca1...), ca2...))
	sumRoot := sha256.Sum256(root)
	if len(got) != 3 || got[0].action != "add" || got[0].actor != "tester" || got[0].state != "ATL" || !bytes.Equal(got[0].ca, sumCA[:]) ||
		!bytes.Equal(got[0].root, sumRoot[:]) || got[1].state != "LEM" || got[2].action != "remove" || got[2].state != "ATL" || got[2].actor == "" {
		t.Errorf("partner_audit = %+v", got)
	}
	for _, q := range []string{`UPDATE partner_audit SET actor = 'x'`, `DELETE FROM partner_audit`, `TRUNCATE partner_audit`} {
		if _, err := owner.Exec(ctx, q); err == nil {
			t.Errorf("owner: %s succeeded", q)
		}
		if _, err := app.Exec(ctx, q); err == nil {
			t.Errorf("app: %s succeeded", q)
		}
	}
	var forced bool
	if err := owner.QueryRow(ctx, `SELECT bool_and(relforcerowsecurity) FROM pg_class WHERE relname IN ('partners', 'partner_audit')`).Scan(&forced); err != nil || !forced {
		t.Errorf("FORCE RLS on partners: %v %v", forced, err)
	}
}

// issueDoc issues a document of office1 whose number index is idx.
func issueDoc(t *testing.T, idx []byte) string {
	t.Helper()
	app := dbtest.Pool(t, db.App)
	ctx := ctxT(t)
	id := newApp(t, ctx, app, clerk1)
	if err := advance(ctx, app, clerk1, id, db.StateDraft, db.StateFinalized); err != nil {
		t.Fatal(err)
	}
	if err := advance(ctx, app, approver1, id, db.StateFinalized, db.StateApproved); err != nil {
		t.Fatal(err)
	}
	if err := db.WithScope(ctx, app, issuer, func(tx pgx.Tx) error {
		if err := db.InsertDocument(ctx, tx, &db.Document{NumberIndex: idx, ApplicationID: id, Office: "office1", ChipID: "chip-" + id,
			DateOfBirth: time.Date(1974, 8, 12, 0, 0, 0, 0, time.UTC), DateOfExpiry: time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC),
			DocumentType: "P", IssuedAt: time.Now(), IssuedBy: issuer.Actor}); err != nil {
			return err
		}
		return db.AdvanceApplication(ctx, tx, id, db.StateApproved, db.StateIssued, issuer.Actor, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestStatusScopeAndStatusDays(t *testing.T) {
	ctx := ctxT(t)
	app := dbtest.Pool(t, db.App)
	idx := sha256.Sum256([]byte("status days " + newUUID()))
	issueDoc(t, idx[:])

	statuses := func() *db.DocumentStatus {
		t.Helper()
		var m map[string]*db.DocumentStatus
		if err := db.WithStatusScope(ctx, app, "ATL", func(tx pgx.Tx) error {
			var err error
			m, err = db.DocumentStatuses(ctx, tx, [][]byte{idx[:], make([]byte, 32)})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if len(m) != 1 {
			t.Fatalf("DocumentStatuses found %d", len(m))
		}
		return m[string(idx[:])]
	}
	d := statuses()
	if d.Status != db.StatusValid || !d.LostSince.IsZero() || !d.StolenSince.IsZero() || !d.RevokedSince.IsZero() ||
		d.DateOfBirth.Format("060102") != "740812" || d.DateOfExpiry.Format("060102") != "360101" || d.DocumentType != "P" {
		t.Fatalf("fresh document: %+v", d)
	}
	// Other scopes: a clerk of another office and no scope see nothing; WithScope refuses the status role.
	if n := visible(t, ctx, app, &clerk2, `SELECT count(*) FROM documents WHERE number_index = $1`, idx[:]); n != 0 {
		t.Errorf("clerk of office2 sees %d", n)
	}
	if n := visible(t, ctx, app, nil, `SELECT count(*) FROM documents WHERE number_index = $1`, idx[:]); n != 0 {
		t.Errorf("no scope sees %d", n)
	}
	if err := db.WithScope(ctx, app, db.Scope{Actor: "x", Role: db.RoleStatus}, func(pgx.Tx) error { return nil }); !errors.Is(err, db.ErrScope) {
		t.Errorf("WithScope(status): %v, want ErrScope", err)
	}
	if err := db.WithStatusScope(ctx, app, "", func(pgx.Tx) error { return nil }); !errors.Is(err, db.ErrScope) {
		t.Errorf("WithStatusScope without actor: %v", err)
	}
	// The status scope reads; it never writes a document.
	if err := db.WithStatusScope(ctx, app, "ATL", func(tx pgx.Tx) error {
		return db.SetDocumentStatus(ctx, tx, idx[:], db.StatusLost, time.Now())
	}); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("status scope sets a status: %v, want ErrNotFound (no UPDATE policy)", err)
	}

	lost := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	stolen := time.Date(2025, 4, 2, 10, 0, 0, 0, time.UTC)
	revoked := time.Date(2025, 5, 3, 10, 0, 0, 0, time.UTC)
	for _, st := range []struct {
		status string
		at     time.Time
	}{{db.StatusLost, lost}, {db.StatusStolen, stolen}, {db.StatusRevoked, revoked}} {
		if err := db.WithScope(ctx, app, approver1, func(tx pgx.Tx) error {
			return db.SetDocumentStatus(ctx, tx, idx[:], st.status, st.at)
		}); err != nil {
			t.Fatal(err)
		}
	}
	d = statuses()
	if d.Status != db.StatusRevoked || !d.LostSince.Equal(lost) || !d.StolenSince.Equal(stolen) || !d.RevokedSince.Equal(revoked) {
		t.Errorf("after lost, stolen, revoked: %+v", d)
	}
	// The days are the trigger's: the app role holds no UPDATE on them.
	err := db.WithScope(ctx, app, approver1, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE documents SET lost_since = now() WHERE number_index = $1`, idx[:])
		return err
	})
	if sqlState(err) != "42501" {
		t.Errorf("approver changes lost_since: %v, want 42501", err)
	}
}

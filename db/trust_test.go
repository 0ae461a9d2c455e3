package db_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"borderid/db"
	"borderid/db/dbtest"
	"borderid/internal/cert"
	"borderid/verify"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The db-backed store has verify.TrustStore's shape.
var _ verify.TrustStore = (*db.TrustStore)(nil)

type testCA struct {
	der []byte
	c   *x509.Certificate
	key *ecdsa.PrivateKey
}

func newCert(t *testing.T, country, cn string, serial int64, parent *testCA, isCA bool) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{Country: []string{country}, CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Date(2036, 1, 2, 3, 4, 5, 0, time.UTC),
		BasicConstraintsValid: true,
		IsCA:                  isCA,
		KeyUsage:              x509.KeyUsageDigitalSignature,
	}
	if isCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	pc, pk := tmpl, key
	if parent != nil {
		pc, pk = parent.c, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, pc, &key.PublicKey, pk)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{der: der, c: c, key: key}
}

func auditCount(t *testing.T, ctx context.Context, p *pgxpool.Pool, der []byte) (n int, role string) {
	t.Helper()
	sum := sha256.Sum256(der)
	if err := p.QueryRow(ctx, "SELECT count(*), coalesce(max(db_role), '') FROM trust_audit WHERE sha256 = $1 AND action = 'import'", sum[:]).Scan(&n, &role); err != nil {
		t.Fatal(err)
	}
	return n, role
}

func TestTrustStoreImportIdempotentAndAudited(t *testing.T) {
	ctx := ctxT(t)
	owner, app := dbtest.Pool(t, db.Owner), dbtest.Pool(t, db.App)
	csca := newCert(t, "UT", "CSCA Utopia", 1, nil, true)
	link := newCert(t, "UT", "CSCA Utopia 2", 2, csca, true)
	dsc := newCert(t, "UT", "DS Utopia", 3, csca, false)

	tests := []struct {
		name string
		b    db.Beginner
		ca   *testCA
		kind db.TrustKind
		role string
	}{
		{"csca by owner", owner, csca, db.KindCSCA, "borderid_owner"},
		{"link by owner", owner, link, db.KindLink, "borderid_owner"},
		{"dsc by app", app, dsc, db.KindDSC, "borderid_app"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i, want := range []bool{true, false} {
				ins, err := db.ImportCertificate(ctx, tc.b, tc.ca.der, tc.kind, "UT", tc.ca.c.Subject.String(), tc.ca.c.NotAfter, "test.cer", "tester")
				if err != nil || ins != want {
					t.Fatalf("import %d: inserted=%v, %v; want %v", i+1, ins, err, want)
				}
			}
			if n, role := auditCount(t, ctx, app, tc.ca.der); n != 1 || role != tc.role {
				t.Errorf("audit rows = %d by %q, want 1 by %s", n, role, tc.role)
			}
		})
	}

	store := db.NewTrustStore(app)
	for _, tc := range []struct {
		get  func(context.Context, string) ([]*cert.Certificate, error)
		want []byte
	}{{store.CSCAs, csca.der}, {store.Links, link.der}} {
		got, err := tc.get(ctx, "UT")
		if err != nil || len(got) != 1 || string(got[0].Raw) != string(tc.want) {
			t.Errorf("store lookup = %d certificates, %v; want the imported one", len(got), err)
		}
	}
	if got, err := store.CSCAs(ctx, "ZZ"); err != nil || len(got) != 0 {
		t.Errorf("CSCAs(ZZ) = %d, %v", len(got), err)
	}

	// CRLs.
	now := time.Now().UTC().Truncate(time.Second)
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(48 * time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(3), RevocationTime: now}},
	}, csca.c, csca.key)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		ins, err := db.ImportCRL(ctx, owner, crlDER, "UT", "CN=CSCA Utopia,C=UT", now, now.Add(48*time.Hour), "test.crl", "tester")
		if err != nil || ins != want {
			t.Fatalf("CRL import %d: inserted=%v, %v; want %v", i+1, ins, err, want)
		}
	}
	crls, err := store.CRLs(ctx, "UT")
	if err != nil || len(crls) != 1 {
		t.Fatalf("CRLs = %d, %v", len(crls), err)
	}
	if _, revoked := crls[0].IsRevoked(big.NewInt(3)); !revoked {
		t.Error("the stored CRL does not revoke serial 3")
	}
	if n, _ := auditCount(t, ctx, app, crlDER); n != 1 {
		t.Errorf("CRL audit rows = %d, want 1", n)
	}

	list, err := store.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[[32]byte]db.TrustKind{
		sha256.Sum256(csca.der): db.KindCSCA, sha256.Sum256(link.der): db.KindLink,
		sha256.Sum256(dsc.der): db.KindDSC, sha256.Sum256(crlDER): db.KindCRL,
	}
	found := 0
	for _, e := range list {
		if k, ok := want[e.SHA256]; ok {
			found++
			if e.Kind != k || e.Country != "UT" || e.Source == "" || e.Subject == "" || e.NotAfter.IsZero() {
				t.Errorf("List entry %+v, want kind %s", e, k)
			}
		}
	}
	if found != len(want) {
		t.Errorf("List holds %d of the %d imported entries", found, len(want))
	}
}

// The app role may add DSCs only: trust anchors and CRLs are refused (RLS
// WITH CHECK, 42501), and nothing is audited for a refused row.
func TestTrustStoreAppRoleRefusals(t *testing.T) {
	ctx := ctxT(t)
	app := dbtest.Pool(t, db.App)
	csca := newCert(t, "UT", "CSCA Refused", 10, nil, true)
	for _, kind := range []db.TrustKind{db.KindCSCA, db.KindLink} {
		_, err := db.ImportCertificate(ctx, app, csca.der, kind, "UT", "x", csca.c.NotAfter, "f", "tester")
		if sqlState(err) != "42501" {
			t.Errorf("app imports a %s: %v, want 42501", kind, err)
		}
	}
	if _, err := db.ImportCRL(ctx, app, csca.der, "UT", "x", time.Now(), time.Time{}, "f", "tester"); sqlState(err) != "42501" {
		t.Errorf("app imports a CRL: %v, want 42501", err)
	}
	if n, _ := auditCount(t, ctx, app, csca.der); n != 0 {
		t.Errorf("refused inserts left %d audit rows", n)
	}
	if _, err := db.ImportCertificate(ctx, app, csca.der, db.KindCRL, "UT", "x", csca.c.NotAfter, "f", "tester"); err == nil {
		t.Error("ImportCertificate accepted KindCRL")
	}
}

// trust_audit is append-only: the app role lacks the privileges (42501),
// and the owner, who has them, is stopped by the trigger (P0001).
func TestTrustAuditAppendOnly(t *testing.T) {
	ctx := ctxT(t)
	owner, app := dbtest.Pool(t, db.Owner), dbtest.Pool(t, db.App)
	ca := newCert(t, "UT", "CSCA Audit", 20, nil, true)
	if _, err := db.ImportCertificate(ctx, owner, ca.der, db.KindCSCA, "UT", "x", ca.c.NotAfter, "f", "tester"); err != nil {
		t.Fatal(err)
	}
	stmts := []string{
		"UPDATE trust_audit SET actor = 'mallory'",
		"DELETE FROM trust_audit",
		"TRUNCATE trust_audit",
		"INSERT INTO trust_audit (actor, action, kind, sha256, source) VALUES ('m', 'import', 'csca', sha256('x'), 'f')",
	}
	for _, q := range stmts {
		if _, err := app.Exec(ctx, q); sqlState(err) != "42501" {
			t.Errorf("app: %s: %v, want 42501", q, err)
		}
	}
	for _, q := range stmts[:3] {
		if _, err := owner.Exec(ctx, q); sqlState(err) != "P0001" {
			t.Errorf("owner: %s: %v, want the append-only trigger (P0001)", q, err)
		}
	}
	if n, _ := auditCount(t, ctx, app, ca.der); n != 1 {
		t.Errorf("audit rows after the attempts = %d, want 1", n)
	}
}

func TestTrustKindString(t *testing.T) {
	for k, want := range map[db.TrustKind]string{db.KindCSCA: "csca", db.KindLink: "link", db.KindDSC: "dsc", db.KindCRL: "crl", 0: "TrustKind(0)"} {
		if got := k.String(); got != want {
			t.Errorf("%d: %q, want %q", uint8(k), got, want)
		}
	}
}

package db_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"borderid/db"
	"borderid/db/dbtest"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestEnsureIsIdempotentAndAttaches(t *testing.T) {
	c := dbtest.Cluster(t)
	ctx := ctxT(t)
	st, err := c.Status(ctx)
	if err != nil || !st.Running || st.PID == 0 {
		t.Fatalf("Status = %+v, %v; want running", st, err)
	}
	before := map[string][]byte{}
	for _, f := range []string{"pg-owner", "pg-app"} {
		b, err := os.ReadFile(filepath.Join(c.Home, "secrets", f))
		if err != nil {
			t.Fatal(err)
		}
		before[f] = b
	}
	c2, err := db.EnsureWith(ctx, c.Home, db.Options{Ephemeral: true, Database: c.Database})
	if err != nil {
		t.Fatal(err)
	}
	if c2.DataDir != c.DataDir || c2.Port != c.Port || c2.Outside {
		t.Errorf("second Ensure: %s:%d outside=%v, want %s:%d", c2.DataDir, c2.Port, c2.Outside, c.DataDir, c.Port)
	}
	st2, err := c2.Status(ctx)
	if err != nil || st2.PID != st.PID {
		t.Errorf("second Ensure restarted the cluster: pid %d -> %d (%v)", st.PID, st2.PID, err)
	}
	for f, b := range before {
		after, err := os.ReadFile(filepath.Join(c.Home, "secrets", f))
		if err != nil || !bytes.Equal(after, b) {
			t.Errorf("secret %s changed by a second Ensure", f)
		}
	}
	// Start on a running cluster attaches (no second postmaster).
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if st3, _ := c.Status(ctx); st3.PID != st.PID {
		t.Errorf("Start restarted: pid %d -> %d", st.PID, st3.PID)
	}
	l, err := db.Locate(c.Home, db.Options{})
	if err != nil || l.DataDir != c.DataDir || l.Port != c.Port {
		t.Errorf("Locate = %+v, %v", l, err)
	}
	if want := filepath.Join(c.Home, "pg"); c.DataDir != want {
		t.Errorf("DataDir = %s, want %s", c.DataDir, want)
	}
}

func TestSecretsAre0600(t *testing.T) {
	c := dbtest.Cluster(t)
	for _, f := range []string{"pg-owner", "pg-app"} {
		fi, err := os.Stat(filepath.Join(c.Home, "secrets", f))
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s mode %o, want 600", f, m)
		}
		if fi.Size() < 40 {
			t.Errorf("%s is %d bytes: too short for 32 random bytes", f, fi.Size())
		}
	}
	fi, err := os.Stat(filepath.Join(c.Home, "secrets"))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("secrets folder: %v %v, want 0700", fi.Mode(), err)
	}
}

func TestAppRoleAttributesAndOwnsNothing(t *testing.T) {
	owner := dbtest.Pool(t, db.Owner)
	ctx := ctxT(t)
	var super, bypass, createdb, createrole, inherit, login bool
	err := owner.QueryRow(ctx, `SELECT rolsuper, rolbypassrls, rolcreatedb, rolcreaterole, rolinherit, rolcanlogin
		FROM pg_roles WHERE rolname = $1`, db.App.String()).Scan(&super, &bypass, &createdb, &createrole, &inherit, &login)
	if err != nil {
		t.Fatal(err)
	}
	if super || bypass || createdb || createrole || inherit || !login {
		t.Errorf("app role: super=%v bypassrls=%v createdb=%v createrole=%v inherit=%v login=%v", super, bypass, createdb, createrole, inherit, login)
	}
	var owned int
	err = owner.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM pg_class WHERE relowner = r.oid) +
		(SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid) +
		(SELECT count(*) FROM pg_proc WHERE proowner = r.oid) +
		(SELECT count(*) FROM pg_type WHERE typowner = r.oid) +
		(SELECT count(*) FROM pg_database WHERE datdba = r.oid)
		FROM pg_roles r WHERE r.rolname = $1`, db.App.String()).Scan(&owned)
	if err != nil {
		t.Fatal(err)
	}
	if owned != 0 {
		t.Errorf("app role owns %d objects", owned)
	}
	var members int
	if err := owner.QueryRow(ctx, `SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1`, db.App.String()).Scan(&members); err != nil || members != 0 {
		t.Errorf("app role is a member of %d roles (%v)", members, err)
	}
	// Every table in public is under FORCE ROW LEVEL SECURITY and owned by the owner role.
	rows, err := owner.Query(ctx, `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var name, own string
		var rls, force bool
		if err := rows.Scan(&name, &rls, &force, &own); err != nil {
			t.Fatal(err)
		}
		n++
		if !rls || !force || own != db.Owner.String() {
			t.Errorf("table %s: rls=%v force=%v owner=%s", name, rls, force, own)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 3 {
		t.Errorf("only %d tables in public", n)
	}
}

func insertCert(ctx context.Context, q interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, der []byte) error {
	return insertCertKind(ctx, q, der, "dsc")
}

func insertCertKind(ctx context.Context, q interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, der []byte, kind string) error {
	sum := sha256.Sum256(der)
	_, err := q.Exec(ctx, `INSERT INTO trust_certificates (kind, country, subject, not_after, sha256, der, source_file, imported_by)
		VALUES ($3, 'UT', 'CN=CSCA Utopia', now() + interval '10 years', $1, $2, 'test.ml', 'dbtest')`, sum[:], der, kind)
	return err
}

func TestAppRolePrivileges(t *testing.T) {
	app := dbtest.Pool(t, db.App)
	ctx := ctxT(t)
	der := []byte("not really DER " + t.Name() + time.Now().String())
	if err := insertCert(ctx, app, der); err != nil {
		t.Fatalf("app INSERT: %v", err)
	}
	sum := sha256.Sum256(der)
	var subject string
	if err := app.QueryRow(ctx, `SELECT subject FROM trust_certificates WHERE sha256 = $1`, sum[:]).Scan(&subject); err != nil || subject != "CN=CSCA Utopia" {
		t.Fatalf("app SELECT: %q %v", subject, err)
	}
	// The network-facing role cannot add trust anchors or CRLs: those come
	// in through the owner's import only.
	for _, kind := range []string{"csca", "link"} {
		if err := insertCertKind(ctx, app, []byte("anchor "+kind+t.Name()), kind); sqlState(err) != "42501" {
			t.Errorf("app INSERT of a %s: %v, want 42501", kind, err)
		}
	}
	if _, err := app.Exec(ctx, `INSERT INTO trust_crls (country, issuer, this_update, sha256, der, source_file, imported_by)
		VALUES ('UT', 'CN=x', now(), $1, '\x01', 'f', 'dbtest')`, make([]byte, 32)); sqlState(err) != "42501" {
		t.Errorf("app INSERT of a CRL: %v, want 42501", err)
	}
	owner := dbtest.Pool(t, db.Owner)
	bad := sha256.Sum256([]byte("other"))
	if _, err := owner.Exec(ctx, `INSERT INTO trust_crls (country, issuer, this_update, sha256, der, source_file, imported_by)
		VALUES ('UT', 'CN=x', now(), $1, '\x01', 'f', 'dbtest')`, bad[:]); sqlState(err) != "23514" {
		t.Errorf("sha256 not matching der: %v, want check violation 23514", err)
	}
	for _, tc := range []struct{ name, sql, want string }{
		{"update", `UPDATE trust_certificates SET subject = 'CN=evil'`, "42501"},
		{"delete", `DELETE FROM trust_certificates`, "42501"},
		{"truncate", `TRUNCATE trust_certificates`, "42501"},
		{"delete crl", `DELETE FROM trust_crls`, "42501"},
		{"create table", `CREATE TABLE evil (x int)`, "42501"},
		{"create temp table", `CREATE TEMP TABLE evil (x int)`, "42501"},
		{"create schema", `CREATE SCHEMA evil`, "42501"},
		{"disable rls", `ALTER TABLE trust_certificates DISABLE ROW LEVEL SECURITY`, "42501"},
		{"no force rls", `ALTER TABLE trust_certificates NO FORCE ROW LEVEL SECURITY`, "42501"},
		{"drop", `DROP TABLE trust_certificates`, "42501"},
		{"read migrations", `SELECT * FROM schema_migrations`, "42501"},
		// row_security=off cannot bypass RLS: the query is refused instead.
		{"row_security off", `SET row_security = off; SELECT count(*) FROM trust_certificates`, "42501"},
		{"set role owner", `SET ROLE borderid_owner`, "42501"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := app.Exec(ctx, tc.sql)
			if got := sqlState(err); got != tc.want {
				t.Errorf("got %v (SQLSTATE %q), want SQLSTATE %s", err, got, tc.want)
			}
		})
	}
	var n int
	if err := app.QueryRow(ctx, `SELECT count(*) FROM trust_certificates WHERE subject = 'CN=evil'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("an update went through: %d %v", n, err)
	}
}

func TestMigrationsApplyOnce(t *testing.T) {
	c := dbtest.Cluster(t)
	ctx := ctxT(t)
	ms, err := db.Migrations()
	if err != nil || len(ms) == 0 {
		t.Fatalf("Migrations: %d %v", len(ms), err)
	}
	for i, m := range ms {
		if m.Version != i+1 {
			t.Errorf("migration %s has number %d, want %d (no gaps)", m.Name, m.Version, i+1)
		}
	}
	for i := 0; i < 2; i++ {
		applied, err := db.Migrate(ctx, c)
		if err != nil || len(applied) != 0 {
			t.Fatalf("Migrate again: applied %v, %v", applied, err)
		}
	}
	owner := dbtest.Pool(t, db.Owner)
	var n, maxV int
	if err := owner.QueryRow(ctx, `SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &maxV); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || maxV != ms[len(ms)-1].Version {
		t.Errorf("schema_migrations: %d rows up to %d, want %d", n, maxV, len(ms))
	}
	// A fresh database gets every migration exactly once.
	fresh := c.WithDatabase("test_fresh_" + strconv.Itoa(os.Getpid()))
	if err := fresh.EnsureDatabase(ctx); err != nil {
		t.Fatal(err)
	}
	if applied, err := db.Migrate(ctx, fresh); err != nil || len(applied) != 0 {
		t.Errorf("Migrate after EnsureDatabase: %v %v", applied, err)
	}
}

func TestScramAndWrongPassword(t *testing.T) {
	c := dbtest.Cluster(t)
	owner := dbtest.Pool(t, db.Owner)
	ctx := ctxT(t)
	rows, err := owner.Query(ctx, `SELECT type, coalesce(auth_method, ''), coalesce(error, '') FROM pg_hba_file_rules`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var typ, method, e string
		if err := rows.Scan(&typ, &method, &e); err != nil {
			t.Fatal(err)
		}
		n++
		if method != "scram-sha-256" || e != "" {
			t.Errorf("pg_hba rule %s: method %q error %q, want scram-sha-256", typ, method, e)
		}
	}
	if err := rows.Err(); err != nil || n == 0 {
		t.Fatalf("pg_hba: %d rules, %v", n, err)
	}
	for _, r := range []db.Role{db.Owner, db.App} {
		var pw string
		if err := owner.QueryRow(ctx, `SELECT rolpassword FROM pg_authid WHERE rolname = $1`, r.String()).Scan(&pw); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(pw, "SCRAM-SHA-256$4096:") {
			t.Errorf("%s password stored as %.16q, want a SCRAM-SHA-256 verifier", r, pw)
		}
	}
	for _, r := range []db.Role{db.Owner, db.App} {
		cfg, err := pgx.ParseConfig("sslmode=disable")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Host, cfg.Port, cfg.Database, cfg.User, cfg.Password = "127.0.0.1", uint16(c.Port), c.Database, r.String(), "wrong"
		cfg.TLSConfig, cfg.Fallbacks = nil, nil
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			conn.Close(ctx)
			t.Errorf("%s connected with a wrong password", r)
		} else if sqlState(err) != "28P01" {
			t.Errorf("%s wrong password: %v, want SQLSTATE 28P01", r, err)
		}
	}
	// The app role may not reach the maintenance database.
	cfg, _ := pgx.ParseConfig("sslmode=disable")
	pw, _ := os.ReadFile(filepath.Join(c.Home, "secrets", "pg-app"))
	cfg.Host, cfg.Port, cfg.Database, cfg.User, cfg.Password = "127.0.0.1", uint16(c.Port), "postgres", db.App.String(), strings.TrimSpace(string(pw))
	cfg.TLSConfig, cfg.Fallbacks = nil, nil
	if conn, err := pgx.ConnectConfig(ctx, cfg); err == nil {
		conn.Close(ctx)
		t.Error("app role connected to database postgres")
	}
}

func TestListensOnLoopbackOnly(t *testing.T) {
	c := dbtest.Cluster(t)
	owner := dbtest.Pool(t, db.Owner)
	ctx := ctxT(t)
	var listen string
	if err := owner.QueryRow(ctx, `SHOW listen_addresses`).Scan(&listen); err != nil || listen != "127.0.0.1" {
		t.Errorf("listen_addresses = %q (%v), want 127.0.0.1", listen, err)
	}
	port := strconv.Itoa(c.Port)
	if conn, err := net.DialTimeout("tcp", "[::1]:"+port, time.Second); err == nil {
		conn.Close()
		t.Error("listening on ::1")
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		if conn, err := net.DialTimeout("tcp", net.JoinHostPort(ipn.IP.String(), port), time.Second); err == nil {
			conn.Close()
			t.Errorf("listening on %s", ipn.IP)
		}
	}
}

// TestRootHomeOutside: as root, a home the postgres user cannot traverse
// gets its cluster in /var/lib/borderid/pg-<hash>, and Locate finds it there.
func TestRootHomeOutside(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("root-only behaviour (CONTRACTS.md, the home folder)")
	}
	base := t.TempDir() // 0700, root-owned: not reachable by postgres
	home := filepath.Join(base, "home")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, err := db.EnsureWith(ctx, home, db.Options{Ephemeral: true})
	if c != nil {
		t.Cleanup(func() {
			c.StopImmediate(context.Background())
			os.RemoveAll(c.DataDir)
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(home))
	want := "/var/lib/borderid/pg-" + hex.EncodeToString(sum[:6])
	if !c.Outside || c.DataDir != want {
		t.Errorf("DataDir %s outside=%v, want %s outside", c.DataDir, c.Outside, want)
	}
	if _, err := os.Stat(filepath.Join(home, "pg")); err == nil {
		t.Error("a <home>/pg folder was made as well")
	}
	l, err := db.Locate(home, db.Options{})
	if err != nil || l.DataDir != want || !l.Outside || l.Port != c.Port {
		t.Errorf("Locate = %+v, %v", l, err)
	}
	app, err := db.Open(ctx, c, db.App)
	if err != nil {
		t.Fatal(err)
	}
	app.Close()
}

func TestMissingBinaries(t *testing.T) {
	_, err := db.EnsureWith(ctxT(t), t.TempDir(), db.Options{BinDir: "/nonexistent/postgresql/15/bin"})
	if !errors.Is(err, db.ErrNoPostgres) || !strings.Contains(err.Error(), "apt-get install postgresql") {
		t.Errorf("err = %v, want ErrNoPostgres naming apt-get install postgresql", err)
	}
}

func TestLocateUninitialised(t *testing.T) {
	if _, err := db.Locate(t.TempDir(), db.Options{}); !errors.Is(err, db.ErrNotInitialised) {
		t.Errorf("err = %v, want ErrNotInitialised", err)
	}
}

func TestRoleString(t *testing.T) {
	for r, want := range map[db.Role]string{db.Owner: "borderid_owner", db.App: "borderid_app", 0: "Role(0)"} {
		if got := r.String(); got != want {
			t.Errorf("%d: %q, want %q", int(r), got, want)
		}
	}
}

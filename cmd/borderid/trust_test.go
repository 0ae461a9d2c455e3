package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"borderid/db"
	"borderid/internal/pki"
)

const (
	deMasterList = "/work/shared/testdata/masterlists/DE_ML_2026-05-28-08-28-45.ml"
	deMLRoot     = "/work/shared/testdata/masterlists/DE_CSCA07.cer"
)

// trustCLI runs `borderid trust ARGS...` in-process with BORDERID_HOME
// unset, mapping errors to exit codes as run does. (It calls cmdTrust
// directly so the test does not depend on main.go's command table.)
func trustCLI(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	if len(args) == 0 || args[0] != "trust" {
		t.Fatalf("trustCLI %v: not a trust command", args)
	}
	var out, errs bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errs, getenv: func(string) string { return "" },
		log: slog.New(slog.NewTextHandler(&errs, nil))}
	err := cmdTrust(ctx, e, args[1:])
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK, out.String(), errs.String()
	case errors.As(err, &ue):
		fmt.Fprintf(&errs, "borderid trust: %v\n", err)
		return exitUsage, out.String(), errs.String()
	}
	fmt.Fprintf(&errs, "borderid trust: %v\n", err)
	return exitFail, out.String(), errs.String()
}

// trustHome is a fresh home whose cluster is stopped and removed when the
// test ends, also when it lives outside the home (root: postgres cannot
// reach the temp folder, db.Ensure puts it under /var/lib/borderid).
func trustHome(t *testing.T) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	t.Cleanup(func() {
		c, err := db.Locate(home, db.Options{})
		if errors.Is(err, db.ErrNotInitialised) {
			return
		}
		if err != nil {
			t.Errorf("locate the test cluster: %v", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if st, err := c.Status(ctx); err == nil && st.Running {
			if err := c.Stop(ctx); err != nil {
				t.Errorf("stop the test cluster: %v", err)
			}
		}
		if err := os.RemoveAll(c.DataDir); err != nil {
			t.Errorf("remove %s: %v", c.DataDir, err)
		}
	})
	return home
}

// The German master list imports whole (588 certificates: 375 CSCAs by
// signature, 213 link certificates), a second import only finds
// duplicates, list --json shows them all, and each insert has one audit row.
func TestTrustImportGermanMasterList(t *testing.T) {
	for _, f := range []string{deMasterList, deMLRoot} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("test data: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	home := trustHome(t)

	code, out, errs := trustCLI(t, ctx, "trust", "import", deMasterList, "--ml-root", deMLRoot, "--home", home)
	if code != exitOK {
		t.Fatalf("import: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if !strings.HasPrefix(out, "imported 588, duplicate 0, rejected 0\n") {
		t.Errorf("first import summary: %q", out)
	}
	if !strings.Contains(errs, "DE_ML_2026-05-28-08-28-45.ml: master list, 588 certificates: imported 588, duplicate 0, rejected 0") {
		t.Errorf("progress line missing: %q", errs)
	}

	code, out, errs = trustCLI(t, ctx, "trust", "import", "--ml-root", deMLRoot, "--home", home, deMasterList)
	if code != exitOK || !strings.HasPrefix(out, "imported 0, duplicate 588, rejected 0\n") {
		t.Errorf("second import: exit %d, %q, %s", code, out, errs)
	}

	code, out, errs = trustCLI(t, ctx, "trust", "list", "--json", "--home", home)
	if code != exitOK {
		t.Fatalf("list: exit %d: %s", code, errs)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("list --json: %v", err)
	}
	kinds := map[string]int{}
	countries := map[string]bool{}
	for _, e := range list {
		if len(e) != 6 {
			t.Fatalf("entry has %d fields, want kind, country, subject, not_after, sha256, source: %v", len(e), e)
		}
		kinds[e["kind"].(string)]++
		countries[e["country"].(string)] = true
		if s, _ := e["sha256"].(string); len(s) != 64 {
			t.Errorf("sha256 %q", s)
		}
		if _, err := time.Parse(time.RFC3339, e["not_after"].(string)); err != nil {
			t.Errorf("not_after: %v", err)
		}
		if e["source"] != deMasterList {
			t.Errorf("source %v", e["source"])
		}
	}
	if len(list) != 588 || kinds["csca"] != 375 || kinds["link"] != 213 {
		t.Errorf("list: %d entries, %v; want 588: 375 csca, 213 link", len(list), kinds)
	}
	// CONTRACTS.md: ICAO three-letter codes (Germany is D).
	if !countries["D"] || countries["DE"] {
		t.Errorf("countries are not ICAO codes: D=%v DE=%v", countries["D"], countries["DE"])
	}

	code, out, _ = trustCLI(t, ctx, "trust", "list", "--home", home)
	if code != exitOK || !strings.HasPrefix(out, "KIND") || !strings.HasSuffix(out, "588 entries\n") {
		t.Errorf("list (table): exit %d, %.200q", code, out)
	}

	c, err := db.Ensure(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := db.Open(ctx, c, db.App)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var rows, distinct int
	if err := pool.QueryRow(ctx, "SELECT count(*), count(DISTINCT sha256) FROM trust_audit WHERE action = 'import' AND source = $1", deMasterList).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != 588 || distinct != 588 {
		t.Errorf("audit: %d rows for %d certificates, want 588 and 588", rows, distinct)
	}
}

// Rejections are counted with their reason and do not fail the command;
// usage errors exit 2.
func TestTrustImportRejectsAndUsage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"trust"}, "a trust subcommand is needed"},
		{[]string{"trust", "frob"}, `unknown trust subcommand "frob"`},
		{[]string{"trust", "import"}, "needs at least one FILE"},
		{[]string{"trust", "import", deMasterList}, "--ml-root"},
		{[]string{"trust", "import", "x.cer", "--ml-root", "/nonexistent"}, "--ml-root /nonexistent"},
		{[]string{"trust", "list", "extra"}, "unexpected arguments"},
	} {
		code, _, errs := trustCLI(t, ctx, tc.args...)
		if code != exitUsage || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, errs, tc.msg)
		}
	}

	home := trustHome(t)
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.der")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A master list checked against the wrong root is refused whole.
	wrongRoot := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(wrongRoot, pemCert(t, true), 0o644); err != nil {
		t.Fatal(err)
	}
	// A certificate that may not issue certificates is no trust anchor.
	leaf := filepath.Join(dir, "leaf.pem")
	if err := os.WriteFile(leaf, pemCert(t, false), 0o644); err != nil {
		t.Fatal(err)
	}
	// A CRL whose issuer is not in the store is refused; with its CSCA
	// in the same file it goes in.
	caPEM, crlPEM := pemCRL(t)
	crl := filepath.Join(dir, "ut.crl.pem")
	if err := os.WriteFile(crl, crlPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	caAndCRL := filepath.Join(dir, "ut-csca-and-crl.pem")
	if err := os.WriteFile(caAndCRL, append(append([]byte{}, caPEM...), crlPEM...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := trustCLI(t, ctx, "trust", "import", "--home", home, "--ml-root", wrongRoot,
		junk, deMasterList, filepath.Join(dir, "missing.cer"), leaf, deMLRoot, crl)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"imported 1, duplicate 0, rejected 5\n",
		"rejected: " + crl + ": CRL of C=UT, CN=CSCA UT: no CSCA or link certificate of UT in the trust store verifies its signature",
		"rejected: " + leaf + ": C=UT, CN=Leaf: not a CA certificate",
		"rejected: " + junk + ": unparsable",
		"rejected: " + deMasterList + ": master list refused",
		"missing.cer: unreadable",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errs, crl+": PEM: imported 0, duplicate 0, rejected 1\n") {
		t.Errorf("progress line of the CRL missing: %s", errs)
	}
	code, out, errs = trustCLI(t, ctx, "trust", "import", "--home", home, caAndCRL)
	if code != exitOK || !strings.Contains(out, "imported 2, duplicate 0, rejected 0\n") {
		t.Fatalf("CSCA and CRL in one file: exit %d: %s%s", code, out, errs)
	}
	// DE_CSCA07.cer alone is a CSCA by its own signature; the CRL is
	// listed under its issuer's country.
	code, out, _ = trustCLI(t, ctx, "trust", "list", "--json", "--home", home)
	var list []struct{ Kind, Country string }
	if err := json.Unmarshal([]byte(out), &list); code != exitOK || err != nil {
		t.Fatalf("list: exit %d, %v", code, err)
	}
	got := map[string]int{}
	for _, l := range list {
		got[l.Kind+" "+l.Country]++
	}
	if len(list) != 3 || got["csca D"] != 1 || got["csca UTO"] != 1 || got["crl UTO"] != 1 {
		t.Errorf("list after the imports: %+v", list)
	}
}

// pemCert is a fresh self-signed P-256 certificate of the specimen state,
// a CA or not.
func pemCert(t *testing.T, isCA bool) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{Country: []string{"UT"}, CommonName: "Leaf"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		BasicConstraintsValid: true, IsCA: isCA, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if isCA {
		tmpl.Subject.CommonName, tmpl.KeyUsage = "Other root", x509.KeyUsageCertSign
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// pemCRL is a CSCA of the specimen state (C=UT) and a CRL it signed, in PEM.
func pemCRL(t *testing.T) (caPEM, crlPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(8), Subject: pkix.Name{Country: []string{"UT"}, CommonName: "CSCA UT"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, ca, ca, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if ca, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(24 * time.Hour),
	}, ca, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl})
}

// syncPartner is a partner state's trust lists as its server would serve
// them (GET /v1/trust/*), for `trust sync`.
type syncPartner struct {
	cscaDER, mlDER []byte
	cscaKey, mlKey *ecdsa.PrivateKey
	ml, crl, ss    []byte // what the server serves
	rootDER        []byte // the status-signer root, registered and served
}

func newSyncPartner(t *testing.T, country, cn string) *syncPartner {
	t.Helper()
	now := time.Now()
	p := &syncPartner{}
	var err error
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	p.cscaKey, p.mlKey = key(), key()
	if p.cscaDER, err = pki.Issue(pki.Template{Kind: pki.CSCA, Country: country, CommonName: cn, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0)},
		p.cscaKey.Public(), nil, p.cscaKey); err != nil {
		t.Fatal(err)
	}
	if p.mlDER, err = pki.Issue(pki.Template{Kind: pki.MasterListSigner, Country: country, CommonName: cn + " ML signer", NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(3, 0, 0)},
		p.mlKey.Public(), p.cscaDER, p.cscaKey); err != nil {
		t.Fatal(err)
	}
	p.ml = p.masterList(t, p.cscaDER)
	if p.crl, err = pki.IssueCRL(p.cscaDER, p.cscaKey, big.NewInt(1), now.Add(-time.Minute), now.AddDate(0, 1, 0), nil); err != nil {
		t.Fatal(err)
	}
	sk := key()
	if p.rootDER, err = pki.Issue(pki.Template{Kind: pki.StatusSigner, Country: country, CommonName: cn + " status signer", NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(3, 0, 0)},
		sk.Public(), nil, sk); err != nil {
		t.Fatal(err)
	}
	p.ss = pki.CertPEM(p.rootDER)
	return p
}

func (p *syncPartner) masterList(t *testing.T, certs ...[]byte) []byte {
	t.Helper()
	ml, err := pki.MasterList(certs, p.mlDER, p.mlKey, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return ml
}

// trust sync fetches a partner's trust lists over mutual TLS and imports
// them only when every one of them checks out against the registration.
func TestTrustSync(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	home := trustHome(t)
	atl := newSyncPartner(t, "XA", "ATL CSCA")
	other := newSyncPartner(t, "XA", "ATL CSCA") // same names, other keys
	uto := newSyncPartner(t, "UT", "UTO CSCA")

	// This state's crossborder client certificate.
	homeCA, err := pki.NewTLSCA("UT", "UTO")
	if err != nil {
		t.Fatal(err)
	}
	cc, ck, err := homeCA.IssueClient(pki.ClientSpec{CommonName: "UTO border system", Country: "UT"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, "pki", "clients"), 0o700); err != nil {
		t.Fatal(err)
	}
	for n, b := range map[string][]byte{"crossborder.crt": cc, "crossborder.key": ck} {
		if err := os.WriteFile(filepath.Join(home, "pki", "clients", n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The partner's server: its own TLS CA, a client certificate required.
	srvCA, err := pki.NewTLSCA("XA", "ATL")
	if err != nil {
		t.Fatal(err)
	}
	sc, sk, err := srvCA.IssueServer([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	kp, err := tls.X509KeyPair(sc, sk)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	serve := atl
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, `{"code":"certificate_required"}`, http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/v1/trust/masterlist":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(serve.ml)
		case "/v1/trust/crl":
			w.Header().Set("Content-Type", "application/pkix-crl")
			w.Write(serve.crl)
		case "/v1/trust/status-signer":
			w.Header().Set("Content-Type", "application/pem-certificate-chain")
			w.Write(serve.ss)
		default:
			http.NotFound(w, r)
		}
	}))
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{kp}, ClientAuth: tls.RequireAnyClientCert}
	ts.StartTLS()
	defer ts.Close()

	c, err := db.Ensure(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	owner, err := db.Open(ctx, c, db.Owner)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	register := func(csca []byte) {
		t.Helper()
		_ = db.RemovePartner(ctx, owner, "ATL")
		if err := db.AddPartner(ctx, owner, db.Partner{State: "ATL", ClientCA: [][]byte{srvCA.Cert.Raw}, StatusSignerRoot: atl.rootDER,
			ServerCA: srvCA.Cert.Raw, CSCA: csca, URL: ts.URL, AddedBy: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	register(atl.cscaDER)
	stored := func() int {
		t.Helper()
		es, err := db.NewTrustStore(owner).List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range es {
			if e.Country == "XA" {
				n++
			}
		}
		return n
	}
	syncOnce := func(tamper func(p *syncPartner)) (int, string, string) {
		t.Helper()
		mu.Lock()
		cp := *atl
		if tamper != nil {
			tamper(&cp)
		}
		serve = &cp
		mu.Unlock()
		return trustCLI(t, ctx, "trust", "sync", "--home", home, "--partner", "ATL")
	}

	refusals := []struct {
		name   string
		tamper func(p *syncPartner)
		want   string
	}{
		{"another status signer", func(p *syncPartner) { p.ss = other.ss }, "not the root registered"},
		{"no status signer", func(p *syncPartner) { p.ss = []byte("nothing") }, "not the root registered"},
		{"master list under another CSCA", func(p *syncPartner) { p.ml = other.ml }, "does not verify against its registered CSCA"},
		{"master list garbage", func(p *syncPartner) { p.ml = []byte("0\x03\x02\x01\x00") }, "does not verify"},
		{"another state's CSCA in the list", func(p *syncPartner) { p.ml = atl.masterList(t, atl.cscaDER, uto.cscaDER) }, "another country"},
		{"CRL of another key", func(p *syncPartner) { p.crl = other.crl }, "CRL is not signed"},
		{"CRL garbage", func(p *syncPartner) { p.crl = []byte("crl") }, "CRL"},
	}
	for _, tt := range refusals {
		code, out, errs := syncOnce(tt.tamper)
		if code != exitFail || !strings.Contains(errs, tt.want) || !strings.Contains(errs, "nothing imported") && !strings.Contains(errs, "refused") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want refusal %q", tt.name, code, out, errs, tt.want)
		}
		if n := stored(); n != 0 {
			t.Fatalf("%s: %d entries of ATL imported", tt.name, n)
		}
	}

	code, out, errs := syncOnce(nil)
	if code != exitOK || !strings.Contains(out, "imported 2, duplicate 0, rejected 0") {
		t.Fatalf("sync: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if n := stored(); n != 2 {
		t.Errorf("%d entries of ATL, want the CSCA and its CRL", n)
	}
	code, out, _ = syncOnce(nil)
	if code != exitOK || !strings.Contains(out, "imported 0, duplicate 2") {
		t.Errorf("second sync: exit %d, %q", code, out)
	}

	// Registered without its CSCA, a partner's lists cannot be verified.
	register(nil)
	if code, _, errs := syncOnce(nil); code != exitFail || !strings.Contains(errs, "without --csca") {
		t.Errorf("no CSCA registered: exit %d, %q", code, errs)
	}
	if err := db.RemovePartner(ctx, owner, "ATL"); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := syncOnce(nil); code != exitFail || !strings.Contains(errs, "not a registered partner") {
		t.Errorf("not registered: exit %d, %q", code, errs)
	}
}

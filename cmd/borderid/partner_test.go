package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"borderid/internal/pki"
)

func TestParseRateQuota(t *testing.T) {
	for in, want := range map[string]float64{"10": 10, "2.5/s": 2.5, " 100/s ": 100} {
		if got, err := parseRate(in); err != nil || got != want {
			t.Errorf("parseRate(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0", "-1", "fast", "10/min", "NaN", "Inf", "1e9"} {
		if _, err := parseRate(in); err == nil {
			t.Errorf("parseRate(%q) accepted", in)
		}
	}
	for in, want := range map[string]int{"5000": 5000, "100000/day": 100000} {
		if got, err := parseQuota(in); err != nil || got != want {
			t.Errorf("parseQuota(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0", "-5", "1.5", "10/h"} {
		if _, err := parseQuota(in); err == nil {
			t.Errorf("parseQuota(%q) accepted", in)
		}
	}
}

func TestCheckStatusSignerRoot(t *testing.T) {
	now := time.Now()
	issue := func(kind pki.Kind, curve elliptic.Curve, notAfter time.Time) *x509.Certificate {
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := pki.Issue(pki.Template{Kind: kind, Country: "XA", CommonName: "ATL signer", NotBefore: now.Add(-48 * time.Hour), NotAfter: notAfter}, k.Public(), nil, k)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := checkStatusSignerRoot(issue(pki.StatusSigner, elliptic.P256(), now.AddDate(1, 0, 0)), now); err != nil {
		t.Errorf("a status signer: %v", err)
	}
	if err := checkStatusSignerRoot(issue(pki.AuditSigner, elliptic.P256(), now.AddDate(1, 0, 0)), now); err == nil || !strings.Contains(err.Error(), "OCSPSigning") {
		t.Errorf("an audit signer: %v", err)
	}
	if err := checkStatusSignerRoot(issue(pki.StatusSigner, elliptic.P384(), now.AddDate(1, 0, 0)), now); err == nil || !strings.Contains(err.Error(), "P-256") {
		t.Errorf("a P-384 status signer: %v", err)
	}
	if err := checkStatusSignerRoot(issue(pki.StatusSigner, elliptic.P256(), now.Add(-time.Hour)), now); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("an expired status signer: %v", err)
	}
	ca, err := pki.NewTLSCA("XA", "ATL")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkStatusSignerRoot(ca.Cert, now); err == nil {
		t.Error("a TLS CA accepted as status-signer root")
	}
	// Names and usage of a status signer, but signed by another key: not
	// self-signed, so not a root (pki.Issue refuses to make one, so the
	// certificate is made with crypto/x509).
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ik, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(99), Subject: pkix.Name{Country: []string{"XA"}, CommonName: "ATL signer"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), ik)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkStatusSignerRoot(c, now); err == nil || !strings.Contains(err.Error(), "self-signed") {
		t.Errorf("a certificate not signed by its own key: %v, want a refusal naming self-signed", err)
	}
}

// partner's refusals that come before the database (exit 2).
func TestPartnerCLIUsage(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ss, err := pki.Issue(pki.Template{Kind: pki.StatusSigner, Country: "XA", CommonName: "ATL signer", NotBefore: now, NotAfter: now.AddDate(1, 0, 0)}, k.Public(), nil, k)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.NewTLSCA("XA", "ATL")
	if err != nil {
		t.Fatal(err)
	}
	leaf, _, err := ca.IssueClient(pki.ClientSpec{CommonName: "ATL border system", Country: "XA"})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"root.crt": pki.CertPEM(ss), "ca.crt": ca.CertPEM, "leaf.crt": leaf, "junk.crt": []byte("not a certificate")}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f := func(n string) string { return filepath.Join(dir, n) }
	add := func(extra ...string) []string {
		return append([]string{"partner", "add", "--home", dir, "--state", "ATL", "--client-ca", f("ca.crt"), "--status-signer-root", f("root.crt"), "--url", "https://127.0.0.1:9/"}, extra...)
	}
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"partner"}, "add, list or remove"},
		{[]string{"partner", "rename"}, "unknown partner subcommand"},
		{[]string{"partner", "add"}, "--state is required"},
		{[]string{"partner", "add", "--state", "ATL"}, "required"},
		{[]string{"partner", "remove"}, "--state is required"},
		{[]string{"partner", "remove", "--state", "ZZZ"}, "not an ICAO"},
		{[]string{"partner", "list", "extra"}, "unexpected"},
		{add("--url", "http://127.0.0.1:9/"), "https"},
		{add("--url", "https://user@127.0.0.1:9/"), "https"},
		{add("--client-ca", f("leaf.crt")), "not a CA"},
		{add("--client-ca", f("junk.crt")), "--client-ca"},
		{add("--status-signer-root", f("ca.crt")), "OCSPSigning"},
		{add("--status-signer-root", f("nonexistent.crt")), "--status-signer-root"},
		{add("--server-ca", f("leaf.crt")), "want one CA certificate"},
		{add("--csca", f("leaf.crt")), "not a CSCA"},
		{add("--csca", f("junk.crt")), "--csca"},
		{add("--rate", "0"), "--rate"},
		{add("--quota", "many"), "--quota"},
		{append(add(), "extra"), "unexpected"},
		{[]string{"partner", "add", "--home", dir, "--state", "LEM", "--client-ca", f("ca.crt"), "--status-signer-root", f("root.crt"), "--url", "https://127.0.0.1:9/"}, "not XL"},
		{[]string{"trust", "sync"}, "--partner CODE is required"},
		{[]string{"trust", "sync", "--partner", "QQQ"}, "not an ICAO"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(""), &out, &errb, func(string) string { return "" })
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr: %s", code, exitUsage, errb.String())
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr %q does not say %q", errb.String(), tt.stderr)
			}
		})
	}
}

package pki_test

import (
	"bytes"
	"crypto/elliptic"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"borderid/internal/pki"
	"borderid/reader/lds"
)

// openssl runs the openssl binary in dir and returns its combined output;
// the test is skipped without it.
func openssl(t *testing.T, dir string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func write(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestOpenSSL checks the output with an independent implementation:
// OpenSSL reads every certificate (explicit parameters shown as
// prime-field), the CRL, the master list's and the SOD's CMS signatures,
// and verifies the DS certificate's signature with the CSCA key converted
// to a named curve, over the TBS bytes.
func TestOpenSSL(t *testing.T) {
	dir := t.TempDir()
	s := newPKI(t)
	now := testNow()
	statusKey := newKey(t, elliptic.P256())
	status := must(pki.Issue(pki.Template{Kind: pki.StatusSigner, Country: "UT", CommonName: "Status Signer Utopia",
		NotBefore: now, NotAfter: now.AddDate(1, 0, 0)}, statusKey.Public(), nil, statusKey))

	for _, tc := range []struct {
		name     string
		der      []byte
		explicit bool
		want     []string
	}{
		{"csca", s.csca, true, []string{"X509v3 Basic Constraints: critical", "CA:TRUE, pathlen:0", "Certificate Sign, CRL Sign",
			"X509v3 Private Key Usage Period", "DirName:/L=UTO", "Subject: C = UT, O = Utopia, CN = CSCA Utopia, serialNumber = 001"}},
		{"ds", s.ds, true, []string{"Digital Signature", "2.23.136.1.1.6.2", "X509v3 Private Key Usage Period"}},
		{"mls", s.mls, true, []string{"Extended Key Usage: critical", "2.23.136.1.1.3"}},
		{"status", status, false, []string{"ASN1 OID: prime256v1", "Extended Key Usage: critical", "OCSP Signing"}},
	} {
		write(t, dir, tc.name+".der", tc.der)
		out := openssl(t, dir, "x509", "-inform", "DER", "-in", tc.name+".der", "-text", "-noout")
		if tc.explicit {
			tc.want = append(tc.want, "Field Type: prime-field", "Cofactor:  1 (0x1)", "Signature Algorithm: ecdsa-with-SHA256", "Key Usage: critical")
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: openssl output lacks %q:\n%s", tc.name, w, out)
			}
		}
		if !tc.explicit && strings.Contains(out, "prime-field") {
			t.Errorf("%s: explicit parameters in a named-curve certificate", tc.name)
		}
	}

	// The CRL.
	crl := must(pki.IssueCRL(s.csca, s.cscaKey, big.NewInt(5), now, now.AddDate(0, 0, 90),
		[]pki.Revoked{{Serial: parse(t, s.ds).SerialNumber, At: now}}))
	write(t, dir, "crl.der", crl)
	out := openssl(t, dir, "crl", "-inform", "DER", "-in", "crl.der", "-text", "-noout")
	serial := strings.ToUpper(parse(t, s.ds).SerialNumber.Text(16))
	for _, w := range []string{"Version 2 (0x1)", "X509v3 CRL Number", "5", "X509v3 Authority Key Identifier", "Serial Number: " + serial} {
		if !strings.Contains(out, w) {
			t.Errorf("CRL: openssl output lacks %q:\n%s", w, out)
		}
	}
	// The CRL's signature with the CSCA as issuer (openssl crl -CAfile
	// needs the CA in PEM; explicit parameters are fine for it).
	write(t, dir, "csca.pem", pki.CertPEM(s.csca))
	if out := openssl(t, dir, "crl", "-inform", "DER", "-in", "crl.der", "-CAfile", "csca.pem", "-noout"); !strings.Contains(out, "verify OK") {
		t.Errorf("CRL signature: %s", out)
	}

	// The master list's CMS signature and content.
	ml := must(pki.MasterList([][]byte{s.csca}, s.mls, s.mlsKey, now, [][]byte{crl}))
	write(t, dir, "ml.der", ml)
	if out := openssl(t, dir, "cms", "-verify", "-noverify", "-inform", "DER", "-in", "ml.der", "-out", "ml.content"); !strings.Contains(out, "Verification successful") {
		t.Errorf("master list: %s", out)
	}
	content := must(os.ReadFile(filepath.Join(dir, "ml.content")))
	if !bytes.Contains(content, s.csca) || content[0] != 0x30 {
		t.Error("master list content is not the CscaMasterList")
	}

	// The SOD's CMS (without the 77 wrapper).
	sod, _ := chipFiles(t, s.ds, s.dsKey, now)
	inner := must(lds.ParseSingle(sod, lds.SODTag))
	write(t, dir, "sod.p7", inner.Value)
	if out := openssl(t, dir, "cms", "-verify", "-noverify", "-inform", "DER", "-in", "sod.p7", "-out", "/dev/null"); !strings.Contains(out, "Verification successful") {
		t.Errorf("SOD: %s", out)
	}

	// The DS certificate's signature, checked with the CSCA's key
	// rewritten with a named curve: the explicit parameters are exactly
	// P-256's, or OpenSSL would not recognise them.
	openssl(t, dir, "x509", "-inform", "DER", "-in", "csca.der", "-pubkey", "-noout", "-out", "csca-explicit.pem")
	openssl(t, dir, "pkey", "-pubin", "-in", "csca-explicit.pem", "-ec_param_enc", "named_curve", "-pubout", "-out", "csca-named.pem")
	if out := openssl(t, dir, "pkey", "-pubin", "-in", "csca-named.pem", "-text", "-noout"); !strings.Contains(out, "ASN1 OID: prime256v1") || strings.Contains(out, "prime-field") {
		t.Fatalf("conversion to a named curve: %s", out)
	}
	ds := parse(t, s.ds)
	write(t, dir, "tbs.der", ds.RawTBS)
	write(t, dir, "sig.der", ds.Signature)
	if out := openssl(t, dir, "dgst", "-sha256", "-verify", "csca-named.pem", "-signature", "sig.der", "tbs.der"); !strings.Contains(out, "Verified OK") {
		t.Errorf("DS signature: %s", out)
	}
	// And a wrong TBS fails.
	bad := bytes.Clone(ds.RawTBS)
	bad[len(bad)-1] ^= 1
	write(t, dir, "bad.der", bad)
	cmd := exec.Command("openssl", "dgst", "-sha256", "-verify", "csca-named.pem", "-signature", "sig.der", "bad.der")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err == nil || strings.Contains(string(out), "Verified OK") {
		t.Errorf("a changed TBS verified: %s", out)
	}
}

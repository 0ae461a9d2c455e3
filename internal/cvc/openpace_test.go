package cvc

import (
	"crypto/elliptic"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"borderid/internal/ec"
)

// Debian's openpace package (cvc-create, cvc-print) is an implementation
// of TR-03110 written elsewhere: what we build must satisfy it, and what it
// builds must satisfy us.

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (Debian package openpace)", name)
	}
	return p
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestOpenPACEPrintsOurChain writes chains made by Create and has
// cvc-print parse them and verify their signatures against a trust folder
// holding the CVCA and DV under their CHRs.
func TestOpenPACEPrintsOurChain(t *testing.T) {
	cvcPrint := needTool(t, "cvc-print")
	for _, o := range []chainOpts{
		{ec: ec.BrainpoolP256r1(), alg: ECDSASHA256},
		{curve: elliptic.P256(), alg: ECDSASHA256, dvRole: RoleDVForeign},
		{ec: ec.BrainpoolP384r1(), alg: ECDSASHA384, rights: [3]Rights{ReadDG3 | ReadDG4, ReadDG4, ReadDG4}},
		{ec: ec.BrainpoolP512r1(), alg: ECDSASHA512},
		{alg: RSAPSSSHA256},
		{alg: RSAv15SHA512},
	} {
		name := o.alg.String()
		switch {
		case o.ec != nil:
			name += "/" + o.ec.Name()
		case o.curve != nil:
			name += "/" + o.curve.Params().Name
		}
		t.Run(name, func(t *testing.T) {
			var tc *testChain
			if o.alg.IsRSA() {
				tc = newRSAChain(t, o.alg)
			} else {
				tc = newECChain(t, o)
			}
			dir := t.TempDir()
			trust := filepath.Join(dir, "trust")
			if err := os.Mkdir(trust, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				raw   []byte
				cert  *Certificate
				trust bool
			}{{tc.cvcaRaw, tc.cvca, true}, {tc.dvRaw, tc.dv, true}, {tc.isRaw, tc.is, false}} {
				f := filepath.Join(dir, c.cert.CHR+".cvcert")
				if err := os.WriteFile(f, c.raw, 0o644); err != nil {
					t.Fatal(err)
				}
				if c.trust {
					if err := os.WriteFile(filepath.Join(trust, c.cert.CHR), c.raw, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, c := range []struct {
				cert *Certificate
				role string
			}{{tc.cvca, "CVCA certificate"}, {tc.dv, "DV certificate"}, {tc.is, "Terminal certificate"}} {
				out := run(t, dir, cvcPrint, "--cvc="+c.cert.CHR+".cvcert", "--cvc-dir="+trust)
				want := []string{
					"Profile identifier: 0",
					"CAR: " + c.cert.CAR,
					"CHR: " + c.cert.CHR,
					"Inspection system",
					c.role,
					"Effective Date: " + c.cert.Effective.Format(time.DateOnly),
					"Expiration Date: " + c.cert.Expiration.Format(time.DateOnly),
					"certificate verified",
				}
				if c.cert.Rights&ReadDG3 != 0 {
					want = append(want, "Read fingerprint")
				}
				if c.cert.Rights&ReadDG4 != 0 {
					want = append(want, "Read iris")
				}
				for _, w := range want {
					if !strings.Contains(out, w) {
						t.Errorf("%s: cvc-print output lacks %q:\n%s", c.cert.CHR, w, out)
					}
				}
				if strings.Contains(out, "not verified") {
					t.Errorf("%s: cvc-print did not verify:\n%s", c.cert.CHR, out)
				}
				if c.cert.Rights&ReadDG3 == 0 && strings.Contains(out, "Read fingerprint") {
					t.Errorf("%s: cvc-print sees a right we did not grant:\n%s", c.cert.CHR, out)
				}
			}
		})
	}
}

// TestOpenPACEChainVerifies has cvc-create make chains (it generates the DV
// and IS keys itself) and checks that Parse reads them and Authorize
// accepts their signatures.
func TestOpenPACEChainVerifies(t *testing.T) {
	cvcCreate := needTool(t, "cvc-create")
	openssl := needTool(t, "openssl")
	today := time.Now().UTC()
	for _, tt := range []struct {
		name   string
		scheme string
		alg    Algorithm
		keygen []string // openssl command making the CVCA key
	}{
		{"ECDSA_SHA_256/brainpoolP256r1", "ECDSA_SHA_256", ECDSASHA256, []string{"ecparam", "-name", "brainpoolP256r1", "-genkey", "-noout", "-out", "cvca.pem"}},
		{"ECDSA_SHA_256/prime256v1", "ECDSA_SHA_256", ECDSASHA256, []string{"ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "cvca.pem"}},
		{"ECDSA_SHA_384/brainpoolP384r1", "ECDSA_SHA_384", ECDSASHA384, []string{"ecparam", "-name", "brainpoolP384r1", "-genkey", "-noout", "-out", "cvca.pem"}},
		{"ECDSA_SHA_512/brainpoolP512r1", "ECDSA_SHA_512", ECDSASHA512, []string{"ecparam", "-name", "brainpoolP512r1", "-genkey", "-noout", "-out", "cvca.pem"}},
		{"ECDSA_SHA_224/secp224r1", "ECDSA_SHA_224", ECDSASHA224, []string{"ecparam", "-name", "secp224r1", "-genkey", "-noout", "-out", "cvca.pem"}},
		{"RSA_v1_5_SHA_256/RSA-2048", "RSA_v1_5_SHA_256", RSAv15SHA256, []string{"genrsa", "-out", "cvca.pem", "2048"}},
		{"RSA_PSS_SHA_256/RSA-2048", "RSA_PSS_SHA_256", RSAPSSSHA256, []string{"genrsa", "-out", "cvca.pem", "2048"}},
		{"RSA_PSS_SHA_1/RSA-2048", "RSA_PSS_SHA_1", RSAPSSSHA1, []string{"genrsa", "-out", "cvca.pem", "2048"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if testing.Short() && (strings.Contains(tt.name, "512") || tt.name == "RSA_v1_5_SHA_256/RSA-2048" || tt.name == "RSA_PSS_SHA_1/RSA-2048") {
				t.Skip("large curve in -short")
			}
			dir := t.TempDir()
			run(t, dir, openssl, tt.keygen...)
			run(t, dir, openssl, "pkcs8", "-topk8", "-nocrypt", "-in", "cvca.pem", "-outform", "DER", "-out", "cvca.pkcs8")
			exp := "--expires=" + today.AddDate(2, 0, 0).Format("060102")
			// The effective date in UTC, as Authorize counts days.
			issued := "--issued=" + today.Format("060102")
			run(t, dir, cvcCreate, "--role=cvca", "--type=is", "--chr=UTCVCA00007", exp, issued,
				"--sign-with=cvca.pkcs8", "--scheme="+tt.scheme, "--read-finger", "--read-iris")
			run(t, dir, cvcCreate, "--role=dv_foreign", "--chr=UTDVCA00007", exp, issued,
				"--sign-with=cvca.pkcs8", "--sign-as=UTCVCA00007.cvcert", "--scheme="+tt.scheme, "--read-finger", "--read-iris")
			run(t, dir, cvcCreate, "--role=terminal", "--chr=UTIS0000007", exp, issued,
				"--sign-with=UTDVCA00007.pkcs8", "--sign-as=UTDVCA00007.cvcert", "--scheme="+tt.scheme, "--read-finger")
			var certs []*Certificate
			for _, chr := range []string{"UTCVCA00007", "UTDVCA00007", "UTIS0000007"} {
				b, err := os.ReadFile(filepath.Join(dir, chr+".cvcert"))
				if err != nil {
					t.Fatal(err)
				}
				c, err := Parse(b)
				if err != nil {
					t.Fatalf("%s: %v", chr, err)
				}
				if c.CHR != chr || c.PublicKey.Algorithm != tt.alg {
					t.Errorf("%s: CHR %s algorithm %v", chr, c.CHR, c.PublicKey.Algorithm)
				}
				certs = append(certs, c)
			}
			if certs[1].Role != RoleDVForeign || certs[2].Role != RoleIS || certs[0].Role != RoleCVCA {
				t.Errorf("roles %v %v %v", certs[0].Role, certs[1].Role, certs[2].Role)
			}
			r, err := Authorize(certs[0], certs[1:], today)
			if err != nil {
				t.Fatal(err)
			}
			if r != ReadDG3 {
				t.Errorf("rights %v, want ReadDG3", r)
			}
			// And a flipped byte in OpenPACE's IS signature is refused.
			certs[2].Signature[len(certs[2].Signature)/3] ^= 0x10
			if _, err := Authorize(certs[0], certs[1:], today); !errors.Is(err, ErrSignature) {
				t.Errorf("flipped signature: %v", err)
			}
		})
	}
}

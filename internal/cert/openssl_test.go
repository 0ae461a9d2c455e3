package cert

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// openssl runs the openssl binary in dir; the test is skipped without it.
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

// opensslCA makes, in a fresh directory, a self-signed CA whose key is
// made by keyArgs (genpkey arguments), and returns the directory.
func opensslCA(t *testing.T, keyArgs []string, sigArgs ...string) string {
	t.Helper()
	dir := t.TempDir()
	openssl(t, dir, append([]string{"genpkey", "-out", "ca.key"}, keyArgs...)...)
	args := []string{"req", "-new", "-x509", "-key", "ca.key", "-out", "ca.pem", "-days", "3650",
		"-subj", "/C=UT/O=Utopia/CN=CSCA Utopia", "-addext", "keyUsage=critical,keyCertSign,cRLSign"}
	openssl(t, dir, append(args, sigArgs...)...)
	openssl(t, dir, "x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der")
	return dir
}

// opensslCRL runs `openssl ca -gencrl` over an index listing the given
// revoked serials (hex) with reason keyCompromise, and returns the DER CRL.
func opensslCRL(t *testing.T, dir string, serials []string, sigArgs ...string) []byte {
	t.Helper()
	conf := `[ ca ]
default_ca = d
[ d ]
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 30
crl_extensions = ext
[ ext ]
authorityKeyIdentifier = keyid:always
`
	var idx strings.Builder
	for _, s := range serials {
		idx.WriteString("R\t301231000000Z\t240102030405Z,keyCompromise\t" + s + "\tunknown\t/C=UT/CN=DS " + s + "\n")
	}
	must(t, os.WriteFile(filepath.Join(dir, "ca.cnf"), []byte(conf), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "index.txt"), []byte(idx.String()), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "crlnumber"), []byte("2A\n"), 0o600))
	openssl(t, dir, append([]string{"ca", "-batch", "-config", "ca.cnf", "-gencrl", "-keyfile", "ca.key", "-cert", "ca.pem", "-out", "crl.pem"}, sigArgs...)...)
	openssl(t, dir, "crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der")
	b, err := os.ReadFile(filepath.Join(dir, "crl.der"))
	must(t, err)
	return b
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

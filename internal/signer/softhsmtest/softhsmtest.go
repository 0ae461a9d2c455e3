// Package softhsmtest gives tests a fresh SoftHSM2 token (Debian package
// softhsm2) and generates keys inside it, sensitive and non-extractable,
// as a real HSM would hold them.
//
// NewToken writes a softhsm2.conf under t.TempDir() whose token store is
// a folder beside it, points SOFTHSM2_CONF at it with t.Setenv (so tests
// using it cannot be parallel) and initialises one token with
// softhsm2-util. Tests skip when softhsm2-util is not installed.
//
// SoftHSM2 reads SOFTHSM2_CONF when the module is initialised, and
// crypto11 keeps a module initialised while any of its contexts is open:
// every context a test opens must be closed before the next test's
// NewToken.
package softhsmtest

import (
	"crypto"
	"crypto/elliptic"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ThalesGroup/crypto11"
)

// Token is an initialised SoftHSM2 token.
type Token struct {
	Conf   string // the softhsm2.conf written
	Module string // the PKCS#11 module's path
	Label  string // the token label
	PIN    string // the user PIN
	SOPIN  string // the security officer PIN
}

// modulePaths are where Debian installs the SoftHSM2 module.
func modulePaths() []string {
	return []string{
		"/usr/lib/softhsm/libsofthsm2.so",
		"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/local/lib/softhsm/libsofthsm2.so",
	}
}

// NewToken initialises a token labelled "borderid-test" with user PIN
// "4711-test" in a store of its own.
func NewToken(t testing.TB) *Token {
	t.Helper()
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		t.Skip("softhsm2-util not installed (Debian package softhsm2)")
	}
	module := ""
	for _, p := range modulePaths() {
		if _, err := os.Stat(p); err == nil {
			module = p
			break
		}
	}
	if module == "" {
		t.Fatalf("softhsm2-util is installed but libsofthsm2.so is in none of %v", modulePaths())
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	body := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	tk := &Token{Conf: conf, Module: module, Label: "borderid-test", PIN: "4711-test", SOPIN: "so-4711-test"}
	out, err := exec.Command(util, "--init-token", "--free", "--label", tk.Label,
		"--so-pin", tk.SOPIN, "--pin", tk.PIN).CombinedOutput()
	if err != nil {
		t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	return tk
}

// URI returns the PKCS#11 URI of a private key of this token by label
// and/or id, with the module path and no PIN.
func (tk *Token) URI(label string, id []byte) string {
	var b strings.Builder
	b.WriteString("pkcs11:token=" + url.PathEscape(tk.Label))
	if label != "" {
		b.WriteString(";object=" + url.PathEscape(label))
	}
	if len(id) > 0 {
		b.WriteString(";id=")
		for _, c := range id {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	b.WriteString(";type=private?module-path=" + tk.Module)
	return b.String()
}

// context opens a crypto11 context logged in to the token.
func (tk *Token) context(t testing.TB) *crypto11.Context {
	t.Helper()
	c, err := crypto11.Configure(&crypto11.Config{Path: tk.Module, TokenLabel: tk.Label, Pin: tk.PIN})
	if err != nil {
		t.Fatalf("crypto11: %v", err)
	}
	return c
}

// GenerateECDSA generates an EC key pair inside the token (crypto11
// marks the private key CKA_SENSITIVE and not CKA_EXTRACTABLE) and
// returns its public key. The context used is closed before returning.
func (tk *Token) GenerateECDSA(t testing.TB, label string, id []byte, curve elliptic.Curve) crypto.PublicKey {
	t.Helper()
	c := tk.context(t)
	defer c.Close()
	k, err := c.GenerateECDSAKeyPairWithLabel(id, []byte(label), curve)
	if err != nil {
		t.Fatalf("generate %s key %q: %v", curve.Params().Name, label, err)
	}
	return k.Public()
}

// GenerateRSA generates an RSA key pair of bits inside the token
// (public exponent 65537) and returns its public key.
func (tk *Token) GenerateRSA(t testing.TB, label string, id []byte, bits int) crypto.PublicKey {
	t.Helper()
	c := tk.context(t)
	defer c.Close()
	k, err := c.GenerateRSAKeyPairWithLabel(id, []byte(label), bits)
	if err != nil {
		t.Fatalf("generate RSA-%d key %q: %v", bits, label, err)
	}
	return k.Public()
}

// Attributes reads boolean attributes of the private key label (true
// when the byte is non-zero): CKA_SENSITIVE, CKA_EXTRACTABLE,
// CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE.
func (tk *Token) Attributes(t testing.TB, label string) map[string]bool {
	t.Helper()
	c := tk.context(t)
	defer c.Close()
	k, err := c.FindKeyPair(nil, []byte(label))
	if err != nil || k == nil {
		t.Fatalf("find %q: %v", label, err)
	}
	names := map[crypto11.AttributeType]string{
		crypto11.CkaSensitive: "CKA_SENSITIVE", crypto11.CkaExtractable: "CKA_EXTRACTABLE",
		crypto11.CkaAlwaysSensitive: "CKA_ALWAYS_SENSITIVE", crypto11.CkaNeverExtractable: "CKA_NEVER_EXTRACTABLE",
	}
	types := make([]crypto11.AttributeType, 0, len(names))
	for ty := range names {
		types = append(types, ty)
	}
	set, err := c.GetAttributes(k, types)
	if err != nil {
		t.Fatalf("attributes of %q: %v", label, err)
	}
	out := make(map[string]bool)
	for ty, n := range names {
		a := set[ty]
		out[n] = a != nil && len(a.Value) > 0 && a.Value[0] != 0
	}
	return out
}

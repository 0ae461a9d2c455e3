package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"borderid/crossborder"
	"borderid/inspect"
	"borderid/internal/pki"
)

// statusHome writes what `status query` and `read --status` read of a home
// for this state's own registry (no database, no HSM): pki/csca.crt,
// pki/status-signer.crt, pki/tls-ca.crt and pki/clients/border-post1.
func statusHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	for _, d := range []string{"pki/clients"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(home, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ck, sk := key(), key()
	csca, err := pki.Issue(pki.Template{Kind: pki.CSCA, Country: "UT", CommonName: "UTO CSCA", NotBefore: now, NotAfter: now.AddDate(1, 0, 0)}, ck.Public(), nil, ck)
	if err != nil {
		t.Fatal(err)
	}
	write("pki/csca.crt", pki.CertPEM(csca))
	ss, err := pki.Issue(pki.Template{Kind: pki.StatusSigner, Country: "UT", CommonName: "UTO Document Status Signer", NotBefore: now, NotAfter: now.AddDate(1, 0, 0)}, sk.Public(), nil, sk)
	if err != nil {
		t.Fatal(err)
	}
	write("pki/status-signer.crt", pki.CertPEM(ss))
	ca, err := pki.NewTLSCA("UT", "UTO")
	if err != nil {
		t.Fatal(err)
	}
	write("pki/tls-ca.crt", ca.CertPEM)
	c, k, err := ca.IssueClient(pki.ClientSpec{CommonName: "border-post1", Country: "UT", Roles: []string{pki.RoleBorder}})
	if err != nil {
		t.Fatal(err)
	}
	write("pki/clients/border-post1.crt", c)
	write("pki/clients/border-post1.key", k)
	return home
}

var annaQuery = crossborder.Query{IssuingState: "UTO", DocumentNumber: "L898902C3", DateOfBirth: "740812", DateOfExpiry: "340811", DocumentType: "P"}

// read --status with this state's own service down or silent: the check is
// not_done with partner_unreachable, within the 1 s bound.
func TestAskStatusUnreachable(t *testing.T) {
	home := statusHome(t)
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	held := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := mute.Accept()
			if err != nil {
				return
			}
			held <- c // accepted, never answered
		}
	}()
	defer func() {
		close(held)
		for c := range held {
			c.Close()
		}
	}()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	for name, u := range map[string]string{"silent listener": "https://" + mute.Addr().String(), "closed port": "https://" + closed} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			a := askStatus(context.Background(), home, u, annaQuery)
			took := time.Since(start)
			if a == nil || a.Status != "" || a.Failure != inspect.ReasonPartnerUnreachable {
				t.Fatalf("answer %+v", a)
			}
			if took > 1500*time.Millisecond {
				t.Fatalf("took %v, want < 1.5 s", took)
			}
			c := inspect.DocumentStatus(a)
			if c.Result != inspect.NotDone || c.Reason != "partner_unreachable" {
				t.Errorf("check %+v", c)
			}
		})
	}
}

func TestAskStatusMissingMaterial(t *testing.T) {
	home := statusHome(t)
	if err := os.Remove(filepath.Join(home, "pki", "clients", "border-post1.key")); err != nil {
		t.Fatal(err)
	}
	a := askStatus(context.Background(), home, "https://127.0.0.1:9", annaQuery)
	if a.Status != "" || a.Failure == "" || !strings.Contains(a.Detail, "border-post1") {
		t.Errorf("answer %+v", a)
	}
	// No home at all.
	a = askStatus(context.Background(), t.TempDir(), "", annaQuery)
	if a.Status != "" || a.Failure == "" {
		t.Errorf("answer %+v", a)
	}
}

func TestStatusReason(t *testing.T) {
	for err, want := range map[error]string{
		fmt.Errorf("x: %w", crossborder.ErrUnreachable): "partner_unreachable",
		fmt.Errorf("x: %w", crossborder.ErrRefused):     "status_refused",
		fmt.Errorf("x: %w", crossborder.ErrBadAnswer):   "bad_status_answer",
		fmt.Errorf("x: %w", errNotRegistered):           "partner_not_registered",
		errors.New("other"):                             "bad_status_answer",
	} {
		if got := statusReason(err); got != want {
			t.Errorf("statusReason(%v) = %s, want %s", err, got, want)
		}
	}
}

// status query's usage errors (exit 2) and its unreachable exit (1), in
// process: no database is needed for this state's own registry.
func TestStatusQueryCLI(t *testing.T) {
	home := statusHome(t)
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"status"}, exitUsage, "query"},
		{[]string{"status", "ask"}, exitUsage, "unknown status subcommand"},
		{[]string{"status", "query"}, exitUsage, "required"},
		{[]string{"status", "query", "--issuing-state", "UTO", "--doc", "L898902C3", "--dob", "740812"}, exitUsage, "required"},
		{[]string{"status", "query", "--issuing-state", "UTO", "--doc", "L898902C3", "--dob", "741312", "--exp", "340811"}, exitUsage, "date of birth"},
		{[]string{"status", "query", "--issuing-state", "U2O", "--doc", "L898902C3", "--dob", "740812", "--exp", "340811"}, exitUsage, "issuing state"},
		{[]string{"status", "query", "--issuing-state", "UTO", "--doc", "L898902C3", "--dob", "740812", "--exp", "340811", "extra"}, exitUsage, "unexpected"},
		{[]string{"status", "query", "--home", home, "--url", "https://127.0.0.1:9", "--issuing-state", "UTO", "--doc", "L898902C3", "--dob", "740812", "--exp", "340811"}, exitFail, "partner_unreachable"},
		{[]string{"status", "query", "--home", home, "--url", "http://127.0.0.1:9", "--issuing-state", "UTO", "--doc", "L898902C3", "--dob", "740812", "--exp", "340811"}, exitUsage, "https"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(""), &out, &errb, func(string) string { return "" })
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errb.String())
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr %q does not say %q", errb.String(), tt.stderr)
			}
			if tt.code != exitOK && out.Len() != 0 {
				t.Errorf("stdout %q on failure", out.String())
			}
		})
	}
}

// read --status's flags go together.
func TestReadStatusFlags(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"read", "--doc", "L898902C3", "--dob", "740812", "--exp", "340811", "--status-url", "https://127.0.0.1:9"},
		strings.NewReader(""), &out, &errb, func(string) string { return "" })
	if code != exitUsage || !strings.Contains(errb.String(), "--status") {
		t.Errorf("exit %d: %s", code, errb.String())
	}
}

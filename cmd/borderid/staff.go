package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"borderid/internal/cert"
	"borderid/internal/hsm"
	"borderid/internal/pki"
)

const staffUsage = `staff issue NAME --roles ROLE[,ROLE] [--office OFFICE] [--days N] [--out DIR] [--home DIR]

issue  makes a client certificate for a member of staff or a station, signed
       by the state's TLS CA (its key is in the HSM): CN=NAME, O=the state's
       two-letter code, OU=OFFICE for the office roles (clerk, approver), none
       for the national ones (issuer, border, auditor); roles as
       urn:borderid:role:<role> SAN URIs. Writes NAME.crt and NAME.key (0600)
       to DIR (default <home>/pki/clients); never overwrites. An empty --roles
       makes a certificate that may read the OpenAPI document only.`

var staffName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// cmdStaff is `borderid staff issue`: onboarding a clerk, an approver or a
// border station without handing anyone the CA key.
func cmdStaff(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "issue" {
		fmt.Fprintf(e.stderr, "usage: borderid %s\n", staffUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return nil
		}
		return usagef("a staff subcommand is needed: issue")
	}
	args = args[1:]
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	fs := newFlagSet(e, "staff issue", staffUsage)
	homeF := homeFlag(fs)
	rolesF := fs.String("roles", "", "comma-separated `ROLES`: clerk, approver, issuer, border, auditor")
	officeF := fs.String("office", "", "the `OFFICE` of the office roles (clerk, approver)")
	days := fs.Int("days", 397, "validity in `N` days (1 to 397)")
	outF := fs.String("out", "", "write NAME.crt and NAME.key to `DIR` (default <home>/pki/clients)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	} else if fs.NArg() != 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	if !staffName.MatchString(name) {
		return usagef("NAME %q: 1 to 64 of letters, digits, '.', '_', '-'", name)
	}
	if *days < 1 || *days > 397 {
		return usagef("--days %d: 1 to 397", *days)
	}
	var roles []string
	for _, r := range strings.Split(*rolesF, ",") {
		if r = strings.TrimSpace(r); r != "" {
			roles = append(roles, r)
		}
	}
	home, err := homeDir(e, *homeF)
	if err != nil {
		return err
	}
	out := *outF
	if out == "" {
		out = filepath.Join(home, "pki", "clients")
	}
	csca, err := readPEMCert(filepath.Join(home, "pki", "csca.crt"))
	if err != nil {
		return fmt.Errorf("%w (run borderid init first)", err)
	}
	tok, err := hsm.Open(ctx, home)
	if err != nil {
		return err
	}
	defer tok.Close()
	key, _ := tok.Signer("tls-ca") // absent in homes whose CA key is still a file
	ca, err := loadTLSCA(home, key)
	if err != nil {
		return fmt.Errorf("the state's TLS CA: %w", err)
	}
	country := strings.ToUpper(csca.Subject.Country)
	if _, ok := cert.Alpha2ToAlpha3(country); !ok {
		return fmt.Errorf("pki/csca.crt: country %q", country)
	}
	crt, keyPEM, err := ca.IssueClient(pki.ClientSpec{CommonName: name, Country: country, Office: *officeF, Roles: roles,
		NotAfter: time.Now().AddDate(0, 0, *days)})
	if err != nil {
		return usagef("%v", err)
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return err
	}
	if err := writeNew(filepath.Join(out, name+".key"), keyPEM, 0o600); err != nil {
		return err
	}
	if err := writeNew(filepath.Join(out, name+".crt"), crt, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s.crt and %s.key (roles %s, office %q, %d days)\n",
		filepath.Join(out, name), filepath.Join(out, name), strings.Join(roles, "+"), *officeF, *days)
	return nil
}

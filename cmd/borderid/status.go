package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"borderid/crossborder"
	"borderid/db"
	"borderid/inspect"
	"borderid/internal/cert"
)

const statusUsage = `status query --issuing-state CODE --doc N --dob YYMMDD --exp YYMMDD [--type P]
                     [--json] [--url URL] [--home DIR]

Asks the registry of the issuing state whether a document is valid, lost,
stolen, revoked or expired (POST /v1/crossborder/status, issue 6), with the
fields of the MRZ of the document in hand, and prints the answer once its
signature is verified: an ES256 JWS whose certificate chains to the
registered status-signer root, carrying the nonce sent, at most 2 minutes
off our clock.

  this state (CODE = the home's state): the service at --url (default
      https://127.0.0.1:8443) as the border station pki/clients/border-post1,
      server checked against pki/tls-ca.crt, answers against
      pki/status-signer.crt
  a partner state: the endpoint of the partner registry (borderid partner
      add; --url overrides its URL) as pki/clients/crossborder, server checked
      against the partner's registered server CA, answers against its
      registered status-signer root

A partner that is down or slow costs at most 1 s. Exit 0 when a verified
answer came (whatever the status), 1 when none did (partner_unreachable,
status_refused, bad_status_answer, partner_not_registered), 2 usage error.`

// defaultStatusURL is this state's own service, as `borderid serve` listens
// by default.
const defaultStatusURL = "https://127.0.0.1:8443"

// errNotRegistered: the issuing state is neither this state nor a
// registered partner.
var errNotRegistered = errors.New("not a registered partner")

// cmdStatus is `borderid status query` (issue 6, item 3).
func cmdStatus(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintf(e.stderr, "usage: borderid %s\n", statusUsage)
		return usagef("a status subcommand is needed: query")
	}
	switch args[0] {
	case "query":
		return cmdStatusQuery(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintf(e.stderr, "usage: borderid %s\n", statusUsage)
		return nil
	}
	fmt.Fprintf(e.stderr, "usage: borderid %s\n", statusUsage)
	return usagef("unknown status subcommand %q", args[0])
}

// statusQueryJSON is what `status query --json` prints.
type statusQueryJSON struct {
	IssuingState   string `json:"issuing_state"`
	DocumentNumber string `json:"document_number"`
	Status         string `json:"status"`
	Since          string `json:"since,omitempty"`
	Responder      string `json:"responder"`
	Time           string `json:"time"`
	Signer         string `json:"signer"`
	Verified       bool   `json:"verified"`
}

func cmdStatusQuery(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "status query", statusUsage)
	homeF := homeFlag(fs)
	issuing := fs.String("issuing-state", "", "the issuing state's ICAO three-letter `CODE` (MRZ)")
	doc := fs.String("doc", "", "document `NUMBER` as printed in the MRZ")
	dob := fs.String("dob", "", "date of birth `YYMMDD`")
	exp := fs.String("exp", "", "date of expiry `YYMMDD`")
	typ := fs.String("type", "P", "document `TYPE` (MRZ document code)")
	urlF := fs.String("url", "", "the responder's base `URL` (default: this state's https://127.0.0.1:8443, a partner's registered URL)")
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	if *issuing == "" || *doc == "" || *dob == "" || *exp == "" {
		return usagef("--issuing-state, --doc, --dob and --exp are required (the MRZ of the document in hand)")
	}
	q := crossborder.Query{IssuingState: strings.ToUpper(*issuing), DocumentNumber: *doc, DateOfBirth: *dob, DateOfExpiry: *exp, DocumentType: *typ}
	if _, err := crossborder.NormaliseQueries([]crossborder.Query{q}); err != nil {
		return usagef("%v", err)
	}
	if *urlF != "" {
		if u, err := url.Parse(*urlF); err != nil || u.Scheme != "https" || u.Host == "" {
			return usagef("--url %q: want https://HOST[:PORT]", *urlF)
		}
	}
	home, err := homeDir(e, *homeF)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, crossborder.Timeout)
	defer cancel()
	ep, err := statusEndpoint(ctx, home, q.IssuingState, *urlF)
	if err != nil {
		if errors.Is(err, errNotRegistered) {
			return fmt.Errorf("%s: %w", inspect.ReasonPartnerNotRegistered, err)
		}
		return err
	}
	p, err := crossborder.Ask(ctx, ep, []crossborder.Query{q}, time.Now())
	if err != nil {
		return fmt.Errorf("%s: %w", statusReason(err), err)
	}
	a := p.Answers[0]
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(statusQueryJSON{IssuingState: q.IssuingState, DocumentNumber: a.DocumentNumber, Status: a.Status,
			Since: a.Since, Responder: p.Responder, Time: p.Time, Signer: ep.Root.Subject.String(), Verified: true})
	}
	line := fmt.Sprintf("%s %s: %s", q.IssuingState, a.DocumentNumber, a.Status)
	if a.Since != "" {
		line += " since " + a.Since
	}
	fmt.Fprintln(e.stdout, line)
	fmt.Fprintf(e.stdout, "answered by %s at %s; signature verified against the status-signer root %s\n", p.Responder, p.Time, ep.Root.Subject)
	return nil
}

// statusReason maps an error of crossborder.Ask to the document_status
// reason code.
func statusReason(err error) string {
	switch {
	case errors.Is(err, errNotRegistered):
		return inspect.ReasonPartnerNotRegistered
	case errors.Is(err, crossborder.ErrUnreachable):
		return inspect.ReasonPartnerUnreachable
	case errors.Is(err, crossborder.ErrRefused):
		return inspect.ReasonStatusRefused
	}
	return inspect.ReasonBadStatusAnswer
}

// homeState is the home's own state (alpha-3), from pki/csca.crt's C=.
func homeState(home string) (string, error) {
	csca, err := readPEMCert(filepath.Join(home, "pki", "csca.crt"))
	if err != nil {
		return "", fmt.Errorf("%w (run borderid init --state CODE first)", err)
	}
	a3, ok := cert.Alpha2ToAlpha3(strings.ToUpper(csca.Subject.Country))
	if !ok {
		return "", fmt.Errorf("pki/csca.crt: country %q is not in borderid's table", csca.Subject.Country)
	}
	return a3, nil
}

// statusEndpoint is the responder of issuing: this state's own service or a
// registered partner's (see statusUsage). urlOverride, when not empty,
// replaces the URL.
func statusEndpoint(ctx context.Context, home, issuing, urlOverride string) (crossborder.Endpoint, error) {
	own, err := homeState(home)
	if err != nil {
		return crossborder.Endpoint{}, err
	}
	pkiDir := filepath.Join(home, "pki")
	if issuing == own {
		root, err := readX509PEM(filepath.Join(pkiDir, "status-signer.crt"))
		if err != nil {
			return crossborder.Endpoint{}, err
		}
		serverCA, err := os.ReadFile(filepath.Join(pkiDir, "tls-ca.crt"))
		if err != nil {
			return crossborder.Endpoint{}, err
		}
		cfg, err := statusTLS(filepath.Join(pkiDir, "clients", "border-post1"), [][]byte{serverCA})
		if err != nil {
			return crossborder.Endpoint{}, err
		}
		u := defaultStatusURL
		if urlOverride != "" {
			u = urlOverride
		}
		return crossborder.Endpoint{State: own, URL: u, Root: root, TLS: cfg}, nil
	}
	// Attach only, as the app role: a status question never starts,
	// creates or migrates the database, and needs no owner secret.
	c, err := db.Locate(home, db.Options{})
	if err != nil {
		return crossborder.Endpoint{}, fmt.Errorf("the partner registry: %w", err)
	}
	pool, err := db.Open(ctx, c, db.App)
	if err != nil {
		return crossborder.Endpoint{}, err
	}
	defer pool.Close()
	p, err := db.PartnerByState(ctx, pool, issuing)
	if errors.Is(err, db.ErrNotFound) {
		return crossborder.Endpoint{}, fmt.Errorf("%s is %w of %s (borderid partner add)", issuing, errNotRegistered, own)
	}
	if err != nil {
		return crossborder.Endpoint{}, err
	}
	return partnerEndpoint(home, p, urlOverride)
}

// partnerEndpoint is how this state reaches partner p: its registered URL,
// server CA and status-signer root, with this state's crossborder client
// certificate.
func partnerEndpoint(home string, p *db.Partner, urlOverride string) (crossborder.Endpoint, error) {
	root, err := x509.ParseCertificate(p.StatusSignerRoot)
	if err != nil {
		return crossborder.Endpoint{}, fmt.Errorf("partner %s: registered status-signer root: %w", p.State, err)
	}
	if len(p.ServerCA) == 0 {
		return crossborder.Endpoint{}, fmt.Errorf("partner %s was registered without --server-ca: its server cannot be checked (remove it and add it again with --server-ca FILE)", p.State)
	}
	serverCA := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.ServerCA})
	cfg, err := statusTLS(filepath.Join(home, "pki", "clients", "crossborder"), [][]byte{serverCA})
	if err != nil {
		return crossborder.Endpoint{}, err
	}
	u := p.URL
	if urlOverride != "" {
		u = urlOverride
	}
	return crossborder.Endpoint{State: p.State, URL: u, Root: root, TLS: cfg}, nil
}

// statusTLS presents base.{crt,key} and trusts only the given server CAs
// (PEM).
func statusTLS(base string, serverCAs [][]byte) (*tls.Config, error) {
	kp, err := tls.LoadX509KeyPair(base+".crt", base+".key")
	if err != nil {
		return nil, fmt.Errorf("client certificate %s.crt: %w (run borderid init)", base, err)
	}
	pool := x509.NewCertPool()
	for _, b := range serverCAs {
		if !pool.AppendCertsFromPEM(b) {
			return nil, errors.New("the server CA holds no PEM certificate")
		}
	}
	return &tls.Config{Certificates: []tls.Certificate{kp}, RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// readX509PEM reads one PEM certificate with crypto/x509 (named curves:
// the status signer and TLS certificates).
func readX509PEM(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: not a PEM certificate", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// askStatus asks the issuing state's registry about the document in hand
// for `read --status`, and never fails: what went wrong is the answer's
// Failure (the document_status check's reason).
func askStatus(ctx context.Context, home, urlOverride string, q crossborder.Query) *inspect.StatusAnswer {
	// One bound for everything, the registry lookup included: a border
	// post waits at most crossborder.Timeout for a status.
	ctx, cancel := context.WithTimeout(ctx, crossborder.Timeout)
	defer cancel()
	ep, err := statusEndpoint(ctx, home, strings.ToUpper(q.IssuingState), urlOverride)
	if err != nil {
		reason := inspect.ReasonPartnerUnreachable
		if errors.Is(err, errNotRegistered) {
			reason = inspect.ReasonPartnerNotRegistered
		}
		return &inspect.StatusAnswer{Failure: reason, Detail: err.Error()}
	}
	p, err := crossborder.Ask(ctx, ep, []crossborder.Query{q}, time.Now())
	if err != nil {
		return &inspect.StatusAnswer{Failure: statusReason(err), Detail: err.Error()}
	}
	a := p.Answers[0]
	return &inspect.StatusAnswer{Status: a.Status, Since: a.Since, Responder: p.Responder, Time: p.Time}
}

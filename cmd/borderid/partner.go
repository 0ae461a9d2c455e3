package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"borderid/db"
	"borderid/internal/cert"
)

const partnerUsage = `partner add --state CODE --client-ca FILE --status-signer-root FILE --url URL
                    [--server-ca FILE] [--csca FILE] [--rate N/s] [--quota N/day] [--home DIR]
       borderid partner list [--json] [--home DIR]
       borderid partner remove --state CODE [--home DIR]

The partner registry (issue 6): the states whose systems may ask this state's
document-status service, and whom this state asks in turn. Trust in a partner
comes from the files given here, out of band, never from what its endpoint
serves.

add     registers a partner state (ICAO three-letter CODE):
          --client-ca           the CA certificate(s) (PEM or DER) issuing its
                                systems' client certificates (their O= must
                                be its two-letter code)
          --status-signer-root  the self-signed root its signed status answers
                                chain to (ECDSA P-256, id-kp-OCSPSigning)
          --url                 https:// base URL of its status service
          --server-ca           the CA of its HTTPS server, to ask it
          --csca                its CSCA, the root of its master list and CRL
                                for borderid trust sync --partner CODE
          --rate, --quota       its limits here (default 10/s, 100000/day)
list    prints the registry; --json an array of objects
remove  removes a registration (to change one, remove it and add it again)`

// cmdPartner is `borderid partner add|list|remove` (issue 6, item 1).
func cmdPartner(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintf(e.stderr, "usage: borderid %s\n", partnerUsage)
		return usagef("a partner subcommand is needed: add, list or remove")
	}
	switch args[0] {
	case "add":
		return cmdPartnerAdd(ctx, e, args[1:])
	case "list":
		return cmdPartnerList(ctx, e, args[1:])
	case "remove":
		return cmdPartnerRemove(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintf(e.stderr, "usage: borderid %s\n", partnerUsage)
		return nil
	}
	fmt.Fprintf(e.stderr, "usage: borderid %s\n", partnerUsage)
	return usagef("unknown partner subcommand %q", args[0])
}

// partnerState reads --state: an alpha-3 code of borderid's table.
func partnerState(s string) (string, error) {
	st := strings.ToUpper(strings.TrimSpace(s))
	if st == "" {
		return "", usagef("--state is required (the partner's ICAO three-letter code, e.g. ATL)")
	}
	if _, ok := cert.Alpha3ToAlpha2(st); !ok {
		return "", usagef("--state %q is not an ICAO 9303-3 state code in borderid's table", s)
	}
	return st, nil
}

// parseRate reads "N" or "N/s" (requests per second, > 0).
func parseRate(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "/s"), 64)
	if err != nil || !(v > 0) || v > 1e6 {
		return 0, usagef("--rate %q: want N/s, a positive number of requests per second", s)
	}
	return v, nil
}

// parseQuota reads "N" or "N/day" (queries per UTC day, > 0).
func parseQuota(s string) (int, error) {
	v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(s), "/day"))
	if err != nil || v <= 0 {
		return 0, usagef("--quota %q: want N/day, a positive number of queries per day", s)
	}
	return v, nil
}

// readX509File reads certificates (PEM, one or more, or one DER) with
// crypto/x509: the TLS and status-signer certificates use named curves.
func readX509File(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if strings.Contains(string(b), "-----BEGIN") {
		var out []*x509.Certificate
		for rest := b; ; {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			if blk.Type != "CERTIFICATE" {
				return nil, fmt.Errorf("%s: a %q PEM block, want CERTIFICATE", path, blk.Type)
			}
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			out = append(out, c)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: no PEM certificate", path)
		}
		return out, nil
	}
	c, err := x509.ParseCertificate(b)
	if err != nil {
		return nil, fmt.Errorf("%s: not a certificate (PEM or DER): %w", path, err)
	}
	return []*x509.Certificate{c}, nil
}

// checkStatusSignerRoot refuses what cannot sign status answers: the root
// must be self-signed (it is the trust anchor), hold an ECDSA P-256 key
// (ES256) and name id-kp-OCSPSigning.
func checkStatusSignerRoot(c *x509.Certificate, now time.Time) error {
	if err := c.CheckSignatureFrom(c); err != nil {
		// CheckSignatureFrom wants a CA; a self-signed end entity
		// verifies with its own key directly.
		if err2 := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err2 != nil {
			return fmt.Errorf("not self-signed: %v", err2)
		}
	}
	if pub, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		return errors.New("its key is not ECDSA P-256 (status answers are ES256)")
	}
	if !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
		return errors.New("it lacks the extended key usage id-kp-OCSPSigning")
	}
	if now.After(c.NotAfter) {
		return fmt.Errorf("it expired on %s", c.NotAfter.UTC().Format(time.DateOnly))
	}
	return nil
}

func cmdPartnerAdd(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "partner add", partnerUsage)
	homeF := homeFlag(fs)
	stateF := fs.String("state", "", "the partner's ICAO three-letter `CODE`")
	clientCA := fs.String("client-ca", "", "`FILE`: the CA certificate(s) issuing its client certificates (PEM or DER)")
	rootF := fs.String("status-signer-root", "", "`FILE`: the self-signed root of its status answers")
	urlF := fs.String("url", "", "https:// base `URL` of its status service")
	serverCA := fs.String("server-ca", "", "`FILE`: the CA of its HTTPS server (to ask it)")
	cscaF := fs.String("csca", "", "`FILE`: its CSCA (for trust sync)")
	rateF := fs.String("rate", "", "requests per second it may send (`N/s`, default 10/s)")
	quotaF := fs.String("quota", "", "queries per UTC day it may send (`N/day`, default 100000/day)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	state, err := partnerState(*stateF)
	if err != nil {
		return err
	}
	if *clientCA == "" || *rootF == "" || *urlF == "" {
		return usagef("--client-ca, --status-signer-root and --url are required")
	}
	a2, _ := cert.Alpha3ToAlpha2(state)
	p := db.Partner{State: state}
	if p.RatePerSec, err = optional(*rateF, parseRate); err != nil {
		return err
	}
	if p.QuotaPerDay, err = optional(*quotaF, parseQuota); err != nil {
		return err
	}
	u, err := url.Parse(*urlF)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return usagef("--url %q: want https://HOST[:PORT][/PATH]", *urlF)
	}
	p.URL = *urlF
	now := time.Now()
	cas, err := readX509File(*clientCA)
	if err != nil {
		return usagef("--client-ca: %v", err)
	}
	for _, c := range cas {
		if !c.IsCA {
			return usagef("--client-ca %s: %q is not a CA certificate", *clientCA, c.Subject)
		}
		if cc := c.Subject.Country; len(cc) > 0 && !slices.Contains(cc, a2) {
			return usagef("--client-ca %s: %q is of country %v, not %s (%s)", *clientCA, c.Subject, cc, a2, state)
		}
		p.ClientCA = append(p.ClientCA, c.Raw)
	}
	roots, err := readX509File(*rootF)
	if err != nil {
		return usagef("--status-signer-root: %v", err)
	}
	if len(roots) != 1 {
		return usagef("--status-signer-root %s: %d certificates, want 1", *rootF, len(roots))
	}
	if err := checkStatusSignerRoot(roots[0], now); err != nil {
		return usagef("--status-signer-root %s: %v", *rootF, err)
	}
	p.StatusSignerRoot = roots[0].Raw
	if *serverCA != "" {
		sc, err := readX509File(*serverCA)
		if err != nil {
			return usagef("--server-ca: %v", err)
		}
		if len(sc) != 1 || !sc[0].IsCA {
			return usagef("--server-ca %s: want one CA certificate", *serverCA)
		}
		p.ServerCA = sc[0].Raw
	}
	if *cscaF != "" {
		// A CSCA has explicit EC parameters (9303-12): internal/cert reads it.
		cs, err := readCertFile(*cscaF)
		if err != nil {
			return usagef("--csca: %v", err)
		}
		if len(cs) != 1 {
			return usagef("--csca %s: %d certificates, want 1", *cscaF, len(cs))
		}
		if kind, why := classify(cs[0]); why != "" || kind != db.KindCSCA {
			return usagef("--csca %s: not a CSCA (a self-signed CA certificate): %s", *cscaF, why)
		}
		if !strings.EqualFold(cs[0].Subject.Country, a2) {
			return usagef("--csca %s: country %q, not %s (%s)", *cscaF, cs[0].Subject.Country, a2, state)
		}
		p.CSCA = cs[0].Raw
	}
	home, err := homeDir(e, *homeF)
	if err != nil {
		return err
	}
	if err := addPartner(ctx, home, p); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "partner %s registered: %s\n", state, p.URL)
	return nil
}

// addPartner registers p as the database owner (registrations are trust
// anchors, like trust import's).
func addPartner(ctx context.Context, home string, p db.Partner) error {
	if own, err := homeState(home); err == nil && own == p.State {
		return usagef("--state %s is this state: its own border posts are staff (role border), not a partner", p.State)
	}
	// A client CA speaks for one state only: the staff CA, or a CA already
	// registered for another state, would let one party act as another.
	if b, err := os.ReadFile(filepath.Join(home, "pki", "tls-ca.crt")); err == nil {
		if blk, _ := pem.Decode(b); blk != nil {
			for _, ca := range p.ClientCA {
				if bytes.Equal(ca, blk.Bytes) {
					return usagef("--client-ca is this state's own staff TLS CA")
				}
			}
		}
	}
	pool, err := openPool(ctx, home, db.Owner)
	if err != nil {
		return err
	}
	defer pool.Close()
	others, err := db.ListPartners(ctx, pool)
	if err != nil {
		return err
	}
	for _, o := range others {
		for _, a := range o.ClientCA {
			for _, b := range p.ClientCA {
				if bytes.Equal(a, b) && o.State != p.State {
					return usagef("--client-ca is registered for %s already: a client CA speaks for one state only", o.State)
				}
			}
		}
	}
	err = db.AddPartner(ctx, pool, p)
	if errors.Is(err, db.ErrDuplicate) {
		return fmt.Errorf("partner %s is registered already (borderid partner remove --state %s first, to replace it)", p.State, p.State)
	}
	return err
}

func optional[T any](s string, parse func(string) (T, error)) (T, error) {
	var zero T
	if s == "" {
		return zero, nil
	}
	return parse(s)
}

func cmdPartnerRemove(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "partner remove", partnerUsage)
	homeF := homeFlag(fs)
	stateF := fs.String("state", "", "the partner's ICAO three-letter `CODE`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	state, err := partnerState(*stateF)
	if err != nil {
		return err
	}
	home, err := homeDir(e, *homeF)
	if err != nil {
		return err
	}
	pool, err := openPool(ctx, home, db.Owner)
	if err != nil {
		return err
	}
	defer pool.Close()
	err = db.RemovePartner(ctx, pool, state)
	if errors.Is(err, db.ErrNotFound) {
		return fmt.Errorf("partner %s is not registered", state)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "partner %s removed\n", state)
	return nil
}

// partnerCert describes a registered certificate in `partner list --json`.
type partnerCert struct {
	Subject  string `json:"subject"`
	NotAfter string `json:"not_after,omitempty"`
	SHA256   string `json:"sha256"`
}

// partnerJSON is one element of `partner list --json`.
type partnerJSON struct {
	State            string        `json:"state"`
	URL              string        `json:"url"`
	RatePerSec       float64       `json:"rate_per_sec"`
	QuotaPerDay      int           `json:"quota_per_day"`
	ClientCA         []partnerCert `json:"client_ca"`
	StatusSignerRoot partnerCert   `json:"status_signer_root"`
	ServerCA         *partnerCert  `json:"server_ca,omitempty"`
	CSCA             *partnerCert  `json:"csca,omitempty"`
	AddedAt          string        `json:"added_at"`
	AddedBy          string        `json:"added_by"`
}

func describeDER(der []byte) partnerCert {
	sum := sha256.Sum256(der)
	pc := partnerCert{SHA256: hex.EncodeToString(sum[:])}
	if c, err := cert.ParseCertificate(der); err == nil {
		pc.Subject = c.Subject.String()
		if !c.NotAfter.IsZero() {
			pc.NotAfter = c.NotAfter.UTC().Format(time.RFC3339)
		}
	} else if c, err := x509.ParseCertificate(der); err == nil {
		pc.Subject = c.Subject.String()
		pc.NotAfter = c.NotAfter.UTC().Format(time.RFC3339)
	} else {
		pc.Subject = "(unparsable)"
	}
	return pc
}

func cmdPartnerList(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "partner list", partnerUsage)
	homeF := homeFlag(fs)
	asJSON := fs.Bool("json", false, "print a JSON array")
	home, err := parseHome(e, fs, homeF, args)
	if err != nil {
		return err
	}
	pool, err := openPool(ctx, home, db.App)
	if err != nil {
		return err
	}
	defer pool.Close()
	ps, err := db.ListPartners(ctx, pool)
	if err != nil {
		return err
	}
	out := make([]partnerJSON, 0, len(ps))
	for _, p := range ps {
		j := partnerJSON{State: p.State, URL: p.URL, RatePerSec: p.RatePerSec, QuotaPerDay: p.QuotaPerDay,
			StatusSignerRoot: describeDER(p.StatusSignerRoot), AddedAt: p.AddedAt.UTC().Format(time.RFC3339), AddedBy: p.AddedBy,
			ClientCA: []partnerCert{}}
		for _, ca := range p.ClientCA {
			j.ClientCA = append(j.ClientCA, describeDER(ca))
		}
		if len(p.ServerCA) > 0 {
			d := describeDER(p.ServerCA)
			j.ServerCA = &d
		}
		if len(p.CSCA) > 0 {
			d := describeDER(p.CSCA)
			j.CSCA = &d
		}
		out = append(out, j)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tURL\tRATE\tQUOTA\tSERVER CA\tCSCA\tSTATUS SIGNER ROOT\tADDED")
	yes := func(p *partnerCert) string {
		if p == nil {
			return "-"
		}
		return p.SHA256[:16]
	}
	for _, j := range out {
		fmt.Fprintf(tw, "%s\t%s\t%g/s\t%d/day\t%s\t%s\t%s\t%s by %s\n", j.State, j.URL, j.RatePerSec, j.QuotaPerDay,
			yes(j.ServerCA), yes(j.CSCA), j.StatusSignerRoot.Subject, j.AddedAt, j.AddedBy)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d partners\n", len(out))
	return nil
}

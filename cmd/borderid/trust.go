package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"borderid/db"
	"borderid/internal/cert"
	"borderid/internal/cms"
	"borderid/verify"
)

const trustUsage = `trust import FILE... [--ml-root CERT]... [--home DIR]
       borderid trust list [--json] [--home DIR]
       borderid trust export --out FILE [--crl-days N] [--home DIR]
       borderid trust sync --partner CODE [--url URL] [--home DIR]

import  adds to the trust store (PostgreSQL, issue 4 item 3):
        *.ml     ICAO CSCA master lists (9303-12 §9), whose signature must
                 chain to one of the --ml-root certificates (PEM or DER)
        others   certificates (DER or PEM; a CA certificate whose own key
                 verifies its signature is a CSCA, any other CA certificate
                 a link) and CRLs (DER or PEM)
        Prints a line per file on stderr and a summary: imported, duplicate
        (same SHA-256 already there), rejected with the reason. Exit 0 when
        the import ran, even with rejected items.
list    prints the trust store; --json: an array of {kind, country,
        subject, not_after, sha256, source}
export  writes a signed snapshot for border stations: an ICAO master list of
        every CSCA and link certificate in the store, signed by this state's
        master-list signer (HSM), with the store's CRLs and a fresh CRL of
        this state's CSCA; stations read it with
        read --trust FILE --ml-root <home>/pki/csca.crt
sync    fetches a registered partner's trust lists (ICAO PKD style, issue 6):
        GET /v1/trust/masterlist, /v1/trust/crl and /v1/trust/status-signer
        over mutual TLS (pki/clients/crossborder, its registered server CA);
        the master list must verify against the CSCA registered with
        partner add --csca and hold only that state's certificates, the CRL
        must be signed by one of them, and the status signer served must be
        the registered root (else nothing is imported); then imports them as
        import does`

// cmdTrust is `borderid trust import|list` (issue 4, item 3).
func cmdTrust(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintf(e.stderr, "usage: borderid %s\n", trustUsage)
		return usagef("a trust subcommand is needed: import or list")
	}
	switch args[0] {
	case "import":
		return cmdTrustImport(ctx, e, args[1:])
	case "list":
		return cmdTrustList(ctx, e, args[1:])
	case "export":
		return cmdTrustExport(ctx, e, args[1:])
	case "sync":
		return cmdTrustSync(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintf(e.stderr, "usage: borderid %s\n", trustUsage)
		return nil
	}
	fmt.Fprintf(e.stderr, "usage: borderid %s\n", trustUsage)
	return usagef("unknown trust subcommand %q", args[0])
}

// importTally counts what an import did; rejected holds "FILE: what: why".
type importTally struct {
	imported, duplicate int
	rejected            []string
}

func (t *importTally) add(o importTally) {
	t.imported += o.imported
	t.duplicate += o.duplicate
	t.rejected = append(t.rejected, o.rejected...)
}

func cmdTrustImport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "trust import", trustUsage)
	homeF := homeFlag(fs)
	var mlRoots multiFlag
	fs.Var(&mlRoots, "ml-root", "a `CERT` (PEM or DER) master lists must chain to; repeatable, required for .ml files")
	if err := parseFlags(fs, interleave(args)); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		return usagef("trust import needs at least one FILE")
	}
	var roots []*cert.Certificate
	for _, p := range mlRoots {
		cs, err := readCertFile(p)
		if err != nil {
			return usagef("--ml-root %s: %v", p, err)
		}
		roots = append(roots, cs...)
	}
	for _, f := range files {
		if isMasterList(f) && len(roots) == 0 {
			return usagef("%s is a master list: give the certificate its signature must chain to with --ml-root CERT", f)
		}
	}
	home, err := homeDir(e, *homeF)
	if err != nil {
		return err
	}
	c, err := db.Ensure(ctx, home)
	if err != nil {
		return err
	}
	// Trust anchors come in through the owner only (migration 0001).
	pool, err := db.Open(ctx, c, db.Owner)
	if err != nil {
		return err
	}
	defer pool.Close()
	by := importer()
	store := db.NewTrustStore(pool)
	var total importTally
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			abs = f
		}
		// One transaction per file: a master list is one commit (speed),
		// each entry a savepoint in it; its audit rows go with it.
		tx, err := pool.Begin(ctx)
		if err != nil {
			return fmt.Errorf("trust store: %w", err)
		}
		bar := newImportBar(e.stderr, filepath.Base(f))
		what, t, err := importFile(ctx, tx, f, abs, by, roots, store, bar.update)
		bar.done()
		if err == nil {
			err = tx.Commit(ctx)
		}
		if err != nil {
			_ = tx.Rollback(ctx)
			// The database failed, not the file: the command cannot go on.
			return fmt.Errorf("%s: %w", f, err)
		}
		fmt.Fprintf(e.stderr, "%s: %s: imported %d, duplicate %d, rejected %d\n", f, what, t.imported, t.duplicate, len(t.rejected))
		total.add(t)
	}
	fmt.Fprintf(e.stdout, "imported %d, duplicate %d, rejected %d\n", total.imported, total.duplicate, len(total.rejected))
	for _, r := range total.rejected {
		fmt.Fprintf(e.stdout, "rejected: %s\n", r)
	}
	return nil
}

// interleave moves flags after the first positional argument to the front,
// so `trust import a.ml --ml-root r.cer` works as a user types it.
func interleave(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			return append(append(flags, "--"), pos...)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && name != "json" && name != "h" && name != "help" && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		default:
			pos = append(pos, a)
		}
	}
	return append(append(flags, "--"), pos...)
}

func isMasterList(path string) bool { return strings.EqualFold(filepath.Ext(path), ".ml") }

// importer is the OS user running the import (the provenance's imported_by).
func importer() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "borderid"
}

// importFile imports one file inside tx. what describes the file for the
// progress line. A returned error is a database failure; problems with the
// file itself are rejections in the tally.
func importFile(ctx context.Context, tx db.Beginner, name, source, by string, roots []*cert.Certificate, store *db.TrustStore, progress func(done, total int)) (what string, t importTally, err error) {
	reject := func(item, why string) {
		if item == "" {
			t.rejected = append(t.rejected, fmt.Sprintf("%s: %s", name, why))
		} else {
			t.rejected = append(t.rejected, fmt.Sprintf("%s: %s: %s", name, item, why))
		}
	}
	b, rerr := os.ReadFile(name)
	if rerr != nil {
		reject("", "unreadable: "+rerr.Error())
		return "unreadable", t, nil
	}
	var certs []*cert.Certificate
	var crls []*cert.RevocationList
	switch {
	case isMasterList(name):
		what = "master list"
		cs, verr := verify.VerifyMasterList(b, roots)
		if verr != nil {
			reject("", "master list refused: "+verr.Error())
			return what + " (refused)", t, nil
		}
		certs = cs
		// The CRLs a master list carries (SignedData crls) come with it.
		if sd, perr := cms.ParseSignedData(b); perr == nil {
			for i, der := range sd.CRLs {
				l, lerr := cert.ParseRevocationList(der)
				if lerr != nil {
					reject(fmt.Sprintf("CRL %d", i+1), "unparsable: "+lerr.Error())
					continue
				}
				crls = append(crls, l)
			}
		}
		what = fmt.Sprintf("master list, %d certificates", len(certs))
	case strings.Contains(string(b), "-----BEGIN"):
		what = "PEM"
		for rest, n := b, 1; ; n++ {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			item := fmt.Sprintf("PEM block %d", n)
			switch blk.Type {
			case "CERTIFICATE":
				c, perr := cert.ParseCertificate(blk.Bytes)
				if perr != nil {
					reject(item, "unparsable certificate: "+perr.Error())
					continue
				}
				certs = append(certs, c)
			case "X509 CRL":
				l, perr := cert.ParseRevocationList(blk.Bytes)
				if perr != nil {
					reject(item, "unparsable CRL: "+perr.Error())
					continue
				}
				crls = append(crls, l)
			default:
				reject(item, fmt.Sprintf("not a certificate or CRL (%q)", blk.Type))
			}
		}
		if len(certs)+len(crls)+len(t.rejected) == 0 {
			reject("", "unparsable: no PEM block")
		}
	default:
		if c, perr := cert.ParseCertificate(b); perr == nil {
			what, certs = "certificate", []*cert.Certificate{c}
		} else if l, lerr := cert.ParseRevocationList(b); lerr == nil {
			what, crls = "CRL", []*cert.RevocationList{l}
		} else {
			reject("", "unparsable: neither a certificate nor a CRL (DER or PEM): "+perr.Error())
			return "unparsable", t, nil
		}
	}
	total := len(certs) + len(crls)
	for i, c := range certs {
		progress(i, total)
		kind, why := classify(c)
		if why != "" {
			reject(describe(c.Subject), why)
			continue
		}
		ins, err := db.ImportCertificate(ctx, tx, c.Raw, kind, strings.ToUpper(c.Subject.Country), c.Subject.String(), c.NotAfter, source, by)
		if err != nil {
			return what, t, err
		}
		t.count(ins)
	}
	for i, l := range crls {
		progress(len(certs)+i, total)
		if l.Issuer.Country == "" {
			reject("CRL of "+describe(l.Issuer), "no country (C=) in the issuer")
			continue
		}
		// A CRL is stored only when a CA certificate of its country (in the
		// store, or in the same file) verifies its signature; verify checks
		// it again each time it is used, as for CRLs a snapshot carries.
		ok, serr := crlSignedByKnownCA(ctx, l, certs, store)
		if serr != nil {
			return what, t, serr
		}
		if !ok {
			reject("CRL of "+describe(l.Issuer), "no CSCA or link certificate of "+strings.ToUpper(l.Issuer.Country)+" in the trust store verifies its signature (import the CSCA first)")
			continue
		}
		ins, err := db.ImportCRL(ctx, tx, l.Raw, strings.ToUpper(l.Issuer.Country), l.Issuer.String(), l.ThisUpdate, l.NextUpdate, source, by)
		if err != nil {
			return what, t, err
		}
		t.count(ins)
	}
	return what, t, nil
}

// crlSignedByKnownCA reports whether l's signature verifies under a CA
// certificate of its issuer's name: one of the file's own certificates or
// one of the trust store's CSCAs and links of its country.
func crlSignedByKnownCA(ctx context.Context, l *cert.RevocationList, inFile []*cert.Certificate, store *db.TrustStore) (bool, error) {
	country := strings.ToUpper(l.Issuer.Country)
	cands := append([]*cert.Certificate(nil), inFile...)
	for _, get := range []func(context.Context, string) ([]*cert.Certificate, error){store.CSCAs, store.Links} {
		cs, err := get(ctx, country)
		if err != nil {
			return false, fmt.Errorf("trust store: %w", err)
		}
		cands = append(cands, cs...)
	}
	for _, c := range cands {
		if c.Subject.Equal(l.Issuer) && l.CheckSignatureFrom(c) == nil {
			return true, nil
		}
	}
	return false, nil
}

func (t *importTally) count(inserted bool) {
	if inserted {
		t.imported++
	} else {
		t.duplicate++
	}
}

// classify decides a certificate's kind by signature (a CA certificate
// whose own key verifies its signature is a CSCA, any other a link: never
// by subject == issuer), or says why it is refused. Whether it may issue
// certificates is verify.MemoryStore.Add's rule, so import and
// verification agree.
func classify(c *cert.Certificate) (db.TrustKind, string) {
	if err := verify.NewMemoryStore().Add(c); err != nil {
		if errors.Is(err, verify.ErrNotCA) {
			return 0, "not a CA certificate"
		}
		return 0, err.Error()
	}
	if c.Subject.Country == "" {
		return 0, "no country (C=) in the subject"
	}
	if len(c.Subject.Country) != 2 {
		return 0, fmt.Sprintf("country %q is not a two-letter code", c.Subject.Country)
	}
	if c.CheckSignatureFrom(c) == nil {
		return db.KindCSCA, ""
	}
	return db.KindLink, ""
}

func describe(n cert.Name) string {
	if s := n.String(); s != "" {
		return s
	}
	return "(empty name)"
}

// readCertFile reads certificates from a PEM or DER file.
func readCertFile(path string) ([]*cert.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if cs, err := cert.ParsePEMCertificates(b); err == nil && len(cs) > 0 {
		return cs, nil
	}
	c, err := cert.ParseCertificate(b)
	if err != nil {
		return nil, fmt.Errorf("not a certificate (PEM or DER): %w", err)
	}
	return []*cert.Certificate{c}, nil
}

// trustListEntry is one element of `trust list --json` (issue 4, item 3).
type trustListEntry struct {
	Kind     string `json:"kind"`
	Country  string `json:"country"`
	Subject  string `json:"subject"`
	NotAfter string `json:"not_after"`
	SHA256   string `json:"sha256"`
	Source   string `json:"source"`
}

func cmdTrustList(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "trust list", trustUsage)
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
	entries, err := db.NewTrustStore(pool).List(ctx)
	if err != nil {
		return err
	}
	out := make([]trustListEntry, 0, len(entries))
	for _, en := range entries {
		// CONTRACTS.md: countries are ICAO three-letter codes; a code with
		// no ICAO equivalent is shown as stored.
		country := en.Country
		if a3, ok := cert.Alpha2ToAlpha3(country); ok {
			country = a3
		}
		na := ""
		if !en.NotAfter.IsZero() {
			na = en.NotAfter.UTC().Format(time.RFC3339)
		}
		out = append(out, trustListEntry{
			Kind: en.Kind.String(), Country: country, Subject: en.Subject,
			NotAfter: na, SHA256: hex.EncodeToString(en.SHA256[:]), Source: en.Source,
		})
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return printTrustTable(e.stdout, out)
}

func printTrustTable(w io.Writer, out []trustListEntry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tCOUNTRY\tNOT AFTER\tSHA-256\tSUBJECT\tSOURCE")
	for _, en := range out {
		na := en.NotAfter
		if na == "" {
			na = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", en.Kind, en.Country, na, en.SHA256[:16], en.Subject, en.Source)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d entries\n", len(out))
	return nil
}

// syncMaxBytes caps each trust list fetched by trust sync.
const syncMaxBytes = 64 << 20

// cmdTrustSync is `borderid trust sync --partner CODE` (issue 6, item 4).
func cmdTrustSync(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "trust sync", trustUsage)
	homeF := homeFlag(fs)
	partnerF := fs.String("partner", "", "the registered partner's ICAO three-letter `CODE`")
	urlF := fs.String("url", "", "the partner's base `URL` (default: its registered URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	if *partnerF == "" {
		return usagef("--partner CODE is required")
	}
	state, err := partnerState(*partnerF)
	if err != nil {
		return err
	}
	a2, _ := cert.Alpha3ToAlpha2(state)
	home, err := homeDir(e, *homeF)
	if err != nil {
		return err
	}
	pool, err := openPool(ctx, home, db.Owner)
	if err != nil {
		return err
	}
	defer pool.Close()
	p, err := db.PartnerByState(ctx, pool, state)
	if errors.Is(err, db.ErrNotFound) {
		return fmt.Errorf("%s is not a registered partner (borderid partner add)", state)
	}
	if err != nil {
		return err
	}
	if len(p.CSCA) == 0 {
		return fmt.Errorf("partner %s was registered without --csca: its master list cannot be verified (remove it and add it again with --csca FILE)", state)
	}
	csca, err := cert.ParseCertificate(p.CSCA)
	if err != nil {
		return fmt.Errorf("partner %s: registered CSCA: %w", state, err)
	}
	ep, err := partnerEndpoint(home, p, *urlF)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: ep.TLS, Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer hc.CloseIdleConnections()
	fetch := func(path string) ([]byte, error) {
		u := strings.TrimRight(ep.URL, "/") + path
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, syncMaxBytes+1))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: %s answered %s", path, state, resp.Status)
		}
		if len(b) > syncMaxBytes {
			return nil, fmt.Errorf("%s: larger than %d bytes", path, syncMaxBytes)
		}
		return b, nil
	}
	ml, err := fetch("/v1/trust/masterlist")
	if err != nil {
		return err
	}
	crlRaw, err := fetch("/v1/trust/crl")
	if err != nil {
		return err
	}
	ssRaw, err := fetch("/v1/trust/status-signer")
	if err != nil {
		return err
	}
	// Everything is checked before anything is imported.
	ss, _ := pem.Decode(ssRaw)
	if ss == nil || ss.Type != "CERTIFICATE" || !bytes.Equal(ss.Bytes, p.StatusSignerRoot) {
		return fmt.Errorf("refused: the status signer %s serves is not the root registered for it (partner add --status-signer-root); nothing imported", state)
	}
	certs, err := verify.VerifyMasterList(ml, []*cert.Certificate{csca})
	if err != nil {
		return fmt.Errorf("refused: %s's master list does not verify against its registered CSCA: %w; nothing imported", state, err)
	}
	for _, mc := range certs {
		if !strings.EqualFold(mc.Subject.Country, a2) {
			return fmt.Errorf("refused: %s's master list holds a certificate of another country (%s); a partner speaks for itself only; nothing imported", state, describe(mc.Subject))
		}
	}
	if b, _ := pem.Decode(crlRaw); b != nil && b.Type == "X509 CRL" {
		crlRaw = b.Bytes
	}
	crl, err := cert.ParseRevocationList(crlRaw)
	if err != nil {
		return fmt.Errorf("refused: %s's CRL: %w; nothing imported", state, err)
	}
	signed := false
	for _, ca := range append([]*cert.Certificate{csca}, certs...) {
		if ca.Subject.Equal(crl.Issuer) && crl.CheckSignatureFrom(ca) == nil {
			signed = true
			break
		}
	}
	if !signed {
		return fmt.Errorf("refused: %s's CRL is not signed by its registered CSCA or a certificate of its master list; nothing imported", state)
	}
	dir, err := os.MkdirTemp("", "borderid-sync-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	mlPath, crlPath := filepath.Join(dir, state+".ml"), filepath.Join(dir, state+".crl")
	if err := os.WriteFile(mlPath, ml, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(crlPath, crl.Raw, 0o600); err != nil {
		return err
	}
	by := importer()
	store := db.NewTrustStore(pool)
	var total importTally
	// The master list first, committed, so that the CRL finds its CA in
	// the store.
	for _, f := range []struct{ path, source string }{
		{mlPath, "sync " + state + " " + ep.URL + "/v1/trust/masterlist"},
		{crlPath, "sync " + state + " " + ep.URL + "/v1/trust/crl"},
	} {
		tx, err := pool.Begin(ctx)
		if err != nil {
			return fmt.Errorf("trust store: %w", err)
		}
		what, t, err := importFile(ctx, tx, f.path, f.source, by, []*cert.Certificate{csca}, store, func(int, int) {})
		if err == nil {
			err = tx.Commit(ctx)
		}
		if err != nil {
			_ = tx.Rollback(ctx)
			return fmt.Errorf("%s: %w", f.source, err)
		}
		fmt.Fprintf(e.stderr, "%s: %s: imported %d, duplicate %d, rejected %d\n", f.source, what, t.imported, t.duplicate, len(t.rejected))
		total.add(t)
	}
	fmt.Fprintf(e.stdout, "%s: master list verified against the registered CSCA, CRL verified, status signer is the registered root\n", state)
	fmt.Fprintf(e.stdout, "imported %d, duplicate %d, rejected %d\n", total.imported, total.duplicate, len(total.rejected))
	for _, r := range total.rejected {
		fmt.Fprintf(e.stdout, "rejected: %s\n", r)
	}
	return nil
}

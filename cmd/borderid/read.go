package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"borderid/crossborder"
	"borderid/hardware/pcsc"
	"borderid/inspect"
	"borderid/internal/cert"
	"borderid/internal/cms"
	"borderid/reader"
	"borderid/reader/lds"
	"borderid/reader/mrz"
	"borderid/verify"
)

const readUsage = `read [--reader NAME] (--mrz LINES|- | --doc N --dob YYMMDD --exp YYMMDD | --can NNNNNN)
                     [--terminal DIR] [--allow-bac-fallback] [--json] [--out DIR]
                     [--status [--status-url URL] [--home DIR]]

Reads the passport chip on a PC/SC reader (the first reader with a card, or
--reader NAME) and prints the inspection report. The access key comes from the
MRZ (--mrz - reads the lines from standard input so they stay out of the
process list) or, for PACE, from the card access number printed on the data
page (--can). The best protocol the chip offers is used: PACE (GM, IM, CAM)
when offered, else BAC; then active, chip and terminal authentication.

--status asks the issuing state's registry whether the document is valid,
lost, stolen, revoked or expired (borderid status query, with the MRZ of DG1;
this state's service or a registered partner of <home>): the document_status
check. A partner that does not answer within 1 s leaves it not_done
(partner_unreachable); LOST, STOLEN and REVOKED make the verdict rejected.`

// virtualPrefix names the readers of the vpcd driver: they accept chips
// from the network, so a station refuses them unless told otherwise.
const virtualPrefix = "Virtual PCD"

type readFlags struct {
	trust        string
	mlRoots      multiFlag
	trustMaxAge  time.Duration
	can          string
	terminal     string
	bacFallback  bool
	reader       string
	doc, dob     string
	exp          string
	mrzArg       string
	json         bool
	out          string
	allowVirtual bool
	wait         time.Duration
	quiet        bool
	status       bool
	statusURL    string
	home         string
}

func cmdRead(ctx context.Context, e *env, args []string) error {
	var f readFlags
	fs := newFlagSet(e, "read", readUsage)
	fs.StringVar(&f.reader, "reader", "", "PC/SC reader `NAME` (default: the first reader with a card)")
	fs.StringVar(&f.doc, "doc", "", "document `NUMBER` as printed in the MRZ")
	fs.StringVar(&f.dob, "dob", "", "date of birth `YYMMDD`")
	fs.StringVar(&f.exp, "exp", "", "date of expiry `YYMMDD`")
	fs.StringVar(&f.mrzArg, "mrz", "", "the MRZ `LINES`, or - to read them from standard input")
	fs.StringVar(&f.can, "can", "", "the card access number (`NNNNNN`, six digits) for PACE")
	fs.StringVar(&f.terminal, "terminal", "", "terminal authentication: `DIR` with the *.cvcert chain and is.pkcs8 (or is.uri)")
	fs.StringVar(&f.trust, "trust", "", "passive authentication against the CSCAs of this ICAO master list `FILE` (the trust snapshot)")
	fs.Var(&f.mlRoots, "ml-root", "a `CERT` (PEM or DER) the --trust master list must chain to; repeatable")
	fs.DurationVar(&f.trustMaxAge, "trust-max-age", 0, "refuse a --trust master list signed longer ago than this `DURATION` (0: no limit)")
	fs.BoolVar(&f.bacFallback, "allow-bac-fallback", false, "if the chip offers PACE and PACE fails, read it with BAC (weaker) instead of failing")
	fs.BoolVar(&f.json, "json", false, "print the inspection report as JSON (docs/report.schema.json)")
	fs.StringVar(&f.out, "out", "", "write the files as read (and face.jpg/face.jp2) to `DIR`: biometric data")
	fs.BoolVar(&f.allowVirtual, "allow-virtual", false, "accept virtual readers (vpcd), which take chips from the network")
	fs.DurationVar(&f.wait, "wait", 60*time.Second, "how long to wait for a card to be placed")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress on standard error")
	fs.BoolVar(&f.status, "status", false, "ask the issuing state's registry for the document's status (document_status)")
	fs.StringVar(&f.statusURL, "status-url", "", "with --status: the responder's base `URL` (default: this state's https://127.0.0.1:8443, a partner's registered URL)")
	fs.StringVar(&f.home, "home", "", "with --status: borderid home folder (default $BORDERID_HOME, else ./var)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	key, err := accessKey(e, &f)
	if err != nil {
		return err
	}
	if !f.status && (f.statusURL != "" || f.home != "") {
		return usagef("--status-url and --home go with --status")
	}
	if f.reader != "" && isVirtual(f.reader) && !f.allowVirtual {
		return usagef("%q is a virtual reader: it accepts chips from the network; pass --allow-virtual to use it", f.reader)
	}
	var store verify.TrustStore
	if f.trust != "" {
		if store, err = loadTrust(&f, time.Now()); err != nil {
			return err
		}
	} else if len(f.mlRoots) > 0 {
		return usagef("--ml-root goes with --trust FILE")
	}
	var term *reader.Terminal
	if f.terminal != "" {
		homeSoftHSM(e, f.terminal)
		if term, err = reader.LoadTerminalPIN(ctx, f.terminal, e.getenv(reader.TerminalPINEnv)); err != nil {
			return usagef("--terminal %s: %v", f.terminal, err)
		}
		defer term.Close()
	}

	pc, err := pcsc.EstablishContext()
	if err != nil {
		return fmt.Errorf("cannot reach the card reader service: %w", err)
	}
	defer pc.Release()

	name, err := chooseReader(ctx, e, pc, &f)
	if err != nil {
		return err
	}
	card, err := pc.Connect(name, pcsc.ShareExclusive, pcsc.ProtocolT0|pcsc.ProtocolT1)
	if err != nil {
		return fmt.Errorf("cannot connect to the chip on %q: %w", name, err)
	}
	// Reset on the way out: the chip's secure messaging session must not
	// outlive this read.
	defer card.Disconnect(pcsc.ResetCard)

	p := newProgress(e.stderr, f.quiet || f.json && !isTerminal(e.stderr))
	res, err := reader.Read(ctx, card, reader.ReadOptions{
		BACKeyInfo:       key.info,
		CAN:              f.can,
		AllowBACFallback: f.bacFallback,
		Terminal:         term,
		Rand:             rand.Reader,
		Progress:         p.update,
		Logger:           e.log,
		ATR:              card.ATR(),
	})
	p.done()
	if err != nil {
		return explainReadError(err)
	}
	in := inspect.Input{
		ReaderName: name, ATR: card.ATR(), Result: res,
		GivenDocNumber: key.doc, GivenDOB: key.dob, GivenDOE: key.doe, GivenMRZ: key.mrz,
		Now: time.Now(),
	}
	if store != nil {
		in.PA, in.CardSecurityPA = passiveAuthentication(ctx, res, store, in.Now)
	}
	if f.status {
		in.Status = readStatus(ctx, e, &f, res)
	}
	a := inspect.Assemble(in)
	var outErr error
	if f.out != "" {
		outErr = writeOut(e, f.out, res.Files, a.DG2)
	}
	if f.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(a.Report); err != nil {
			return err
		}
	} else {
		printHuman(e.stdout, a.Report)
	}
	if outErr != nil {
		// The chip was read and the report printed, but what the user
		// asked to keep is not (all) there: a script must not go on.
		return fmt.Errorf("the chip was read, but --out failed: %w", outErr)
	}
	return nil
}

// key is the access key and what the guard supplied, for the consistency check.
type key struct {
	info          string
	doc, dob, doe string
	mrz           *mrz.MRZ
}

func accessKey(e *env, f *readFlags) (*key, error) {
	partial := f.doc != "" || f.dob != "" || f.exp != ""
	if f.can != "" && !validCAN(f.can) {
		return nil, usagef("--can wants the six digits of the card access number")
	}
	switch {
	case f.mrzArg != "" && partial:
		return nil, usagef("give either --mrz or --doc/--dob/--exp, not both")
	case f.mrzArg == "" && !partial && f.can != "":
		// PACE with the CAN alone; DG1 is then compared with nothing.
		return &key{}, nil
	case f.mrzArg == "" && !partial:
		return nil, usagef("the chip's access key is missing: give --mrz - (MRZ lines on standard input), --doc, --dob and --exp, or --can")
	case f.mrzArg != "":
		text := f.mrzArg
		if text == "-" {
			b, err := io.ReadAll(io.LimitReader(e.stdin, 4096))
			if err != nil {
				return nil, fmt.Errorf("reading the MRZ from standard input: %w", err)
			}
			text = string(b)
		}
		m, err := mrz.Parse(text)
		if err != nil {
			return nil, usagef("the MRZ cannot be used: %v", err)
		}
		if err := m.Verify(); err != nil {
			fmt.Fprintf(e.stderr, "warning: the MRZ given fails a check digit (%v); the chip will likely refuse it\n", err)
		}
		return &key{info: m.KeySeedInfo(), doc: m.DocumentNumber, dob: m.DateOfBirth, doe: m.DateOfExpiry, mrz: m}, nil
	}
	if f.doc == "" || f.dob == "" || f.exp == "" {
		return nil, usagef("--doc, --dob and --exp go together")
	}
	info, err := mrz.BACKeyInfo(strings.ToUpper(f.doc), f.dob, f.exp)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return &key{info: info, doc: strings.ToUpper(f.doc), dob: f.dob, doe: f.exp}, nil
}

func validCAN(s string) bool {
	if len(s) != 6 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isVirtual(name string) bool { return strings.HasPrefix(name, virtualPrefix) }

// chooseReader returns --reader if it exists, else waits for a card in any
// acceptable reader.
func chooseReader(ctx context.Context, e *env, pc *pcsc.Context, f *readFlags) (string, error) {
	names, err := pc.ListReaders()
	if err != nil && !errors.Is(err, pcsc.ErrNoReaders) {
		return "", fmt.Errorf("listing card readers: %w", err)
	}
	var candidates []string
	if f.reader != "" {
		if !slices.Contains(names, f.reader) {
			return "", fmt.Errorf("no reader named %q (readers: %s)", f.reader, listOrNone(names))
		}
		candidates = []string{f.reader}
	} else {
		for _, n := range names {
			if !isVirtual(n) || f.allowVirtual {
				candidates = append(candidates, n)
			}
		}
		if len(candidates) == 0 {
			if len(names) > 0 {
				return "", fmt.Errorf("no card reader but virtual ones (%s); pass --allow-virtual to use them", listOrNone(names))
			}
			return "", errors.New("no card reader is connected")
		}
	}
	wctx, cancel := context.WithTimeout(ctx, f.wait)
	defer cancel()
	// Say what we wait for only if the card is not there already.
	quick, qcancel := context.WithTimeout(ctx, 200*time.Millisecond)
	name, err := pc.WaitForCard(quick, candidates)
	qcancel()
	if err == nil {
		return name, nil
	}
	if !f.quiet {
		fmt.Fprintf(e.stderr, "Place the passport on the reader (%s)...\n", strings.Join(candidates, ", "))
	}
	name, err = pc.WaitForCard(wctx, candidates)
	if err != nil {
		if ctx.Err() == nil && wctx.Err() != nil {
			return "", fmt.Errorf("no passport was placed on the reader within %v", f.wait)
		}
		return "", fmt.Errorf("waiting for a passport: %w", err)
	}
	return name, nil
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return `"` + strings.Join(names, `", "`) + `"`
}

// explainReadError turns the reader's typed errors into what a guard can act on.
func explainReadError(err error) error {
	switch {
	case errors.Is(err, reader.ErrBACFailed),
		errors.Is(err, reader.ErrPACEFailed) && !errors.Is(err, reader.ErrPACETokenMismatch):
		return fmt.Errorf("access denied: the chip refused the MRZ data or the CAN; check them against the data page: %w", err)
	case errors.Is(err, reader.ErrPACETokenMismatch), errors.Is(err, reader.ErrPACEInvalidResponse):
		return fmt.Errorf("PACE failed: the chip's answer did not prove it knows the password; nothing was read: %w", err)
	case errors.Is(err, reader.ErrPACEUnsupported), errors.Is(err, reader.ErrPACENotOffered):
		return fmt.Errorf("PACE failed; BAC is weaker and is not used unless --allow-bac-fallback is given: %w", err)
	case errors.Is(err, reader.ErrPACEDowngrade):
		return fmt.Errorf("refused: the chip's DG14 says it supports PACE, but EF.CardAccess did not offer it, so only BAC ran; someone may have hidden it (pass --allow-bac-fallback to accept): %w", err)
	case errors.Is(err, reader.ErrNoKey):
		return fmt.Errorf("the chip cannot be opened with what was given: %w", err)
	case errors.Is(err, pcsc.ErrCardRemoved), errors.Is(err, pcsc.ErrNoCard):
		return fmt.Errorf("the passport left the reader during the read; place it again and hold it still: %w", err)
	case errors.Is(err, reader.ErrSMDropped):
		return fmt.Errorf("the chip dropped the secure channel twice; no data from it is used: %w", err)
	case errors.Is(err, reader.ErrSecureMessaging):
		return fmt.Errorf("the chip's answer failed the secure messaging checks; no data from it is used: %w", err)
	}
	return fmt.Errorf("the chip could not be read: %w", err)
}

// writeOut writes the files as read and the face image. The folder holds
// biometric data; it is created private and the user is told.
func writeOut(e *env, dir string, files map[lds.File][]byte, dg2 *lds.DG2) error {
	// Warn first: a failure half way still leaves biometric data behind.
	fmt.Fprintf(e.stderr, "warning: %s now holds biometric data (the face image) of the holder; keep it private and delete it when done\n", dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	// MkdirAll leaves an existing folder's mode alone.
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("making %s private: %w", dir, err)
	}
	for f, b := range files {
		if err := writePrivate(filepath.Join(dir, f.String()), b); err != nil {
			return err
		}
	}
	if dg2 != nil && len(dg2.Faces) > 0 {
		face := dg2.Faces[0]
		name := "face.jpg"
		if face.Format == lds.ImageJPEG2000 {
			name = "face.jp2"
		}
		if face.Format != lds.ImageUnknown {
			if err := writePrivate(filepath.Join(dir, name), face.Image); err != nil {
				return err
			}
		}
	}
	return nil
}

func writePrivate(path string, b []byte) error {
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// progress prints how far the read has come on standard error.
type progress struct {
	w     io.Writer
	off   bool
	tty   bool
	last  string
	lastN int
}

func newProgress(w io.Writer, off bool) *progress {
	return &progress{w: w, off: off, tty: isTerminal(w)}
}

func (p *progress) update(file string, read, total int) {
	if p.off {
		return
	}
	if p.tty {
		if total > 0 {
			fmt.Fprintf(p.w, "\rReading %-10s %6d / %6d bytes", file, read, total)
		} else {
			fmt.Fprintf(p.w, "\rReading %-10s %6d bytes         ", file, read)
		}
		return
	}
	// Not a terminal: one line per file, when it is complete.
	if total > 0 && read >= total && file != p.last {
		fmt.Fprintf(p.w, "read %s (%d bytes)\n", file, total)
		p.last = file
	}
}

func (p *progress) done() {
	if !p.off && p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func verdictText(v inspect.Verdict) string {
	switch v {
	case inspect.Genuine:
		return "GENUINE (green): data signed by the issuer, chip proven"
	case inspect.AuthenticData:
		return "AUTHENTIC DATA (amber): data signed by the issuer, chip not proven"
	case inspect.Suspect:
		return "SUSPECT (amber): the document could not be fully verified"
	case inspect.Rejected:
		return "REJECTED (red): a check failed"
	}
	return string(v)
}

// printHuman prints the report for a person at a border post.
func printHuman(w io.Writer, r *inspect.Report) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	fmt.Fprintf(bw, "Verdict    %s\n\n", verdictText(r.Verdict))
	if d := r.Document; d != nil {
		fmt.Fprintf(bw, "Document   %s  %s  no. %s\n", d.Type, d.IssuingState, d.DocumentNumber)
		fmt.Fprintf(bw, "Holder     %s, %s\n", d.Surname, d.GivenNames)
		fmt.Fprintf(bw, "           sex %s  born %s  nationality %s\n", d.Sex, d.DateOfBirth, d.Nationality)
		fmt.Fprintf(bw, "Expires    %s\n", d.DateOfExpiry)
	} else {
		fmt.Fprintln(bw, "Document   DG1 could not be read: no holder data")
	}
	if r.Face != nil {
		fmt.Fprintf(bw, "Face       %s %dx%d, %d bytes\n", r.Face.Format, r.Face.Width, r.Face.Height, r.Face.Bytes)
	}
	fmt.Fprintln(bw, "\nChecks")
	names := make([]string, 0, len(r.Checks))
	for n := range r.Checks {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		c := r.Checks[n]
		line := fmt.Sprintf("  %-24s %-15s %s", n, c.Result, c.Reason)
		switch {
		case c.Reason != "" && c.Detail != "":
			line += ": " + c.Detail
		case c.Detail != "":
			line += c.Detail
		}
		fmt.Fprintln(bw, strings.TrimRight(line, " "))
	}
	quirks := "none"
	if len(r.Quirks) > 0 {
		quirks = strings.Join(r.Quirks, ", ")
	}
	fmt.Fprintf(bw, "\nQuirks     %s\n", quirks)
	files := make([]string, 0, len(r.Files))
	total := 0
	for n, fi := range r.Files {
		files = append(files, n)
		total += fi.Size
	}
	slices.SortFunc(files, func(a, b string) int { return fileOrder(a) - fileOrder(b) })
	fmt.Fprintf(bw, "Files      %s (%d bytes)\n", strings.Join(files, " "), total)
	if p := r.AccessParams; p.Domain != "" {
		fmt.Fprintf(bw, "Access     %s (%s %s, parameter id %d), %s secure messaging\n", r.AccessControl, p.KeyAgreement, p.Domain, *p.ParameterID, p.Cipher)
	} else {
		fmt.Fprintf(bw, "Access     %s, %s secure messaging\n", r.AccessControl, p.Cipher)
	}
	fmt.Fprintf(bw, "Reader     %s (ATR %s)\n", r.Reader.Name, r.Reader.ATR)
	fmt.Fprintf(bw, "Read       %d APDUs, %d bytes in %d ms\n", r.APDUs, r.BytesTransferred, r.DurationMS)
}

func fileOrder(name string) int {
	if f, ok := lds.FileByName(name); ok {
		return int(f)
	}
	return 1 << 10
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// loadTrust reads the trust snapshot: an ICAO CSCA master list (9303-12
// §9) whose signature must chain to one of the --ml-root certificates. The
// CSCAs and link certificates it holds become the trust store of this
// read.
func loadTrust(f *readFlags, now time.Time) (verify.TrustStore, error) {
	if len(f.mlRoots) == 0 {
		return nil, usagef("--trust needs at least one --ml-root CERT: the master list's signature is checked against it")
	}
	var roots []*cert.Certificate
	for _, p := range f.mlRoots {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, usagef("--ml-root: %v", err)
		}
		cs, err := cert.ParsePEMCertificates(b)
		if err != nil || len(cs) == 0 {
			c, derr := cert.ParseCertificate(b)
			if derr != nil {
				return nil, usagef("--ml-root %s: not a certificate (PEM or DER): %v", p, derr)
			}
			cs = []*cert.Certificate{c}
		}
		roots = append(roots, cs...)
	}
	ml, err := os.ReadFile(f.trust)
	if err != nil {
		return nil, usagef("--trust: %v", err)
	}
	// A snapshot must say when it was made: nothing else bounds how old
	// its list of CSCAs and CRLs is.
	sd, err := cms.ParseSignedData(ml)
	if err != nil || len(sd.SignerInfos) != 1 {
		return nil, fmt.Errorf("--trust %s: not a signed master list", f.trust)
	}
	signed := sd.SignerInfos[0].SigningTime
	switch {
	case signed.IsZero():
		return nil, fmt.Errorf("--trust %s: the master list has no signing time", f.trust)
	case signed.After(now.Add(5 * time.Minute)):
		return nil, fmt.Errorf("--trust %s: the master list claims to be signed in the future (%s)", f.trust, signed.UTC().Format(time.RFC3339))
	case f.trustMaxAge > 0 && now.Sub(signed) > f.trustMaxAge:
		return nil, fmt.Errorf("--trust %s was signed %v ago, more than --trust-max-age %v: get a fresh snapshot", f.trust, now.Sub(signed).Round(time.Hour), f.trustMaxAge)
	}
	certs, err := verify.VerifyMasterList(ml, roots)
	if err != nil {
		return nil, fmt.Errorf("--trust %s: the master list does not verify: %w", f.trust, err)
	}
	store := verify.NewMemoryStore()
	for _, c := range certs {
		// Certificates that can sign nothing are not trust anchors; the
		// rest of the list still is.
		_ = store.Add(c)
	}
	// The snapshot's CRLs (the SignedData crls field) travel with it; each
	// one's signature is checked against the path when it is used.
	for i, der := range sd.CRLs {
		crl, err := cert.ParseRevocationList(der)
		if err != nil {
			return nil, fmt.Errorf("--trust %s: CRL %d: %w", f.trust, i+1, err)
		}
		store.AddCRL(crl)
	}
	return store, nil
}

// passiveAuthentication verifies EF.SOD (and, after PACE-CAM,
// EF.CardSecurity) against the trust store.
func passiveAuthentication(ctx context.Context, res *reader.Result, store verify.TrustStore, now time.Time) (sod, cardSecurity *verify.Result) {
	state := ""
	if b, ok := res.Files[lds.FileDG1]; ok {
		if dg1, err := lds.ParseDG1(b); err == nil {
			state = dg1.MRZ.IssuingState
		}
	}
	if b, ok := res.Files[lds.FileSOD]; ok {
		sod = verify.PassiveAuthentication(ctx, b, res.Files, state, store, now, verify.Policy{})
	}
	if b, ok := res.Files[lds.FileCardSecurity]; ok {
		cardSecurity = verify.VerifyCardSecurity(ctx, b, state, store, now, verify.Policy{})
	}
	return sod, cardSecurity
}

// homeSoftHSM points SoftHSM2 at the token of the borderid home a terminal
// folder belongs to. `borderid init` writes <home>/terminal with is.uri
// naming the inspection-system key in <home>/hsm; SoftHSM2 finds its token
// store through SOFTHSM2_CONF, which CONTRACTS.md says borderid sets, never
// the user. An explicit SOFTHSM2_CONF is left alone (another HSM setup).
func homeSoftHSM(e *env, terminalDir string) {
	if _, err := os.Stat(filepath.Join(terminalDir, reader.TerminalURIFile)); err != nil {
		return
	}
	if e.getenv("SOFTHSM2_CONF") != "" || os.Getenv("SOFTHSM2_CONF") != "" {
		return
	}
	conf := filepath.Join(terminalDir, "..", "hsm", "softhsm2.conf")
	if _, err := os.Stat(conf); err == nil {
		if abs, err := filepath.Abs(conf); err == nil {
			os.Setenv("SOFTHSM2_CONF", abs)
		}
	}
}

// readStatus asks the registry of the document's issuing state about the
// document read (its DG1 MRZ) for the document_status check; nil when DG1
// could not be read (there is nothing to ask with).
func readStatus(ctx context.Context, e *env, f *readFlags, res *reader.Result) *inspect.StatusAnswer {
	b, ok := res.Files[lds.FileDG1]
	if !ok {
		return nil
	}
	dg1, err := lds.ParseDG1(b)
	if err != nil {
		return nil
	}
	home, err := homeDir(e, f.home)
	if err != nil {
		return &inspect.StatusAnswer{Failure: inspect.ReasonPartnerUnreachable, Detail: err.Error()}
	}
	m := dg1.MRZ
	return askStatus(ctx, home, f.statusURL, crossborder.Query{IssuingState: m.IssuingState, DocumentNumber: m.DocumentNumber,
		DateOfBirth: m.DateOfBirth, DateOfExpiry: m.DateOfExpiry, DocumentType: m.DocumentCode})
}

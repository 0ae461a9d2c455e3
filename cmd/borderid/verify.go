package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"borderid/inspect"
	"borderid/reader"
	"borderid/reader/lds"
	"borderid/verify"
)

const verifyUsage = `verify --dir DIR [--json] [--trust FILE --ml-root CERT ...] [--trust-max-age D]
                       [--mrz LINES|- | --doc N --dob YYMMDD --exp YYMMDD]

Re-verifies a document offline from the files ` + "`borderid read --out DIR`" + ` wrote (or a
chip identity folder): the data group hashes against EF.SOD, passive
authentication against a trust snapshot (--trust), DG1 against the MRZ given
and the date of expiry. Chip, active and terminal authentication need the chip
itself and are reported not_done (offline): the best verdict is authentic_data.
Exit codes: 0 the files were verified (whatever the verdict), 1 they could not
be (no folder, no SOD, a file too large), 2 usage error.`

// offlineAccess is the report's access_control (and access_params.cipher)
// for a verification from files: no chip was accessed, so there is no
// access control and no secure messaging to report (docs/report.schema.json).
const offlineAccess = "none"

func cmdVerify(ctx context.Context, e *env, args []string) error {
	var f readFlags
	var dir string
	fs := newFlagSet(e, "verify", verifyUsage)
	fs.StringVar(&dir, "dir", "", "the `DIR` of raw files (COM, DG1..DG16, SOD, CardAccess, CardSecurity, CVCA) that read --out wrote")
	fs.StringVar(&f.doc, "doc", "", "document `NUMBER` as printed in the MRZ, compared with DG1")
	fs.StringVar(&f.dob, "dob", "", "date of birth `YYMMDD`, compared with DG1")
	fs.StringVar(&f.exp, "exp", "", "date of expiry `YYMMDD`, compared with DG1")
	fs.StringVar(&f.mrzArg, "mrz", "", "the MRZ `LINES` of the data page, or - to read them from standard input; compared with DG1")
	fs.StringVar(&f.trust, "trust", "", "passive authentication against the CSCAs of this ICAO master list `FILE` (the trust snapshot)")
	fs.Var(&f.mlRoots, "ml-root", "a `CERT` (PEM or DER) the --trust master list must chain to; repeatable")
	fs.DurationVar(&f.trustMaxAge, "trust-max-age", 0, "refuse a --trust master list signed longer ago than this `DURATION` (0: no limit)")
	fs.BoolVar(&f.json, "json", false, "print the inspection report as JSON (docs/report.schema.json)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if dir == "" {
		return usagef("--dir DIR is required: the folder that read --out wrote")
	}
	// The MRZ is optional here: nothing has to open a chip. When given,
	// it is checked as read does and DG1 is compared with it.
	k := &key{}
	if f.mrzArg != "" || f.doc != "" || f.dob != "" || f.exp != "" {
		var err error
		if k, err = accessKey(e, &f); err != nil {
			return err
		}
	}
	now := time.Now()
	var store verify.TrustStore
	if f.trust != "" {
		var err error
		if store, err = loadTrust(&f, now); err != nil {
			return err
		}
	} else if len(f.mlRoots) > 0 {
		return usagef("--ml-root goes with --trust FILE")
	}

	files, err := loadFiles(dir)
	if err != nil {
		return err
	}
	if _, ok := files[lds.FileSOD]; !ok {
		return fmt.Errorf("%s holds no SOD: without EF.SOD nothing can be verified", dir)
	}
	res := &reader.Result{AccessControl: offlineAccess, Files: files}
	in := inspect.Input{
		Result:         res,
		GivenDocNumber: k.doc, GivenDOB: k.dob, GivenDOE: k.doe, GivenMRZ: k.mrz,
		Now: now,
	}
	if store != nil {
		in.PA, in.CardSecurityPA = passiveAuthentication(ctx, res, store, now)
	}
	r := inspect.Assemble(in).Report
	offline(r, in.CardSecurityPA)
	if c, ok := r.Checks[inspect.CheckMRZConsistency]; ok && k.mrz == nil && k.doc == "" {
		// inspect explains a missing MRZ by a chip opened with the CAN;
		// here nothing was opened.
		c.Detail = strings.Replace(c.Detail, "no MRZ was supplied (the chip was opened with the CAN)", "no MRZ was supplied (--mrz or --doc/--dob/--exp)", 1)
		r.Checks[inspect.CheckMRZConsistency] = c
	}

	if f.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printVerifyHuman(e.stdout, r, dir)
	return nil
}

// loadFiles reads the chip's files from dir by their chip-identity names
// (CONTRACTS.md "Chip identities"). Other entries (face.jpg, chip.json,
// keys, notes) are ignored, and so is EF.ATR/INFO, which the report does
// not name. A file larger than a read accepts (reader.MaxFileSize) or that
// is not a regular file is refused: it did not come from a chip.
func loadFiles(dir string) (map[lds.File][]byte, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("--dir: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("--dir %s is not a folder", dir)
	}
	files := map[lds.File][]byte{}
	for _, f := range lds.AllFiles() {
		if f == lds.FileATRInfo {
			continue
		}
		b, err := readChipFile(filepath.Join(dir, f.String()))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		files[f] = b
	}
	return files, nil
}

func readChipFile(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(fh, reader.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(b) > reader.MaxFileSize {
		return nil, fmt.Errorf("%s is larger than any file a chip read gives (%d bytes)", path, reader.MaxFileSize)
	}
	return b, nil
}

// offline replaces the checks that need the chip with not_done "offline",
// and sets the verdict again: without the chip it is never genuine.
func offline(r *inspect.Report, cardSecurity *verify.Result) {
	r.AccessParams = inspect.AccessParams{Cipher: offlineAccess}
	chip := "chip authentication needs the chip: the files alone cannot prove it is not a clone"
	if cardSecurity != nil {
		// Keep what passive authentication of EF.CardSecurity said: it
		// would decide whether a PACE-CAM key counts.
		chip += fmt.Sprintf("; EF.CardSecurity passive authentication: %s", cardSecurity.Outcome)
		if cardSecurity.Reason != "" {
			chip += " (" + string(cardSecurity.Reason) + ")"
		}
	}
	r.Checks[inspect.CheckChipAuth] = inspect.Check{Result: inspect.NotDone, Reason: "offline", Detail: chip}
	r.Checks[inspect.CheckActiveAuth] = inspect.Check{Result: inspect.NotDone, Reason: "offline",
		Detail: "active authentication needs the chip to sign a challenge"}
	r.Checks[inspect.CheckTerminalAuth] = inspect.Check{Result: inspect.NotDone, Reason: "offline",
		Detail: "terminal authentication needs the chip"}
	// The rule of inspect's verdict with the chip unproven: any failed
	// check rejects, passive authentication alone gives authentic_data.
	r.Verdict = inspect.Suspect
	if r.Checks[inspect.CheckPassiveAuth].Result == inspect.Pass {
		r.Verdict = inspect.AuthenticData
	}
	for _, c := range r.Checks {
		if c.Result == inspect.Fail {
			r.Verdict = inspect.Rejected
		}
	}
}

// printVerifyHuman prints the report as read does, with the lines about
// the reader and the session replaced by where the files came from.
func printVerifyHuman(w io.Writer, r *inspect.Report, dir string) {
	var buf bytes.Buffer
	printHuman(&buf, r)
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "Access "), strings.HasPrefix(line, "Read "):
			continue
		case strings.HasPrefix(line, "Reader "):
			line = "Source     " + dir + " (verified offline: no chip)"
		}
		fmt.Fprintln(bw, line)
	}
}

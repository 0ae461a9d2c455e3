package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"borderid/hardware/chipsim"
	"borderid/hardware/chipsim/chipspec"
	"borderid/hardware/vpcd"
	"borderid/internal/ec"
	"borderid/internal/pace"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
)

const chipUsage = `chip serve (--identity DIR | --specimen | --chip ID --purpose TEXT [--home DIR]) [--vpcd HOST:PORT] [--faults LIST]
       borderid chip export ID --out DIR --purpose TEXT [--home DIR]
       borderid chip specimen --out DIR [--mrz LINES] [--face-bytes N] [--extended-length]
                              [--pace none|gm|im|cam] [--param-id N] [--cipher aes128|aes192|aes256|3des]
                              [--can NNNNNN] [--ca=true|false] [--aa none|rsa1024|rsa2048|p256|bp256]
                              [--eac [--terminal-out DIR]] [--bac-only] [--trust-out DIR]
       borderid chip mrz --identity DIR

serve     puts a software passport chip into a virtual reader (pcscd's vpcd
          driver) until interrupted; without --vpcd it takes the first free one.
          --specimen serves a fresh default specimen (that of chip specimen);
          --chip ID serves a chip issued by this state (<home>/chips/ID),
          decrypted in memory only; the read is audited with --purpose
export    writes a clear copy of an issued chip identity to DIR (it holds
          biometric data: only on explicit request, 0700/0600; audited with
          --purpose)
specimen  writes a chip identity with synthetic data (prints its MRZ). The
          default is a current passport: PACE-CAM on brainpoolP256r1 with
          AES-128 (MRZ or CAN 123456), chip authentication and RSA-1024 active
          authentication. --pace none (or --bac-only) is a BAC-only chip with
          neither (ask for them with --ca, --aa). --eac adds fingerprints (DG3)
          and the CV certificate chain; --terminal-out DIR writes the
          inspection system's certificates and key for read --terminal DIR;
          --trust-out DIR writes a CSCA master list holding the specimen's
          CSCA (masterlist.ml) and the root its signer chains to (ml-root.pem)
          for read --trust DIR/masterlist.ml --ml-root DIR/ml-root.pem
mrz       prints the MRZ of a chip identity (from its DG1)`

func cmdChip(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintf(e.stderr, "usage: borderid %s\n", chipUsage)
		return usagef("a chip subcommand is needed: serve, specimen or mrz")
	}
	switch args[0] {
	case "serve":
		return chipServe(ctx, e, args[1:])
	case "specimen":
		return chipSpecimen(ctx, e, args[1:])
	case "mrz":
		return chipMRZ(ctx, e, args[1:])
	case "export":
		return chipExport(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintf(e.stderr, "usage: borderid %s\n", chipUsage)
		return nil
	}
	return usagef("unknown chip subcommand %q (serve, specimen, mrz)", args[0])
}

func chipServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "chip serve", chipUsage)
	dir := fs.String("identity", "", "chip identity `DIR` (docs/chip-identity.md)")
	spec := fs.Bool("specimen", false, "serve a freshly generated specimen chip (prints its MRZ)")
	chipID := fs.String("chip", "", "serve the issued chip `ID` of <home>/chips (decrypted in memory)")
	purpose := fs.String("purpose", "", "with --chip: why the issued chip is served (`TEXT`, required: audited)")
	homeF := homeFlag(fs)
	addr := fs.String("vpcd", "", "vpcd `HOST:PORT` (default: lease the first free virtual reader)")
	faultSpec := fs.String("faults", "", "inject faults for tests: comma-separated `LIST` of "+faultNames())
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	faults, err := parseFaults(*faultSpec)
	if err != nil {
		return err
	}
	given := 0
	for _, b := range []bool{*dir != "", *spec, *chipID != ""} {
		if b {
			given++
		}
	}
	if given != 1 {
		return usagef("give exactly one of --identity DIR, --specimen and --chip ID")
	}
	var id *chipsim.Identity
	if *chipID != "" {
		home, herr := homeDir(e, *homeF)
		if herr != nil {
			return herr
		}
		if strings.TrimSpace(*purpose) == "" {
			return usagef("--chip ID needs --purpose TEXT: serving an issued chip reads its biometric data, and every such read is audited with its purpose")
		}
		id, err = loadIssuedChip(ctx, home, *chipID, strings.TrimSpace(*purpose))
	} else if *spec {
		var p chipspec.Profile
		if p, err = defaultChip().profile(); err != nil {
			return err
		}
		if _, id, err = chipspec.Generate(specimen.Options{}, p); err != nil {
			return fmt.Errorf("generating the specimen: %w", err)
		}
		fmt.Fprintf(e.stderr, "specimen chip: %s\n", describeChip(id, p))
		err = printMRZ(e, id)
	} else {
		id, err = chipsim.LoadIdentity(*dir)
	}
	if err != nil {
		return err
	}
	chip, err := chipsim.New(id, chipsim.WithLogger(e.log), chipsim.WithFaults(faults))
	if err != nil {
		return err
	}
	readerName := ""
	if *addr == "" {
		l, err := vpcd.Lease(ctx)
		if err != nil {
			return fmt.Errorf("no free virtual reader: %w", err)
		}
		defer l.Release()
		*addr, readerName = l.Addr, l.Reader
	} else {
		for _, v := range vpcd.VirtualReaders() {
			if v.Addr() == *addr {
				readerName = v.Name
			}
		}
	}
	if readerName != "" {
		fmt.Fprintf(e.stderr, "serving the chip in reader %q (vpcd %s); interrupt to stop\n", readerName, *addr)
	} else {
		fmt.Fprintf(e.stderr, "serving the chip on vpcd %s; interrupt to stop\n", *addr)
	}
	// vpcd closes the link when pcscd restarts; the chip is then put back.
	// A torn chip (fault tear_after) stays out long enough for pcscd to
	// see it leave (it polls about every 400 ms), as a hand would.
	for {
		err := vpcd.Serve(ctx, *addr, chip, e.log)
		if ctx.Err() != nil {
			return nil
		}
		pause := 200 * time.Millisecond
		switch {
		case errors.Is(err, vpcd.ErrCardRemoved):
			pause = 1500 * time.Millisecond
		case err != nil:
			return fmt.Errorf("vpcd link: %w", err)
		}
		chip.Reset()
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
	}
}

func chipSpecimen(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "chip specimen", chipUsage)
	out := fs.String("out", "", "write the chip identity to `DIR`")
	mrzText := fs.String("mrz", "", "the document's MRZ `LINES` (default: an ICAO specimen of state UTO)")
	faceBytes := fs.Int("face-bytes", specimen.DefaultFaceBytes, "target size of the synthetic face image in `BYTES`")
	ext := fs.Bool("extended-length", false, "the chip accepts extended-length APDUs and says so in its ATR (turned on anyway when DH-2048, RSA-2048 or the certificates need it)")
	k := defaultChip()
	fs.StringVar(&k.pace, "pace", k.pace, "PACE `MAPPING`: gm, im, cam (generic, integrated, chip authentication mapping) or none (a BAC-only chip)")
	fs.IntVar(&k.paramID, "param-id", k.paramID, "standardized domain parameter `ID` of PACE and chip authentication: 0-2 DH (gm, im), 8-18 ECDH (12 P-256, 13 brainpoolP256r1)")
	fs.StringVar(&k.cipher, "cipher", k.cipher, "PACE and chip authentication `CIPHER`: aes128, aes192, aes256 or 3des (not with cam)")
	fs.StringVar(&k.can, "can", "", "the card access number `NNNNNN` (default 123456 with PACE)")
	fs.BoolVar(&k.ca, "ca", true, "chip authentication key in DG14 (default true with PACE, false with --pace none)")
	fs.StringVar(&k.aa, "aa", "", "active authentication `KEY`: none, rsa1024, rsa2048, p256 or bp256 (default rsa1024 with PACE, none with --pace none)")
	fs.BoolVar(&k.eac, "eac", false, "extended access control: fingerprints in DG3, EF.CVCA and the CV certificate chain")
	termOut := fs.String("terminal-out", "", "with --eac, write the inspection system's *.cvcert and is.pkcs8 to `DIR` (for read --terminal DIR)")
	bacOnly := fs.Bool("bac-only", false, "the same as --pace none")
	trustOut := fs.String("trust-out", "", "write a master list holding the specimen's CSCA and its signer's root, masterlist.ml and ml-root.pem, to `DIR` (for read --trust, --ml-root)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *bacOnly {
		if set["pace"] && k.pace != "none" {
			return usagef("--bac-only and --pace %s contradict each other", k.pace)
		}
		k.pace = "none"
	}
	if *out == "" {
		return usagef("--out DIR is required")
	}
	if *faceBytes < 1000 || *faceBytes > 1<<20 {
		return usagef("--face-bytes must be between 1000 and 1048576")
	}
	if *termOut != "" && !k.eac {
		return usagef("--terminal-out needs --eac")
	}
	k.resolveDefaults(set)
	p, err := k.profile()
	if err != nil {
		return err
	}
	p.ExtendedLength = *ext
	doc, id, err := chipspec.Generate(specimen.Options{MRZ: *mrzText, FaceBytes: *faceBytes}, p)
	if err != nil {
		if errors.Is(err, chipspec.ErrProfile) {
			return usageError{err.Error()}
		}
		return fmt.Errorf("generating the specimen: %w", err)
	}
	if err := id.Save(*out); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote a specimen chip identity to %s (synthetic data): %s\n", *out, describeChip(id, p))
	if *termOut != "" {
		if err := writeTerminal(*termOut, doc.EAC.TerminalFiles); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "wrote the inspection system's certificates and key to %s (read --terminal %s)\n", *termOut, *termOut)
	}
	if *trustOut != "" {
		ml, root, err := writeTrust(*trustOut, doc)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "wrote a master list holding the specimen's CSCA and its signer's root to %s (borderid read --trust %s --ml-root %s)\n", *trustOut, ml, root)
	}
	return printMRZ(e, id)
}

// chipKind is what the chip specimen flags ask for.
type chipKind struct {
	pace    string // none, gm, im, cam
	paramID int
	cipher  string
	can     string
	ca      bool
	aa      string
	eac     bool
}

// defaultChip is the default specimen: a current passport (PACE-CAM,
// CA, RSA-1024 AA, which fits short APDUs).
func defaultChip() chipKind {
	return chipKind{pace: "cam", paramID: 13, cipher: "aes128", can: "123456", ca: true, aa: "rsa1024"}
}

// resolveDefaults applies the defaults that depend on --pace: without
// PACE the chip is the BAC-only chip of old (no CAN, CA or AA unless
// asked for).
func (k *chipKind) resolveDefaults(set map[string]bool) {
	none := k.pace == "none"
	if !set["ca"] {
		k.ca = !none
	}
	if !set["aa"] {
		k.aa = "rsa1024"
		if none {
			k.aa = "none"
		}
	}
	if !set["can"] {
		k.can = "123456"
		if none {
			k.can = ""
		}
	}
}

// profile turns the flags into a chipspec.Profile.
func (k chipKind) profile() (chipspec.Profile, error) {
	p := chipspec.Profile{ParameterID: k.paramID, CA: k.ca, CAN: k.can}
	if k.can != "" && !validCAN(k.can) {
		return p, usagef("--can wants six digits")
	}
	dom, err := pace.DomainByParameterID(k.paramID)
	if err != nil {
		return p, usagef("--param-id %d is not a standardized domain (0-2 DH, 8-18 ECDH)", k.paramID)
	}
	dh := dom.KeyAgreement() == pace.DH
	arc, ok := map[string]lds.Protocol{"3des": 1, "aes128": 2, "aes192": 3, "aes256": 4}[k.cipher]
	if !ok {
		return p, usagef("--cipher %q: aes128, aes192, aes256 or 3des", k.cipher)
	}
	switch k.pace {
	case "none":
	case "gm":
		p.PACE = lds.PACEECDHGM | arc
		if dh {
			p.PACE = lds.PACEDHGM | arc
		}
	case "im":
		p.PACE = lds.PACEECDHIM | arc
		if dh {
			p.PACE = lds.PACEDHIM | arc
		}
	case "cam":
		if dh || arc == 1 {
			return p, usagef("--pace cam runs on elliptic curves (--param-id 8-18) with AES only")
		}
		if !k.ca {
			return p, usagef("--pace cam needs the chip authentication key (--ca)")
		}
		p.PACE = lds.PACEECDHCAM | arc
	default:
		return p, usagef("--pace %q: none, gm, im or cam", k.pace)
	}
	if k.eac && !k.ca {
		return p, usagef("--eac needs chip authentication (--ca): terminal authentication follows it")
	}
	switch k.aa {
	case "none":
	case "rsa1024":
		p.AA = &specimen.AAOptions{RSABits: 1024}
	case "rsa2048":
		p.AA = &specimen.AAOptions{RSABits: 2048}
	case "p256":
		p.AA = &specimen.AAOptions{Curve: ec.P256()}
	case "bp256":
		p.AA = &specimen.AAOptions{Curve: ec.BrainpoolP256r1()}
	default:
		return p, usagef("--aa %q: none, rsa1024, rsa2048, p256 or bp256", k.aa)
	}
	if k.eac {
		p.EAC = &specimen.EACOptions{}
	}
	return p, nil
}

// describeChip says in one line what a specimen chip runs (never its
// MRZ; the CAN is printed, as on the data page).
func describeChip(id *chipsim.Identity, p chipspec.Profile) string {
	var parts []string
	if p.PACE == 0 {
		parts = append(parts, "BAC")
	} else {
		dom, _ := pace.DomainByParameterID(p.ParameterID)
		name := "?"
		if dom != nil {
			name = dom.Name()
		}
		parts = append(parts, fmt.Sprintf("PACE-%s %s %s", p.PACE.Mapping(), name, p.PACE.Cipher()))
		if p.CAN != "" {
			parts = append(parts, "CAN "+p.CAN)
		}
	}
	if p.CA {
		parts = append(parts, "chip authentication")
	}
	if p.AA != nil {
		if p.AA.Curve != nil {
			parts = append(parts, "active authentication ECDSA "+p.AA.Curve.Name())
		} else {
			parts = append(parts, fmt.Sprintf("active authentication RSA-%d", p.AA.RSABits))
		}
	}
	if p.EAC != nil {
		parts = append(parts, "EAC (DG3)")
	}
	if id.Config.ExtendedLength {
		parts = append(parts, "extended length")
	}
	return strings.Join(parts, ", ")
}

// writeTrust writes the specimen's trust snapshot (specimen.TrustSnapshot)
// to dir as masterlist.ml and ml-root.pem and returns their paths. Both are
// public data: 0644 in a 0755 folder.
func writeTrust(dir string, doc *specimen.Document) (mlPath, rootPath string, err error) {
	ml, rootPEM, err := specimen.TrustSnapshot(doc, rand.Reader, time.Now())
	if err != nil {
		return "", "", fmt.Errorf("making the trust snapshot: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	mlPath, rootPath = filepath.Join(dir, "masterlist.ml"), filepath.Join(dir, "ml-root.pem")
	if err := os.WriteFile(mlPath, ml, 0o644); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(rootPath, rootPEM, 0o644); err != nil {
		return "", "", err
	}
	return mlPath, rootPath, nil
}

// writeTerminal writes a terminal folder (reader.LoadTerminal): the CV
// certificates and the IS private key, 0600 in a 0700 folder.
func writeTerminal(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), files[n], 0o600); err != nil {
			return err
		}
	}
	return nil
}

func chipMRZ(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "chip mrz", chipUsage)
	dir := fs.String("identity", "", "chip identity `DIR`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("--identity DIR is required")
	}
	id, err := chipsim.LoadIdentity(*dir)
	if err != nil {
		return err
	}
	return printMRZ(e, id)
}

// printMRZ prints the identity's MRZ lines (from DG1) on standard output.
func printMRZ(e *env, id *chipsim.Identity) error {
	dg1, err := lds.ParseDG1(id.Files["DG1"])
	if err != nil {
		return fmt.Errorf("the identity's DG1: %w", err)
	}
	fmt.Fprintln(e.stdout, strings.Join(dg1.MRZ.Lines, "\n"))
	return nil
}

// faultSetters maps the --faults names to chipsim.Faults fields. Counts
// are APDU numbers from power-on (1-based).
func faultSetters() map[string]func(f *chipsim.Faults, v string) error {
	return map[string]func(f *chipsim.Faults, v string) error{
		"tear_after":          intFault(func(f *chipsim.Faults, n int) { f.TearAfter = n }),
		"corrupt_mac_at":      intFault(func(f *chipsim.Faults, n int) { f.CorruptMACAt = n }),
		"drop_sm_at":          intFault(func(f *chipsim.Faults, n int) { f.DropSMAt = n }),
		"plain_success_at":    intFault(func(f *chipsim.Faults, n int) { f.PlainSuccessAt = n }),
		"cap_le":              intFault(func(f *chipsim.Faults, n int) { f.CapLe = n }),
		"wrong_length_above":  intFault(func(f *chipsim.Faults, n int) { f.WrongLengthAbove = n }),
		"exact_length_above":  intFault(func(f *chipsim.Faults, n int) { f.ExactLengthAbove = n }),
		"unprotected_errors":  boolFault(func(f *chipsim.Faults) { f.UnprotectedErrors = true }),
		"omit_do99":           boolFault(func(f *chipsim.Faults) { f.OmitDO99 = true }),
		"select_get_response": boolFault(func(f *chipsim.Faults) { f.SelectGetResponse = true }),
		"select_needs_fci":    boolFault(func(f *chipsim.Faults) { f.SelectNeedsFCI = true }),
		"latency": func(f *chipsim.Faults, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 || d > 10*time.Second {
				return fmt.Errorf("latency wants a duration up to 10s, got %q", v)
			}
			f.Latency = d
			return nil
		},
	}
}

func faultNames() string {
	setters := faultSetters()
	names := make([]string, 0, len(setters))
	for n := range setters {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func intFault(set func(*chipsim.Faults, int)) func(*chipsim.Faults, string) error {
	return func(f *chipsim.Faults, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1<<20 {
			return fmt.Errorf("wants a positive count, got %q", v)
		}
		set(f, n)
		return nil
	}
}

func boolFault(set func(*chipsim.Faults)) func(*chipsim.Faults, string) error {
	return func(f *chipsim.Faults, v string) error {
		if v != "" {
			return fmt.Errorf("takes no value, got %q", v)
		}
		set(f)
		return nil
	}
}

// parseFaults reads "tear_after=40,unprotected_errors,latency=5ms".
func parseFaults(spec string) (chipsim.Faults, error) {
	var f chipsim.Faults
	if spec == "" {
		return f, nil
	}
	for _, item := range strings.Split(spec, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(item), "=")
		set, ok := faultSetters()[name]
		if !ok {
			return f, usagef("unknown fault %q (known: %s)", name, faultNames())
		}
		if err := set(&f, value); err != nil {
			return f, usagef("fault %s: %v", name, err)
		}
	}
	return f, nil
}

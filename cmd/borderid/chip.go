package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"borderid/hardware/chipsim"
	"borderid/hardware/vpcd"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
)

const chipUsage = `chip serve (--identity DIR | --specimen) [--vpcd HOST:PORT]
       borderid chip specimen --out DIR [--mrz LINES] [--face-bytes N] [--extended-length]
       borderid chip mrz --identity DIR

serve     puts a software passport chip into a virtual reader (pcscd's vpcd
          driver) until interrupted; without --vpcd it takes the first free one
specimen  writes a chip identity with synthetic data (prints its MRZ)
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
	addr := fs.String("vpcd", "", "vpcd `HOST:PORT` (default: lease the first free virtual reader)")
	faultSpec := fs.String("faults", "", "inject faults for tests: comma-separated `LIST` of "+faultNames())
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	faults, err := parseFaults(*faultSpec)
	if err != nil {
		return err
	}
	if (*dir == "") == !*spec {
		return usagef("give exactly one of --identity DIR and --specimen")
	}
	var id *chipsim.Identity
	if *spec {
		id, err = newSpecimen(specimen.Options{}, false)
		if err == nil {
			err = printMRZ(e, id)
		}
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
	ext := fs.Bool("extended-length", false, "the chip accepts extended-length APDUs and says so in its ATR")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out DIR is required")
	}
	if *faceBytes < 1000 || *faceBytes > 1<<20 {
		return usagef("--face-bytes must be between 1000 and 1048576")
	}
	id, err := newSpecimen(specimen.Options{MRZ: *mrzText, FaceBytes: *faceBytes}, *ext)
	if err != nil {
		return err
	}
	if err := id.Save(*out); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote a specimen chip identity to %s (synthetic data)\n", *out)
	return printMRZ(e, id)
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

func newSpecimen(opts specimen.Options, extended bool) (*chipsim.Identity, error) {
	doc, err := specimen.Generate(opts)
	if err != nil {
		return nil, fmt.Errorf("generating the specimen: %w", err)
	}
	return chipsim.NewIdentity(doc.Files, chipsim.Config{ExtendedLength: extended})
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

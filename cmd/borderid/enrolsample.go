package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"borderid/enrol/biometric"
)

const enrolUsage = `enrol sample --out DIR [--fingers N]

sample  writes synthetic enrolment material for demos and tests to DIR: a
        300x400 JPEG (face.jpg: a colour pattern, no face) and N ISO/IEC
        19794-4 finger image records (finger-1.fir .. finger-N.fir: PNG
        ridge patterns, no fingerprints), in the formats the enrolment API
        accepts (PUT .../biometrics/face as image/jpeg, PUT
        .../biometrics/fingers/{position} as application/x-iso19794-4).`

// cmdEnrol is `borderid enrol sample`: demo material for the enrolment API.
func cmdEnrol(_ context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "sample" {
		fmt.Fprintf(e.stderr, "usage: borderid %s\n", enrolUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return nil
		}
		return usagef("an enrol subcommand is needed: sample")
	}
	fs := newFlagSet(e, "enrol sample", enrolUsage)
	out := fs.String("out", "", "write the samples to `DIR`")
	fingers := fs.Int("fingers", 2, "how many finger records (`N`, 0 to 10)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	if *out == "" {
		return usagef("enrol sample needs --out DIR")
	}
	if *fingers < 0 || *fingers > 10 {
		return usagef("--fingers %d: 0 to 10", *fingers)
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return err
	}
	write := func(name string, b []byte) error {
		return os.WriteFile(filepath.Join(*out, name), b, 0o600)
	}
	if err := write("face.jpg", biometric.SyntheticJPEG(300, 400)); err != nil {
		return err
	}
	for p := 1; p <= *fingers; p++ {
		rec := biometric.FingerRecord(p, 256, 360, biometric.CompressionPNG, biometric.SyntheticPNG(256, 360))
		if err := write(fmt.Sprintf("finger-%d.fir", p), rec); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "wrote face.jpg and %d finger records to %s (synthetic)\n", *fingers, *out)
	return nil
}

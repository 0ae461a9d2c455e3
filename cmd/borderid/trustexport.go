package main

import (
	"context"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"borderid/db"
	"borderid/internal/hsm"
	"borderid/internal/pki"
)

// cmdTrustExport is `borderid trust export --out FILE` (issue 4, item 3):
// a signed snapshot for border stations. It is an ICAO CSCA master list
// (9303-12 §9) of every CSCA and link certificate in the trust store,
// signed by this state's master-list signer (HSM key "mlsigner", certificate
// pki/mlsigner.crt under the state's CSCA), carrying in its SignedData crls
// the CRLs of the store and a fresh CRL of this state's CSCA. A station
// verifies it with `borderid read --trust FILE --ml-root <home>/pki/csca.crt`.
func cmdTrustExport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "trust export", trustUsage)
	homeF := homeFlag(fs)
	out := fs.String("out", "", "write the signed snapshot to `FILE` (a .ml master list)")
	crlDays := fs.Int("crl-days", 7, "the state's own CRL is valid for `N` days (its nextUpdate)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	if *out == "" {
		return usagef("trust export needs --out FILE")
	}
	if *crlDays < 1 || *crlDays > 365 {
		return usagef("--crl-days %d: between 1 and 365", *crlDays)
	}
	home, err := homeDir(e, *homeF)
	if err != nil {
		return err
	}
	readDER := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(home, "pki", name))
		if err != nil {
			return nil, fmt.Errorf("%w (run borderid init first)", err)
		}
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("pki/%s: not a PEM certificate", name)
		}
		return blk.Bytes, nil
	}
	mlDER, err := readDER("mlsigner.crt")
	if err != nil {
		return err
	}
	cscaDER, err := readDER("csca.crt")
	if err != nil {
		return err
	}
	pool, err := openPool(ctx, home, db.App)
	if err != nil {
		return err
	}
	defer pool.Close()
	certs, crls, err := db.NewTrustStore(pool).Anchors(ctx)
	if err != nil {
		return err
	}
	tok, err := hsm.Open(ctx, home)
	if err != nil {
		return err
	}
	defer tok.Close()
	mlKey, err := tok.Signer("mlsigner")
	if err != nil {
		return err
	}
	cscaKey, err := tok.Signer("csca")
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	// The CRL number only has to grow: seconds since the epoch do.
	own, err := pki.IssueCRL(cscaDER, cscaKey, big.NewInt(now.Unix()), now, now.AddDate(0, 0, *crlDays), nil)
	if err != nil {
		return fmt.Errorf("the state's CRL: %w", err)
	}
	crls = append(crls, own)
	ml, err := pki.MasterList(certs, mlDER, mlKey, now, crls)
	if err != nil {
		return err
	}
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, ml, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, *out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s: %d CSCA and link certificates, %d CRLs, signed by the master-list signer at %s\n",
		*out, len(certs), len(crls), now.Format(time.RFC3339))
	fmt.Fprintf(e.stdout, "stations: borderid read --trust %s --ml-root %s\n", *out, filepath.Join(home, "pki", "csca.crt"))
	return nil
}

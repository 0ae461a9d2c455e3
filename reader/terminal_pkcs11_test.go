package reader_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"borderid/hardware/chipsim"
	"borderid/internal/cvc"
	"borderid/internal/ec"
	"borderid/internal/signer"
	"borderid/internal/signer/softhsmtest"
	"borderid/reader"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
)

// Terminal Authentication with the inspection system's key inside an HSM
// (SoftHSM2): a P-256 chain whose IS certificate carries the public key
// of a key generated in the token, a terminal folder naming it by is.uri,
// and BAC -> CA -> TA -> DG3 against the software chip.
func TestTerminalAuthenticatePKCS11(t *testing.T) {
	ctx := context.Background()
	tk := softhsmtest.NewToken(t)
	isPub := tk.GenerateECDSA(t, "is", []byte{0x15, 0x01}, elliptic.P256())
	otherPub := tk.GenerateECDSA(t, "other", []byte{0x15, 0x02}, elliptic.P256())
	if isPub.(*ecdsa.PublicKey).Equal(otherPub) {
		t.Fatal("two equal keys")
	}

	e := newEACChip(t, specimen.EACOptions{Curve: ec.P256()}, chipsim.Config{}, chipsim.Faults{})
	eac := e.doc.EAC
	cvca, err := cvc.Parse(eac.CVCA)
	if err != nil {
		t.Fatal(err)
	}
	dv, err := cvc.Parse(eac.DV)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := cvc.NewPublicKey(cvc.ECDSASHA256, isPub, nil)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(taNow.Year(), taNow.Month(), taNow.Day(), 0, 0, 0, 0, time.UTC)
	isCert, err := cvc.Create(newRand(21), cvc.Template{
		CHR: "UTIS00000001", Role: cvc.RoleIS, Rights: cvc.ReadDG3,
		PublicKey: pk, Effective: day, Expiration: day.AddDate(0, 1, 0),
	}, cvc.Issuer{Cert: dv, Key: eac.DVKey, Domain: cvca.PublicKey.Domain})
	if err != nil {
		t.Fatal(err)
	}

	// The folder: certificates and is.uri, no private key anywhere.
	dir := t.TempDir()
	write := func(name string, b []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("UTCVCA00001.cvcert", eac.CVCA)
	write("UTDVCA00001.cvcert", eac.DV)
	write("UTIS00000001.cvcert", isCert)
	write(reader.TerminalURIFile, []byte(tk.URI("is", nil)+"\n"))
	t.Setenv(reader.TerminalPINEnv, tk.PIN)

	term, err := reader.LoadTerminal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := term.Signer.(*signer.Signer); !ok {
		t.Fatalf("terminal signer %T, want the HSM's", term.Signer)
	}
	s, id, comp := e.open(t)
	if _, err := s.ReadFile(ctx, lds.FileDG3); !errors.Is(err, reader.ErrAccessDenied) {
		t.Fatalf("DG3 before TA: %v", err)
	}
	res, err := reader.TerminalAuthenticate(ctx, s, term, id, comp, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.CAR != "UTCVCA00001" || strings.Join(res.Path, ",") != "UTDVCA00001,UTIS00000001" {
		t.Fatalf("CAR %s path %v", res.CAR, res.Path)
	}
	if len(res.Signature) != 64 {
		t.Fatalf("signature of %d bytes, want plain r||s of 64 (TR-03111)", len(res.Signature))
	}
	dg3, err := s.ReadFile(ctx, lds.FileDG3)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dg3, e.doc.Files["DG3"]) {
		t.Fatal("DG3 differs from the chip's")
	}
	if err := term.Close(); err != nil {
		t.Fatal(err)
	}
	if err := term.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// The PIN from the caller instead of the environment; the URI's
	// pin-value when there is none.
	t.Setenv(reader.TerminalPINEnv, "")
	if _, err := reader.LoadTerminal(dir); !errors.Is(err, reader.ErrTerminalConfig) || !errors.Is(err, signer.ErrNoPIN) {
		t.Fatalf("no PIN: %v", err)
	}
	term, err = reader.LoadTerminalPIN(ctx, dir, tk.PIN)
	if err != nil {
		t.Fatal(err)
	}
	term.Close()
	write(reader.TerminalURIFile, []byte(tk.URI("is", nil)+"&pin-value="+tk.PIN))
	term, err = reader.LoadTerminal(dir)
	if err != nil {
		t.Fatalf("pin-value: %v", err)
	}
	term.Close()

	// Refusals. The HSM key that is not the IS certificate's comes
	// first: its session must be closed on the way out, or the wrong PIN
	// after it would pass (the login is shared within the process).
	for _, tc := range []struct {
		name  string
		uri   string
		pin   string
		want  error
		want2 error
	}{
		{"key not the IS certificate's", tk.URI("other", nil), tk.PIN, reader.ErrTerminalConfig, nil},
		{"wrong PIN", tk.URI("is", nil), "0000-wrong", reader.ErrTerminalConfig, signer.ErrPIN},
		{"absent key", tk.URI("absent", nil), tk.PIN, reader.ErrTerminalConfig, signer.ErrKeyNotFound},
		{"absent module", strings.Replace(tk.URI("is", nil), tk.Module, "/nonexistent/libpkcs11.so", 1), tk.PIN, reader.ErrTerminalConfig, signer.ErrModule},
		{"malformed URI", "pkcs11:object=is;object=is", tk.PIN, reader.ErrTerminalConfig, signer.ErrURI},
		{"no module-path", "pkcs11:token=" + tk.Label + ";object=is", tk.PIN, reader.ErrPKCS11Unsupported, signer.ErrNoModule},
		{"pin-source", tk.URI("is", nil) + "&pin-source=file:/etc/pin", "", reader.ErrPKCS11Unsupported, signer.ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			write(reader.TerminalURIFile, []byte(tc.uri))
			term, err := reader.LoadTerminalPIN(ctx, dir, tc.pin)
			if err == nil {
				term.Close()
			}
			if !errors.Is(err, tc.want) || (tc.want2 != nil && !errors.Is(err, tc.want2)) {
				t.Fatalf("%v, want %v and %v", err, tc.want, tc.want2)
			}
			if tc.pin != "" && strings.Contains(err.Error(), tc.pin) {
				t.Fatalf("the error shows the PIN: %v", err)
			}
		})
	}
}

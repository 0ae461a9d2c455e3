package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"borderid/inspect"
	"borderid/reader"
	"borderid/reader/lds/specimen"
)

func verifyCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"verify"}, args...), strings.NewReader(stdin), &out, &errb, func(string) string { return "" })
	return code, out.String(), errb.String()
}

// verifyDoc is a specimen written as read --out writes it, with its trust
// snapshot beside it.
type verifyDoc struct {
	doc            *specimen.Document
	dir            string // the files
	mlPath, root   string // the trust snapshot
	face, mrzLines string
}

func newVerifyDoc(t *testing.T, seed byte) *verifyDoc {
	t.Helper()
	r := seeded{rand.NewChaCha8([32]byte{seed, 'v'})}
	doc, err := specimen.Generate(specimen.Options{Rand: r})
	if err != nil {
		t.Fatal(err)
	}
	ml, root, err := specimen.TrustSnapshot(doc, r, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	v := &verifyDoc{doc: doc, dir: filepath.Join(base, "doc"), mlPath: filepath.Join(base, "masterlist.ml"),
		root: filepath.Join(base, "ml-root.pem"), mrzLines: doc.MRZ}
	if err := os.Mkdir(v.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	write := map[string][]byte{v.mlPath: ml, v.root: root,
		// What read --out writes beside the files, and what a chip
		// identity holds: ignored.
		filepath.Join(v.dir, "face.jpg"):  []byte("not a chip file"),
		filepath.Join(v.dir, "chip.json"): []byte("{}"),
	}
	for name, b := range doc.Files {
		write[filepath.Join(v.dir, name)] = b
	}
	for p, b := range write {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

func (v *verifyDoc) trustArgs() []string {
	return []string{"--trust", v.mlPath, "--ml-root", v.root}
}

func TestVerifyDir(t *testing.T) {
	a := newVerifyDoc(t, 1)
	b := newVerifyDoc(t, 2)

	// tampered returns a copy of a's folder with change applied.
	tampered := func(t *testing.T, change func(dir string)) string {
		t.Helper()
		dir := t.TempDir()
		for name, data := range a.doc.Files {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		change(dir)
		return dir
	}
	flipDG2 := func(dir string) {
		p := filepath.Join(dir, "DG2")
		d, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		d[len(d)-1] ^= 0x01 // a byte of the image, the TLV stays well-formed
		if err := os.WriteFile(p, d, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	swapSOD := func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, "SOD"), b.doc.Files["SOD"], 0o600); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name      string
		dir       string
		stdin     string
		args      []string
		checks    map[string]inspect.Check // result and reason, detail ignored
		paReasons []string                 // when set: PA fails with one of these
		verdict   inspect.Verdict
	}{
		{
			name: "trusted", dir: a.dir, args: a.trustArgs(),
			checks: map[string]inspect.Check{
				inspect.CheckPassiveAuth:    {Result: inspect.Pass},
				inspect.CheckDGHashes:       {Result: inspect.Pass},
				inspect.CheckExpiry:         {Result: inspect.Pass},
				inspect.CheckMRZConsistency: {Result: inspect.Pass},
				inspect.CheckChipAuth:       {Result: inspect.NotDone, Reason: "offline"},
				inspect.CheckActiveAuth:     {Result: inspect.NotDone, Reason: "offline"},
				inspect.CheckTerminalAuth:   {Result: inspect.NotDone, Reason: "offline"},
			},
			verdict: inspect.AuthenticData,
		},
		{
			name: "mrz given", dir: a.dir, stdin: a.mrzLines, args: append(a.trustArgs(), "--mrz", "-"),
			checks:  map[string]inspect.Check{inspect.CheckMRZConsistency: {Result: inspect.Pass}, inspect.CheckPassiveAuth: {Result: inspect.Pass}},
			verdict: inspect.AuthenticData,
		},
		{
			name: "mrz differs", dir: a.dir, args: append(a.trustArgs(), "--doc", "X12345678", "--dob", "740812", "--exp", "340811"),
			checks:  map[string]inspect.Check{inspect.CheckMRZConsistency: {Result: inspect.Fail, Reason: "dg1_mrz_mismatch"}, inspect.CheckPassiveAuth: {Result: inspect.Pass}},
			verdict: inspect.Rejected,
		},
		{
			name: "no trust store", dir: a.dir,
			checks: map[string]inspect.Check{
				inspect.CheckPassiveAuth: {Result: inspect.NotDone, Reason: "no_trust_store"},
				inspect.CheckDGHashes:    {Result: inspect.Pass},
			},
			verdict: inspect.Suspect,
		},
		{
			name: "changed DG2 byte", dir: tampered(t, flipDG2), args: a.trustArgs(),
			checks: map[string]inspect.Check{
				inspect.CheckPassiveAuth: {Result: inspect.Fail, Reason: "hash_mismatch_dg2"},
				inspect.CheckDGHashes:    {Result: inspect.Fail, Reason: "hash_mismatch_dg2"},
			},
			verdict: inspect.Rejected,
		},
		{
			// Another specimen's SOD, signed under a CSCA the snapshot
			// does not hold.
			name: "swapped SOD", dir: tampered(t, swapSOD), args: a.trustArgs(),
			paReasons: []string{"unknown_csca", "bad_signature"},
			verdict:   inspect.Rejected,
		},
		{
			// b's own files against a's snapshot: signed correctly, by a
			// CSCA nobody trusts here.
			name: "other CSCA", dir: b.dir, args: a.trustArgs(),
			checks:    map[string]inspect.Check{inspect.CheckDGHashes: {Result: inspect.Pass}},
			paReasons: []string{"unknown_csca"},
			verdict:   inspect.Rejected,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := verifyCLI(t, tt.stdin, append([]string{"--dir", tt.dir, "--json"}, tt.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			r := decodeReport(t, out) // validates against the schema
			for name, want := range tt.checks {
				if c := r.Checks[name]; c.Result != want.Result || c.Reason != want.Reason {
					t.Errorf("%s = %+v, want %s %s", name, c, want.Result, want.Reason)
				}
			}
			if tt.paReasons != nil {
				if c := r.Checks[inspect.CheckPassiveAuth]; c.Result != inspect.Fail || !contains(tt.paReasons, c.Reason) {
					t.Errorf("passive_authentication = %+v, want fail with one of %v", c, tt.paReasons)
				}
			}
			if r.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s", r.Verdict, tt.verdict)
			}
			if r.AccessControl != "none" || r.AccessParams.Cipher != "none" || r.Reader.Name != "" || r.APDUs != 0 {
				t.Errorf("offline report names a session: %+v %+v %+v apdus %d", r.AccessControl, r.AccessParams, r.Reader, r.APDUs)
			}
			for _, f := range []string{"COM", "DG1", "DG2", "SOD"} {
				if _, ok := r.Files[f]; !ok {
					t.Errorf("files lacks %s: %v", f, r.Files)
				}
			}
			if r.Document == nil || r.Document.DocumentNumber != "L898902C3" {
				t.Errorf("document %+v", r.Document)
			}
		})
	}

	// The same verification for a person.
	code, out, errs := verifyCLI(t, "", append([]string{"--dir", a.dir}, a.trustArgs()...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"AUTHENTIC DATA", "passive_authentication   pass", "chip_authentication      not_done        offline", "Source     " + a.dir + " (verified offline: no chip)", "no MRZ was supplied (--mrz or --doc/--dob/--exp)"} {
		if !strings.Contains(out, want) {
			t.Errorf("human output lacks %q:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"APDUs", "ATR", "secure messaging"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("human output names a chip session (%q):\n%s", unwanted, out)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Exit codes: 2 for usage, 1 when the folder cannot be verified.
func TestVerifyExitCodes(t *testing.T) {
	a := newVerifyDoc(t, 3)
	noSOD := t.TempDir()
	if err := os.WriteFile(filepath.Join(noSOD, "DG1"), a.doc.Files["DG1"], 0o600); err != nil {
		t.Fatal(err)
	}
	big := t.TempDir()
	if err := os.WriteFile(filepath.Join(big, "SOD"), a.doc.Files["SOD"], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(big, "DG2"), make([]byte, reader.MaxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	notRegular := t.TempDir()
	if err := os.Mkdir(filepath.Join(notRegular, "DG1"), 0o700); err != nil {
		t.Fatal(err)
	}
	aFile := filepath.Join(a.dir, "COM")
	tests := []struct {
		args   []string
		stdin  string
		code   int
		stderr string
	}{
		{nil, "", exitUsage, "--dir DIR is required"},
		{[]string{"--bogus"}, "", exitUsage, "flag provided but not defined"},
		{[]string{"--dir", a.dir, "extra"}, "", exitUsage, "unexpected argument"},
		{[]string{"--dir", a.dir, "--ml-root", a.root}, "", exitUsage, "--ml-root goes with --trust"},
		{[]string{"--dir", a.dir, "--trust", a.mlPath}, "", exitUsage, "needs at least one --ml-root"},
		{[]string{"--dir", a.dir, "--doc", "L898902C3"}, "", exitUsage, "go together"},
		{[]string{"--dir", a.dir, "--mrz", "-", "--doc", "L898902C3"}, "", exitUsage, "not both"},
		{[]string{"--dir", a.dir, "--mrz", "-"}, "P<UTO\n", exitUsage, "MRZ cannot be used"},
		{[]string{"--dir", a.dir, "--trust", a.mlPath, "--ml-root", a.root, "--trust-max-age", "1ns"}, "", exitFail, "more than --trust-max-age"},
		{[]string{"--dir", filepath.Join(a.dir, "nosuch")}, "", exitFail, "no such file"},
		{[]string{"--dir", aFile}, "", exitFail, "is not a folder"},
		{[]string{"--dir", noSOD}, "", exitFail, "holds no SOD"},
		{[]string{"--dir", big}, "", exitFail, "larger than any file"},
		{[]string{"--dir", notRegular}, "", exitFail, "not a regular file"},
		{[]string{"-h"}, "", exitOK, "usage: borderid verify"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := verifyCLI(t, tt.stdin, tt.args...)
			if code != tt.code || out != "" || !strings.Contains(errs, tt.stderr) {
				t.Errorf("exit %d (want %d), stdout %q, stderr %q (want %q)", code, tt.code, out, errs, tt.stderr)
			}
		})
	}
}

package main

import (
	crand "crypto/rand"
	"crypto/x509"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"borderid/hardware/chipsim"
	"borderid/hardware/chipsim/chipspec"
	"borderid/inspect"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
)

// The whole border-post path with a trust snapshot: PACE-CAM, active and
// chip authentication, passive authentication of EF.SOD and
// EF.CardSecurity against the CSCA of a master list that chains to the
// given root: the verdict is genuine. Then the refusals of --trust.
func TestReadWithTrustSnapshot(t *testing.T) {
	doc, id := authChip(t, 41, chipspec.Profile{PACE: lds.PACEECDHCAMAES128, ParameterID: 13, CA: true,
		AA: &specimen.AAOptions{RSABits: 1024}})
	ml, root, err := specimen.TrustSnapshot(doc, seeded{rand.NewChaCha8([32]byte{41, 't'})}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mlPath, rootPath := filepath.Join(dir, "masterlist.ml"), filepath.Join(dir, "ml-root.pem")
	for p, b := range map[string][]byte{mlPath: ml, rootPath: root} {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	name := serveIdentity(t, id, chipsim.Faults{})
	base := []string{"--reader", name, "--allow-virtual", "--wait", "10s", "--json", "--mrz", "-"}

	code, out, errs := readCLI(t, doc.MRZ, append(base, "--trust", mlPath, "--ml-root", rootPath)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	r := decodeReport(t, out)
	for name, want := range map[string]inspect.Result{
		"passive_authentication": inspect.Pass, "data_group_hashes": inspect.Pass,
		"chip_authentication": inspect.Pass, "active_authentication": inspect.Pass,
	} {
		if c := r.Checks[name]; c.Result != want {
			t.Errorf("%s = %+v, want %s", name, c, want)
		}
	}
	if r.Verdict != inspect.Genuine || r.AccessControl != "PACE-CAM" {
		t.Errorf("verdict %s, access %s", r.Verdict, r.AccessControl)
	}

	// A master list that does not chain to the root given is refused
	// before the chip is touched, and so is a stale one.
	otherDoc, _ := authChip(t, 42, chipspec.Profile{})
	_, otherRoot, err := specimen.TrustSnapshot(otherDoc, seeded{rand.NewChaCha8([32]byte{42, 't'})}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	otherRootPath := filepath.Join(dir, "other-root.pem")
	if err := os.WriteFile(otherRootPath, otherRoot, 0o644); err != nil {
		t.Fatal(err)
	}
	futureML, futureRoot, err := specimen.TrustSnapshot(doc, seeded{rand.NewChaCha8([32]byte{41, 'f'})}, time.Now().Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	futureMLPath, futureRootPath := filepath.Join(dir, "future.ml"), filepath.Join(dir, "future-root.pem")
	for p, b := range map[string][]byte{futureMLPath: futureML, futureRootPath: futureRoot} {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"--trust", mlPath, "--ml-root", otherRootPath}, exitFail, "the master list does not verify"},
		{[]string{"--trust", mlPath, "--ml-root", rootPath, "--trust-max-age", "1ns"}, exitFail, "more than --trust-max-age"},
		{[]string{"--trust", futureMLPath, "--ml-root", futureRootPath}, exitFail, "signed in the future"},
		{[]string{"--trust", mlPath}, exitUsage, "needs at least one --ml-root"},
		{[]string{"--ml-root", rootPath}, exitUsage, "--ml-root goes with --trust"},
	} {
		code, out, errs := readCLI(t, doc.MRZ, append(base, tt.args...)...)
		if code != tt.code || out != "" || !strings.Contains(errs, tt.stderr) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tt.args, code, out, errs)
		}
	}
}

// A revoked DSC: the snapshot's CRL (signed by the CSCA) lists the
// specimen's DSC, so passive authentication fails with dsc_revoked and
// the verdict is rejected, whatever the chip proves.
func TestReadTrustSnapshotRevokedDSC(t *testing.T) {
	doc, id := authChip(t, 43, chipspec.Profile{PACE: lds.PACEECDHGMAES128, ParameterID: 13, CA: true})
	crl, err := x509.CreateRevocationList(crand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(1),
		ThisUpdate:                time.Now().Add(-time.Hour),
		NextUpdate:                time.Now().Add(30 * 24 * time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: doc.DSC.SerialNumber, RevocationTime: time.Now().Add(-time.Hour)}},
	}, doc.CSCA, doc.CSCAKey)
	if err != nil {
		t.Fatal(err)
	}
	ml, root, err := specimen.TrustSnapshotWithCRLs(doc, seeded{rand.NewChaCha8([32]byte{43, 't'})}, time.Now(), [][]byte{crl})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mlPath, rootPath := filepath.Join(dir, "masterlist.ml"), filepath.Join(dir, "ml-root.pem")
	for p, b := range map[string][]byte{mlPath: ml, rootPath: root} {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	name := serveIdentity(t, id, chipsim.Faults{})
	code, out, errs := readCLI(t, doc.MRZ, "--reader", name, "--allow-virtual", "--wait", "10s", "--json", "--mrz", "-",
		"--trust", mlPath, "--ml-root", rootPath)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	r := decodeReport(t, out)
	if c := r.Checks["passive_authentication"]; c.Result != inspect.Fail || c.Reason != "dsc_revoked" || r.Verdict != inspect.Rejected {
		t.Errorf("passive_authentication %+v, verdict %s", c, r.Verdict)
	}
}

package main

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"borderid/hardware/chipsim"
	"borderid/hardware/chipsim/chipspec"
	"borderid/hardware/pcsc"
	"borderid/hardware/vpcd"
	"borderid/inspect"
	"borderid/inspect/inspecttest"
	"borderid/internal/ec"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
)

// serveIdentity puts a chip serving id into a leased virtual reader
// through the real pcscd, as serveChipConfig does for the default
// specimen, and returns the reader's name.
func serveIdentity(t testing.TB, id *chipsim.Identity, faults chipsim.Faults) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l, err := vpcd.Lease(ctx)
	if err != nil {
		cancel()
		t.Fatalf("lease: %v", err)
	}
	chip, err := chipsim.New(id, chipsim.WithFaults(faults))
	if err != nil {
		cancel()
		l.Release()
		t.Fatal(err)
	}
	pc, err := pcsc.EstablishContext()
	if err != nil {
		cancel()
		l.Release()
		t.Fatalf("pcscd (run scripts/pcscd-up): %v", err)
	}
	defer pc.Release()
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if err := pc.WaitForRemoval(wctx, l.Reader); err != nil {
		cancel()
		l.Release()
		t.Fatalf("reader %s keeps a card: %v", l.Reader, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		vpcd.Serve(ctx, l.Addr, chip, nil)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		l.Release()
	})
	return l.Reader
}

// authChip generates a specimen with the protocols of p (keys from a
// fixed seed; issued now, so the CV certificates are valid today).
func authChip(t testing.TB, seed byte, p chipspec.Profile) (*specimen.Document, *chipsim.Identity) {
	t.Helper()
	s := [32]byte{seed, 'a'}
	doc, id, err := chipspec.Generate(specimen.Options{Rand: seeded{rand.NewChaCha8(s)}}, p)
	if err != nil {
		t.Fatal(err)
	}
	return doc, id
}

// writeTerminalDir writes doc's terminal folder (read --terminal DIR).
func writeTerminalDir(t testing.TB, doc *specimen.Document) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "terminal")
	if err := writeTerminal(dir, doc.EAC.TerminalFiles); err != nil {
		t.Fatal(err)
	}
	return dir
}

// decodeReport checks the report against the schema and decodes it
// strictly.
func decodeReport(t testing.TB, out string) *inspect.Report {
	t.Helper()
	if err := inspecttest.Validate([]byte(out)); err != nil {
		t.Fatalf("schema: %v\n%s", err, out)
	}
	var r inspect.Report
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// One session per PACE mapping and key-agreement family through pcscd,
// vpcd and `borderid read --json`: the report names the protocol and its
// parameters, and every authentication the chip offers passes.
func TestReadPACEEndToEnd(t *testing.T) {
	tests := []struct {
		name     string
		p        chipspec.Profile
		can      bool // read with --can (else the MRZ on stdin)
		terminal bool
		params   inspect.AccessParams
		aa       bool
	}{
		{name: "GM ECDH brainpoolP256r1",
			p:      chipspec.Profile{PACE: lds.PACEECDHGMAES128, ParameterID: 13, CA: true, AA: &specimen.AAOptions{RSABits: 1024}},
			params: inspect.AccessParams{Mapping: "GM", KeyAgreement: "ECDH", Domain: "brainpoolP256r1", Cipher: "AES-128"}, aa: true},
		{name: "GM DH-2048/256 extended length",
			p: chipspec.Profile{PACE: lds.PACEDHGMAES256, ParameterID: 2, CA: true, CAN: "123456"}, can: true,
			params: inspect.AccessParams{Mapping: "GM", KeyAgreement: "DH", Domain: "DH-2048/256", Cipher: "AES-256"}},
		{name: "IM ECDH P-256",
			p: chipspec.Profile{PACE: lds.PACEECDHIMAES192, ParameterID: 12, CA: true, CAN: "123456",
				AA: &specimen.AAOptions{Curve: ec.P256()}}, can: true,
			params: inspect.AccessParams{Mapping: "IM", KeyAgreement: "ECDH", Domain: "P-256", Cipher: "AES-192"}, aa: true},
		{name: "IM DH-1024/160 3DES",
			p:      chipspec.Profile{PACE: lds.PACEDHIM3DES, ParameterID: 0, CA: true},
			params: inspect.AccessParams{Mapping: "IM", KeyAgreement: "DH", Domain: "DH-1024/160", Cipher: "3DES"}},
		{name: "CAM brainpoolP256r1 with EAC",
			p: chipspec.Profile{PACE: lds.PACEECDHCAMAES128, ParameterID: 13, CA: true, CAN: "123456", PACEOnly: true,
				AA: &specimen.AAOptions{RSABits: 1024}, EAC: &specimen.EACOptions{}}, can: true, terminal: true,
			params: inspect.AccessParams{Mapping: "CAM", KeyAgreement: "ECDH", Domain: "brainpoolP256r1", Cipher: "AES-128"}, aa: true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, id := authChip(t, byte(i), tc.p)
			name := serveIdentity(t, id, chipsim.Faults{})
			args := []string{"--reader", name, "--allow-virtual", "--wait", "10s", "--json", "--quiet"}
			stdin := ""
			if tc.can {
				args = append(args, "--can", tc.p.CAN)
			} else {
				args = append(args, "--mrz", "-")
				stdin = doc.MRZ
			}
			if tc.terminal {
				args = append(args, "--terminal", writeTerminalDir(t, doc))
			}
			code, out, errs := readCLI(t, stdin, args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			r := decodeReport(t, out)
			want := tc.params
			pid := tc.p.ParameterID
			want.ParameterID = &pid
			got := r.AccessParams
			if r.AccessControl != "PACE-"+want.Mapping || got.ParameterID == nil || *got.ParameterID != pid {
				t.Errorf("access %s, parameter id %v", r.AccessControl, got.ParameterID)
			}
			got.ParameterID, want.ParameterID = nil, nil
			if got != want {
				t.Errorf("access params %+v, want %+v", got, want)
			}
			check := func(name string, want inspect.Result) {
				if c := r.Checks[name]; c.Result != want {
					t.Errorf("%s: %+v, want %s", name, c, want)
				}
			}
			check(inspect.CheckChipAuth, inspect.Pass)
			if tc.aa {
				check(inspect.CheckActiveAuth, inspect.Pass)
			}
			if tc.terminal {
				check("terminal_authentication", inspect.Pass)
				if f, ok := r.Files["DG3"]; !ok || f.Size != len(doc.Files["DG3"]) {
					t.Errorf("DG3 in files: %+v", r.Files["DG3"])
				}
			}
			check("data_group_hashes", inspect.Pass)
			if len(r.Quirks) != 0 {
				t.Errorf("quirks %v from a perfect chip", r.Quirks)
			}
			if strings.Contains(errs, "L898902C3") || strings.Contains(errs, tc.p.CAN+"\n") && tc.p.CAN != "" {
				t.Error("an access key reached standard error")
			}
		})
	}
}

// A wrong CAN is a refusal: exit 1, "access denied", no report.
func TestReadPACEWrongCAN(t *testing.T) {
	_, id := authChip(t, 20, chipspec.Profile{PACE: lds.PACEECDHGMAES128, ParameterID: 13, CAN: "123456"})
	name := serveIdentity(t, id, chipsim.Faults{})
	code, out, errs := readCLI(t, "", "--reader", name, "--allow-virtual", "--wait", "10s", "--json", "--can", "654321")
	if code != exitFail || out != "" || !strings.Contains(errs, "access denied") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// A chip that offers PACE the reader cannot run (a PACEInfo with a
// reserved parameter id) but answers BAC: fail closed by default, BAC
// with a quirk under --allow-bac-fallback.
func TestReadPACEFallback(t *testing.T) {
	doc, id := authChip(t, 21, chipspec.Profile{ParameterID: 13})
	ca, err := lds.EncodeSecurityInfos(&lds.SecurityInfos{PACE: []lds.PACEInfo{
		{Protocol: lds.PACEECDHGMAES128, Version: 2, ParameterID: lds.OptionalInt{Value: 7, Present: true}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	id.Files[lds.FileCardAccess.String()] = ca
	if id, err = chipsim.NewIdentity(id.Files, id.Config); err != nil {
		t.Fatal(err)
	}
	for _, fallback := range []bool{false, true} {
		name := serveIdentity(t, id, chipsim.Faults{})
		args := []string{"--reader", name, "--allow-virtual", "--wait", "10s", "--json", "--quiet", "--mrz", "-"}
		if fallback {
			args = append(args, "--allow-bac-fallback")
		}
		code, out, errs := readCLI(t, doc.MRZ, args...)
		if !fallback {
			if code != exitFail || out != "" || !strings.Contains(errs, "--allow-bac-fallback") {
				t.Errorf("fail closed: exit %d, stdout %q, stderr %q", code, out, errs)
			}
			continue
		}
		if code != exitOK {
			t.Fatalf("with --allow-bac-fallback: exit %d: %s", code, errs)
		}
		r := decodeReport(t, out)
		if r.AccessControl != "BAC" || !slices.Contains(r.Quirks, "pace_offered_bac_used") {
			t.Errorf("access %s, quirks %v", r.AccessControl, r.Quirks)
		}
	}
}

// `chip specimen` writes what `read` needs: the identity loads, and the
// terminal folder loads with reader's rules (through read --terminal in
// the testscript pace_cam.txtar).
func TestChipSpecimenFlags(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args   []string
		code   int
		stderr string
		check  func(t *testing.T, id *chipsim.Identity)
	}{
		{[]string{"--out", dir + "/default"}, exitOK, "PACE-CAM brainpoolP256r1 AES-128, CAN 123456, chip authentication, active authentication RSA-1024",
			func(t *testing.T, id *chipsim.Identity) {
				if id.Config.CAN != "123456" || id.Config.ChipAuthentication == nil || id.Config.ActiveAuthentication == nil ||
					id.Config.ExtendedLength || id.Files["CardAccess"] == nil || id.Files["DG15"] == nil || id.Files["DG3"] != nil {
					t.Errorf("config %+v", id.Config)
				}
			}},
		{[]string{"--out", dir + "/bac", "--pace", "none"}, exitOK, "(synthetic data): BAC\n",
			func(t *testing.T, id *chipsim.Identity) {
				if id.Config.CAN != "" || id.Config.ChipAuthentication != nil || id.Config.ActiveAuthentication != nil ||
					id.Files["CardAccess"] != nil || id.Files["DG14"] != nil || id.Files["DG15"] != nil {
					t.Errorf("BAC-only chip: config %+v", id.Config)
				}
			}},
		{[]string{"--out", dir + "/bac2", "--bac-only", "--ca", "--aa", "p256"}, exitOK, "BAC, chip authentication, active authentication ECDSA P-256", nil},
		{[]string{"--out", dir + "/dh", "--pace", "gm", "--param-id", "2", "--can", "000001", "--aa", "rsa2048", "--eac", "--terminal-out", dir + "/term"}, exitOK,
			"PACE-GM DH-2048/256 AES-128, CAN 000001, chip authentication, active authentication RSA-2048, EAC (DG3), extended length",
			func(t *testing.T, id *chipsim.Identity) {
				if id.Config.TerminalAuthentication == nil || id.Files["DG3"] == nil || id.Files["CVCA"] == nil {
					t.Errorf("EAC chip: config %+v", id.Config)
				}
				for _, f := range []string{"UTCVCA00001.cvcert", "UTDVCA00001.cvcert", "UTIS00000001.cvcert", "is.pkcs8"} {
					st, err := os.Stat(filepath.Join(dir, "term", f))
					if err != nil || st.Mode().Perm() != 0o600 {
						t.Errorf("terminal file %s: %v", f, err)
					}
				}
			}},
		{[]string{"--out", dir + "/x", "--pace", "cam", "--cipher", "3des"}, exitUsage, "AES only", nil},
		{[]string{"--out", dir + "/x", "--pace", "cam", "--param-id", "0"}, exitUsage, "elliptic curves", nil},
		{[]string{"--out", dir + "/x", "--pace", "cam", "--ca=false"}, exitUsage, "needs the chip authentication key", nil},
		{[]string{"--out", dir + "/x", "--pace", "gm", "--param-id", "5"}, exitUsage, "not a standardized domain", nil},
		{[]string{"--out", dir + "/x", "--pace", "pm"}, exitUsage, `--pace "pm"`, nil},
		{[]string{"--out", dir + "/x", "--cipher", "aes512"}, exitUsage, "--cipher", nil},
		{[]string{"--out", dir + "/x", "--aa", "dsa"}, exitUsage, "--aa", nil},
		{[]string{"--out", dir + "/x", "--can", "12345"}, exitUsage, "six digits", nil},
		{[]string{"--out", dir + "/x", "--terminal-out", dir + "/t"}, exitUsage, "--terminal-out needs --eac", nil},
		{[]string{"--out", dir + "/x", "--eac", "--pace", "none"}, exitUsage, "--eac needs chip authentication", nil},
		{[]string{"--out", dir + "/x", "--bac-only", "--pace", "gm"}, exitUsage, "contradict", nil},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(strings.Join(tt.args[2:], " "), dir, "DIR"), func(t *testing.T) {
			var out, errb strings.Builder
			code := run(context.Background(), append([]string{"chip", "specimen"}, tt.args...), strings.NewReader(""), &out, &errb, func(string) string { return "" })
			if code != tt.code || !strings.Contains(errb.String(), tt.stderr) {
				t.Fatalf("exit %d, stderr %q", code, errb.String())
			}
			if tt.check == nil || code != exitOK {
				return
			}
			id, err := chipsim.LoadIdentity(tt.args[1])
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, id)
		})
	}
}

package chipspec_test

import (
	"context"
	"crypto"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"borderid/hardware/chipsim"
	"borderid/hardware/chipsim/chipspec"
	"borderid/internal/ec"
	"borderid/reader"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
	"borderid/reader/mrz"
)

type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func newRand(seed byte) seeded {
	var s [32]byte
	s[0] = seed
	return seeded{rand.NewChaCha8(s)}
}

// A specimen generated for a day long past: the chip's date follows the
// CVCA, so Terminal Authentication still passes.
var issued = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Every profile, read in-process by package reader (which shares no code
// with chipsim's card side): the chip chipspec builds must pass every
// protocol it was given.
func TestProfilesRead(t *testing.T) {
	bp := ec.BrainpoolP256r1()
	tests := []struct {
		name    string
		p       chipspec.Profile
		can     bool
		access  string
		ext     bool
		wantAA  bool
		wantCA  bool
		wantCAM bool
		wantTA  bool
	}{
		{name: "BAC", p: chipspec.Profile{ParameterID: 13}, access: "BAC"},
		{name: "BAC with CA and RSA AA", p: chipspec.Profile{ParameterID: 12, CA: true, AA: &specimen.AAOptions{RSABits: 1024}},
			access: "BAC", wantAA: true, wantCA: true},
		{name: "GM ECDH no CA", p: chipspec.Profile{PACE: lds.PACEECDHGMAES128, ParameterID: 13}, access: "PACE-GM"},
		{name: "GM DH-2048", p: chipspec.Profile{PACE: lds.PACEDHGMAES128, ParameterID: 2, CA: true}, access: "PACE-GM", ext: true, wantCA: true},
		{name: "IM P-256 CAN", p: chipspec.Profile{PACE: lds.PACEECDHIMAES256, ParameterID: 12, CA: true, CAN: "123456",
			AA: &specimen.AAOptions{Curve: ec.P256()}}, can: true, access: "PACE-IM", wantAA: true, wantCA: true},
		{name: "IM DH-1024 3DES", p: chipspec.Profile{PACE: lds.PACEDHIM3DES, ParameterID: 0, CA: true}, access: "PACE-IM", wantCA: true},
		{name: "CAM EAC RSA-2048 PACE only", p: chipspec.Profile{PACE: lds.PACEECDHCAMAES128, ParameterID: 13, CA: true, PACEOnly: true,
			AA: &specimen.AAOptions{RSABits: 2048, Trailer: "34CC"}, EAC: &specimen.EACOptions{}, CAN: "123456"},
			can: true, access: "PACE-CAM", ext: true, wantAA: true, wantCA: true, wantCAM: true, wantTA: true},
		{name: "CAM brainpool AA", p: chipspec.Profile{PACE: lds.PACEECDHCAMAES192, ParameterID: 13, CA: true,
			AA: &specimen.AAOptions{Curve: bp}, EAC: &specimen.EACOptions{}},
			access: "PACE-CAM", wantAA: true, wantCA: true, wantCAM: true, wantTA: true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.ext {
				t.Skip("DH-2048 and RSA-2048 in -short")
			}
			doc, id, err := chipspec.Generate(specimen.Options{Rand: newRand(byte(i)), Now: issued}, tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if id.Config.ExtendedLength != tc.ext {
				t.Errorf("extended length %v, want %v", id.Config.ExtendedLength, tc.ext)
			}
			chip, err := chipsim.New(id, chipsim.WithRand(newRand(100)))
			if err != nil {
				t.Fatal(err)
			}
			m, err := mrz.Parse(doc.MRZ)
			if err != nil {
				t.Fatal(err)
			}
			opts := reader.ReadOptions{Rand: newRand(101), ATR: chip.ATR()}
			if tc.can {
				opts.CAN = tc.p.CAN
			} else {
				opts.BACKeyInfo = m.KeySeedInfo()
			}
			if tc.wantTA {
				dir := t.TempDir()
				for name, b := range doc.EAC.TerminalFiles {
					if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
						t.Fatal(err)
					}
				}
				if opts.Terminal, err = reader.LoadTerminal(dir); err != nil {
					t.Fatal(err)
				}
			}
			res, err := reader.Read(context.Background(), chip, opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.AccessControl != tc.access {
				t.Errorf("access control %s, want %s", res.AccessControl, tc.access)
			}
			if res.PACE != nil && (res.PACE.Protocol != tc.p.PACE || res.PACE.ParameterID != tc.p.ParameterID) {
				t.Errorf("PACE %v id %d", res.PACE.Protocol, res.PACE.ParameterID)
			}
			if (res.AA != nil) != tc.wantAA || (res.CA != nil) != tc.wantCA || (res.TA != nil) != tc.wantTA {
				t.Errorf("AA %v (%v), CA %v (%v), TA %v (%v)", res.AA != nil, res.AAErr, res.CA != nil, res.CAErr, res.TA != nil, res.TAErr)
			}
			if tc.wantCAM && res.PACE.CAM != reader.CAMPassed {
				t.Errorf("CAM %v: %s %s", res.PACE.CAM, res.PACE.CAMReason, res.PACE.CAMDetail)
			}
			for name, want := range doc.Files {
				f, _ := lds.FileByName(name)
				if f == lds.FileCVCA || f == lds.FileCardSecurity {
					continue // read only for TA and CAM
				}
				if got, ok := res.Files[f]; !ok || string(got) != string(want) {
					t.Errorf("%s not read as written", name)
				}
			}
			if tc.wantTA && len(res.NotAuthorised) != 0 {
				t.Errorf("not authorised %v after TA", res.NotAuthorised)
			}
		})
	}
}

func TestProfileRefusals(t *testing.T) {
	tests := []struct {
		name string
		p    chipspec.Profile
	}{
		{"CAM without CA", chipspec.Profile{PACE: lds.PACEECDHCAMAES128, ParameterID: 13}},
		{"EAC without CA", chipspec.Profile{ParameterID: 13, EAC: &specimen.EACOptions{}}},
		{"DH protocol on a curve", chipspec.Profile{PACE: lds.PACEDHGMAES128, ParameterID: 13, CA: true}},
		{"ECDH protocol on DH", chipspec.Profile{PACE: lds.PACEECDHIMAES128, ParameterID: 0}},
		{"PACE-only without PACE", chipspec.Profile{ParameterID: 13, PACEOnly: true}},
		{"no cipher", chipspec.Profile{PACE: lds.PACEECDHGM, ParameterID: 13}},
		{"unknown parameter id", chipspec.Profile{PACE: lds.PACEECDHGMAES128, ParameterID: 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.p.Options(specimen.Options{}); !errors.Is(err, chipspec.ErrProfile) {
				t.Errorf("err %v, want ErrProfile", err)
			}
		})
	}
}

// The identity chipspec builds survives Save and LoadIdentity: keys,
// trailer, hash, CAN, date and extended length all come back.
func TestIdentitySaveLoad(t *testing.T) {
	_, id, err := chipspec.Generate(specimen.Options{Rand: newRand(7), Now: issued}, chipspec.Profile{
		PACE: lds.PACEECDHCAMAES128, ParameterID: 13, CA: true, CAN: "654321",
		AA: &specimen.AAOptions{Curve: ec.P256(), Hash: crypto.SHA384}, EAC: &specimen.EACOptions{},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := id.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := chipsim.LoadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := back.Config
	if c.CAN != "654321" || c.ActiveAuthentication == nil || c.ActiveAuthentication.Hash != "SHA-384" ||
		c.ChipAuthentication == nil || c.TerminalAuthentication == nil || c.TerminalAuthentication.Date != "2026-01-02" {
		t.Errorf("config %+v", c)
	}
	for _, f := range []string{"aa.key", "ca.key", "cvca.cvcert", "CardAccess", "CardSecurity", "DG14", "DG15", "DG3", "CVCA"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range back.Files {
			if !yield(n) {
				return
			}
		}
	})
	if len(names) != len(id.Files) {
		t.Errorf("files %v", names)
	}
}

package reader_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"borderid/hardware/chipsim"
	"borderid/reader"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
	"borderid/reader/mrz"
)

// Black-box reads against the independent software chip: the reader and
// hardware/chipsim share nothing but internal/smcrypto, so a passing read
// means both followed the standard the same way.

type chipRand struct{ r *rand.ChaCha8 }

func (c chipRand) Read(p []byte) (int, error) { return c.r.Read(p) }

func newRand(seed byte) chipRand {
	var s [32]byte
	s[0] = seed
	return chipRand{rand.NewChaCha8(s)}
}

func specimenChip(t *testing.T, cfg chipsim.Config, f chipsim.Faults, drop ...string) (*chipsim.Chip, *specimen.Document, string) {
	t.Helper()
	doc, err := specimen.Generate(specimen.Options{FaceBytes: 20000, Rand: newRand(1)})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range drop {
		delete(doc.Files, name) // EF.COM still lists it
	}
	id, err := chipsim.NewIdentity(doc.Files, cfg)
	if err != nil {
		t.Fatal(err)
	}
	chip, err := chipsim.New(id, chipsim.WithRand(newRand(2)), chipsim.WithFaults(f))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mrz.Parse(doc.MRZ)
	if err != nil {
		t.Fatal(err)
	}
	return chip, doc, m.KeySeedInfo()
}

func TestReadChipsim(t *testing.T) {
	tests := []struct {
		name    string
		cfg     chipsim.Config
		faults  chipsim.Faults
		quirks  []string
		drop    []string
		missing []lds.File
		ext     bool
		atr     bool
	}{
		{name: "perfect chip"},
		{name: "extended length", cfg: chipsim.Config{ExtendedLength: true}, ext: true, atr: true},
		{name: "unprotected errors, no DO99", faults: chipsim.Faults{UnprotectedErrors: true, OmitDO99: true},
			drop: []string{"DG11"}, missing: []lds.File{lds.FileDG11}, quirks: []string{"sm_no_do99", "sm_unprotected_error"}},
		{name: "chip drops SM once", faults: chipsim.Faults{DropSMAt: 12}, quirks: []string{"sm_reestablished"}},
		{name: "short answers and 6700", faults: chipsim.Faults{CapLe: 100, WrongLengthAbove: 200}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			chip, doc, key := specimenChip(t, tc.cfg, tc.faults, tc.drop...)
			opts := reader.ReadOptions{BACKeyInfo: key, Rand: newRand(3)}
			if tc.atr {
				opts.ATR = chip.ATR()
			}
			res, err := reader.Read(context.Background(), chip, opts)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range doc.Files {
				f, ok := lds.FileByName(name)
				if !ok {
					t.Fatalf("specimen file %q", name)
				}
				if got := res.Files[f]; !bytes.Equal(got, want) {
					t.Errorf("%s: %d bytes, want %d", name, len(got), len(want))
				}
			}
			if !slices.Equal(res.NotFound, tc.missing) {
				t.Errorf("not found %v, want %v", res.NotFound, tc.missing)
			}
			if !slices.Equal(res.Quirks, tc.quirks) {
				t.Errorf("quirks %v, want %v", res.Quirks, tc.quirks)
			}
			if res.ExtendedLength != tc.ext {
				t.Errorf("extended %v, want %v", res.ExtendedLength, tc.ext)
			}
			t.Logf("%d APDUs, %d bytes, MaxLe %d", res.APDUs, res.Bytes, res.MaxLe)
		})
	}
}

func TestReadChipsimRefusals(t *testing.T) {
	tests := []struct {
		name   string
		faults chipsim.Faults
		key    string
		target error
	}{
		{name: "wrong MRZ", key: "X12345678<0000000000000000", target: reader.ErrBACFailed},
		{name: "bad MAC", faults: chipsim.Faults{CorruptMACAt: 8}, target: reader.ErrSecureMessaging},
		{name: "plain success downgrade", faults: chipsim.Faults{PlainSuccessAt: 8}, target: reader.ErrSecureMessaging},
		{name: "card torn", faults: chipsim.Faults{TearAfter: 10}, target: chipsim.ErrTorn},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			chip, _, key := specimenChip(t, chipsim.Config{}, tc.faults)
			if tc.key != "" {
				key = tc.key
			}
			res, err := reader.Read(context.Background(), chip, reader.ReadOptions{BACKeyInfo: key, Rand: newRand(3)})
			if !errors.Is(err, tc.target) {
				t.Fatalf("err %v, want %v", err, tc.target)
			}
			if _, ok := res.Files[lds.FileDG2]; ok {
				t.Error("DG2 returned from a failed read")
			}
		})
	}
}

// insRecorder passes APDUs to a chip and notes each command's CLA and INS.
type insRecorder struct {
	chip *chipsim.Chip
	cmds [][2]byte
}

func (r *insRecorder) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if len(apdu) >= 2 {
		r.cmds = append(r.cmds, [2]byte{apdu[0], apdu[1]})
	}
	return r.chip.Transmit(ctx, apdu)
}

// count returns how many commands had this INS, and how many of those
// followed a command sent under secure messaging (CLA 0C).
func (r *insRecorder) count(ins byte) (all, afterSM int) {
	for i, c := range r.cmds {
		if c[1] != ins {
			continue
		}
		all++
		if i > 0 && r.cmds[i-1][0] == 0x0C {
			afterSM++
		}
	}
	return all, afterSM
}

// A chip that refuses SELECT with P2=0C and, asked for the FCP, answers
// 61xx so that the FCP comes by GET RESPONSE (ISO/IEC 7816-4 §11.7.1):
// the reader must switch to P2=00 once, for good, and fetch the FCP
// plainly, also when the SELECT and its answer are protected.
func TestReadChipsimSelectFCI(t *testing.T) {
	const (
		insSelect      = 0xA4
		insGetResponse = 0xC0
	)
	fci := chipsim.Faults{SelectNeedsFCI: true, SelectGetResponse: true}
	withDrop := fci
	// APDU 20 is a READ BINARY inside DG2 (1-2 master file probes, 3-5
	// SELECT application refused, again with P2=00, GET RESPONSE; 6-7 BAC;
	// 8 EF.COM, 9 DG1, DG2 from 10), so the read resumes with a protected
	// SELECT EF DG2 whose answer comes through GET RESPONSE.
	withDrop.DropSMAt = 20
	tests := []struct {
		name string
		f    chipsim.Faults
		// SELECTs sent, GET RESPONSEs sent, GET RESPONSEs after a
		// protected SELECT.
		selects, getResponses, protectedGR int
		quirks                             []string
	}{
		// Plain only: SELECT application with P2=0C refused, then with
		// P2=00; every file is read by short file identifier.
		{name: "before BAC", f: fci, selects: 2, getResponses: 1, protectedGR: 0,
			quirks: []string{"select_p2_00"}},
		// The chip drops SM inside DG2: SELECT application (P2=00 at once,
		// the reader remembers), BAC, then SELECT EF DG2 under SM.
		{name: "under BAC secure messaging", f: withDrop, selects: 4, getResponses: 3, protectedGR: 1,
			quirks: []string{"select_p2_00", "sm_reestablished"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			chip, doc, key := specimenChip(t, chipsim.Config{}, tc.f)
			rec := &insRecorder{chip: chip}
			res, err := reader.Read(context.Background(), rec, reader.ReadOptions{BACKeyInfo: key, Rand: newRand(3)})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Files) != len(doc.Files) {
				t.Errorf("%d files read, identity has %d", len(res.Files), len(doc.Files))
			}
			for name, want := range doc.Files {
				f, ok := lds.FileByName(name)
				if !ok {
					t.Fatalf("specimen file %q", name)
				}
				if got := res.Files[f]; !bytes.Equal(got, want) {
					t.Errorf("%s: %d bytes, want %d", name, len(got), len(want))
				}
			}
			if !slices.Equal(res.Quirks, tc.quirks) {
				t.Errorf("quirks %v, want %v", res.Quirks, tc.quirks)
			}
			sel, _ := rec.count(insSelect)
			gr, grSM := rec.count(insGetResponse)
			if sel != tc.selects || gr != tc.getResponses || grSM != tc.protectedGR {
				t.Errorf("%d SELECT, %d GET RESPONSE (%d after a protected command), want %d, %d (%d)",
					sel, gr, grSM, tc.selects, tc.getResponses, tc.protectedGR)
			}
			if res.APDUs != len(rec.cmds) {
				t.Errorf("Result counts %d APDUs, the wire saw %d", res.APDUs, len(rec.cmds))
			}
		})
	}
}

package reader_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
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
		name       string
		cfg        chipsim.Config
		faults     chipsim.Faults
		quirks     []string
		drop       []string
		missing    []lds.File
		unverified []lds.File
		ext        bool
		atr        bool
	}{
		{name: "perfect chip"},
		{name: "extended length", cfg: chipsim.Config{ExtendedLength: true}, ext: true, atr: true},
		// A protected 6A82 proves the file absent; an unprotected one
		// does not.
		{name: "protected file not found", drop: []string{"DG11"}, missing: []lds.File{lds.FileDG11}},
		{name: "unprotected errors, no DO99", faults: chipsim.Faults{UnprotectedErrors: true, OmitDO99: true},
			drop: []string{"DG11"}, unverified: []lds.File{lds.FileDG11}, quirks: []string{"sm_no_do99", "sm_unprotected_error"}},
		// 6282 with the last bytes of every file, MAC-protected (DO99
		// carries it): the data counts.
		{name: "end-of-file warning", cfg: chipsim.Config{EOFWarning: true}},
		{name: "end-of-file warning, extended", cfg: chipsim.Config{EOFWarning: true, ExtendedLength: true}, ext: true, atr: true},
		// 6C<n> to every READ BINARY asking for more than 100 bytes,
		// protected or not: the reader steps down to 100.
		{name: "6Cxx above 100", faults: chipsim.Faults{ExactLengthAbove: 100}},
		{name: "unprotected 6Cxx above 100", faults: chipsim.Faults{ExactLengthAbove: 100, UnprotectedErrors: true},
			quirks: []string{"sm_unprotected_error"}},
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
			if !slices.Equal(res.NotFound, tc.missing) || !slices.Equal(res.Unverified, tc.unverified) {
				t.Errorf("not found %v, unverified %v, want %v, %v", res.NotFound, res.Unverified, tc.missing, tc.unverified)
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
		cause  error // also matched when set
	}{
		{name: "wrong MRZ", key: "X12345678<0000000000000000", target: reader.ErrBACFailed},
		{name: "bad MAC", faults: chipsim.Faults{CorruptMACAt: 8}, target: reader.ErrSecureMessaging, cause: reader.ErrBadMAC},
		{name: "plain success downgrade", faults: chipsim.Faults{PlainSuccessAt: 8}, target: reader.ErrSecureMessaging, cause: reader.ErrDowngrade},
		{name: "card torn", faults: chipsim.Faults{TearAfter: 10}, target: chipsim.ErrTorn},
		// A chip without DO99 whose DG11 is absent: its protected 6A82
		// has no MAC-covered status, so it cannot be taken.
		{name: "no DO99 on an error", faults: chipsim.Faults{OmitDO99: true}, target: reader.ErrSecureMessaging, cause: reader.ErrSWMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var drop []string
			if tc.cause == reader.ErrSWMismatch {
				drop = []string{"DG11"}
			}
			chip, _, key := specimenChip(t, chipsim.Config{}, tc.faults, drop...)
			if tc.key != "" {
				key = tc.key
			}
			res, err := reader.Read(context.Background(), chip, reader.ReadOptions{BACKeyInfo: key, Rand: newRand(3)})
			if !errors.Is(err, tc.target) || (tc.cause != nil && !errors.Is(err, tc.cause)) {
				t.Fatalf("err %v, want %v / %v", err, tc.target, tc.cause)
			}
			if tc.cause == reader.ErrSWMismatch {
				// DG2 came before, MAC-protected with 9000; DG11 must not
				// be recorded as absent.
				if len(res.NotFound) != 0 || len(res.Unverified) != 0 {
					t.Errorf("not found %v, unverified %v", res.NotFound, res.Unverified)
				}
				return
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

// mitm passes APDUs between the reader and a chip and lets a test rewrite
// the chip's answers: an attacker on the contactless link.
type mitm struct {
	chip *chipsim.Chip
	edit func(cmd, resp []byte) []byte
}

func (m *mitm) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	resp, err := m.chip.Transmit(ctx, apdu)
	if err != nil || m.edit == nil {
		return resp, err
	}
	return m.edit(apdu, resp), nil
}

// firstDG2Read matches the protected READ BINARY of DG2 by short file
// identifier (CLA 0C, INS B0, P1 = 80 | SFI 02), the file's first read.
func firstDG2Read(cmd []byte) bool {
	return len(cmd) > 4 && cmd[0] == 0x0C && cmd[1] == 0xB0 && cmd[2] == 0x82
}

// Attacks on status words that secure messaging does not authenticate.
func TestReadChipsimStatusAttacks(t *testing.T) {
	t.Run("trailer rewritten without DO99", func(t *testing.T) {
		// The chip omits DO99, so its MAC does not cover the status word:
		// an attacker turns DG2's 9000 into 6A82 to hide the face.
		chip, _, key := specimenChip(t, chipsim.Config{}, chipsim.Faults{OmitDO99: true})
		m := &mitm{chip: chip, edit: func(cmd, resp []byte) []byte {
			if firstDG2Read(cmd) {
				resp[len(resp)-2], resp[len(resp)-1] = 0x6A, 0x82
			}
			return resp
		}}
		res, err := reader.Read(context.Background(), m, reader.ReadOptions{BACKeyInfo: key, Rand: newRand(3)})
		if !errors.Is(err, reader.ErrSecureMessaging) || !errors.Is(err, reader.ErrSWMismatch) {
			t.Fatalf("err %v, want ErrSWMismatch", err)
		}
		if slices.Contains(res.NotFound, lds.FileDG2) {
			t.Error("DG2 recorded as not found")
		}
	})
	t.Run("unprotected 6A82 injected", func(t *testing.T) {
		// The attacker answers DG2's first read with a plain 6A82 in
		// place of the chip's protected answer. The chip counted that
		// answer, the reader did not: the next command fails the chip's
		// MAC check and it drops secure messaging (6988). Redoing BAC
		// would let the read carry on without DG2.
		chip, _, key := specimenChip(t, chipsim.Config{}, chipsim.Faults{})
		m := &mitm{chip: chip, edit: func(cmd, resp []byte) []byte {
			if firstDG2Read(cmd) {
				return []byte{0x6A, 0x82}
			}
			return resp
		}}
		res, err := reader.Read(context.Background(), m, reader.ReadOptions{BACKeyInfo: key, Rand: newRand(3)})
		if !errors.Is(err, reader.ErrSecureMessaging) || !errors.Is(err, reader.ErrUntrustedStatus) || errors.Is(err, reader.ErrSMDropped) {
			t.Fatalf("err %v, want ErrSecureMessaging / ErrUntrustedStatus", err)
		}
		if !strings.Contains(err.Error(), "cannot be trusted") {
			t.Errorf("message %q", err)
		}
		if slices.Contains(res.Quirks, "sm_reestablished") || slices.Contains(res.NotFound, lds.FileDG2) {
			t.Errorf("quirks %v, not found %v", res.Quirks, res.NotFound)
		}
		if !slices.Equal(res.Unverified, []lds.File{lds.FileDG2}) {
			t.Errorf("unverified %v, want [DG2]", res.Unverified)
		}
	})
}

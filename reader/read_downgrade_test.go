package reader_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"borderid/hardware/chipsim"
	"borderid/hardware/chipsim/chipspec"
	"borderid/reader"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
	"borderid/reader/mrz"
)

// A PACE chip whose EF.CardAccess is hidden or unreadable on the way (it
// has no integrity) is opened with BAC; DG14, which EF.SOD covers, still
// lists PACE. The read fails closed unless BAC fallback was allowed.
func TestReadPACEDowngradeDetected(t *testing.T) {
	doc, id, err := chipspec.Generate(specimen.Options{FaceBytes: 2000, Rand: newRand(7)},
		chipspec.Profile{PACE: lds.PACEECDHGMAES128, ParameterID: 13, CA: true})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mrz.Parse(doc.MRZ)
	if err != nil {
		t.Fatal(err)
	}
	ca := id.Files["CardAccess"]
	tests := []struct {
		name string
		hide func(files map[string][]byte)
	}{
		{"EF.CardAccess absent (6A82)", func(f map[string][]byte) { delete(f, "CardAccess") }},
		{"EF.CardAccess altered to list nothing", func(f map[string][]byte) { f["CardAccess"] = []byte{0x31, 0x00} }},
		{"EF.CardAccess truncated", func(f map[string][]byte) { f["CardAccess"] = ca[:len(ca)/2] }},
	}
	for _, tt := range tests {
		for _, allow := range []bool{false, true} {
			name := tt.name
			if allow {
				name += ", fallback allowed"
			}
			t.Run(name, func(t *testing.T) {
				files := map[string][]byte{}
				for k, v := range id.Files {
					files[k] = v
				}
				tt.hide(files)
				hid, err := chipsim.NewIdentity(files, id.Config)
				if err != nil {
					t.Fatal(err)
				}
				chip, err := chipsim.New(hid, chipsim.WithRand(newRand(8)))
				if err != nil {
					t.Fatal(err)
				}
				res, err := reader.Read(context.Background(), chip, reader.ReadOptions{
					BACKeyInfo: m.KeySeedInfo(), Rand: newRand(9), AllowBACFallback: allow,
				})
				if !allow {
					if !errors.Is(err, reader.ErrPACEDowngrade) {
						t.Fatalf("err %v, want ErrPACEDowngrade", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if res.AccessControl != "BAC" || !slices.Contains(res.Quirks, string(reader.QuirkPACEOfferedBACUsed)) {
					t.Errorf("access %s, quirks %v", res.AccessControl, res.Quirks)
				}
			})
		}
	}
}

// dropAfterTA answers the first READ BINARY after Terminal Authentication's
// EXTERNAL AUTHENTICATE with an unprotected 6987, as a chip that drops
// secure messaging would.
type dropAfterTA struct {
	*chipsim.Chip
	taDone, dropped bool
}

func (d *dropAfterTA) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if len(apdu) >= 2 && apdu[0]&0x0C == 0x0C {
		switch {
		case apdu[1] == 0x82:
			d.taDone = true
		case d.taDone && !d.dropped && (apdu[1] == 0xB0 || apdu[1] == 0xB1):
			d.dropped = true
			return []byte{0x69, 0x87}, nil
		}
	}
	return d.Chip.Transmit(ctx, apdu)
}

// After Terminal Authentication access control is never redone: a new
// session would hold neither chip nor terminal authentication. A dropped
// session while reading DG3 records the failure instead of a stale pass.
func TestReadNoReestablishAfterTA(t *testing.T) {
	doc, id, err := chipspec.Generate(specimen.Options{FaceBytes: 2000, Rand: newRand(11)},
		chipspec.Profile{PACE: lds.PACEECDHGMAES128, ParameterID: 13, CA: true, EAC: &specimen.EACOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, b := range doc.EAC.TerminalFiles {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	term, err := reader.LoadTerminal(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := mrz.Parse(doc.MRZ)
	chip, err := chipsim.New(id, chipsim.WithRand(newRand(12)))
	if err != nil {
		t.Fatal(err)
	}
	card := &dropAfterTA{Chip: chip}
	res, err := reader.Read(context.Background(), card, reader.ReadOptions{
		BACKeyInfo: m.KeySeedInfo(), Rand: newRand(13), Terminal: term,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !card.dropped {
		t.Fatal("the test never dropped the session")
	}
	if res.TA != nil || res.TAErr == nil || !errors.Is(res.TAErr, reader.ErrSMDropped) {
		t.Errorf("TA %v, TAErr %v: want no result and the drop recorded", res.TA, res.TAErr)
	}
	if !slices.Contains(res.NotAuthorised, lds.FileDG3) || res.Files[lds.FileDG3] != nil {
		t.Errorf("DG3 read %d bytes, not authorised %v", len(res.Files[lds.FileDG3]), res.NotAuthorised)
	}
	if slices.Contains(res.Quirks, string(reader.QuirkSMReestablished)) {
		t.Error("access control was redone after terminal authentication")
	}
}

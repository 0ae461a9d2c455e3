package reader_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"borderid/hardware/chipsim"
	"borderid/reader"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
	"borderid/reader/mrz"
)

// BenchmarkReadDocument reads DG1 and DG2 of the specimen document (about
// 20 KB of face image) from an in-process hardware/chipsim chip under BAC,
// so it measures the reader and the chip together, with no transport
// latency. The metrics for BENCHMARKS.md:
//
//   - apdus/op: command APDUs the reader sent (GET RESPONSE included);
//   - wire-bytes/op: command and response bytes;
//   - min-apdus/op: the fewest APDUs that could fetch the same files from
//     the same chip (see minAPDUs), so apdus/op - min-apdus/op is what the
//     reader spends on probing, learning and caution.
//
// ReadOptions.Files = [DG1, DG2] reads just those two after BAC (EF.COM is
// read only when Files is nil). Read always begins, as a border station
// does (9303-10 §3.11), with EF.CardAccess and EF.ATR/INFO from the master
// file in plain: the specimen has no EF.CardAccess (one READ BINARY
// answered 6A82), and EF.ATR/INFO exists only on the extended-length chip
// (chipsim generates it); on the short chips it costs another 6A82.
func BenchmarkReadDocument(b *testing.B) {
	doc, err := specimen.Generate(specimen.Options{
		Rand: newRand(1),
		Now:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	})
	if err != nil {
		b.Fatal(err)
	}
	m, err := mrz.Parse(doc.MRZ)
	if err != nil {
		b.Fatal(err)
	}
	key := m.KeySeedInfo()
	tests := []struct {
		name   string
		cfg    chipsim.Config
		faults chipsim.Faults
		// respMax is the most data bytes of one response: chipsim's
		// max_response, 256 short and 65536 with extended length.
		respMax int
	}{
		{name: "short-3DES", respMax: 256},
		{name: "extended", cfg: chipsim.Config{ExtendedLength: true}, respMax: 65536},
		{name: "short-cap100", faults: chipsim.Faults{CapLe: 100}, respMax: 256},
		// 6700 to any Ne above 100: the reader bisects to the real limit
		// once a file longer than the refused Ne confirms it.
		{name: "short-6700above100", faults: chipsim.Faults{WrongLengthAbove: 100}, respMax: 256},
	}
	for _, tc := range tests {
		b.Run(tc.name, func(b *testing.B) {
			id, err := chipsim.NewIdentity(doc.Files, tc.cfg)
			if err != nil {
				b.Fatal(err)
			}
			chip, err := chipsim.New(id, chipsim.WithRand(newRand(2)), chipsim.WithFaults(tc.faults))
			if err != nil {
				b.Fatal(err)
			}
			opts := reader.ReadOptions{
				BACKeyInfo: key,
				Rand:       newRand(3),
				ATR:        chip.ATR(),
				Files:      []lds.File{lds.FileDG1, lds.FileDG2},
			}
			ctx := context.Background()
			var res *reader.Result
			b.ReportAllocs()
			for b.Loop() {
				chip.Reset() // power-on: master file selected, no session
				if res, err = reader.Read(ctx, chip, opts); err != nil {
					b.Fatal(err)
				}
			}
			for _, name := range []string{"DG1", "DG2"} {
				f, _ := lds.FileByName(name)
				if !bytes.Equal(res.Files[f], doc.Files[name]) {
					b.Fatalf("%s: %d bytes, want %d", name, len(res.Files[f]), len(doc.Files[name]))
				}
			}
			b.ReportMetric(float64(res.APDUs), "apdus/op")
			b.ReportMetric(float64(res.Bytes), "wire-bytes/op")
			capLe := tc.faults.CapLe
			if w := tc.faults.WrongLengthAbove; w > 0 && (capLe == 0 || w < capLe) {
				capLe = w
			}
			b.ReportMetric(float64(minAPDUs(res.Files, tc.respMax, capLe)), "min-apdus/op")
		})
	}
}

// minAPDUs is the fewest APDUs that fetch files from a chip whose
// responses carry at most respMax data bytes and whose READ BINARY returns
// at most capLe file bytes (Faults.CapLe; 0: no cap):
//
//	3 (SELECT eMRTD application, GET CHALLENGE, EXTERNAL AUTHENTICATE)
//	+ Σ over the files: 0 SELECTs (chipsim reads by short file identifier,
//	  ISO/IEC 7816-4 §11.3.3, which selects the file with the first READ
//	  BINARY) + ceil(size / maxLe) READ BINARYs
//
// where maxLe is, for the master file's files read in plain, respMax; for
// the application's files read under 3DES secure messaging, the most plain
// bytes whose protected answer fits in respMax (tdesSMData: 231 of 256);
// either capped by capLe. The files are those Read returned, with their
// actual sizes. READ BINARYs of absent files (answered 6A82) are not
// counted: a reader that knew the chip would not send them.
func minAPDUs(files map[lds.File][]byte, respMax, capLe int) int {
	n := 3
	for f, b := range files {
		maxLe := respMax
		if !f.InMF() {
			maxLe = tdesSMData(respMax)
		}
		if capLe > 0 {
			maxLe = min(maxLe, capLe)
		}
		n += (len(b) + maxLe - 1) / maxLe
	}
	return n
}

// tdesSMData is the most plain bytes a 3DES-protected READ BINARY answer
// of at most limit data bytes can carry (9303-11 §9.8): DO87 (tag, BER
// length, padding-content indicator 01, the data padded with ISO/IEC
// 9797-1 method 2 to whole 8-byte blocks), DO99 (4 bytes) and DO8E (10).
func tdesSMData(limit int) int {
	best := 0
	for ct := 8; ; ct += 8 {
		v := 1 + ct
		lenLen := 1
		switch {
		case v > 0xFF:
			lenLen = 3
		case v > 0x7F:
			lenLen = 2
		}
		if 1+lenLen+v+4+10 > limit {
			return best
		}
		best = ct - 1 // padding always takes at least one byte
	}
}

package main

import (
	"context"
	"crypto/rand"
	"syscall"
	"testing"
	"time"

	"borderid/hardware/chipsim"
	"borderid/hardware/pcsc"
	"borderid/reader"
	"borderid/reader/lds"
	"borderid/reader/mrz"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReadVPCD reads DG1 and a ~20 KB DG2 from the software chip
// through the real pcscd and a virtual reader, as `borderid read` does,
// beside the baseline of one plain APDU round trip through the same path
// in the same run. The chip runs in this process, so cpu-ms/op counts
// both sides; BenchmarkReadDocument in package reader has the
// in-process numbers.
func BenchmarkReadVPCD(b *testing.B) {
	for _, tc := range []struct {
		name string
		cfg  chipsim.Config
	}{
		{"short", chipsim.Config{}},
		{"extended", chipsim.Config{ExtendedLength: true}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			name, doc, _ := serveChipConfig(b, tc.cfg, chipsim.Faults{})
			m, err := mrz.Parse(doc.MRZ)
			if err != nil {
				b.Fatal(err)
			}
			pc, err := pcsc.EstablishContext()
			if err != nil {
				b.Fatal(err)
			}
			defer pc.Release()
			ctx := context.Background()
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if _, err := pc.WaitForCard(wctx, []string{name}); err != nil {
				b.Fatal(err)
			}
			connect := func() *pcsc.Card {
				card, err := pc.Connect(name, pcsc.ShareExclusive, pcsc.ProtocolT0|pcsc.ProtocolT1)
				if err != nil {
					b.Fatal(err)
				}
				return card
			}

			b.Run("baseline-apdu", func(b *testing.B) {
				card := connect()
				defer card.Disconnect(pcsc.ResetCard)
				getChallenge := []byte{0x00, 0x84, 0x00, 0x00, 0x08}
				for b.Loop() {
					r, err := card.Transmit(ctx, getChallenge)
					if err != nil || len(r) != 10 {
						b.Fatalf("GET CHALLENGE: % X, %v", r, err)
					}
				}
			})
			b.Run("read-DG1-DG2", func(b *testing.B) {
				var apdus, bytes int
				cpu0 := cpuTime()
				for b.Loop() {
					card := connect()
					res, err := reader.Read(ctx, card, reader.ReadOptions{
						BACKeyInfo: m.KeySeedInfo(), Rand: rand.Reader, ATR: card.ATR(),
						Files: []lds.File{lds.FileDG1, lds.FileDG2},
					})
					card.Disconnect(pcsc.ResetCard)
					if err != nil {
						b.Fatal(err)
					}
					if len(res.Files[lds.FileDG2]) != len(doc.Files["DG2"]) {
						b.Fatalf("DG2 %d bytes", len(res.Files[lds.FileDG2]))
					}
					apdus, bytes = res.APDUs, res.Bytes
				}
				b.ReportMetric(float64(len(doc.Files["DG2"])), "dg2-bytes")
				b.ReportMetric(float64(apdus), "apdus/op")
				b.ReportMetric(float64(bytes), "wire-bytes/op")
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			})
		})
	}
}

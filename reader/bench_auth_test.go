package reader_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"testing"
	"time"

	"borderid/hardware/chipsim"
	"borderid/internal/ec"
	"borderid/reader"
	"borderid/reader/lds/specimen"
)

// BenchmarkTerminalAuthenticationSides: one Terminal Authentication in
// process (MSE:Set DST + PSO:Verify Certificate for DV and IS, GET
// CHALLENGE, MSE:Set AT, EXTERNAL AUTHENTICATE, all under CA's secure
// messaging), with the CPU split between the terminal (total less the time
// inside the chip's Transmit: certificate handling, one ECDSA signature,
// SM) and the chip (chip-ns/op: three ECDSA verifications, SM), beside raw
// ECDSA sign and verify on the same curve (brainpoolP256r1) in the same run.
func BenchmarkTerminalAuthenticationSides(b *testing.B) {
	ctx := context.Background()
	e := newEACChip(b, specimen.EACOptions{}, chipsim.Config{}, chipsim.Faults{})
	term, _ := terminalDir(b, e.doc.EAC)
	b.Run("TA", func(b *testing.B) {
		card := &timedCard{chip: e.chip}
		var chipTime time.Duration
		for b.Loop() {
			b.StopTimer()
			e.chip.Reset()
			s, id, comp := openTimed(b, e, card)
			card.in = 0
			b.StartTimer()
			if _, err := reader.TerminalAuthenticate(ctx, s, term, id, comp, nil); err != nil {
				b.Fatal(err)
			}
			chipTime += card.in
		}
		b.ReportMetric(float64(chipTime.Nanoseconds())/float64(b.N), "chip-ns/op")
		b.ReportMetric(float64((b.Elapsed()-chipTime).Nanoseconds())/float64(b.N), "terminal-ns/op")
	})
	digest := sha256.Sum256([]byte("ta"))
	key := e.doc.EAC.ISKey
	c := ec.BrainpoolP256r1()
	sig, err := key.SignPlain(rand.Reader, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	b.Run("raw-ecdsa-sign-brainpoolP256r1", func(b *testing.B) {
		for b.Loop() {
			if _, err := key.SignPlain(rand.Reader, digest[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw-ecdsa-verify-brainpoolP256r1", func(b *testing.B) {
		pub := key.PublicKey().Point()
		for b.Loop() {
			if !c.Verify(pub, digest[:], sig[:32], sig[32:]) {
				b.Fatal("verify")
			}
		}
	})
}

// openTimed is eacChip.open over a timedCard: BAC, then Chip
// Authentication, leaving the session ready for Terminal Authentication.
func openTimed(b *testing.B, e *eacChip, card *timedCard) (*reader.Session, []byte, []byte) {
	b.Helper()
	ctx := context.Background()
	ext, err := reader.ExtendedLengthFromATR(e.chip.ATR())
	if err != nil {
		b.Fatal(err)
	}
	s := reader.NewSession(card, reader.SessionOptions{Extended: ext})
	if err := s.SelectApplication(ctx); err != nil {
		b.Fatal(err)
	}
	sm, err := reader.BAC(ctx, s, e.keySeed, newRand(9))
	if err != nil {
		b.Fatal(err)
	}
	s.SetSecureMessaging(sm)
	ca, err := reader.ChipAuthenticate(ctx, s, e.dg14, reader.CAOptions{Rand: newRand(10)})
	if err != nil {
		b.Fatal(err)
	}
	comp, err := ca.CompEphemeralPublicKey()
	if err != nil {
		b.Fatal(err)
	}
	id, err := reader.TAIDFromBAC(e.keySeed)
	if err != nil {
		b.Fatal(err)
	}
	return s, id, comp
}

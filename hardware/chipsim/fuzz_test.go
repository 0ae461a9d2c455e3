package chipsim

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"borderid/internal/smcrypto"
)

// FuzzTransmit sends random APDUs to chips in every state and checks that
// the chip never panics and that every response ends in a status word (or,
// for the torn chip, that the error is ErrTorn). The input is a state
// selector then length-prefixed APDUs. In the "wrapped" states the fuzzer's
// bytes are a plain command that a terminal protects first, so the
// commands behind a valid MAC are explored too.
func FuzzTransmit(f *testing.F) {
	seed := func(state byte, apdus ...string) {
		b := []byte{state}
		for _, a := range apdus {
			x := hx(f, a)
			b = append(b, byte(len(x)))
			b = append(b, x...)
		}
		f.Add(b)
	}
	d3 := "0082000028" + "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2" + "5F1448EEA8AD90A7" + "28"
	for st := byte(0); st < 8; st++ {
		seed(st, selectApp, "0084000008", d3)
		seed(st, selectApp, "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800", "0CB000000D9701048E08ED6705417E96BA5500")
		seed(st, "00A4020002011C00", "00C000000C", "00B09C0004", "00B1000004540201200E")
		seed(st, selectApp, "00A4020C020102", "00B07FF804", "00B10002055403008000FF", "00B00000000000")
		seed(st, "00A4020C0201", "00B0", "0CB081000D9801048E080000000000000000", "0C")
		// PACE's commands (pace.go; the deep PACE states are FuzzPACE's).
		seed(st, "0022C1A40F800A04007F00070202040202830101", "10860000027C0000", "10A4040C07A0000002471001")
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		state, in := in[0]%8, in[1:]
		cfg := Config{}
		var faults Faults
		switch state {
		case 1, 6:
			cfg = Config{ExtendedLength: true, EOFWarning: true, KeepSessionOnPlain: true}
		case 4:
			faults = Faults{TearAfter: 6, CorruptMACAt: 2, UnprotectedErrors: true, DropSMAt: 5,
				PlainSuccessAt: 3, OmitDO99: true, SelectGetResponse: true, SelectNeedsFCI: true, CapLe: 17, WrongLengthAbove: 200, ExactLengthAbove: 150}
		case 5:
			cfg = Config{RequireBAC: new(false), MaxResponse: 33}
			faults = Faults{SelectGetResponse: true}
		}
		rnd := bytes.NewReader(bytes.Repeat(hx(t, vecRNDIC+vecKIC), 8))
		c := newChip(t, cfg, WithFaults(faults), WithRand(rnd))
		txb(t, c, hx(t, selectApp))
		var tm *term
		switch state {
		case 2, 4, 6:
			tm = setVecSession(t, c)
		case 3, 7:
			tm = &term{ci: smcrypto.AES256, kenc: bytes.Repeat([]byte{1}, 32), kmac: bytes.Repeat([]byte{2}, 32), ssc: make([]byte, 16)}
			if err := c.SetSecureMessaging(tm.ci, tm.kenc, tm.kmac, tm.ssc); err != nil {
				t.Fatal(err)
			}
		}
		wrapped := state >= 6
		for n := 0; len(in) > 0 && n < 64; n++ {
			l := int(in[0])
			in = in[1:]
			if l > len(in) {
				l = len(in)
			}
			apdu := in[:l]
			in = in[l:]
			if wrapped && len(apdu) >= 5 {
				le := int(apdu[4]) - 1 // -1: no Le
				apdu = tm.protect(t, apdu[:4], apdu[5:], le, false)
			}
			r, err := c.Transmit(context.Background(), apdu)
			if err != nil {
				if state == 4 && errors.Is(err, ErrTorn) {
					continue
				}
				t.Fatalf("Transmit(%X): %v", apdu, err)
			}
			if len(r) < 2 {
				t.Fatalf("Transmit(%X) = %X: no status word", apdu, r)
			}
			if wrapped && len(r) > 2 {
				tm.unprotect(r) // keep the SSC in step; errors are fine
			}
		}
	})
}

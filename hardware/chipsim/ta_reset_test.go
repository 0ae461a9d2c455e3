package chipsim

import (
	"crypto/rand"
	"testing"

	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
)

// A new access control (BAC or PACE) ends everything the previous
// channel established, Chip Authentication included: Terminal
// Authentication must not be accepted over the Comp(PK_IFD) of a Chip
// Authentication run in an earlier session (9303-11 §7.1: TA follows CA
// in the same session; TR-03110-1 §3.2).
func TestTerminalAuthenticationNeedsCAOfThisSession(t *testing.T) {
	t.Run("BAC, CA, BAC again, TA", func(t *testing.T) {
		f := newTAFixture(t, specimen.EACOptions{})
		_, comp := f.accessAndCA(t)
		endSession(t, f.chip)
		tm, sw := bac(t, f.chip, vecMRZInfo, hx(t, "781723860C06C226"), hx(t, "0B795240CB7049B01C19B33E32804F0B"))
		if sw != 0x9000 {
			t.Fatalf("second BAC: %04X", sw)
		}
		if _, sw := tm.sm(t, f.chip, "00A4040C", hx(t, "A0000002471001"), -1); sw != 0x9000 {
			t.Fatalf("select: %04X", sw)
		}
		if sw := f.run(t, tm, f.good(comp)); sw != 0x6985 {
			t.Fatalf("TA over the previous session's CA: %04X, want 6985", sw)
		}
		if sw := readDG(t, tm, f.chip, 3); sw != 0x6982 {
			t.Fatalf("DG3: %04X", sw)
		}
	})
	t.Run("PACE, CA, PACE again, TA", func(t *testing.T) {
		f := newTAFixtureAccess(t, specimen.EACOptions{}, cardAccess(t, paceInfo(lds.PACEECDHGMAES128, 13)))
		c := f.chip
		// paceCA runs PACE, selects the application and runs CA with AES;
		// it returns the session, ID_IC and Comp(PK_IFD).
		paceCA := func(ca bool) (*term, []byte, []byte) {
			endSession(t, c)
			tx(t, c, "00A4000C023F00") // back to the master file
			pt := newPACETerm(t, c, lds.PACEECDHGMAES128, 13, vecMRZInfo, 1)
			tm := pt.run()
			idIC, err := pt.d.Comp(pt.pkIC)
			if err != nil {
				t.Fatal(err)
			}
			if _, sw := tm.sm(t, c, "00A4040C", hx(t, "A0000002471001"), -1); sw != 0x9000 {
				t.Fatalf("select: %04X", sw)
			}
			if !ca {
				return tm, idIC, nil
			}
			sk, _, err := f.d.GenerateKey(rand.Reader, nil)
			if err != nil {
				t.Fatal(err)
			}
			tm, sws := terminalCA(t, c, tm, f.d, f.caPK, lds.CAECDHAES128, nil, sk)
			if len(sws) != 2 || sws[0] != 0x9000 || sws[1] != 0x9000 {
				t.Fatalf("CA: %04X", sws)
			}
			pk, _ := f.d.PublicKey(sk, nil)
			comp, err := f.d.Comp(pk)
			if err != nil {
				t.Fatal(err)
			}
			return tm, idIC, comp
		}
		_, _, comp := paceCA(true)
		tm, idIC, _ := paceCA(false)
		r := f.good(comp)
		r.id = idIC
		if sw := f.run(t, tm, r); sw != 0x6985 {
			t.Fatalf("TA over the previous session's CA: %04X, want 6985", sw)
		}
		if sw := readDG(t, tm, c, 3); sw != 0x6982 {
			t.Fatalf("DG3: %04X", sw)
		}
		// The same chip accepts TA after a CA of its own session.
		tm, idIC, comp = paceCA(true)
		r = f.good(comp)
		r.id = idIC
		if sw := f.run(t, tm, r); sw != 0x9000 {
			t.Fatalf("TA after this session's CA: %04X", sw)
		}
	})
}

// endSession sends a plain command, which ends a secure messaging
// session (9303-11 §9.8): the terminal is ready for a new access control.
func endSession(t testing.TB, c *Chip) {
	t.Helper()
	tx(t, c, "00A4000C023F00")
}

package chipsim

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"borderid/hardware/vpcd"
)

func TestFaultTearAfter(t *testing.T) {
	c := newChip(t, Config{}, WithFaults(Faults{TearAfter: 2}))
	tx(t, c, selectApp)
	tx(t, c, "00A4020C02011E")
	for i := 0; i < 2; i++ {
		r, err := c.Transmit(context.Background(), hx(t, "0084000008"))
		if r != nil || !errors.Is(err, ErrTorn) || !errors.Is(err, vpcd.ErrCardRemoved) {
			t.Fatalf("APDU %d: %X %v", 3+i, r, err)
		}
	}
	// A power cycle brings the chip back, counting from 1 again.
	c.Reset()
	if got := tx(t, c, "0084000008"); len(got) != 20 {
		t.Fatalf("after reset: %s", got)
	}
	tx(t, c, selectApp)
	if _, err := c.Transmit(context.Background(), hx(t, selectApp)); !errors.Is(err, ErrTorn) {
		t.Fatalf("third APDU after reset: %v", err)
	}
	if s := c.Stats(); s.APDUs != 4 {
		t.Fatalf("torn APDUs counted: %+v", s)
	}
}

// run sends the same protected conversation to a chip and returns the
// raw responses: 1 SELECT application, 2 SELECT DG1, 3 READ 4 bytes,
// 4 SELECT DG7 (absent), 5 READ 8 bytes.
func faultRun(t *testing.T, f Faults) ([][]byte, *term, *Chip) {
	c := newChip(t, Config{}, WithFaults(f))
	out := [][]byte{txb(t, c, hx(t, selectApp))}
	tm := setVecSession(t, c)
	send := func(hdr string, data []byte, le int) {
		r := txb(t, c, tm.protect(t, hx(t, hdr), data, le, false))
		if len(r) > 2 { // a protected answer moves the SSC
			tm.inc()
		}
		out = append(out, r)
	}
	send("00A4020C", hx(t, "0101"), -1)
	send("00B00000", nil, 4)
	send("00A4020C", hx(t, "0107"), -1)
	send("00B00000", nil, 8)
	return out, tm, c
}

func TestFaultCorruptMAC(t *testing.T) {
	good, _, _ := faultRun(t, Faults{})
	bad, _, _ := faultRun(t, Faults{CorruptMACAt: 3})
	for i := range good {
		want := bytes.Clone(good[i])
		if i == 2 {
			want[len(want)-3] ^= 0x01
		}
		if !bytes.Equal(bad[i], want) {
			t.Errorf("APDU %d: %X, want %X", i+1, bad[i], want)
		}
	}
	// And the terminal sees a bad MAC there.
	tm := vecTerm(t)
	tm.inc()
	tm.inc()
	tm.inc()
	if _, _, err := tm.unprotect(bad[2]); !errors.Is(err, errMAC) {
		t.Fatalf("corrupted response verified: %v", err)
	}
}

func TestFaultUnprotectedErrors(t *testing.T) {
	resps, _, _ := faultRun(t, Faults{UnprotectedErrors: true})
	if up(resps[3]) != "6A82" {
		t.Fatalf("error answered %X", resps[3])
	}
	// The terminal that skips the response's SSC step reads on.
	tm := vecTerm(t)
	for _, r := range [][]byte{resps[1], resps[2]} {
		tm.inc()
		if _, _, err := tm.unprotect(r); err != nil {
			t.Fatal(err)
		}
	}
	tm.inc() // the failed SELECT's command only
	tm.inc()
	d, sw, err := tm.unprotect(resps[4])
	if err != nil || sw != 0x9000 || up(d) != "615B5F1F58503C55" {
		t.Fatalf("%X %04X %v", d, sw, err)
	}
	// Without the fault the error is protected.
	resps, _, _ = faultRun(t, Faults{})
	if len(resps[3]) != 16 || resps[3][0] != 0x99 {
		t.Fatalf("%X", resps[3])
	}
	// Warnings stay protected: 6282 from a read past the end.
	c := newChip(t, Config{EOFWarning: true}, WithFaults(Faults{UnprotectedErrors: true}))
	tx(t, c, selectApp)
	tm = setVecSession(t, c)
	tm.sm(t, c, "00A4020C", hx(t, "011E"), -1)
	if d, sw := tm.sm(t, c, "00B00010", nil, 10); sw != 0x6282 || up(d) != "30305C026175" {
		t.Fatalf("%X %04X", d, sw)
	}
}

func TestFaultDropSM(t *testing.T) {
	resps, tm, c := faultRun(t, Faults{DropSMAt: 3})
	if up(resps[2]) != "6987" || up(resps[3]) != "6882" || up(resps[4]) != "6882" {
		t.Fatalf("%X", resps)
	}
	_ = tm
	_ = c
}

func TestFaultPlainSuccess(t *testing.T) {
	resps, _, _ := faultRun(t, Faults{PlainSuccessAt: 3})
	if up(resps[2]) != "615B5F1F9000" {
		t.Fatalf("%X", resps[2])
	}
	// Also for a failing command: clear data (none) and 9000.
	resps, _, _ = faultRun(t, Faults{PlainSuccessAt: 4})
	if up(resps[3]) != "9000" {
		t.Fatalf("%X", resps[3])
	}
}

func TestFaultOmitDO99(t *testing.T) {
	resps, _, _ := faultRun(t, Faults{OmitDO99: true})
	tm := vecTerm(t)
	wantFirst := []byte{0x8E, 0x87, 0x8E, 0x87}
	for i, r := range resps[1:] {
		if r[0] != wantFirst[i] {
			t.Errorf("APDU %d starts %02X, want %02X: %X", i+2, r[0], wantFirst[i], r)
		}
		if bytes.Contains(r, []byte{0x99, 0x02, 0x90, 0x00}) {
			t.Errorf("APDU %d has DO99: %X", i+2, r)
		}
		tm.inc()
		if _, _, err := tm.unprotect(r); err != nil {
			t.Errorf("APDU %d: %v", i+2, err)
		}
	}
	// The error's status word: DO99 omitted too, MAC over the SSC alone.
	if len(resps[3]) != 12 || swOf(resps[3]) != 0x6A82 {
		t.Errorf("%X", resps[3])
	}
}

func TestFaultSelectGetResponse(t *testing.T) {
	f := WithFaults(Faults{SelectGetResponse: true})
	t.Run("plain", func(t *testing.T) {
		c := newChip(t, Config{}, f)
		fcp := "620A8001138201018302011C"
		steps := []struct{ cmd, want string }{
			{"00A4020002011C", "610C"},
			{"00C0000005", fcp[:10] + "6107"},
			{"00C0000010", fcp[10:] + "9000"},
			{"00C0000010", "6985"}, // nothing pending any more
			{"00A4020C02011C", "9000"},
			{"00A4020402011C00", "610C"},
			{"00B0000001", "319000"}, // another command drops the pending FCP
			{"00C000000C", "6985"},
			{"00A40000023F00", "6109"},
			{"00C0000108", "6A86"},
			{"00A40400", "6700"},
		}
		for _, s := range steps {
			if got := tx(t, c, s.cmd); got != s.want {
				t.Fatalf("%s: got %s want %s", s.cmd, got, s.want)
			}
		}
	})
	t.Run("without the fault", func(t *testing.T) {
		c := newChip(t, Config{})
		if got := tx(t, c, "00A4020002011C00"); got != "620A8001138201018302011C9000" {
			t.Fatal(got)
		}
		if got := tx(t, c, "00A4040007A000000247100100"); got != "620C8201388407A00000024710019000" {
			t.Fatal(got)
		}
	})
	t.Run("secure messaging", func(t *testing.T) {
		c := newChip(t, Config{}, f)
		tx(t, c, selectApp)
		tm := setVecSession(t, c)
		r := txb(t, c, tm.protect(t, hx(t, "00A40200"), hx(t, "011E"), 0, false))
		if len(r) != 2 || r[0] != 0x61 {
			t.Fatalf("%X", r)
		}
		full := txb(t, c, []byte{0x00, 0xC0, 0x00, 0x00, r[1]})
		d, sw, err := tm.unprotect(full)
		if err != nil || sw != 0x9000 || up(d) != "620A8001168201018302011E" {
			t.Fatalf("%X %04X %v", d, sw, err)
		}
		// GET RESPONSE did not count: the session goes on.
		if d, sw := tm.sm(t, c, "00B00000", nil, 4); sw != 0x9000 || up(d) != "60145F01" {
			t.Fatalf("%X %04X", d, sw)
		}
	})
}

func TestFaultSelectNeedsFCI(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		c := newChip(t, Config{}, WithFaults(Faults{SelectNeedsFCI: true}))
		steps := []struct{ cmd, want string }{
			{"00A4020002011C00", "620A8001138201018302011C9000"}, // EF.CardAccess in the master file
			{selectApp, "6A86"},
			{"00B0000001", "319000"}, // the refused SELECT changed nothing
			{"00A4020C02011C", "6A86"},
			{"00A4000C023F00", "6A86"},
			{"00A4040007A000000247100100", "620C8201388407A00000024710019000"},
			{"00A4020002011E00", "6982"}, // in the application now: COM needs BAC
			{"00A4020402010100", "6982"},
		}
		for _, s := range steps {
			if got := tx(t, c, s.cmd); got != s.want {
				t.Fatalf("%s: got %s want %s", s.cmd, got, s.want)
			}
		}
	})
	t.Run("with GET RESPONSE", func(t *testing.T) {
		c := newChip(t, Config{}, WithFaults(Faults{SelectNeedsFCI: true, SelectGetResponse: true}))
		steps := []struct{ cmd, want string }{
			{selectApp, "6A86"},
			{"00A4040007A000000247100100", "610E"},
			{"00C000000E", "620C8201388407A00000024710019000"},
		}
		for _, s := range steps {
			if got := tx(t, c, s.cmd); got != s.want {
				t.Fatalf("%s: got %s want %s", s.cmd, got, s.want)
			}
		}
	})
	t.Run("secure messaging", func(t *testing.T) {
		c := newChip(t, Config{}, WithFaults(Faults{SelectNeedsFCI: true}))
		tx(t, c, "00A4040007A000000247100100")
		tm := setVecSession(t, c)
		// The refusal is protected (DO99 6A86 and DO8E) and keeps the session.
		if d, sw := tm.sm(t, c, "00A4020C", hx(t, "011E"), -1); sw != 0x6A86 || len(d) != 0 {
			t.Fatalf("%X %04X", d, sw)
		}
		if d, sw := tm.sm(t, c, "00A40200", hx(t, "011E"), 0); sw != 0x9000 || up(d) != "620A8001168201018302011E" {
			t.Fatalf("%X %04X", d, sw)
		}
		if d, sw := tm.sm(t, c, "00B00000", nil, 4); sw != 0x9000 || up(d) != "60145F01" {
			t.Fatalf("%X %04X", d, sw)
		}
	})
}

func TestFaultCapLeAndWrongLength(t *testing.T) {
	dg2 := pattern(40000)
	tests := []struct {
		f    Faults
		cmd  string
		want string
	}{
		{Faults{CapLe: 50}, "00B0000064", up(dg2[:50]) + "9000"},
		{Faults{CapLe: 50}, "00B0000020", up(dg2[:32]) + "9000"},
		{Faults{CapLe: 50}, "00B1000004540200105A", "5330" + up(dg2[0x10:0x40]) + "9000"},
		{Faults{WrongLengthAbove: 100}, "00B0000065", "6700"},
		{Faults{WrongLengthAbove: 100}, "00B0000064", up(dg2[:100]) + "9000"},
		{Faults{WrongLengthAbove: 100}, "00B0000000", "6700"},
		{Faults{ExactLengthAbove: 100}, "00B0000065", "6C64"},
		{Faults{ExactLengthAbove: 100}, "00B0000064", up(dg2[:100]) + "9000"},
		{Faults{ExactLengthAbove: 256}, "00B0000000", up(dg2[:256]) + "9000"},
		// Fewer than 100 bytes left: served as usual.
		{Faults{ExactLengthAbove: 100}, "00B100000454029BF000", "5350" + up(dg2[40000-80:]) + "9000"},
	}
	for _, tt := range tests {
		c := newChip(t, Config{RequireBAC: new(false)}, WithFaults(tt.f))
		tx(t, c, selectApp)
		tx(t, c, "00A4020C020102")
		if got := tx(t, c, tt.cmd); got != tt.want {
			t.Errorf("%+v %s:\n got %s\nwant %s", tt.f, tt.cmd, got, tt.want)
		}
	}
	// Under secure messaging 6Cxx concerns the plain Ne and is protected,
	// or unprotected (the session survives) with UnprotectedErrors.
	for _, unprotected := range []bool{false, true} {
		c := newChip(t, Config{}, WithFaults(Faults{ExactLengthAbove: 100, UnprotectedErrors: unprotected}))
		tx(t, c, selectApp)
		tm := setVecSession(t, c)
		tm.sm(t, c, "00A4020C", hx(t, "0102"), -1)
		if unprotected {
			// protect counted the command; the chip did not count a response.
			if got := up(txb(t, c, tm.protect(t, hx(t, "00B00000"), nil, 0, false))); got != "6C64" {
				t.Fatalf("unprotected: %s", got)
			}
		} else if d, sw := tm.sm(t, c, "00B00000", nil, 0); sw != 0x6C64 || len(d) != 0 {
			t.Fatalf("%X %04X", d, sw)
		}
		if d, sw := tm.sm(t, c, "00B00000", nil, 100); sw != 0x9000 || !bytes.Equal(d, dg2[:100]) {
			t.Fatalf("unprotected %v: %d bytes %04X", unprotected, len(d), sw)
		}
	}
	// Under secure messaging CapLe bounds the plain data.
	c := newChip(t, Config{}, WithFaults(Faults{CapLe: 50}))
	tx(t, c, selectApp)
	tm := setVecSession(t, c)
	tm.sm(t, c, "00A4020C", hx(t, "0102"), -1)
	if d, sw := tm.sm(t, c, "00B00000", nil, 0); sw != 0x9000 || !bytes.Equal(d, dg2[:50]) {
		t.Fatalf("%d bytes %04X", len(d), sw)
	}
}

func TestFaultLatency(t *testing.T) {
	c := newChip(t, Config{}, WithFaults(Faults{Latency: 50 * time.Millisecond}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Transmit(ctx, hx(t, selectApp)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v", err)
	}
	if d := time.Since(start); d > 40*time.Millisecond {
		t.Fatalf("cancelled wait took %v", d)
	}
	start = time.Now()
	if got := tx(t, c, selectApp); got != "9000" {
		t.Fatal(got)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("APDU took %v", d)
	}
	// A done context gets no answer at all.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := newChip(t, Config{}).Transmit(ctx, hx(t, selectApp)); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

package pcsc_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"borderid/hardware/pcsc"
	"borderid/hardware/vpcd"
	"borderid/reader"
)

// The card side is a real *pcsc.Card; it must be usable as the reader's
// transport.
var _ reader.Transport = (*pcsc.Card)(nil)

// testATR is the ATR of testCard: T=1, historical bytes "borderid".
var testATR = []byte{0x3B, 0x88, 0x80, 0x01, 'b', 'o', 'r', 'd', 'e', 'r', 'i', 'd', 0x00}

func init() {
	// TCK: XOR of T0..last historical byte, so the ATR is well formed.
	var x byte
	for _, b := range testATR[1 : len(testATR)-1] {
		x ^= b
	}
	testATR[len(testATR)-1] = x
}

// Fixed APDUs testCard answers.
var (
	apduSelect = []byte{0x00, 0xA4, 0x04, 0x0C, 0x03, 0xA0, 0x00, 0x01}
	// GET DATA with extended Le = 5000 (0x1388).
	apduLong = []byte{0x80, 0xCA, 0x00, 0x00, 0x00, 0x13, 0x88}
	// INS EE: the card pulls itself out of the reader.
	apduRemove = []byte{0x80, 0xEE, 0x00, 0x00}
)

// longData is the 5000-byte answer to apduLong.
func longData() []byte {
	b := make([]byte, 5000)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// bigCommand is an extended case-3 command carrying n data bytes (INS DA);
// testCard answers SHA-256 of the data.
func bigCommand(n int) []byte {
	c := []byte{0x80, 0xDA, 0x00, 0x00, 0x00, byte(n >> 8), byte(n)}
	for i := range n {
		c = append(c, byte(i*13))
	}
	return c
}

// testCard answers a few fixed APDUs.
type testCard struct {
	mu     sync.Mutex
	resets int
}

func (c *testCard) ATR() []byte { return slices.Clone(testATR) }
func (c *testCard) Reset() {
	c.mu.Lock()
	c.resets++
	c.mu.Unlock()
}

func (c *testCard) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	switch {
	case bytes.Equal(apdu, apduSelect):
		return []byte{0x90, 0x00}, nil
	case bytes.Equal(apdu, apduLong):
		return append(longData(), 0x90, 0x00), nil
	case bytes.Equal(apdu, apduRemove):
		return nil, fmt.Errorf("test card: %w", vpcd.ErrCardRemoved)
	case len(apdu) > 7 && apdu[1] == 0xDA && apdu[4] == 0:
		n := int(apdu[5])<<8 | int(apdu[6])
		if len(apdu) != 7+n {
			return []byte{0x67, 0x00}, nil
		}
		h := sha256.Sum256(apdu[7:])
		return append(h[:], 0x90, 0x00), nil
	}
	return []byte{0x6D, 0x00}, nil
}

// establish connects to pcscd and fails the test (never skips) when it
// is not reachable.
func establish(t testing.TB) *pcsc.Context {
	t.Helper()
	pc, err := pcsc.EstablishContext()
	if err != nil {
		t.Fatalf("pcscd is not reachable (%v): run scripts/pcscd-up (as root) to start pcscd with the virtual readers", err)
	}
	t.Cleanup(func() { pc.Release() })
	return pc
}

// inserted leases a virtual reader, serves a testCard in it and waits for
// pcscd to see it. The card leaves when the test ends.
// served is the outcome of vpcd.Serve: err is set when done is closed.
type served struct {
	done chan struct{}
	err  error
}

func inserted(t testing.TB, pc *pcsc.Context) (*vpcd.ReaderLease, *testCard, *served) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := vpcd.Lease(ctx)
	if err != nil {
		t.Fatal(err)
	}
	card := &testCard{}
	sctx, stop := context.WithCancel(context.Background())
	sv := &served{done: make(chan struct{})}
	go func() {
		defer close(sv.done)
		sv.err = vpcd.Serve(sctx, l.Addr, card, slog.New(slog.DiscardHandler))
	}()
	t.Cleanup(func() {
		stop()
		<-sv.done
		// Hand the reader on empty: pcscd notices a removal at its next
		// poll (400 ms).
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := pc.WaitForRemoval(ctx, l.Reader); err != nil {
			t.Errorf("card still present in %s after the test: %v", l.Reader, err)
		}
		l.Release()
	})
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	got, err := pc.WaitForCard(wctx, []string{l.Reader})
	if err != nil {
		t.Fatalf("WaitForCard(%q): %v", l.Reader, err)
	}
	if got != l.Reader {
		t.Fatalf("WaitForCard = %q, want %q", got, l.Reader)
	}
	return l, card, sv
}

func TestListReadersHasVirtualReaders(t *testing.T) {
	pc := establish(t)
	got, err := pc.ListReaders()
	if err != nil {
		t.Fatal(err)
	}
	// vpcd.VirtualReaders is the one record of the port-to-name mapping
	// scripts/pcscd-up configures; check it against pcscd.
	for _, v := range vpcd.VirtualReaders() {
		if !slices.Contains(got, v.Name) {
			t.Errorf("reader %q (port %d) not listed by pcscd; got %q (run scripts/pcscd-up)", v.Name, v.Port, got)
		}
	}
}

func TestConnectTransmit(t *testing.T) {
	pc := establish(t)
	l, card, _ := inserted(t, pc)
	for _, proto := range []pcsc.Protocol{pcsc.ProtocolT1, pcsc.ProtocolT0 | pcsc.ProtocolT1} {
		t.Run(proto.String(), func(t *testing.T) {
			k, err := pc.Connect(l.Reader, pcsc.ShareExclusive, proto)
			if err != nil {
				t.Fatal(err)
			}
			defer k.Disconnect(pcsc.LeaveCard)
			if !bytes.Equal(k.ATR(), testATR) {
				t.Errorf("ATR = % X, want % X", k.ATR(), testATR)
			}
			if k.Protocol() != pcsc.ProtocolT1 {
				t.Errorf("Protocol = %v, want T=1", k.Protocol())
			}
			if k.Reader() != l.Reader {
				t.Errorf("Reader = %q, want %q", k.Reader(), l.Reader)
			}
			ctx := context.Background()
			tests := []struct {
				name string
				cmd  []byte
				want []byte
			}{
				{"short", apduSelect, []byte{0x90, 0x00}},
				{"unknown INS", []byte{0x00, 0x01, 0x00, 0x00}, []byte{0x6D, 0x00}},
				{"extended 5000-byte response", apduLong, append(longData(), 0x90, 0x00)},
				{"extended 3000-byte command", bigCommand(3000), func() []byte {
					h := sha256.Sum256(bigCommand(3000)[7:])
					return append(h[:], 0x90, 0x00)
				}()},
			}
			for _, tc := range tests {
				got, err := k.Transmit(ctx, tc.cmd)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				if !bytes.Equal(got, tc.want) {
					t.Errorf("%s: got %d bytes % X..., want %d bytes % X...", tc.name, len(got), got[:min(8, len(got))], len(tc.want), tc.want[:min(8, len(tc.want))])
				}
			}
		})
	}
	card.mu.Lock()
	defer card.mu.Unlock()
	if card.resets == 0 {
		t.Error("card was never powered on (Reset not called)")
	}
}

func TestTransmitRefusals(t *testing.T) {
	pc := establish(t)
	l, _, _ := inserted(t, pc)
	k, err := pc.Connect(l.Reader, pcsc.ShareShared, pcsc.ProtocolT1)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Disconnect(pcsc.LeaveCard)
	if _, err := k.Transmit(context.Background(), []byte{0x00, 0xA4}); err == nil {
		t.Error("2-byte APDU accepted")
	}
	if _, err := k.Transmit(context.Background(), make([]byte, 65546)); err == nil {
		t.Error("oversized APDU accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := k.Transmit(ctx, apduSelect); !errors.Is(err, context.Canceled) {
		t.Errorf("Transmit with done ctx: %v, want context.Canceled", err)
	}
	if err := k.Disconnect(pcsc.LeaveCard); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Transmit(context.Background(), apduSelect); !errors.Is(err, pcsc.ErrReleased) {
		t.Errorf("Transmit after Disconnect: %v, want ErrReleased", err)
	}
}

func TestCardRemoved(t *testing.T) {
	pc := establish(t)
	l, _, served := inserted(t, pc)
	k, err := pc.Connect(l.Reader, pcsc.ShareExclusive, pcsc.ProtocolT1)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Disconnect(pcsc.LeaveCard)
	ctx := context.Background()
	start := time.Now()
	_, err = k.Transmit(ctx, apduRemove)
	t.Logf("transmit that removed the card: %v", err)
	if err == nil {
		t.Fatal("the APDU that removed the card got an answer")
	}
	select {
	case <-served.done:
		if !errors.Is(served.err, vpcd.ErrCardRemoved) {
			t.Errorf("Serve returned %v, want ErrCardRemoved", served.err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Serve did not return after the card removed itself")
	}
	var last error
	for time.Since(start) < 2*time.Second {
		_, last = k.Transmit(ctx, apduSelect)
		if errors.Is(last, pcsc.ErrCardRemoved) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !errors.Is(last, pcsc.ErrCardRemoved) {
		t.Fatalf("Transmit after removal: %v, want ErrCardRemoved within 2 s", last)
	}
	t.Logf("removal seen after %v: %v", time.Since(start), last)
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := pc.WaitForRemoval(wctx, l.Reader); err != nil {
		t.Errorf("WaitForRemoval: %v", err)
	}
}

func TestWaitForCardCancelled(t *testing.T) {
	pc := establish(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := vpcd.Lease(ctx) // leased and left empty
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	wctx, wcancel := context.WithCancel(ctx)
	time.AfterFunc(200*time.Millisecond, wcancel)
	start := time.Now()
	_, err = pc.WaitForCard(wctx, []string{l.Reader})
	took := time.Since(start)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, pcsc.ErrCancelled) {
		t.Errorf("WaitForCard: %v, want context.Canceled and ErrCancelled", err)
	}
	if took > time.Second {
		t.Errorf("WaitForCard took %v to notice cancellation", took)
	}
	// The context stays usable: the cancellation did not leak into the
	// next call.
	states := []pcsc.ReaderState{{Reader: l.Reader}}
	if err := pc.GetStatusChange(context.Background(), states, 0); err != nil {
		t.Fatalf("GetStatusChange after cancel: %v", err)
	}
	if states[0].EventState&pcsc.StateEmpty == 0 {
		t.Errorf("leased reader state %v, want empty", states[0].EventState)
	}
	// A known state and a short timeout: ErrTimeout.
	states[0].CurrentState = states[0].EventState &^ pcsc.StateChanged
	start = time.Now()
	err = pc.GetStatusChange(context.Background(), states, 100*time.Millisecond)
	if !errors.Is(err, pcsc.ErrTimeout) {
		t.Errorf("GetStatusChange with no change: %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d < 80*time.Millisecond || d > time.Second {
		t.Errorf("timeout after %v, want ~100ms", d)
	}
}

func TestRefusals(t *testing.T) {
	pc := establish(t)
	ctx := context.Background()
	if _, err := pc.Connect("No Such Reader 00 00", pcsc.ShareShared, pcsc.ProtocolT1); !errors.Is(err, pcsc.ErrReaderUnavailable) {
		t.Errorf("Connect to unknown reader: %v, want ErrReaderUnavailable", err)
	}
	if err := pc.GetStatusChange(ctx, nil, 0); err == nil {
		t.Error("GetStatusChange with no readers accepted")
	}
	l, err := vpcd.Lease(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if _, err := pc.Connect(l.Reader, pcsc.ShareShared, pcsc.ProtocolT1); !errors.Is(err, pcsc.ErrNoCard) {
		t.Errorf("Connect to empty reader: %v, want ErrNoCard", err)
	}
	pc2, err := pcsc.EstablishContext()
	if err != nil {
		t.Fatal(err)
	}
	if err := pc2.Release(); err != nil {
		t.Fatal(err)
	}
	if err := pc2.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	if _, err := pc2.ListReaders(); !errors.Is(err, pcsc.ErrReleased) {
		t.Errorf("ListReaders after Release: %v, want ErrReleased", err)
	}
}

func TestSharingViolation(t *testing.T) {
	pc := establish(t)
	l, _, _ := inserted(t, pc)
	k, err := pc.Connect(l.Reader, pcsc.ShareExclusive, pcsc.ProtocolT1)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Disconnect(pcsc.LeaveCard)
	pc2 := establish(t)
	for _, share := range []pcsc.ShareMode{pcsc.ShareExclusive, pcsc.ShareShared} {
		if k2, err := pc2.Connect(l.Reader, share, pcsc.ProtocolT1); !errors.Is(err, pcsc.ErrSharingViolation) {
			if err == nil {
				k2.Disconnect(pcsc.LeaveCard)
			}
			t.Errorf("second %v Connect: %v, want ErrSharingViolation", share, err)
		}
	}
	// After the first lets go, the second gets in.
	if err := k.Disconnect(pcsc.ResetCard); err != nil {
		t.Fatal(err)
	}
	k2, err := pc2.Connect(l.Reader, pcsc.ShareExclusive, pcsc.ProtocolT1)
	if err != nil {
		t.Fatalf("Connect after the first disconnected: %v", err)
	}
	k2.Disconnect(pcsc.LeaveCard)
}

// BenchmarkTransmitVPCD is the round trip of a short APDU through pcscd
// and vpcd to a software card.
func BenchmarkTransmitVPCD(b *testing.B) {
	pc := establish(b)
	l, _, _ := inserted(b, pc)
	k, err := pc.Connect(l.Reader, pcsc.ShareExclusive, pcsc.ProtocolT1)
	if err != nil {
		b.Fatal(err)
	}
	defer k.Disconnect(pcsc.LeaveCard)
	ctx := context.Background()
	for b.Loop() {
		if _, err := k.Transmit(ctx, apduSelect); err != nil {
			b.Fatal(err)
		}
	}
}

func TestNoService(t *testing.T) {
	if os.Getenv("BORDERID_PCSC_CHILD") == "no-service" {
		pc, err := pcsc.EstablishContext()
		if err == nil {
			pc.Release()
			fmt.Println("RESULT established")
			os.Exit(0)
		}
		fmt.Printf("RESULT %v %v\n", errors.Is(err, pcsc.ErrNoService), err)
		os.Exit(0)
	}
	// pcsc-lite takes the socket path from PCSCLITE_CSOCK_NAME once per
	// process, so a child process with it pointing nowhere plays a machine
	// without pcscd.
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoService$")
	cmd.Env = append(os.Environ(), "BORDERID_PCSC_CHILD=no-service", "PCSCLITE_CSOCK_NAME="+t.TempDir()+"/no-pcscd.comm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	const want = "RESULT true pcsc: SCardEstablishContext: pcsc: SCARD_E_NO_SERVICE (0x8010001D)"
	if !strings.Contains(string(out), want+"\n") {
		t.Errorf("child said %q, want %q", out, want)
	}
}

// A context that ends at any moment — also just before the C call starts
// waiting, where SCardCancel has nothing to interrupt — ends the wait
// promptly. Before waits were sliced, one of these could block forever.
func TestWaitForCardDeadlineRace(t *testing.T) {
	pc := establish(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := vpcd.Lease(ctx) // leased and left empty
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	n := 200
	if testing.Short() {
		n = 40
	}
	for i := range n {
		d := time.Duration(i%20) * 100 * time.Microsecond
		wctx, wcancel := context.WithTimeout(ctx, d)
		start := time.Now()
		_, err := pc.WaitForCard(wctx, []string{l.Reader})
		wcancel()
		if took := time.Since(start); took > time.Second {
			t.Fatalf("attempt %d (deadline %v): WaitForCard took %v", i, d, took)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("attempt %d: %v, want context.DeadlineExceeded", i, err)
		}
	}
}

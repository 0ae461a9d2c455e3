package vpcd

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeCard answers fixed APDUs and counts resets.
type fakeCard struct {
	mu     sync.Mutex
	resets int
	got    [][]byte
}

var fakeATR = []byte{0x3B, 0x80, 0x80, 0x01, 0x01}

func (c *fakeCard) ATR() []byte { return slices.Clone(fakeATR) }
func (c *fakeCard) Reset() {
	c.mu.Lock()
	c.resets++
	c.mu.Unlock()
}
func (c *fakeCard) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	c.mu.Lock()
	c.got = append(c.got, apdu)
	c.mu.Unlock()
	switch apdu[1] {
	case 0xA4:
		return []byte{0x90, 0x00}, nil
	case 0xB0: // 300 bytes of data
		return append(bytes.Repeat([]byte{0xAB}, 300), 0x90, 0x00), nil
	case 0xEE:
		return nil, fmt.Errorf("fake: %w", ErrCardRemoved)
	case 0xEF:
		return nil, errors.New("fake: internal failure")
	case 0xE1:
		return []byte{0x90}, nil // too short
	}
	return []byte{0x6D, 0x00}, nil
}

// fakeVPCD plays pcscd's vpcd driver: it listens, accepts one card and
// lets the test drive the exchange.
type fakeVPCD struct {
	t    *testing.T
	ln   net.Listener
	conn net.Conn
}

func newFakeVPCD(t *testing.T) *fakeVPCD {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &fakeVPCD{t: t, ln: ln}
}

func (f *fakeVPCD) accept() {
	f.t.Helper()
	f.ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
	c, err := f.ln.Accept()
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { c.Close() })
	f.conn = c
}

// send writes a message the way Debian's vpcd does: length, then payload,
// in two writes.
func (f *fakeVPCD) send(payload []byte) {
	f.t.Helper()
	var h [2]byte
	binary.BigEndian.PutUint16(h[:], uint16(len(payload)))
	if _, err := f.conn.Write(h[:]); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.conn.Write(payload); err != nil {
		f.t.Fatal(err)
	}
}

// recv reads one reply, checking it arrived in one segment: a single Read
// returns header and payload together when the card wrote them together.
func (f *fakeVPCD) recv() []byte {
	f.t.Helper()
	f.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 70000)
	n, err := f.conn.Read(buf)
	if err != nil {
		f.t.Fatal(err)
	}
	if n < 2 {
		f.t.Fatalf("reply split: first read returned %d bytes", n)
	}
	want := int(binary.BigEndian.Uint16(buf[:2]))
	if n != 2+want {
		f.t.Fatalf("reply not written in one write: first read %d bytes, frame is %d", n, 2+want)
	}
	return buf[2:n]
}

func startServe(t *testing.T, ctx context.Context, addr string, card Card) <-chan error {
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, addr, card, nil) }()
	return done
}

func TestServe(t *testing.T) {
	f := newFakeVPCD(t)
	card := &fakeCard{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := startServe(t, ctx, f.ln.Addr().String(), card)
	f.accept()

	f.send([]byte{byte(CtrlOn)})
	f.send([]byte{byte(CtrlATR)})
	if got := f.recv(); !bytes.Equal(got, fakeATR) {
		t.Errorf("ATR = % X, want % X", got, fakeATR)
	}
	tests := []struct {
		name string
		cmd  []byte
		want []byte
	}{
		{"select", []byte{0x00, 0xA4, 0x04, 0x0C}, []byte{0x90, 0x00}},
		{"read 300", []byte{0x00, 0xB0, 0x00, 0x00, 0x00}, append(bytes.Repeat([]byte{0xAB}, 300), 0x90, 0x00)},
		{"unknown", []byte{0x00, 0x02, 0x00, 0x00}, []byte{0x6D, 0x00}},
		{"card error", []byte{0x00, 0xEF, 0x00, 0x00}, []byte{0x6F, 0x00}},
		{"short answer", []byte{0x00, 0xE1, 0x00, 0x00}, []byte{0x6F, 0x00}},
	}
	for _, tc := range tests {
		f.send(tc.cmd)
		if got := f.recv(); !bytes.Equal(got, tc.want) {
			t.Errorf("%s: got % X, want % X", tc.name, got, tc.want)
		}
	}
	f.send([]byte{byte(CtrlReset)})
	f.send([]byte{byte(CtrlOff)})
	f.send([]byte{0x07}) // unknown control: ignored, no answer
	f.send([]byte{byte(CtrlATR)})
	if got := f.recv(); !bytes.Equal(got, fakeATR) {
		t.Errorf("ATR after reset = % X", got)
	}
	card.mu.Lock()
	if card.resets != 3 {
		t.Errorf("resets = %d, want 3 (on, reset, off)", card.resets)
	}
	card.mu.Unlock()

	// Removal: the connection closes at once and Serve returns the error.
	f.send([]byte{0x00, 0xEE, 0x00, 0x00})
	f.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := f.conn.Read(make([]byte, 10)); err != io.EOF {
		t.Errorf("after removal read %d bytes, err %v; want EOF", n, err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrCardRemoved) {
			t.Errorf("Serve = %v, want ErrCardRemoved", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Serve did not return after removal")
	}
}

func TestServeEnds(t *testing.T) {
	t.Run("peer closes", func(t *testing.T) {
		f := newFakeVPCD(t)
		done := startServe(t, context.Background(), f.ln.Addr().String(), &fakeCard{})
		f.accept()
		f.conn.Close()
		if err := waitErr(t, done); err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	})
	t.Run("ctx cancelled", func(t *testing.T) {
		f := newFakeVPCD(t)
		ctx, cancel := context.WithCancel(context.Background())
		done := startServe(t, ctx, f.ln.Addr().String(), &fakeCard{})
		f.accept()
		cancel()
		if err := waitErr(t, done); !errors.Is(err, context.Canceled) {
			t.Errorf("Serve = %v, want context.Canceled", err)
		}
	})
	t.Run("zero-length frame", func(t *testing.T) {
		f := newFakeVPCD(t)
		done := startServe(t, context.Background(), f.ln.Addr().String(), &fakeCard{})
		f.accept()
		f.conn.Write([]byte{0, 0})
		if err := waitErr(t, done); !errors.Is(err, ErrFrame) {
			t.Errorf("Serve = %v, want ErrFrame", err)
		}
	})
	t.Run("truncated frame", func(t *testing.T) {
		f := newFakeVPCD(t)
		done := startServe(t, context.Background(), f.ln.Addr().String(), &fakeCard{})
		f.accept()
		f.conn.Write([]byte{0, 9, 0x00, 0xA4})
		f.conn.Close()
		if err := waitErr(t, done); !errors.Is(err, ErrFrame) {
			t.Errorf("Serve = %v, want ErrFrame", err)
		}
	})
	t.Run("nothing listening", func(t *testing.T) {
		addr := freeAddr(t)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		if err := Serve(ctx, addr, &fakeCard{}, nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Serve = %v, want DeadlineExceeded", err)
		}
	})
	t.Run("vpcd starts late", func(t *testing.T) {
		addr := freeAddr(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := startServe(t, ctx, addr, &fakeCard{})
		time.Sleep(300 * time.Millisecond)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		f := &fakeVPCD{t: t, ln: ln}
		f.accept()
		f.send([]byte{byte(CtrlATR)})
		if got := f.recv(); !bytes.Equal(got, fakeATR) {
			t.Errorf("ATR = % X", got)
		}
		cancel()
		waitErr(t, done)
	})
}

func waitErr(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(3 * time.Second):
		t.Fatal("Serve did not return")
		return nil
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

func TestReadFrame(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    []byte
		wantErr error
	}{
		{"control", []byte{0, 1, 4}, []byte{4}, nil},
		{"apdu", []byte{0, 4, 0, 0xA4, 4, 0, 0xFF}, []byte{0, 0xA4, 4, 0}, nil},
		{"empty input", nil, nil, io.EOF},
		{"one length byte", []byte{0}, nil, ErrFrame},
		{"zero length", []byte{0, 0}, nil, ErrFrame},
		{"short payload", []byte{0, 5, 1, 2}, nil, ErrFrame},
		{"max length truncated", []byte{0xFF, 0xFF, 1}, nil, ErrFrame},
	}
	for _, tc := range tests {
		got, err := readFrame(bytes.NewReader(tc.in))
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("%s: got % X, %v; want % X", tc.name, got, err, tc.want)
		}
	}
}

func TestAppendFrame(t *testing.T) {
	got, err := appendFrame([]byte{0xEE}, []byte{0x90, 0x00})
	if err != nil || !bytes.Equal(got, []byte{0xEE, 0, 2, 0x90, 0x00}) {
		t.Errorf("appendFrame = % X, %v", got, err)
	}
	if _, err := appendFrame(nil, nil); !errors.Is(err, ErrFrame) {
		t.Errorf("empty payload: %v, want ErrFrame", err)
	}
	if _, err := appendFrame(nil, make([]byte, MaxFrame+1)); !errors.Is(err, ErrFrame) {
		t.Errorf("oversized payload: %v, want ErrFrame", err)
	}
	if got, err := appendFrame(nil, make([]byte, MaxFrame)); err != nil || len(got) != MaxFrame+2 || got[0] != 0xFF || got[1] != 0xFF {
		t.Errorf("max payload: len %d, %v", len(got), err)
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0, 1, 4})
	f.Add([]byte{0, 1, 0})
	f.Add([]byte{0, 4, 0x00, 0xA4, 0x04, 0x0C})
	f.Add([]byte{0, 7, 0x80, 0xCA, 0x00, 0x00, 0x00, 0x13, 0x88})
	f.Add([]byte{0, 0})
	f.Add([]byte{0xFF, 0xFF, 0x01})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		for {
			msg, err := readFrame(r)
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrFrame) {
					t.Fatalf("unexpected error class: %v", err)
				}
				return
			}
			if len(msg) == 0 || len(msg) > MaxFrame {
				t.Fatalf("frame of %d bytes", len(msg))
			}
			// Round trip: re-framing gives back the bytes consumed.
			framed, err := appendFrame(nil, msg)
			if err != nil {
				t.Fatal(err)
			}
			off := len(in) - r.Len() - len(framed)
			if off < 0 || !bytes.Equal(in[off:off+len(framed)], framed) {
				t.Fatalf("round trip mismatch at %d", off)
			}
		}
	})
}

func TestScanTCPTable(t *testing.T) {
	const table = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:8C7B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:8C7C 0100007F:A51A 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:9D00 0100007F:8C7D 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:8C7E 0100007F:9C40 08 00000000:00000000 00:00000000 00000000     0        0 4 1 0000000000000000 20 4 30 10 -1
`
	tests := []struct {
		port int
		want bool
	}{
		{35963, false}, // listening only
		{35964, true},  // pcscd side of a connection
		{35965, true},  // card side of a connection
		{35966, false}, // CLOSE_WAIT: a dead connection in the backlog
	}
	for _, tc := range tests {
		if got := scanTCPTable(bytes.NewReader([]byte(table)), fmt.Sprintf(":%04X", tc.port)); got != tc.want {
			t.Errorf("port %d: busy = %v, want %v", tc.port, got, tc.want)
		}
	}
}

// Package vpcd is the card side of the vsmartcard "vpcd" protocol: it puts
// a software card into a virtual PC/SC reader. pcscd's vpcd driver (Debian
// vsmartcard-vpcd, libifdvpcd.so) listens on TCP, one port per virtual
// reader; a software card connects to it as a TCP client and the reader
// then reports a card present. Closing the connection removes the card.
//
// Wire format (vsmartcard vpcd, protocol as implemented by Debian's
// vsmartcard 3.3): every message in either direction is a 2-byte
// big-endian length followed by that many bytes. A 1-byte message from
// vpcd is a control: 0 power off, 1 power on, 2 reset, 4 get ATR (answered
// with the ATR); any longer message is a command APDU, answered with the
// response APDU (data || SW1 SW2).
//
// A caller leases a virtual reader and serves a card in it:
//
//	l, err := vpcd.Lease(ctx)            // distinct reader per caller, across processes
//	defer l.Release()
//	go vpcd.Serve(ctx, l.Addr, card, log) // card implements vpcd.Card
//	// ... PC/SC clients now see a card in l.Reader
//
// Performance: Debian's vpcd writes the length and the payload of each
// message with two separate send calls. With Nagle's algorithm on one side
// and delayed ACKs on the other, every exchange then stalls for a delayed
// ACK (~40 ms). Serve therefore sets TCP_NODELAY, re-arms TCP_QUICKACK
// (Linux clears it after use) before every read, and writes each reply,
// header and payload, with one write.
//
// Deliberately not done: the vpcd "reverse" mode (vpcd dialling the card),
// and any authentication: vpcd listens on all interfaces, so anything on
// the network can insert a card. Production reader stations must refuse
// readers named "Virtual PCD..." unless told otherwise.
package vpcd

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"
)

// Card is a software card served in a virtual reader.
type Card interface {
	// ATR is the Answer To Reset sent when vpcd asks for it.
	ATR() []byte
	// Reset is called on power off, power on and reset: the card loses
	// its session state (secure messaging keys, selected file).
	Reset()
	// Transmit answers one command APDU with a response APDU (data ||
	// SW1 SW2). An error wrapping ErrCardRemoved removes the card: Serve
	// closes the connection at once and returns the error. Any other
	// error is answered with status word 6F00.
	Transmit(ctx context.Context, apdu []byte) ([]byte, error)
}

// ErrCardRemoved, returned (wrapped) by Card.Transmit, removes the card
// from the reader.
var ErrCardRemoved = errors.New("vpcd: card removed")

// ErrFrame reports a malformed message from vpcd.
var ErrFrame = errors.New("vpcd: malformed frame")

// Control is a 1-byte control message from vpcd.
type Control byte

// Controls (vsmartcard vpcd.h: VPCD_CTRL_*).
const (
	CtrlOff   Control = 0
	CtrlOn    Control = 1
	CtrlReset Control = 2
	CtrlATR   Control = 4
)

func (c Control) String() string {
	switch c {
	case CtrlOff:
		return "power-off"
	case CtrlOn:
		return "power-on"
	case CtrlReset:
		return "reset"
	case CtrlATR:
		return "get-atr"
	}
	return fmt.Sprintf("Control(%d)", byte(c))
}

// Limits and timings.
const (
	// MaxFrame is the largest payload the 2-byte length allows.
	MaxFrame = 0xFFFF
	// dialFor bounds the retries while vpcd is not yet listening (pcscd
	// starting or restarting).
	dialFor     = 5 * time.Second
	dialBackoff = 50 * time.Millisecond
	// writeTimeout bounds a reply write: pcscd reads promptly or is gone.
	writeTimeout = 5 * time.Second
)

// swNoDiagnosis is the ISO/IEC 7816-4 status word sent when the card's
// Transmit fails without removing the card.
var swNoDiagnosis = [2]byte{0x6F, 0x00}

// readFrame reads one message: 2-byte big-endian length, then the
// payload. A zero length is refused: vpcd never sends one and a reply to
// it would be meaningless. It returns io.EOF only on a clean end before a
// frame starts.
func readFrame(r io.Reader) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: truncated length: %w", ErrFrame, err)
		}
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n == 0 {
		return nil, fmt.Errorf("%w: zero length", ErrFrame)
	}
	// A fresh buffer per frame: the card may keep the APDU it is given.
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: truncated payload (want %d bytes): %w", ErrFrame, n, io.ErrUnexpectedEOF)
		}
		return nil, err
	}
	return buf, nil
}

// appendFrame appends the framed payload to dst, so that a reply goes out
// in one write.
func appendFrame(dst, payload []byte) ([]byte, error) {
	if len(payload) == 0 || len(payload) > MaxFrame {
		return dst, fmt.Errorf("%w: payload of %d bytes (want 1..%d)", ErrFrame, len(payload), MaxFrame)
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(payload)))
	return append(dst, payload...), nil
}

// Serve connects card to the vpcd reader listening on addr (host:port)
// and answers vpcd until ctx is done (returns ctx.Err()), vpcd closes the
// connection (returns nil), or the card is removed (returns the card's
// error, which wraps ErrCardRemoved). While vpcd is not yet listening it
// retries for a few seconds. log may be nil.
//
// A connection that vpcd does not take up within PickupTimeout is dropped
// and dialled again: when a card leaves and another arrives within one of
// pcscd's polls, the driver can leave the new connection unserved in its
// listen backlog for good (seen with Debian's vsmartcard-vpcd 0.9).
func Serve(ctx context.Context, addr string, card Card, log *slog.Logger) error {
	for {
		err := serve(ctx, addr, card, log, options{quickAck: true, pickup: PickupTimeout})
		if !errors.Is(err, errNotPickedUp) {
			return err
		}
		if log != nil {
			log.Debug("vpcd: connection not taken up; dialling again", "addr", addr)
		}
	}
}

// PickupTimeout bounds the wait for vpcd's first message on a new
// connection; pcscd polls every reader about every 400 ms.
const PickupTimeout = 2 * time.Second

// errNotPickedUp: vpcd accepted the TCP connection but never spoke on it.
var errNotPickedUp = errors.New("vpcd: connection not taken up by the driver")

type options struct {
	quickAck bool          // re-arm TCP_QUICKACK before every read (tests turn it off to measure)
	pickup   time.Duration // wait at most this long for vpcd's first message (0: forever)
}

func serve(ctx context.Context, addr string, card Card, log *slog.Logger, opt options) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, err := dial(ctx, addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetNoDelay(true); err != nil {
		return fmt.Errorf("vpcd: TCP_NODELAY: %w", err)
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		return fmt.Errorf("vpcd: %w", err)
	}
	// Closing the connection is how a done ctx interrupts a blocked read.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	log.Debug("vpcd: card inserted", "addr", addr)

	r := &ackReader{conn: conn, raw: raw, quickAck: opt.quickAck}
	out := make([]byte, 0, 512)
	if opt.pickup > 0 {
		if err := conn.SetReadDeadline(time.Now().Add(opt.pickup)); err != nil {
			return fmt.Errorf("vpcd: %w", err)
		}
	}
	for first := true; ; first = false {
		msg, err := readFrame(r)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if first && errors.Is(err, os.ErrDeadlineExceeded) {
				return errNotPickedUp
			}
			if errors.Is(err, io.EOF) {
				log.Debug("vpcd: connection closed by vpcd", "addr", addr)
				return nil
			}
			return fmt.Errorf("vpcd: read from %s: %w", addr, err)
		}
		if first && opt.pickup > 0 {
			if err := conn.SetReadDeadline(time.Time{}); err != nil {
				return fmt.Errorf("vpcd: %w", err)
			}
		}
		var reply []byte
		if len(msg) == 1 {
			ctl := Control(msg[0])
			switch ctl {
			case CtrlOff, CtrlOn, CtrlReset:
				card.Reset()
				log.Debug("vpcd: control", "ctl", ctl)
				continue // no answer expected
			case CtrlATR:
				reply = card.ATR()
			default:
				log.Warn("vpcd: unknown control ignored", "ctl", ctl)
				continue
			}
		} else {
			resp, err := card.Transmit(ctx, msg)
			switch {
			case errors.Is(err, ErrCardRemoved):
				log.Debug("vpcd: card removed", "addr", addr, "err", err)
				return err
			case err != nil:
				if ctx.Err() != nil {
					return ctx.Err()
				}
				log.Warn("vpcd: card error answered with 6F00", "err", err)
				reply = swNoDiagnosis[:]
			case len(resp) < 2:
				log.Warn("vpcd: card answered fewer than 2 bytes; sent 6F00", "len", len(resp))
				reply = swNoDiagnosis[:]
			default:
				reply = resp
			}
		}
		out, err = appendFrame(out[:0], reply)
		if err != nil {
			return fmt.Errorf("vpcd: reply: %w", err)
		}
		if err := conn.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
			return fmt.Errorf("vpcd: %w", err)
		}
		if _, err := conn.Write(out); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("vpcd: write to %s: %w", addr, err)
		}
	}
}

// dial connects to vpcd, retrying briefly while nothing listens yet.
func dial(ctx context.Context, addr string) (*net.TCPConn, error) {
	var d net.Dialer
	deadline := time.Now().Add(dialFor)
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return c.(*net.TCPConn), nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("vpcd: dial %s: %w", addr, ctx.Err())
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("vpcd: dial %s (is pcscd running with the vpcd driver? run scripts/pcscd-up): %w", addr, err)
		}
		t := time.NewTimer(dialBackoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("vpcd: dial %s: %w", addr, ctx.Err())
		case <-t.C:
		}
	}
}

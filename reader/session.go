package reader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"borderid/internal/smcrypto"
)

// ProgressFunc is told after each chunk how far the reading of a file has
// come. total is -1 while the file's length is not yet known.
type ProgressFunc func(file string, read, total int)

// SessionOptions configures a Session. The zero value is usable.
type SessionOptions struct {
	// Logger receives debug records of commands (names and status words,
	// never data, keys or MRZ contents). Nil discards them.
	Logger *slog.Logger
	// Progress, if set, is called after every chunk a file read receives.
	Progress ProgressFunc
	// Extended is what the chip advertised about extended length
	// (ExtendedLengthFromATR, ExtendedLengthFromATRInfo). The zero value
	// means short APDUs only.
	Extended ExtendedLength
	// MaxNe caps the response length the reader asks for, whatever the
	// chip advertises (a reader driver's buffer, a test). 0 means no cap.
	MaxNe int
}

// Session is a conversation with one chip over a Transport: it encodes
// commands, applies secure messaging once access control installed it,
// fetches 61xx remainders with GET RESPONSE, and keeps the counters and
// the quirk list of the inspection report. A Session is not safe for
// concurrent use; a chip answers one command at a time anyway.
type Session struct {
	t      Transport
	sm     SecureMessaging
	log    *slog.Logger
	prog   ProgressFunc
	ext    ExtendedLength
	maxNe  int
	apdus  int
	bytes  int
	quirks []string

	// Learned from the chip while reading (files.go).
	stepCap      int  // confirmed largest plain Ne the chip serves; 0 = unknown
	neBad        int  // smallest plain Ne refused with 6700 inside a file of known length; 0 = none
	neOK         int  // largest plain Ne served in full (kept below neBad)
	sfiOff       bool // the chip refused READ BINARY with SFI
	selectFCI    bool // the chip refused SELECT with P2=0C
	usedExtended bool
	lastCipher   smcrypto.Cipher // of the last secure messaging installed
	// plainStatus: the last response under secure messaging was an
	// unprotected status word (QuirkSMUnprotectedError), not
	// authenticated.
	plainStatus bool
}

// NewSession returns a Session over t.
func NewSession(t Transport, opts SessionOptions) *Session {
	l := opts.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &Session{t: t, log: l, prog: opts.Progress, ext: opts.Extended, maxNe: opts.MaxNe}
}

// SetSecureMessaging installs sm for all following commands; nil returns
// to plain commands.
func (s *Session) SetSecureMessaging(sm SecureMessaging) {
	if s.sm != nil {
		s.mergeQuirks()
	}
	s.sm = sm
	if sm != nil {
		s.lastCipher = sm.Cipher()
	}
}

// SecureMessaging returns the installed session, nil when plain.
func (s *Session) SecureMessaging() SecureMessaging { return s.sm }

// SetExtendedLength records what the chip advertised about extended length.
func (s *Session) SetExtendedLength(e ExtendedLength) { s.ext = e }

// ExtendedLength returns what the chip advertised.
func (s *Session) ExtendedLength() ExtendedLength { return s.ext }

// APDUs is the number of command APDUs sent, GET RESPONSE included.
func (s *Session) APDUs() int { return s.apdus }

// Bytes is the number of bytes on the wire, commands and responses.
func (s *Session) Bytes() int { return s.bytes }

// AddQuirk records a quirk once, in order first seen.
func (s *Session) AddQuirk(q Quirk) {
	for _, have := range s.quirks {
		if have == string(q) {
			return
		}
	}
	s.quirks = append(s.quirks, string(q))
}

// Quirks lists the quirks taken so far, each once, in order first seen.
func (s *Session) Quirks() []string {
	s.mergeQuirks()
	return append([]string(nil), s.quirks...)
}

func (s *Session) mergeQuirks() {
	if s.sm == nil {
		return
	}
	for _, q := range s.sm.Quirks() {
		s.AddQuirk(q)
	}
}

// maxGetResponse bounds the GET RESPONSE loop: 65536 bytes in chunks of
// at least one byte would be absurd; real chips need one or two.
const maxGetResponse = 256

// Transmit sends cmd, protected when secure messaging is installed, and
// returns the (unprotected) response. Status words are returned in the
// Response, not as errors; errors are transport failures (wrapped with
// %w), ErrSecureMessaging and ErrSMDropped. After ErrSMDropped the
// session is back to plain commands.
func (s *Session) Transmit(ctx context.Context, cmd Command) (Response, error) {
	var raw []byte
	var err error
	if s.sm != nil {
		raw, err = s.sm.Protect(cmd)
	} else {
		raw, err = cmd.Bytes()
	}
	if err != nil {
		return Response{}, fmt.Errorf("reader: %v: %w", cmd, err)
	}
	s.plainStatus = false
	if len(raw) > 5 && raw[4] == 0x00 {
		s.usedExtended = true // ISO/IEC 7816-4 §5.1: only extended fields start with 00 here
	}
	resp, err := s.exchange(ctx, raw)
	if err != nil {
		return Response{}, fmt.Errorf("reader: %s: %w", insName(cmd.INS), err)
	}
	if s.sm == nil {
		r, err := ParseResponse(resp)
		if err != nil {
			return Response{}, fmt.Errorf("reader: %s: %w", insName(cmd.INS), err)
		}
		s.log.Debug("apdu", "cmd", insName(cmd.INS), "p1p2", fmt.Sprintf("%02X%02X", cmd.P1, cmd.P2), "ne", cmd.Ne, "sw", r.SW.String(), "len", len(r.Data))
		return r, nil
	}
	r, err := s.sm.Unprotect(resp)
	s.mergeQuirks()
	if err != nil {
		if errors.Is(err, ErrSMDropped) {
			s.sm = nil
		}
		s.log.Debug("apdu", "cmd", insName(cmd.INS), "sm", true, "err", err)
		return Response{}, fmt.Errorf("reader: %s: %w", insName(cmd.INS), err)
	}
	// A protected answer always carries DO8E; an accepted answer of just a
	// status word is the unprotected-error quirk.
	s.plainStatus = len(resp) == 2
	s.log.Debug("apdu", "cmd", insName(cmd.INS), "sm", true, "unprotected", s.plainStatus, "p1p2", fmt.Sprintf("%02X%02X", cmd.P1, cmd.P2), "ne", cmd.Ne, "sw", r.SW.String(), "len", len(r.Data))
	return r, nil
}

// exchange sends one encoded APDU and, while the chip answers 61xx,
// fetches the rest with GET RESPONSE (ISO/IEC 7816-4 GET RESPONSE, the T=0
// case 4 mechanism, which some chips also use over T=1). The pieces are
// concatenated into one response; under secure messaging the whole is
// then unprotected as one answer, GET RESPONSE itself being plain.
func (s *Session) exchange(ctx context.Context, raw []byte) ([]byte, error) {
	resp, err := s.send(ctx, raw)
	if err != nil {
		return nil, err
	}
	var acc []byte
	for i := 0; ; i++ {
		if len(resp) < 2 {
			return nil, fmt.Errorf("%w: %d bytes", ErrMalformedResponse, len(resp))
		}
		sw := StatusWord(uint16(resp[len(resp)-2])<<8 | uint16(resp[len(resp)-1]))
		n, more := sw.BytesAvailable()
		if !more {
			if acc == nil {
				return resp, nil
			}
			if len(acc)+len(resp) > MaxExtendedNe+2 {
				return nil, fmt.Errorf("%w: GET RESPONSE chain exceeds %d bytes", ErrMalformedResponse, MaxExtendedNe)
			}
			return append(acc, resp...), nil
		}
		if i >= maxGetResponse {
			return nil, fmt.Errorf("%w: more than %d GET RESPONSE rounds", ErrMalformedResponse, maxGetResponse)
		}
		acc = append(acc, resp[:len(resp)-2]...)
		if len(acc) > MaxExtendedNe {
			return nil, fmt.Errorf("%w: GET RESPONSE chain exceeds %d bytes", ErrMalformedResponse, MaxExtendedNe)
		}
		gr, _ := Command{CLA: 0x00, INS: insGetResponse, Ne: n}.Bytes()
		if resp, err = s.send(ctx, gr); err != nil {
			return nil, err
		}
	}
}

// send moves one APDU and counts it.
func (s *Session) send(ctx context.Context, raw []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.apdus++
	s.bytes += len(raw)
	resp, err := s.t.Transmit(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("transmit: %w", err)
	}
	s.bytes += len(resp)
	if len(resp) > MaxExtendedNe+2 {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformedResponse, len(resp))
	}
	return resp, nil
}

// cipher returns the secure messaging cipher, 0 when plain.
func (s *Session) cipher() smcrypto.Cipher {
	if s.sm == nil {
		return 0
	}
	return s.sm.Cipher()
}
